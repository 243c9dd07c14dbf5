/**
 * The range of each target's values so far, and whether a value lies outside
 * it by more than `margin` of its width: what makes a record in the anomaly
 * scorer's evidence (anomaly.ts, which exports it too).
 */
export class RangeTracker {
  readonly margin: number = 0;
  /** Lowest and highest value per target (J). */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** Readings the range was built from. */
  count = 0;

  /** `arrays`: lo and hi (J each) to keep the range in, else arrays of their own. */
  constructor(targets: number, margin: number, arrays?: readonly [Float64Array, Float64Array]) {
    this.margin = margin;
    this.lo = (arrays?.[0] ?? new Float64Array(targets)).fill(Infinity);
    this.hi = (arrays?.[1] ?? new Float64Array(targets)).fill(-Infinity);
  }

  /** How far x lies outside target j's range, in widths of the range (0 inside). */
  outside(j: number, x: number): number {
    const lo = this.lo[j], hi = this.hi[j];
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
    if (x < this.lo[j]) this.lo[j] = x;
    if (x > this.hi[j]) this.hi[j] = x;
  }
}
