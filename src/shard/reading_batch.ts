/**
 * Readings as they cross from the main thread to a shard worker: columns of
 * typed arrays (times, value offsets, value-name indices, values) and two
 * small string tables (the batch's distinct stream ids and value names). No
 * JSON, and no object per reading on the way: a worker rebuilds the readings
 * it takes.
 *
 * The five columns are views of one ArrayBuffer, and the batch crosses by
 * copy, not transferred: a structured clone writes a buffer once however
 * many views share it, and a batch is at most the outbox's piece (256
 * readings: some 8 KB). Transferring five buffers cost each postMessage more
 * than copying one (the transfers' detaching and rebuilding on both threads:
 * docs/scaling.md, "The cost of a batch, thirteenth round"), and a batch of
 * one reading, the usual MQTT message at a low rate, paid it whole.
 *
 * A value that is not a number goes over as NaN: the service takes any
 * value that is not a number as NaN as well (the engine refuses it as
 * `not_finite`), so the outcome is the same.
 */
import type { Reading } from "../domain/reading.ts";

/** A batch of readings, by columns (views of one ArrayBuffer). */
export interface ReadingBatch {
  /** The distinct stream ids of the batch. */
  streams: string[];
  /** The distinct value names of the batch. */
  names: string[];
  /** Reading i's stream: an index into `streams` (n). */
  stream: Uint32Array;
  /** Reading i's time, ms since the epoch (n). */
  ts: Float64Array;
  /** Reading i's values are `value[start[i] .. start[i+1]]` (n + 1). */
  start: Uint32Array;
  /** Each value's name: an index into `names`. */
  name: Uint32Array;
  value: Float64Array;
}

/**
 * The readings `readings[at[0]], readings[at[1]], …` (default: all of them,
 * in order) as a batch, its columns in one buffer:
 * `[ts (n) | value (v) : Float64][stream (n) | start (n + 1) | name (v) : Uint32]`.
 */
export function encodeReadings(
  readings: readonly Reading[],
  at: ArrayLike<number> | null = null,
): ReadingBatch {
  const n = at === null ? readings.length : at.length;
  const streams: string[] = [];
  const streamIndex = new Map<string, number>();
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    const values = readings[at === null ? i : at[i]].values;
    for (const k in values) if (Object.hasOwn(values, k)) total++;
  }
  // the doubles first: every view starts on a multiple of its element size
  const buffer = new ArrayBuffer(8 * (n + total) + 4 * (2 * n + 1 + total));
  const ts = new Float64Array(buffer, 0, n);
  const value = new Float64Array(buffer, 8 * n, total);
  const stream = new Uint32Array(buffer, 8 * (n + total), n);
  const start = new Uint32Array(buffer, stream.byteOffset + 4 * n, n + 1);
  const name = new Uint32Array(buffer, start.byteOffset + 4 * (n + 1), total);
  let v = 0;
  for (let i = 0; i < n; i++) {
    const r = readings[at === null ? i : at[i]];
    let s = streamIndex.get(r.stream);
    if (s === undefined) {
      streamIndex.set(r.stream, s = streams.length);
      streams.push(r.stream);
    }
    stream[i] = s;
    ts[i] = r.ts;
    start[i] = v;
    for (const k in r.values) {
      if (!Object.hasOwn(r.values, k)) continue;
      let j = nameIndex.get(k);
      if (j === undefined) {
        nameIndex.set(k, j = names.length);
        names.push(k);
      }
      const x = r.values[k];
      name[v] = j;
      value[v++] = typeof x === "number" ? x : NaN;
    }
  }
  start[n] = v;
  return { streams, names, stream, ts, start, name, value };
}

/**
 * The prototype of a decoded reading's values: an empty object without a prototype, so that
 * nothing is inherited and a value named like an Object.prototype member (`__proto__`,
 * `toString`, `constructor`) is an own value or absent, as with Object.create(null). Unlike
 * Object.create(null), whose objects V8 keeps as a hash table each, objects made from a
 * prototype keep V8's fast form, one shape for every reading of the same names (about a tenth
 * of a worker's garbage per reading).
 */
const NOTHING_INHERITED: object = Object.create(null);

/** The readings of `batch`, in order (the inverse of encodeReadings). */
export function decodeReadings(batch: ReadingBatch): Reading[] {
  const out: Reading[] = new Array(batch.ts.length);
  for (let i = 0; i < out.length; i++) {
    const values: Record<string, number> = Object.create(NOTHING_INHERITED);
    for (let j = batch.start[i]; j < batch.start[i + 1]; j++) {
      values[batch.names[batch.name[j]]] = batch.value[j];
    }
    out[i] = { stream: batch.streams[batch.stream[i]], ts: batch.ts[i], values };
  }
  return out;
}
