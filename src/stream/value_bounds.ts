/**
 * How large a value a stream takes: a sanity bound, not an anomaly test.
 *
 * - Always: |x| <= maxAbs (default 1e15). Larger finite numbers are no
 *   measurement; squared (errors, variances, the blend's moments) they
 *   overflow, and one of them left a stream answering intervals of ±1e305.
 * - Once a column has a scale (two different values taken): x lies within
 *   maxSpreads (default 1e6) widths of the range of the values it has taken,
 *   [lo - N·w, hi + N·w] with w = hi - lo. A value far beyond it would
 *   normalise to numbers the float32 network cannot train on.
 *
 * The width is the range of every value the stream has taken, not a running
 * spread: a running spread decays while a sensor is stuck (and a robust one
 * goes to 0 on a sparse signal), and since a refused value changes nothing, a
 * stream whose spread has decayed would refuse a sensor that wakes up for
 * good. The range never shrinks. For the same reason a value refused by the
 * relative bound `admitAfter` (default 5) readings in a row is taken: a
 * level that persists is the sensor's new level, not a glitch. That count is
 * the only thing a refused reading changes; it is not part of the
 * checkpoint (it starts at 0 after a restart).
 *
 * In a checkpoint: `boundLo`, `boundHi` (I), the range of each column.
 */
import type { StateArrays } from "./state.ts";

/**
 * The bounds' settings; every field has the default it names. maxAbs and
 * maxSpreads are at most 1e30: beyond, a value normalised by a small
 * spread, or squared in training, leaves float32's range (3.4e38).
 */
export interface ValueBoundsOptions {
  /** Largest |value| taken. Default 1e15. */
  maxAbs?: number;
  /** Widths of a column's range a value may lie beyond it. Default 1e6. */
  maxSpreads?: number;
  /** Readings refused by the relative bound in a row after which the next is taken. Default 5. */
  admitAfter?: number;
}

/** The defaults of ValueBoundsOptions. */
export const VALUE_BOUNDS_DEFAULTS: Readonly<Required<ValueBoundsOptions>> = Object.freeze({
  maxAbs: 1e15,
  maxSpreads: 1e6,
  admitAfter: 5,
});

/** A value a bound refuses: the column, the bound's name and the interval allowed. */
export interface BoundProblem {
  column: number;
  /** The option that sets the bound. */
  option: "maxAbsValue" | "maxValueSpreads";
  lo: number;
  hi: number;
}

/** What check() returns, reused by every ValueBounds of the thread. */
const PROBLEM: BoundProblem = { column: 0, option: "maxAbsValue", lo: 0, hi: 0 };

export class ValueBounds {
  readonly I: number = 0;
  readonly maxAbs: number = 0;
  readonly maxSpreads: number = 0;
  readonly admitAfter: number = 0;
  /**
   * lo (I) then hi (I), one array rather than two (a typed array costs a
   * stream about 100 bytes of heap): the least and greatest value of each
   * column taken; ±Infinity before the first. Views {@link lo}, {@link hi}.
   */
  readonly range: Float64Array;
  /** Readings refused by the relative bound in a row (in memory only). */
  refusedInARow = 0;

  /**
   * `at`: where lo and hi live (2I: lo, then hi), when a caller lays out
   * many arrays in one buffer (typed_block.ts). Default: an array of their own.
   */
  constructor(I: number, options: ValueBoundsOptions = {}, at?: Float64Array) {
    const o = { ...VALUE_BOUNDS_DEFAULTS };
    for (const [k, v] of Object.entries(options)) {
      if (v !== undefined) (o as Record<string, number>)[k] = v;
    }
    for (const k of ["maxAbs", "maxSpreads"] as const) {
      if (!(o[k] > 0 && o[k] <= 1e30)) {
        throw new RangeError(
          `Cannot create value bounds: '${k}' must be a positive number of at most 1e30: current value is ${
            o[k]
          }`,
        );
      }
    }
    if (!Number.isInteger(o.admitAfter) || o.admitAfter < 1) {
      throw new RangeError(
        `Cannot create value bounds: 'admitAfter' must be a positive integer: current value is ${o.admitAfter}`,
      );
    }
    this.I = I;
    this.maxAbs = o.maxAbs;
    this.maxSpreads = o.maxSpreads;
    this.admitAfter = o.admitAfter;
    this.range = at ?? new Float64Array(2 * I);
    if (this.range.length !== 2 * I) {
      throw new RangeError(
        `Cannot create value bounds: 'at' must be an array of ${
          2 * I
        } numbers (lo, then hi): current length is ${this.range.length}`,
      );
    }
    this.reset();
  }

  /** lo (I): a view of the range. */
  get lo(): Float64Array {
    return this.range.subarray(0, this.I);
  }

  /** hi (I): a view of the range. */
  get hi(): Float64Array {
    return this.range.subarray(this.I);
  }

  /** The least value of column i taken so far. */
  least(i: number): number {
    return this.range[i];
  }

  /** The greatest value of column i taken so far. */
  greatest(i: number): number {
    return this.range[this.I + i];
  }

  /**
   * The first bound the finite values (I) break, or null. The object
   * returned is one for every ValueBounds (some 90 bytes a stream less):
   * read it before the next call of any.
   */
  check(values: ArrayLike<number>): BoundProblem | null {
    const p = PROBLEM;
    for (let i = 0; i < this.I; i++) {
      const x = values[i];
      if (Math.abs(x) > this.maxAbs) {
        p.column = i;
        p.option = "maxAbsValue";
        p.lo = -this.maxAbs;
        p.hi = this.maxAbs;
        return p;
      }
    }
    if (this.refusedInARow >= this.admitAfter) return null;
    for (let i = 0; i < this.I; i++) {
      const x = values[i], lo = this.range[i], hi = this.range[this.I + i];
      const w = hi - lo;
      if (!(w > 0)) continue; // no scale yet
      const reach = this.maxSpreads * w;
      if (x < lo - reach || x > hi + reach) {
        p.column = i;
        p.option = "maxValueSpreads";
        p.lo = lo - reach;
        p.hi = hi + reach;
        return p;
      }
    }
    return null;
  }

  /** Counts a reading the relative bound refused. */
  refused(): void {
    this.refusedInARow++;
  }

  /** Widens each column's range to a reading taken (I). */
  add(values: ArrayLike<number>): void {
    this.refusedInARow = 0;
    const r = this.range, I = this.I;
    for (let i = 0; i < I; i++) {
      const x = values[i];
      if (x < r[i]) r[i] = x;
      if (x > r[I + i]) r[I + i] = x;
    }
  }

  /** Forgets the ranges (a checkpoint of an older layout holds none). */
  reset(): void {
    this.range.fill(Infinity, 0, this.I).fill(-Infinity, this.I);
    this.refusedInARow = 0;
  }

  /** The arrays in a checkpoint, by name. */
  arrays(): StateArrays {
    return { boundLo: this.lo, boundHi: this.hi };
  }
}
