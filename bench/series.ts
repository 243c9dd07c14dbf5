/**
 * The benchmark series of WORKLOADS.md, generated here so that the benchmark
 * needs nothing but this repository, and checked against the published check
 * values before anything is timed.
 *
 *   x_t = sin(2π t/50) + 0.5·sin(2π t/13) + 0.1·n_t,   t = 0 … N-1
 *
 * with n_t standard normal (mulberry32 seed 42, Box-Muller cosine branch, two
 * uniforms per sample), then z-normalised with the mean and the population
 * standard deviation of all N values.
 */
import { gaussian, mulberry32 } from "../src/model/rng.ts";

/** N: readings in the series; 0…1999 feed W1, 2000…3999 feed W2. */
export const SERIES_LENGTH = 4000;

/** The seed of mulberry32 that drives the noise. */
export const SERIES_SEED = 42;

/** The check values of WORKLOADS.md ("JS and Python agree"). */
export const SERIES_CHECK = {
  x0: -0.159997699399,
  x1: 0.329552944402,
  x2: 0.749417716793,
  /** Σ (t+1)·x_t */
  weightedSum: -35615.892155,
  /** Σ x_t² */
  sumSquares: 4000,
} as const;

/** Generates the z-normalised series (N = SERIES_LENGTH values, seed SERIES_SEED, Float64Array). */
export function makeSeries(): Float64Array {
  const n = SERIES_LENGTH;
  const noise = gaussian(mulberry32(SERIES_SEED));
  const x = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    x[t] = Math.sin((2 * Math.PI * t) / 50) + 0.5 * Math.sin((2 * Math.PI * t) / 13) +
      0.1 * noise();
  }
  let mean = 0;
  for (let t = 0; t < n; t++) mean += x[t];
  mean /= n;
  let sq = 0;
  for (let t = 0; t < n; t++) sq += (x[t] - mean) ** 2;
  const sd = Math.sqrt(sq / n); // population standard deviation
  for (let t = 0; t < n; t++) x[t] = (x[t] - mean) / sd;
  return x;
}

/** The check values of a series, computed the way WORKLOADS.md defines them. */
export function seriesChecksum(x: Float64Array): {
  x0: number;
  x1: number;
  x2: number;
  weightedSum: number;
  sumSquares: number;
} {
  let weightedSum = 0, sumSquares = 0;
  for (let t = 0; t < x.length; t++) {
    weightedSum += (t + 1) * x[t];
    sumSquares += x[t] * x[t];
  }
  return { x0: x[0], x1: x[1], x2: x[2], weightedSum, sumSquares };
}

/**
 * Throws unless `x` matches every check value of WORKLOADS.md to the digits
 * published there (12 decimals for x_0…x_2, 6 for the sums).
 */
export function assertSeries(x: Float64Array): void {
  if (x.length !== SERIES_LENGTH) {
    throw new Error(
      `Cannot run benchmark: the series must have ${SERIES_LENGTH} readings: current value is ${x.length}`,
    );
  }
  const got = seriesChecksum(x);
  const tolerance = { x0: 5e-13, x1: 5e-13, x2: 5e-13, weightedSum: 5e-7, sumSquares: 5e-7 };
  for (const key of Object.keys(SERIES_CHECK) as (keyof typeof SERIES_CHECK)[]) {
    if (!(Math.abs(got[key] - SERIES_CHECK[key]) <= tolerance[key])) {
      throw new Error(
        `Cannot run benchmark: series check '${key}' must be ${SERIES_CHECK[key]} ` +
          `(±${tolerance[key]}), as in WORKLOADS.md: current value is ${got[key]}`,
      );
    }
  }
}
