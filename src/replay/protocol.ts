/**
 * Evaluation protocols of a replay: which rows are fed, which forecasts are
 * scored, and the fixed per-column scale errors are measured in.
 *
 * - `online` (default): every row read is fed; every forecast from the first
 *   reading on is scored; errors are z-scored with the mean and population
 *   std of all rows fed.
 * - `fsnet`: the published online-forecasting protocol of FSNet (ICLR 2023)
 *   and OneNet (NeurIPS 2023) on ETT (see docs/replay.md): the first 14,400
 *   rows (or all rows); rows [0, 20%) train and [20%, 25%) validation are the
 *   warm-up, fed but not scored; the values of rows [25%, end) are the scored
 *   targets, so the first scored forecast is the one made from the last
 *   warm-up row; errors are z-scored with the mean and population std of the
 *   training rows, fixed.
 *
 * The scale is for scoring only: the engine sees raw values and keeps its own
 * online normalisation, as in the daemon.
 */

/** The protocols a replay knows. */
export const PROTOCOLS = ["online", "fsnet"] as const;
export type ProtocolName = typeof PROTOCOLS[number];

/** Rows the fsnet protocol uses unless told otherwise. */
export const FSNET_ROWS = 14_400;

/** Row ranges of a replay, as half-open [start, end) row indices. */
export interface Split {
  /** N: rows fed to the engine. */
  rows: number;
  /** Rows [0, scaleRows) give the scoring scale. */
  scaleRows: number;
  /** Rows [0, warmupRows) are fed without being scored. */
  warmupRows: number;
  /** The first row whose value is a scored target (= warmupRows, at least 1). */
  firstTarget: number;
}

/**
 * The fsnet split of n rows: train [0, ⌊n/5⌋), validation [⌊n/5⌋, ⌊n/4⌋),
 * targets [⌊n/4⌋, n). For n = 14,400: 2,880 / 3,600, as published.
 */
export function fsnetSplit(n: number): Split {
  if (!Number.isInteger(n) || n < 8) {
    throw new RangeError(
      `Cannot split rows for the fsnet protocol: the row count must be an integer of at least 8: current value is ${n}`,
    );
  }
  const train = Math.floor(n / 5);
  const warmup = Math.floor(n / 4);
  return { rows: n, scaleRows: train, warmupRows: warmup, firstTarget: warmup };
}

/** The online split of n rows: all scored from the second row, scale from all rows. */
export function onlineSplit(n: number): Split {
  if (!Number.isInteger(n) || n < 2) {
    throw new RangeError(
      `Cannot replay: the data must have at least 2 rows: current count is ${n}`,
    );
  }
  return { rows: n, scaleRows: n, warmupRows: 0, firstTarget: 1 };
}

/**
 * Mean and population std (ddof = 0) of each of C columns over rows
 * [0, rows) of a row-major (N, C) table. A constant column gets std 1, so its
 * errors are measured in its own units.
 */
export function columnScale(
  values: Float64Array,
  C: number,
  rows: number,
): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(C), std = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += values[r * C + c];
    const m = sum / rows;
    let ss = 0;
    for (let r = 0; r < rows; r++) ss += (values[r * C + c] - m) ** 2;
    const sd = Math.sqrt(ss / rows);
    mean[c] = m;
    std[c] = sd > 0 ? sd : 1;
  }
  return { mean, std };
}
