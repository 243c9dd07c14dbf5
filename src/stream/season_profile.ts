/**
 * A bounded profile of one season: for a season longer than the preset's
 * `seasonPoints` readings (at most {@link SEASON_POINTS}), the mean of each
 * bucket of consecutive readings at the same phase, so that seasonal
 * persistence over a long season (a day at one reading per second: 86,400
 * readings) holds at most that many rows instead of the whole season. A
 * season that fits keeps raw rows in the history ring instead
 * (seasonal_expert.ts): its forecasts are exactly those of the raw rows.
 *
 * Shapes: I values per reading; S the season in readings; N the most points
 * kept (`seasonPoints`); W = ceil(S / N) readings per bucket; P = ceil(S /
 * W) buckets (P <= N; the last one may hold fewer than W readings).
 * Reading n since the last clear has phase n mod S and falls in bucket
 * floor(phase / W). A bucket's mean is written when its last reading comes,
 * so a bucket being filled still holds its mean of the season before.
 *
 * In a checkpoint (by the seasonal expert): `seasonMeans` (P, I),
 * `seasonSum` (I) and the scalars `seasonal`: [phase, complete].
 *
 * The means are kept as far as they were written: buckets fill in order
 * from bucket 0, so `means` holds the buckets up to the highest one written
 * (growing by doubling, at most P) and a bucket beyond it reads 0, as a
 * bucket not written yet of the whole array would. A stream at one reading
 * a second holds 16 KB of means per value only once it has seen a day; in
 * its first hour, 84 buckets (43 readings each) at most. A checkpoint holds
 * the whole (P, I) array whatever is allocated (`meansLength`): the buckets
 * beyond `means` are its trailing zeros. The `pi-small` preset keeps 288
 * points (5-minute buckets of a daily season at one reading a second: 2.3 KB).
 */

/**
 * The longest season, in readings: a week at one per second (a longer one,
 * or one under 2 readings, leaves seasonal persistence out).
 */
export const MAX_SEASON = 604_800;

/** The most points a season may keep (the preset's `seasonPoints`, its default). */
export const SEASON_POINTS = 2048;

export class SeasonProfile {
  /** I: values per reading. */
  readonly I: number = 0;
  /** S: the season in readings (0: none configured). */
  season = 0;
  /** W: readings per bucket. */
  width = 1;
  /** P: buckets. */
  points = 0;
  /**
   * means (P, I): each bucket's mean over its latest complete filling; held
   * up to the highest bucket written (the rows beyond are zeros, not held).
   */
  means: Float64Array = new Float64Array(0);
  /** sum (I): the bucket being filled, its readings' sum so far. */
  sum: Float64Array;
  /** Phase of the newest reading, 0 … S − 1; −1 when none since the last clear. */
  phase = -1;
  /** Buckets whose mean was written since the last clear, at most P. */
  complete = 0;

  constructor(I: number) {
    this.I = I;
    this.sum = new Float64Array(I);
  }

  /** Sizes the profile for a season of S readings (S > N, or 0: none) in at most N points and clears it. */
  configure(season: number, most = SEASON_POINTS): void {
    this.season = season;
    this.width = season > 0 ? Math.ceil(season / most) : 1;
    this.points = season > 0 ? Math.ceil(season / this.width) : 0;
    this.means = new Float64Array(0);
    this.clear();
  }

  /** The length of the whole means array (P · I), as a checkpoint holds it. */
  get meansLength(): number {
    return this.points * this.I;
  }

  /**
   * Takes a whole means array (P · I, as a checkpoint holds it), keeping the
   * rows up to its last one that is not all zeros.
   */
  loadMeans(all: Float64Array): void {
    const { I } = this;
    let end = all.length;
    while (end > 0 && Object.is(all[end - 1], 0)) end--;
    this.means = all.slice(0, Math.ceil(end / I) * I);
  }

