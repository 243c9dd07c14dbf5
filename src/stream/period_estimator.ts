/**
 * A stream's sampling period, by evidence: the median of the intervals
 * between its readings.
 *
 * - Unless configured, the period is the median of the intervals so far
 *   while fewer than `window` have arrived (the mean of the middle two for
 *   an even count): the first interval alone decides nothing, so two
 *   readings 28 ms apart followed by one a second give 1000 ms, not 28 ms
 *   and a gap at every later reading. On regular readings every median is
 *   the first interval, as before.
 * - Then the running median of the last `window` intervals is watched: when
 *   it disagrees with the period by more than the factor `tolerance` for
 *   `window` readings in a row, it becomes the period. Gaps now and then
 *   (fewer than half the window) do not move a median, and jitter within
 *   the tolerance does not either.
 * - A configured period is kept whatever the intervals say; the observed
 *   one is still measured, and so is how often a reading comes after a gap:
 *   {@link PeriodEstimator.countGap} says when that share of the recent
 *   readings passes `warnShare`, so that the daemon can warn naming both
 *   periods.
 *
 * Per reading: O(window) to take a median of at most 255 numbers, without
 * allocating. In a checkpoint: `periodRecent` (window) and the scalar
 * `period` [intervals seen, ring head, readings disagreeing, gap share,
 * warned (0 or 1)].
 */
import type { StateArrays } from "./state.ts";
import { typedBlock } from "../model/typed_block.ts";

/** The estimator's settings; every field has the default it names. */
export interface PeriodOptions {
  /** Intervals the medians take (odd, 3 … 255). Default 15. */
  window?: number;
  /** Factor by which the running median must differ from the period to disagree. Default 1.25. */
  tolerance?: number;
  /** Share of the recent readings (about the last 100) after a gap above which to warn. Default 0.1. */
  warnShare?: number;
}

/** The defaults of PeriodOptions. */
export const PERIOD_DEFAULTS: Readonly<Required<PeriodOptions>> = Object.freeze({
  window: 15,
  tolerance: 1.25,
  warnShare: 0.1,
});

/** Readings the gap share averages over. */
const GAP_MEMORY = 100;

export class PeriodEstimator {
  readonly window: number = 0;
  readonly tolerance: number = 0;
  readonly warnShare: number = 0;
  /** The period is the user's: never estimated. */
  readonly configured: boolean;
  /** The sampling period (ms), NaN until known. */
  periodMs: number = 0;
  /** recent (window): the newest intervals (ms), a ring. */
  readonly recent: Float64Array;
  /** Intervals seen, at most window. */
  count = 0;
  /** Slot of the newest interval. */
  head = -1;
  /** Readings in a row whose running median disagreed with the period. */
  disagree = 0;
  /** Share of the recent readings that came after a gap (exponential, over about 100). */
  gapShare = 0;
  /** A warning was given and the share has not fallen below half of warnShare since. */
  warned = false;
  /** Scratch (window) for the median. */
  readonly #sorted: Float64Array;

