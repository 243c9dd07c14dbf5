/**
 * The history ring: a stream's newest raw rows (C, I), what its experts look
 * back on (the previous row for the changes, the linear expert's lag rows,
 * one season for seasonal persistence). The capacity C is the longest
 * look-back of the stream's experts; it changes when the sampling period,
 * and so the season in readings, becomes known.
 *
 * In a checkpoint: the ring as `hist`, the scalars `histLen` and `histHead`.
 */
export class History {
  /** I: values per row. */
  readonly I: number = 0;
  /** rows (C, I): raw values; row `head` is the newest. */
  rows: Float64Array;
  /** Rows held, at most C. */
  length = 0;
  /** Index of the newest row. */
  head = 0;

  constructor(I: number, capacity: number) {
    this.I = I;
    this.rows = new Float64Array(capacity * I);
  }

  /** C: rows the ring holds. */
  get capacity(): number {
    return this.rows.length / this.I;
  }

  /** The raw value of column i, k rows before the newest (k < length). */
  back(k: number, i: number): number {
    const C = this.rows.length / this.I;
    return this.rows[((this.head - k + C) % C) * this.I + i];
  }

  /** Adds row (I) as the newest, dropping the oldest when full. */
  push(row: ArrayLike<number>): void {
    const C = this.rows.length / this.I;
    this.head = (this.head + 1) % C;
    for (let i = 0; i < this.I; i++) this.rows[this.head * this.I + i] = row[i];
    if (this.length < C) this.length++;
  }

  /** Re-sizes the ring to `capacity` rows, keeping the newest rows it holds. */
  resize(capacity: number): void {
    const C = capacity, I = this.I;
    const next = new Float64Array(C * I);
    const keep = Math.min(this.length, C);
    for (let k = keep - 1, r = 0; k >= 0; k--, r++) {
      for (let i = 0; i < I; i++) next[r * I + i] = this.back(k, i);
    }
    this.rows = next;
    this.length = keep;
    this.head = (keep - 1 + C) % C;
  }

  /** A ring of `capacity` rows for a checkpoint to fill (rows, length and head come from it). */
  reallocate(capacity: number): void {
    this.rows = new Float64Array(capacity * this.I);
  }

  /** Forgets every row (a gap, a rewind). */
  clear(): void {
    this.length = 0;
  }
}
