/**
 * The last readings of each stream, kept in memory for the dashboard's
 * chart (`GET /v1/streams/{id}/recent`): per reading its time, whether a gap
 * came before it, each target's value and the forecast that was made for it
 * (the point and the interval of the one-step forecast from the reading
 * before it). The service records every reading it takes. Nothing is
 * persisted: after a restart the history starts again.
 *
 * Per stream one ring of `capacity` rows, taken on the stream's first
 * reading, in four parts: the reading's time and values exact (the values in
 * float64, the time as below), the forecast made for it in float32 ((point,
 * lower, upper) per target, NaN for "none"), and whether a gap came before
 * it, one bit a row: the forecast kept for the chart is its float64 value
 * rounded to float32 (about 7 significant digits, relative error at most
 * 6e-8), so a ring of one target takes 6,372 bytes at the default 288 rows
 * (6,948 with int32 times, 8,100 with float64 times, 13,824 all in float64).
 * The stream's forecast itself is not rounded; a kept forecast beyond
 * float32's range (about 3.4e38) lists as null.
 *
 * Times, kept exact in the narrowest of three forms a ring has held them in:
 * - while each reading comes 0 to 65,535 ms after the one before (any stream
 *   of a period up to a minute), a uint16 a row: the ms since the row before
 *   (the ring's `base` is the newest row's time; older times are found by
 *   subtraction, newest first, as `list()` walks);
 * - else (a longer period, a reading older than the one before, a pause) the
 *   ring moves once to a slot of a slab with int32 times: an offset in ms
 *   from the ring's base;
 * - there, a time that is not an integer within 2^31 ms (24.8 days) of the
 *   base moves the base to the oldest time kept, or, when the times kept then
 *   span more than that or one is not an integer, the ring keeps its times in
 *   float64 from then on.
 * A time reads back exactly as it was given.
 *
 * The rings of one number of targets are slots of shared slabs (about 256
 * KiB, 37 rings of one target), each part of a slab one typed array: a
 * stream's ring is a slot number, with no ArrayBuffer or typed array of its
 * own (four objects and a backing store a stream fewer). A forgotten
 * stream's slot is reused; a slab whose slots are all free is dropped.
 *
 * A slab's pages are written once when it is made (the system maps them on
 * first write, and a stream's first row lands on most of them anyway), and
 * `reserve()` takes a stream's ring ahead of its first reading: the service
 * reserves its restored streams' rings while it loads them, so that the
 * first second of readings after a restart does not pay for them (about 40
 * µs a stream: bench/first_readings.ts, docs/scaling.md).
 */
import type { StreamModel } from "../stream/stream.ts";

/** One target of a kept reading. */
export interface RecentTarget {
  value: number;
  /** The forecast made for this reading, or null when none was seen. */
  point: number | null;
  lower: number | null;
  upper: number | null;
}

/** A kept reading. */
export interface RecentReading {
  /** The reading's time, ms. */
  ts: number;
  /** A gap longer than the preset allows came before this reading (the windows were reset). */
  gap: boolean;
  /** Per target, in the stream's target order. */
  targets: Record<string, RecentTarget>;
}

/** Options of RecentReadings; every field has the default it names. */
export interface RecentReadingsOptions {
  /** Readings kept per stream: the oldest is dropped past it. Default 288 (a day of 5-minute readings). */
  capacity?: number;
}

/** What `list()` returns at most and from when. */
export interface RecentQuery {
  /** Only readings with `ts > after` (ms). Default: all kept. */
  after?: number;
  /** At most this many, the newest. Default: all kept. */
  limit?: number;
}

/**
 * Rings of one width (J targets) and capacity, cut from slabs: one
 * ArrayBuffer of `perSlab` rings in four parts, each viewed whole, so a ring
 * is a slot number and no buffer or typed array of its own.
 */