  /**
   * `at`: where the recent intervals and the median's scratch live (window
   * each), when a caller lays out many arrays in one buffer (typed_block.ts).
   * Default: a block of their own.
   */
  constructor(
    configuredMs?: number,
    options: PeriodOptions = {},
    at?: readonly [Float64Array, Float64Array],
  ) {
    const o = { ...PERIOD_DEFAULTS };
    for (const [k, v] of Object.entries(options)) {
      if (v !== undefined) (o as Record<string, number>)[k] = v;
    }
    const fail = (name: string, rule: string, v: unknown) =>
      new RangeError(
        `Cannot create period estimator: '${name}' must be ${rule}: current value is ${v}`,
      );
    if (!Number.isInteger(o.window) || o.window < 3 || o.window > 255 || o.window % 2 === 0) {
      throw fail("window", "an odd integer from 3 to 255", o.window);
    }
    if (!(o.tolerance > 1)) throw fail("tolerance", "a number above 1", o.tolerance);
    if (!(o.warnShare > 0 && o.warnShare < 1)) {
      throw fail("warnShare", "a number between 0 and 1", o.warnShare);
    }
    if (configuredMs !== undefined && !(configuredMs > 0 && Number.isFinite(configuredMs))) {
      throw fail("periodMs", "a positive number", configuredMs);
    }
    this.window = o.window;
    this.tolerance = o.tolerance;
    this.warnShare = o.warnShare;
    this.configured = configuredMs !== undefined;
    this.periodMs = configuredMs ?? NaN;
    // written a second time: V8 takes a field never written again for a
    // constant, and the first disagreement would throw away the optimised
    // code that relied on it
    this.disagree = 0;
    [this.recent, this.#sorted] = at ??
      typedBlock([[Float64Array, o.window], [Float64Array, o.window]]);
    if (this.recent.length !== o.window || this.#sorted.length !== o.window) {
      throw fail(
        "at",
        `two arrays of ${o.window} numbers (the window)`,
        `of lengths ${this.recent.length} and ${this.#sorted.length}`,
      );
    }
  }

  /** Where the period comes from: the user, or the readings (null while unknown). */
  get source(): "configured" | "estimated" | null {
    return this.configured ? "configured" : Number.isNaN(this.periodMs) ? null : "estimated";
  }

  /** The median of the recent intervals (ms), NaN before the first. */
  get observedMs(): number {
    const n = this.count;
    if (n === 0) return NaN;
    const a = this.#sorted;
    for (let i = 0; i < n; i++) a[i] = this.recent[i];
    // insertion sort: n <= 255, no allocation
    for (let i = 1; i < n; i++) {
      const v = a[i];
      let j = i - 1;
      while (j >= 0 && a[j] > v) a[j + 1] = a[j--];
      a[j + 1] = v;
    }
    const mid = n >> 1;
    return n % 2 === 1 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
  }

  /**
   * Adds the interval dt (ms, > 0) between the two newest readings; returns
   * true when the period changed (the stream then re-sizes what depends on it).
   */
  add(dt: number): boolean {
    this.head = (this.head + 1) % this.window;
    this.recent[this.head] = dt;
    const early = this.count < this.window;
    if (early) this.count++;
    if (this.configured) return false;
    const observed = this.observedMs;
    if (early || Number.isNaN(this.periodMs)) return this.#set(observed);
    const ratio = observed / this.periodMs;
    if (ratio > this.tolerance || ratio < 1 / this.tolerance) this.disagree++;
    else this.disagree = 0;
    if (this.disagree < this.window) return false;
    this.disagree = 0;
    return this.#set(observed);
  }

  #set(periodMs: number): boolean {
    if (periodMs === this.periodMs) return false;
    this.periodMs = periodMs;
    return true;
  }

  /**
   * Counts whether the newest reading came after a gap; returns true when
   * the share of recent readings after a gap has just passed warnShare (once,
   * until it falls below half of it).
   */
  countGap(gap: boolean): boolean {
    this.gapShare += ((gap ? 1 : 0) - this.gapShare) / GAP_MEMORY;
    if (this.warned) {
      if (this.gapShare < this.warnShare / 2) this.warned = false;
      return false;
    }
    if (this.gapShare <= this.warnShare) return false;
    this.warned = true;
    return true;
  }

  /** Forgets the intervals (a checkpoint of an older layout holds none): the period is kept. */
  reset(): void {
    if (Number.isFinite(this.periodMs)) {
      this.recent.fill(this.periodMs);
      this.count = this.window;
      this.head = this.window - 1;
    } else {
      this.count = 0;
      this.head = -1;
    }
    this.disagree = 0;
    this.gapShare = 0;
    this.warned = false;
  }

  /** The arrays in a checkpoint, by name. */
  arrays(): StateArrays {
    return { periodRecent: this.recent };
  }

  /** The scalars in a checkpoint. */
  scalars(): number[] {
    return [this.count, this.head, this.disagree, this.gapShare, this.warned ? 1 : 0];
  }

  /** Takes back what scalars() gave. */
  restoreScalars(s: readonly number[]): void {
    [this.count, this.head, this.disagree, this.gapShare] = s;
    this.warned = s[4] === 1;
  }
}
