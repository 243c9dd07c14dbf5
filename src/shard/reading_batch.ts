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
  const { ts, value, stream, start, name } = columns(n, total);
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
 * A batch encoded as its readings come, one at a time: what encodeReadings
 * gives for the same readings, in the same order, once finish() is called.
 * The main thread's outbox gathers its waiting batches this way
 * (src/shard/sharded_service.ts), so that a reading waiting for its batch
 * to go is a few numbers in typed arrays, not its objects: a waiting
 * reading's objects lived until its batch went, long enough for the main
 * thread's collector to copy them from one young space to the other and then
 * into the old space (docs/scaling.md, "the main thread's CPU a reading,
 * nineteenth round"). The columns start small and double as they fill.
 */
export class ReadingBatchBuilder {
  /** Readings added. */
  length = 0;
  readonly #streams: string[] = [];
  readonly #streamIndex = new Map<string, number>();
  readonly #names: string[] = [];
  readonly #nameIndex = new Map<string, number>();
  #ts = new Float64Array(8);
  #stream = new Uint32Array(8);
  /** Reading i's first value (its end is the next one's first, or `#values`). */
  #start = new Uint32Array(8);
  #name = new Uint32Array(8);
  #value = new Float64Array(8);
  #values = 0;
  /**
   * The last stream and value name added and their indices: a message's
   * readings are of one stream and one name (the same strings), looked up
   * once a message instead of once a reading.
   */
  #lastStream: string | null = null;
  #lastStreamIndex = 0;
  #lastName: string | null = null;
  #lastNameIndex = 0;

  /** Adds `r` after the readings added so far. */
  add(r: Reading): void {
    const i = this.length;
    if (i === this.#ts.length) {
      this.#ts = grown(this.#ts, new Float64Array(2 * i));
      this.#stream = grown(this.#stream, new Uint32Array(2 * i));
      this.#start = grown(this.#start, new Uint32Array(2 * i));
    }
    let s: number | undefined;
    if (r.stream === this.#lastStream) s = this.#lastStreamIndex;
    else {
      s = this.#streamIndex.get(r.stream);
      if (s === undefined) {
        this.#streamIndex.set(r.stream, s = this.#streams.length);
        this.#streams.push(r.stream);
      }
      this.#lastStream = r.stream;
      this.#lastStreamIndex = s;
    }
    this.#stream[i] = s;
    this.#ts[i] = r.ts;
    this.#start[i] = this.#values;
    const values = r.values;
    for (const k in values) {
      if (!Object.hasOwn(values, k)) continue;
      let j: number | undefined;
      if (k === this.#lastName) j = this.#lastNameIndex;
      else {
        j = this.#nameIndex.get(k);
        if (j === undefined) {
          this.#nameIndex.set(k, j = this.#names.length);
          this.#names.push(k);
        }
        this.#lastName = k;
        this.#lastNameIndex = j;
      }
      const v = this.#values;
      if (v === this.#value.length) {
        this.#value = grown(this.#value, new Float64Array(2 * v));
        this.#name = grown(this.#name, new Uint32Array(2 * v));
      }
      const x = values[k];
      this.#name[v] = j;
      this.#value[v] = typeof x === "number" ? x : NaN;
      this.#values = v + 1;
    }
    this.length = i + 1;
  }

  /** The batch of the readings added, its columns in one buffer (as encodeReadings lays them). */
  finish(): ReadingBatch {
    const n = this.length;
    const total = this.#values;
    const { ts, value, stream, start, name } = columns(n, total);
    ts.set(this.#ts.subarray(0, n));
    value.set(this.#value.subarray(0, total));
    stream.set(this.#stream.subarray(0, n));
    start.set(this.#start.subarray(0, n));
    start[n] = total;
    name.set(this.#name.subarray(0, total));
    return { streams: this.#streams, names: this.#names, stream, ts, start, name, value };
  }
}

/**
 * The columns of a batch of `n` readings and `total` values, views of one
 * buffer: `[ts (n) | value (total) : Float64][stream (n) | start (n + 1) |
 * name (total) : Uint32]`, the doubles first, so that every view starts on a
 * multiple of its element size.
 */
function columns(n: number, total: number) {
  const buffer = new ArrayBuffer(8 * (n + total) + 4 * (2 * n + 1 + total));
  const ts = new Float64Array(buffer, 0, n);
  const value = new Float64Array(buffer, 8 * n, total);
  const stream = new Uint32Array(buffer, 8 * (n + total), n);
  const start = new Uint32Array(buffer, stream.byteOffset + 4 * n, n + 1);
  const name = new Uint32Array(buffer, start.byteOffset + 4 * (n + 1), total);
  return { ts, value, stream, start, name };
}

/** `to` with `from`'s elements at its start. */
function grown<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
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
