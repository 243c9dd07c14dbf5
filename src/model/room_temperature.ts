/**
 * A made-up room-temperature sensor, deterministic from its seed: the
 * readings the offline demo learns (src/demo.ts), the demo sensor of
 * `serve --demo` publishes (src/ingest/demo_source.ts) and a new daemon's
 * shard workers warm their code on (src/service/warm_up.ts).
 */
import { gaussian, mulberry32 } from "./rng.ts";

/** Readings of roomTemperature a day: one every 5 minutes. */
export const ROOM_TEMPERATURE_DAY = 288;

/**
 * A room-temperature sensor sampled every 5 minutes, in °C: a daily cycle
 * (21 ± 2), a 3-hour ventilation cycle (± 0.6) and AR(1) sensor noise
 * (coefficient 0.7, innovations 0.08 N(0, 1) from mulberry32(seed)). The
 * function returned gives reading `t` (from 0); call it with t = 0, 1, 2, ...
 * in order: the noise goes on from the last call.
 */
export function roomTemperature(seed: number): (t: number) => number {
  const noise = gaussian(mulberry32(seed));
  let ar = 0;
  return (t: number) => {
    ar = 0.7 * ar + 0.08 * noise();
    return 21 + 2 * Math.sin((2 * Math.PI * t) / ROOM_TEMPERATURE_DAY) +
      0.6 * Math.sin((2 * Math.PI * t) / 36) + ar;
  };
}