  /** Makes `means` hold bucket b: doubles it (at least 16 buckets), at most P buckets. */
  #hold(b: number): void {
    const { I } = this;
    const rows = Math.min(this.points, Math.max(16, b + 1, (2 * this.means.length) / I));
    const next = new Float64Array(rows * I);
    next.set(this.means);
    this.means = next;
  }

  /** Whether every bucket holds a mean: a whole season was seen since the last clear. */
  get ready(): boolean {
    return this.points > 0 && this.complete >= this.points;
  }

  /** Readings bucket b holds: W, but the last may hold fewer. */
  #size(b: number): number {
    return Math.min(this.width, this.season - b * this.width);
  }

  /** Adds row (I) as the newest reading, at the next phase. */
  push(row: ArrayLike<number>): void {
    const { I, sum } = this;
    this.phase = (this.phase + 1) % this.season;
    const b = Math.floor(this.phase / this.width);
    const n = this.phase - b * this.width + 1;
    if (n === 1) sum.fill(0);
    for (let i = 0; i < I; i++) sum[i] += row[i];
    if (n < this.#size(b)) return;
    if ((b + 1) * I > this.means.length) this.#hold(b);
    for (let i = 0; i < I; i++) this.means[b * I + i] = sum[i] / n;
    if (this.complete < this.points) this.complete++;
  }

  /** Column i's mean at the phase h readings after the newest (h >= 1). */
  at(h: number, i: number): number {
    const q = (this.phase + h) % this.season;
    const k = Math.floor(q / this.width) * this.I + i;
    // a bucket beyond those held was never written: 0, as in the whole array
    return k < this.means.length ? this.means[k] : 0;
  }

  /** Forgets every reading (a gap, a rewind, a new season). */
  clear(): void {
    this.phase = -1;
    this.complete = 0;
    this.sum.fill(0);
  }
}

/** A season's buckets as a checkpoint holds them: means (P, I), the bucket being filled's sum (I), [phase, complete]. */
export interface SeasonBuckets {
  means: Float64Array;
  sum: Float64Array;
  phase: number;
  complete: number;
}

/**
 * The same season of S readings in buckets of `width` readings instead of
 * those of `from` (a checkpoint written when the preset kept another number
 * of points: `pi-small`'s 2,010 buckets of a daily season at one reading a
 * second before it kept 288). A new bucket's mean is the mean of the old
 * means over its readings, each weighted by the readings it shares with
 * the new one; a new bucket not wholly covered by written old buckets stays
 * unwritten (0), and `complete` counts the new buckets wholly covered. The
 * bucket being filled takes the old partial sum and the old means of this
 * season's readings before it (or, where the old bucket began before the new
 * one, that sum's share of the readings in the new one). Null when `from`
 * does not hold a layout of S readings for I values.
 */
export function rebucket(
  from: SeasonBuckets,
  I: number,
  season: number,
  width: number,
): SeasonBuckets | null {
  const S = season;
  if (from.means.length % I !== 0 || from.sum.length !== I) return null;
  const P0 = from.means.length / I;
  const W0 = Math.ceil(S / P0);
  if (P0 < 1 || Math.ceil(S / W0) !== P0) return null;
  const P = Math.ceil(S / width);
  const written = from.complete >= P0 ? S : Math.min(S, from.complete * W0); // readings covered
  const means = new Float64Array(P * I);
  let complete = 0;
  for (let b = 0; b < P; b++) {
    const lo = b * width, hi = Math.min(S, lo + width);
    if (hi > written) break;
    complete++;
    for (let k = Math.floor(lo / W0); k * W0 < hi; k++) {
      const share = Math.min(hi, (k + 1) * W0) - Math.max(lo, k * W0);
      for (let i = 0; i < I; i++) means[b * I + i] += (share * from.means[k * I + i]) / (hi - lo);
    }
  }
  const sum = new Float64Array(I);
  const { phase } = from;
  if (phase >= 0) {
    const lo = Math.floor(phase / width) * width; // the new bucket being filled starts here
    const lo0 = Math.floor(phase / W0) * W0; // the old one here; its sum holds [lo0, phase]
    const part = lo0 >= lo ? 1 : (phase - lo + 1) / (phase - lo0 + 1);
    for (let i = 0; i < I; i++) sum[i] = part * from.sum[i];
    // this season's old buckets between the two starts, whole or in part
    for (let k = Math.floor(lo / W0); k * W0 < lo0; k++) {
      const share = Math.min(lo0, (k + 1) * W0) - Math.max(lo, k * W0);
      for (let i = 0; i < I; i++) sum[i] += share * from.means[k * I + i];
    }
  }
  return { means, sum, phase, complete: Math.min(complete, P) };
}
