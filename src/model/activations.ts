/**
 * The gate nonlinearities, σ and tanh, on a table-driven e^x.
 *
 * An LSTM step of H units calls five of them per unit (three σ, two tanh).
 * With Math.exp (about 9 ns a call in V8, a call into C) and Math.tanh (about
 * 13 ns) they made up a large part of a step at H = 32. {@link exp} below is
 * plain arithmetic that V8 inlines into the kernels: about 4 ns, with a
 * relative error under 1e-15 (a few ulp of a double), far below what a
 * Float32Array can hold (bench/activations_bench.ts, BENCHMARKS.md).
 *
 * Method (Tang's table-driven exp): x = (32·m + j)·ln2/32 + r with integers
 * m, j (0 <= j < 32) and |r| <= ln2/64; then e^x = 2^m · 2^(j/32) · e^r, with
 * 2^m and 2^(j/32) from tables and e^r from its Taylor series to r⁶ (the
 * truncation error r⁷/7! is below 4e-18).
 */

/** 2^(j/32) for j = 0 … 31. */
const POW2_FRAC = new Float64Array(32);
for (let j = 0; j < 32; j++) POW2_FRAC[j] = Math.pow(2, j / 32);

/** 2^m for m = -1023 … 1024, at index m + 1023. */
const POW2_INT = new Float64Array(2048);
for (let m = -1023; m <= 1024; m++) POW2_INT[m + 1023] = Math.pow(2, m);

const INV_LN2_32 = 32 / Math.LN2;
// ln2/32 split in two (fdlibm's ln2_hi, ln2_lo): k·LN2_32_HI is exact for |k| < 2^20
const LN2_32_HI = 6.93147180369123816490e-01 / 32;
const LN2_32_LO = 1.90821492927058770002e-10 / 32;
// adding and subtracting 1.5·2^52 rounds a double below 2^51 to the nearest integer
const ROUND = 6755399441055744;

/**
 * e^x with a relative error under 1e-15 for x in [-708, 709]. Arguments
 * outside are clamped to that range (e^-708 ≈ 3e-308, e^709 ≈ 8e307), so
 * ±Infinity give a tiny or huge finite value instead of 0 or Infinity; NaN
 * gives NaN.
 */
export function exp(x: number): number {
  if (x > 709) x = 709;
  else if (x < -708) x = -708;
  const k = (x * INV_LN2_32 + ROUND) - ROUND; // nearest integer to x·32/ln2
  const r = (x - k * LN2_32_HI) - k * LN2_32_LO; // |r| <= ln2/64
  const r2 = r * r;
  const er = 1 + r + r2 * (1 / 2 + r * (1 / 6)) +
    r2 * r2 * (1 / 24 + r * (1 / 120) + r2 * (1 / 720));
  const ki = k | 0;
  return POW2_INT[(ki >> 5) + 1023] * POW2_FRAC[ki & 31] * er;
}

/** The logistic function σ(x) = 1 / (1 + e^-x). */
export function sigmoid(x: number): number {
  return 1 / (1 + exp(-x));
}

/**
 * tanh(x) = 1 - 2 / (1 + e^2x). Its absolute error is below 1e-15; near 0 its
 * relative error grows (no digits of x below 1e-16 survive), which no
 * Float32Array and no gradient can see.
 */
export function tanh(x: number): number {
  return 1 - 2 / (1 + exp(2 * x));
}
