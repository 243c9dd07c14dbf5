/**
 * Seeded pseudo-random numbers for deterministic initialisation and tests.
 *
 * mulberry32 (32-bit state) and the Box-Muller transform, cosine branch only,
 * exactly as the benchmark workloads define them, so the same seed gives the
 * same numbers everywhere forecastd runs.
 */

/** A function returning uniform floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: a small, fast, seeded generator of uniform floats in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box-Muller (cosine branch, two uniforms each). */
export function gaussian(rng: Rng): Rng {
  return () => {
    const u1 = 1 - rng(); // (0, 1]
    const u2 = rng();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
}