interface Slab {
  /** (perSlab, capacity, J) each row's value per target. */
  values: Float64Array;
  /**
   * (perSlab, capacity) each row's time: in a pool of `deltas`, less the
   * time of the row before it (uint16); else less its ring's base (int32), ms.
   */
  times: Uint16Array | Int32Array;
  /** (perSlab, capacity, 3J) each row's point, lower, upper per target. */
  forecast: Float32Array;
  /** (perSlab, ceil(capacity / 8)) bits: a gap came before row r (bit r % 8 of byte r >> 3). */
  gaps: Uint8Array;
  /** Slots not in use. */
  free: number[];
}

/** Every slab of one width, those with a free slot in `open`. */
interface Pool {
  J: number;
  /** The slabs' times are uint16 deltas from the row before (else int32 offsets from the base). */
  deltas: boolean;
  perSlab: number;
  /** The slabs with a free slot; a slab whose slots are all free again is dropped. */
  open: Slab[];
}

/** Bytes a slab aims at: big enough that its own cost per ring is small, small for a few streams. */
const SLAB_BYTES = 256 * 1024;
/** The system's memory page (4 KiB here; a larger page is written at every 4 KiB all the same). */
const PAGE_BYTES = 4096;

interface Ring {
  targets: readonly string[];
  pool: Pool;
  slab: Slab;
  slot: number;
  /**
   * In a pool of deltas: the newest row's time; else the time the rows'
   * int32 offsets count from, ms.
   */
  base: number;
  /** Every row's time in float64, once one does not fit an int32 offset from a base (NaN, 0.5, 2^32 ms apart). */
  wide: Float64Array | null;
  /** Rows held. */
  size: number;
  /** Index of the next row to write. */
  next: number;
  /** Index of the newest row. */
  at: number;
}

/** The longest gap between two readings that a ring of uint16 deltas keeps, ms. */
const MAX_DELTA = 0xffff;

/** The default capacity: a day of 5-minute readings. */
export const RECENT_CAPACITY = 288;

/** Recent readings of every stream. */
export class RecentReadings {
  readonly capacity: number;
  readonly #rings = new Map<string, Ring>();
  /** By number of targets and kind of times: 2J + 1 for deltas, 2J for offsets. */
  readonly #pools = new Map<number, Pool>();

