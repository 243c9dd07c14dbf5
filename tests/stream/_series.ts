/** Synthetic streams, a small preset and a linear-expert lookup for the engine tests. */
import assert from "node:assert/strict";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import type { StreamModel } from "../../src/stream/stream.ts";
import { LinearExpert } from "../../src/stream/linear_expert.ts";
import { LstmExpert } from "../../src/stream/lstm_expert.ts";

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

/** A small, fast preset for tests: H = 8, window 8, 6 horizons, 100 readings of alert warm-up. */
export function small(overrides: Partial<Preset> = {}): Preset {
  const p = getPreset("default");
  return {
    ...p,
    model: { ...p.model, hidden: 8, window: 8 },
    horizons: 6,
    anomaly: { ...p.anomaly, warmup: 100 },
    ...overrides,
  };
}

/** Feeds x[from … to) to a one-column stream, every 5 minutes from T0. */
export function feed(s: StreamModel, x: Float64Array, from = 0, to = x.length): void {
  for (let t = from; t < to; t++) s.observe(T0 + t * FIVE_MIN, [x[t]]);
}

/** The stream's linear expert. */
export function linear(s: StreamModel): LinearExpert {
  const e = s.experts.find((e) => e instanceof LinearExpert);
  assert.ok(e instanceof LinearExpert, `experts ${s.expertNames}`);
  return e;
}

/** The stream's LSTM expert. */
export function lstm(s: StreamModel): LstmExpert {
  const e = s.experts.find((e) => e instanceof LstmExpert);
  assert.ok(e instanceof LstmExpert, `experts ${s.expertNames}`);
  return e;
}
