/** Synthetic streams for the engine tests. */
import { gaussian, mulberry32 } from "../../src/model/rng.ts";

export const T0 = Date.UTC(2026, 0, 5); // a Monday
export const FIVE_MIN = 300_000;

/** A room-temperature-like sensor every 5 minutes: daily and 3-hour cycles plus noise. */
export function room(n: number, seed = 1, noise = 0.1): Float64Array {
  const g = gaussian(mulberry32(seed));
  const x = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    x[t] = 21 + 2 * Math.sin((2 * Math.PI * t) / 288) + 0.6 * Math.sin((2 * Math.PI * t) / 36) +
      noise * g();
  }
  return x;
}
