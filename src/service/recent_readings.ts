/**
 * The last readings of each stream, kept in memory for the dashboard's
 * chart (`GET /v1/streams/{id}/recent`): per reading its time, whether a gap
 * came before it, each target's value and the forecast that was made for it
 * (the point and the interval of the one-step forecast from the reading
 * before it). The service records every reading it takes. Nothing is
 * persisted: after a restart the history starts again.
 *
 * Per stream one ring of `capacity` rows, allocated on the stream's first
 * reading, in three parts over one buffer: the reading's time and values
 * exact (float64, row [ts, value per target]), the forecast made for it in
 * float32 (row [(point, lower, upper) per target], NaN for "none"), and
 * whether a gap came before it, one bit a row: the forecast kept for the
 * chart is its float64 value rounded to float32 (about 7 significant
 * digits, relative error at most 6e-8), so a ring of one target takes 8,104
 * bytes at the default 288 rows (13,824 all in float64, 9,216 with the gap
 * in a float32 of its own). The stream's forecast itself is not rounded; a
 * kept forecast beyond float32's range (about 3.4e38) lists as null.
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

interface Ring {
  targets: readonly string[];
  /** (capacity, 1 + J) rows of ts, then the value of each target. */
  exact: Float64Array;
  /** (capacity, 3J) rows of point, lower, upper of each target. */
  forecast: Float32Array;
  /** (capacity) bits: a gap came before row r (bit r % 8 of byte r >> 3). */
  gaps: Uint8Array;
  /** Rows held. */
  size: number;
  /** Index of the next row to write. */
  next: number;
  /** Index of the newest row. */
  at: number;
}

/** A ring of `capacity` rows for `targets`, its two parts in one buffer. */
function newRing(targets: readonly string[], capacity: number): Ring {
  const J = targets.length;
  const exactLength = capacity * (1 + J), forecastLength = capacity * 3 * J;
  const gapsAt = exactLength * 8 + forecastLength * 4;
  const buffer = new ArrayBuffer(gapsAt + Math.ceil(capacity / 8));
  return {
    targets: [...targets],
    exact: new Float64Array(buffer, 0, exactLength),
    forecast: new Float32Array(buffer, exactLength * 8, forecastLength),
    gaps: new Uint8Array(buffer, gapsAt, Math.ceil(capacity / 8)),
    size: 0,
    next: 0,
    at: 0,
  };
}

/** The default capacity: a day of 5-minute readings. */
export const RECENT_CAPACITY = 288;

/** Recent readings of every stream. */
export class RecentReadings {
  readonly capacity: number;
  readonly #rings = new Map<string, Ring>();

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
    const J = targets.length;
    const e = ring.at * (1 + J), f = ring.at * 3 * J;
    ring.exact[e] = reading.ts;
    setGap(ring, reading.gap);
    for (let j = 0; j < J; j++) {
      const v = reading.targets[targets[j]];
      ring.exact[e + 1 + j] = v?.value ?? NaN;
      ring.forecast[f + 3 * j] = v?.point ?? NaN;
      ring.forecast[f + 1 + 3 * j] = v?.lower ?? NaN;
      ring.forecast[f + 2 + 3 * j] = v?.upper ?? NaN;
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
    const J = stream.targets.length;
    const e = ring.at * (1 + J), f = ring.at * 3 * J;
    ring.exact[e] = ts;
    setGap(ring, gap);
    for (let j = 0; j < 3 * J; j++) ring.forecast[f + j] = made[j];
    for (let j = 0; j < J; j++) ring.exact[e + 1 + j] = row[stream.targetIndex[j]];
  }

  /**
   * The ring of `stream` (whose targets are `targets`: a change forgets what
   * was kept), moved on by one row; its `at` is the row to write.
   */
  #advance(stream: string, targets: readonly string[]): Ring {
    let ring = this.#rings.get(stream);
    if (!ring || !sameNames(ring.targets, targets)) {
      ring = newRing(targets, this.capacity);
      this.#rings.set(stream, ring);
    }
    ring.at = ring.next;
    ring.next = (ring.next + 1) % this.capacity;
    ring.size = Math.min(ring.size + 1, this.capacity);
    return ring;
  }

  /** The kept readings of `stream`, oldest first (none for a stream never recorded). */
  list(stream: string, query: RecentQuery = {}): RecentReading[] {
    const ring = this.#rings.get(stream);
    if (!ring) return [];
    const out: RecentReading[] = [];
    const J = ring.targets.length;
    // newest first until the query is met, then reversed
    for (let k = 0; k < ring.size; k++) {
      if (query.limit !== undefined && out.length >= query.limit) break;
      const r = (ring.next - 1 - k + this.capacity) % this.capacity;
      const e = r * (1 + J), f = r * 3 * J;
      const ts = ring.exact[e];
      if (query.after !== undefined && ts <= query.after) break;
      const targets: Record<string, RecentTarget> = {};
      ring.targets.forEach((t, j) => {
        targets[t] = {
          value: ring.exact[e + 1 + j],
          point: finiteOrNull(ring.forecast[f + 3 * j]),
          lower: finiteOrNull(ring.forecast[f + 1 + 3 * j]),
          upper: finiteOrNull(ring.forecast[f + 2 + 3 * j]),
        };
      });
      out.push({ ts, gap: (ring.gaps[r >> 3] & (1 << (r & 7))) !== 0, targets });
    }
    return out.reverse();
  }

  /** The targets of `stream` as recorded, or null when nothing is kept. */
  targets(stream: string): readonly string[] | null {
    return this.#rings.get(stream)?.targets ?? null;
  }

  /** Forgets `stream` (deleted, or its model rebuilt). */
  forget(stream: string): void {
    this.#rings.delete(stream);
  }

  /** The streams with kept readings. */
  streams(): string[] {
    return [...this.#rings.keys()];
  }
}

/** Marks (or clears) a gap before the ring's row `at`. */
function setGap(ring: Ring, gap: boolean): void {
  const bit = 1 << (ring.at & 7);
  if (gap) ring.gaps[ring.at >> 3] |= bit;
  else ring.gaps[ring.at >> 3] &= ~bit;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
