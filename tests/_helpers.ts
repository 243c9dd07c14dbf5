/** Shared test helpers: seeded random arrays and closeness checks. */
import { gaussian, mulberry32 } from "../src/model/rng.ts";
import type { Floats } from "../src/model/floats.ts";
import type { StoredAlert } from "../src/domain/alert.ts";

/** A Float64Array of n standard-normal values scaled by `scale`, seeded. */
export function randn(n: number, seed: number, scale = 1): Float64Array {
  const g = gaussian(mulberry32(seed));
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = g() * scale;
  return a;
}

/** max |a - b| / max(max |a|, max |b|, floor): the relative error of a tensor. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  let diff = 0, mag = floor;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    mag = Math.max(mag, Math.abs(a[i]), Math.abs(b[i]));
  }
  return diff / mag;
}

/** Throws naming the first element where |a - b| > atol + rtol·|b|. */
export function assertAllClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): void {
  if (a.length !== b.length) {
    throw new Error(`${what}: length ${a.length} differs from expected ${b.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) {
      throw new Error(`${what}[${i}] = ${a[i]}, expected ${b[i]} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** Copies a typed array into a plain Float64Array. */
export function f64(a: Floats): Float64Array {
  return Float64Array.from(a);
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A stored alert for tests of the alert channels: `fields` over an opened alert of stream "s". */
export function storedAlert(fields: Partial<StoredAlert> & { id: string }): StoredAlert {
  const ts = fields.time ?? fields.ts ?? 1_750_000_000_000;
  return {
    type: "opened",
    stream: "s",
    ts,
    time: ts,
    since: ts,
    state: "open",
    targets: {},
    score: 0.99,
    likelihood: 0.99999,
    percentile: 0.999,
    unusual: { count: 1, of: 15, most: 1 },
    learning: false,
    message: "s: an alert made by a test",
    ...fields,
  };
}
