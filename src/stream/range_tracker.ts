/**
 * The range of each target's values so far, and whether a value lies outside
 * it by more than `margin` of its width: what makes a record in the anomaly
 * scorer's evidence (anomaly.ts, which exports it too).
 */
export class RangeTracker {
  readonly margin: number = 0;
  readonly J: number = 0;
  /** Lowest (J) then highest (J) value per target, one array; views {@link lo} and {@link hi}. */
  readonly range: Float64Array;
  /** Readings the range was built from. */
  count = 0;

  /** `at`: the array (2J: lo, then hi) to keep the range in, else an array of its own. */
  constructor(targets: number, margin: number, at?: Float64Array) {
    this.margin = margin;
    this.J = targets;
    this.range = (at ?? new Float64Array(2 * targets)).fill(Infinity, 0, targets)
      .fill(-Infinity, targets);
  }

  /** Lowest value per target (J): a view of the range. */
  get lo(): Float64Array {
    return this.range.subarray(0, this.J);
  }

  /** Highest value per target (J): a view of the range. */
  get hi(): Float64Array {
    return this.range.subarray(this.J);
  }

  /** How far x lies outside target j's range, in widths of the range (0 inside). */
  outside(j: number, x: number): number {
    const lo = this.range[j], hi = this.range[this.J + j];
    if (!(hi >= lo)) return 0;
    const w = hi - lo;
    if (w === 0) return x === lo ? 0 : Infinity;
    return Math.max(0, (x - hi) / w, (lo - x) / w);
  }

  /** Whether x is a record for target j (outside its range by more than the margin). */
  isRecord(j: number, x: number): boolean {
    return this.count > 1 && this.outside(j, x) > this.margin;
  }

  /** Widens target j's range to x. */
  add(j: number, x: number): void {
    const r = this.range, hi = this.J + j;
    if (x < r[j]) r[j] = x;
    if (x > r[hi]) r[hi] = x;
  }
}