  constructor(options: RecentReadingsOptions = {}) {
    const capacity = options.capacity ?? RECENT_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot keep recent readings: capacity must be a positive integer: current value is ${capacity}`,
      );
    }
    this.capacity = capacity;
  }

  /**
   * Keeps `reading` as the newest of `stream` (whose targets are `targets`,
   * in order). A change of targets forgets what was kept before.
   */
  record(stream: string, targets: readonly string[], reading: RecentReading): void {
    const ring = this.#advance(stream, targets);
    this.#setTime(ring, reading.ts); // first: the ring may move to another slot
    this.#setGap(ring, reading.gap);
    const { slab } = ring, J = targets.length;
    const v = (ring.slot * this.capacity + ring.at) * J, f = 3 * v;
    for (let j = 0; j < J; j++) {
      const t = reading.targets[targets[j]];
      slab.values[v + j] = t?.value ?? NaN;
      slab.forecast[f + 3 * j] = t?.point ?? NaN;
      slab.forecast[f + 1 + 3 * j] = t?.lower ?? NaN;
      slab.forecast[f + 2 + 3 * j] = t?.upper ?? NaN;
    }
  }

  /**
   * Keeps the reading just taken by `stream`: its values (`row`, in column
   * order) and `made`, the one-step forecast from the reading before
   * (readOneStep(): point, lower, upper per target, NaN for none), which is
   * the forecast made for this one. As record(), but written as numbers,
   * with no object per reading (a Forecast and a record per target were 8%
   * of what a shard worker allocated per reading).
   */
  keep(
    stream: Pick<StreamModel, "id" | "targets" | "targetIndex">,
    ts: number,
    row: ArrayLike<number>,
    made: Float64Array,
    gap: boolean,
  ): void {
    const ring = this.#advance(stream.id, stream.targets);
    this.#setTime(ring, ts); // first: the ring may move to another slot
    this.#setGap(ring, gap);
    const { slab } = ring, J = stream.targets.length;
    const v = (ring.slot * this.capacity + ring.at) * J, f = 3 * v;
    for (let j = 0; j < 3 * J; j++) slab.forecast[f + j] = made[j];
    for (let j = 0; j < J; j++) slab.values[v + j] = row[stream.targetIndex[j]];
  }

  /**
   * Takes the ring of `stream` (whose targets are `targets`) before its
   * first reading, empty; one it holds with these targets stays as it is.
   */
  reserve(stream: string, targets: readonly string[]): void {
    this.#ringOf(stream, targets);
  }

  /** The ring of `stream` for `targets`, a new one when it has none or other targets. */
  #ringOf(stream: string, targets: readonly string[]): Ring {
    let ring = this.#rings.get(stream);
    if (!ring || !sameNames(ring.targets, targets)) {
      if (ring) this.#release(ring);
      ring = this.#newRing(targets);
      this.#rings.set(stream, ring);
    }
    return ring;
  }

  /**
   * The ring of `stream` (whose targets are `targets`: a change forgets what
   * was kept), moved on by one row; its `at` is the row to write.
   */
  #advance(stream: string, targets: readonly string[]): Ring {
    const ring = this.#ringOf(stream, targets);
    ring.at = ring.next;
    ring.next = (ring.next + 1) % this.capacity;
    ring.size = Math.min(ring.size + 1, this.capacity);
    return ring;
  }

  /** An empty ring for `targets`, a free slot of a slab of their width with uint16 times. */
  #newRing(targets: readonly string[]): Ring {
    const { pool, slab, slot } = this.#take(targets.length, true);
    return {
      targets: [...targets],
      pool,
      slab,
      slot,
      base: 0,
      wide: null,
      size: 0,
      next: 0,
      at: 0,
    };
  }

  /** A free slot of a slab of J targets, whose times are deltas or offsets. */
  #take(J: number, deltas: boolean): { pool: Pool; slab: Slab; slot: number } {
    const key = 2 * J + (deltas ? 1 : 0);
    let pool = this.#pools.get(key);
    if (!pool) {
      const timeBytes = deltas ? 2 : 4;
      const ringBytes = this.capacity * (8 * J + timeBytes + 12 * J) + Math.ceil(this.capacity / 8);
      pool = { J, deltas, perSlab: Math.max(1, Math.floor(SLAB_BYTES / ringBytes)), open: [] };
      this.#pools.set(key, pool);
    }
    if (pool.open.length === 0) pool.open.push(this.#newSlab(pool));
    const slab = pool.open[pool.open.length - 1];
    const slot = slab.free.pop()!;
    if (slab.free.length === 0) pool.open.pop();
    return { pool, slab, slot };
  }

  /** A slab of `pool.perSlab` free rings, its four parts over one buffer. */
  #newSlab(pool: Pool): Slab {
    const { J, perSlab: S } = pool, C = this.capacity;
    const timeBytes = pool.deltas ? 2 : 4;
    const valuesAt = 0, timesAt = S * C * J * 8;
    // the forecasts' float32 start on a 4-byte boundary after uint16 times
    const forecastAt = Math.ceil((timesAt + S * C * timeBytes) / 4) * 4;
    const gapsAt = forecastAt + S * C * 3 * J * 4, gapBytes = Math.ceil(C / 8);
    const buffer = new ArrayBuffer(gapsAt + S * gapBytes);
    // every page written now, where the slab is made, rather than by the first rows kept
    const bytes = new Uint8Array(buffer);
    for (let b = 0; b < bytes.length; b += PAGE_BYTES) bytes[b] = 0;
    return {
      values: new Float64Array(buffer, valuesAt, S * C * J),
      times: pool.deltas
        ? new Uint16Array(buffer, timesAt, S * C)
        : new Int32Array(buffer, timesAt, S * C),
      forecast: new Float32Array(buffer, forecastAt, S * C * 3 * J),
      gaps: new Uint8Array(buffer, gapsAt, S * gapBytes),
      // taken from the end: slot 0 first
      free: Array.from({ length: S }, (_, k) => S - 1 - k),
    };
  }

  /** Gives `ring`'s slot back; a slab with every slot free goes. */
  #release(ring: Ring): void {
    const { pool, slab } = ring;
    slab.free.push(ring.slot);
    if (slab.free.length === 1) pool.open.push(slab);
    if (slab.free.length === pool.perSlab) pool.open.splice(pool.open.indexOf(slab), 1);
  }

  /** The time of `ring`'s row `r`, ms (a ring of int32 offsets or float64 times). */
  #time(ring: Ring, r: number): number {
    return ring.wide ? ring.wide[r] : ring.base + ring.slab.times[ring.slot * this.capacity + r];
  }

  /** The times of `ring`'s rows kept (the newest first) and the rows, from `from` back. */
  #timesBack(ring: Ring, from: number, count: number): { rows: number[]; times: number[] } {
    const C = this.capacity, rows: number[] = [], times: number[] = [];
    const at = ring.slot * C;
    let ts = ring.base;
    for (let k = 0; k < count; k++) {
      const r = (from - k + C) % C;
      if (ring.pool.deltas) {
        if (k > 0) ts -= ring.slab.times[at + (r + 1) % C];
      } else ts = this.#time(ring, r);
      rows.push(r);
      times.push(ts);
    }
    return { rows, times };
  }

  /**
   * Moves `ring` from its slot of uint16 deltas to a slot of int32 offsets
   * (the same rows, values, forecasts and gaps; the times as offsets from a
   * base or in float64, by #placeTimes), `ts` the time of its row `at`.
   */
  #widen(ring: Ring, ts: number): void {
    const C = this.capacity, J = ring.targets.length;
    const { rows, times } = this.#timesBack(ring, (ring.at - 1 + C) % C, ring.size - 1);
    const from = ring.slab, fromSlot = ring.slot;
    this.#release(ring);
    const { pool, slab, slot } = this.#take(J, false);
    slab.values.set(from.values.subarray(fromSlot * C * J, (fromSlot + 1) * C * J), slot * C * J);
    slab.forecast.set(
      from.forecast.subarray(3 * fromSlot * C * J, 3 * (fromSlot + 1) * C * J),
      3 * slot * C * J,
    );
    const gapBytes = Math.ceil(C / 8);
    slab.gaps.set(
      from.gaps.subarray(fromSlot * gapBytes, (fromSlot + 1) * gapBytes),
      slot * gapBytes,
    );
    ring.pool = pool, ring.slab = slab, ring.slot = slot;
    this.#placeTimes(ring, rows, times, ts);
  }

  /**
   * Sets the time of `ring`'s row `at`: an int32 offset from the ring's base
   * while it is an integer within 2^31 ms (24.8 days) of it; else the base
   * moves to the oldest time kept (the rows' offsets are rewritten), and when
   * the times kept then span more than an int32 or one is not an integer,
   * the ring keeps its times in float64 from then on.
   */
  #setTime(ring: Ring, ts: number): void {
    const at = ring.slot * this.capacity;
    if (ring.wide) {
      ring.wide[ring.at] = ts;
      return;
    }
    const d = ts - ring.base;
    if (ring.pool.deltas) {
      // the first row, or within MAX_DELTA ms after the newest (integers: exact back)
      if (ring.size === 1 ? Number.isSafeInteger(ts) : d >= 0 && d <= MAX_DELTA && d === (d | 0)) {
        ring.slab.times[at + ring.at] = ring.size === 1 ? 0 : d;
        ring.base = ts;
        return;
      }
      this.#widen(ring, ts);
      return;
    }
    if (d === (d | 0)) {
      ring.slab.times[at + ring.at] = d;
      return;
    }
    // the rows kept besides `at`, newest first
    const { rows, times } = this.#timesBack(
      ring,
      (ring.at - 1 + this.capacity) % this.capacity,
      ring.size - 1,
    );
    this.#placeTimes(ring, rows, times, ts);
  }

  /**
   * Writes the times of a ring of int32 offsets: `times` of its `rows` and
   * `ts` of its row `at`, as offsets from the oldest when they span at most
   * 2^31 - 1 ms and are integers, else in float64 from then on.
   */
  #placeTimes(ring: Ring, rows: number[], times: number[], ts: number): void {
    const at = ring.slot * this.capacity;
    let lo = ts, hi = ts;
    for (const t of times) lo = Math.min(lo, t), hi = Math.max(hi, t);
    if (Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && hi - lo <= 0x7fffffff) {
      // every time kept is an integer (the offsets are) and ts is: NaN fails the test above
      ring.base = lo;
      rows.forEach((r, k) => ring.slab.times[at + r] = times[k] - lo);
      ring.slab.times[at + ring.at] = ts - lo;
      return;
    }
    ring.wide = new Float64Array(this.capacity);
    rows.forEach((r, k) => ring.wide![r] = times[k]);
    ring.wide[ring.at] = ts;
  }

  /** Marks (or clears) a gap before `ring`'s row `at`. */
  #setGap(ring: Ring, gap: boolean): void {
    const byte = ring.slot * Math.ceil(this.capacity / 8) + (ring.at >> 3);
    const bit = 1 << (ring.at & 7);
    if (gap) ring.slab.gaps[byte] |= bit;
    else ring.slab.gaps[byte] &= ~bit;
  }

  /** The kept readings of `stream`, oldest first (none for a stream never recorded). */
  list(stream: string, query: RecentQuery = {}): RecentReading[] {
    const ring = this.#rings.get(stream);
    if (!ring) return [];
    const out: RecentReading[] = [];
    const { slab } = ring, J = ring.targets.length, C = this.capacity;
    const gapsAt = ring.slot * Math.ceil(C / 8);
    const deltas = ring.pool.deltas;
    let ts = ring.base;
    // newest first until the query is met, then reversed
    for (let k = 0; k < ring.size; k++) {
      if (query.limit !== undefined && out.length >= query.limit) break;
      const r = (ring.next - 1 - k + C) % C;
      const v = (ring.slot * C + r) * J, f = 3 * v;
      // a row's delta is its time less the row before's: the newer row's delta takes us back
      if (!deltas) ts = this.#time(ring, r);
      else if (k > 0) ts -= slab.times[ring.slot * C + (r + 1) % C];
      if (query.after !== undefined && ts <= query.after) break;
      const targets: Record<string, RecentTarget> = {};
      ring.targets.forEach((t, j) => {
        targets[t] = {
          value: slab.values[v + j],
          point: finiteOrNull(slab.forecast[f + 3 * j]),
          lower: finiteOrNull(slab.forecast[f + 1 + 3 * j]),
          upper: finiteOrNull(slab.forecast[f + 2 + 3 * j]),
        };
      });
      out.push({ ts, gap: (slab.gaps[gapsAt + (r >> 3)] & (1 << (r & 7))) !== 0, targets });
    }
    return out.reverse();
  }

  /** The targets of `stream` as recorded, or null when nothing is kept. */
  targets(stream: string): readonly string[] | null {
    return this.#rings.get(stream)?.targets ?? null;
  }

  /** Forgets `stream` (deleted, or its model rebuilt). */
  forget(stream: string): void {
    const ring = this.#rings.get(stream);
    if (!ring) return;
    this.#release(ring);
    this.#rings.delete(stream);
  }

  /** How many streams hold a ring (kept readings, or reserved). */
  get size(): number {
    return this.#rings.size;
  }

  /** The streams with a ring: kept readings, or reserved. */
  streams(): string[] {
    return [...this.#rings.keys()];
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
