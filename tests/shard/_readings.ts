/** The shard tests' readings: a room's temperature, five minutes apart. */
import type { Reading } from "../../src/domain/reading.ts";

/** The time of reading 0, ms since the epoch. */
export const T0 = Date.UTC(2026, 0, 5);
/** The time between two readings of a stream, ms (five minutes). */
export const STEP = 300_000;

/** Reading `t` of `stream`: at T0 + t * STEP, a temperature near 20 that never repeats. */
export const reading = (stream: string, t: number): Reading => ({
  stream,
  ts: T0 + t * STEP,
  values: { temp: 20 + Math.sin(t / 10) + 0.1 * Math.sin(t * 1.3) },
});
