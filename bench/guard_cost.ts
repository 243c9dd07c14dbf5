/**
 * What the reading checks and the divergence guard add to each reading, in
 * CPU time (not part of the test suite): on a stream of the preset trained on
 * 500 readings, the work every reading now does besides scoring, learning
 * and forecasting (the value bounds' check and update, the period's interval
 * and gap count, the guard's cheap signs: src/stream/value_bounds.ts,
 * period_estimator.ts, divergence_guard.ts), and the whole-state scan the
 * guard makes every SCAN_EVERY readings; then the engine's own step on the
 * same stream, for scale.
 *
 *   deno run --allow-read bench/guard_cost.ts [--preset=default|FILE.json] [--columns=1]
 *
 * One `RESULT {json}` line on stdout (µs of CPU per reading), a summary on
 * stderr. CPU time is used because this machine is shared: wall times of
 * bench/engine_load.ts vary by more than 2x between runs under load.
 */
import { StreamModel } from "../src/stream/stream.ts";
import {
  divergedExperts,
  divergedParts,
  SCAN_EVERY,
  signsOfDivergence,
} from "../src/stream/divergence_guard.ts";
import { stateArrays } from "../src/stream/stream_state.ts";
import type { Preset } from "../src/stream/preset.ts";
import { loadPreset } from "../src/replay/cli.ts";
import { exitOnFlagError, FlagError, integer, parseFlags, text } from "./args.ts";
import { cpuSeconds, emitResult } from "./stats.ts";

const { preset, columns } = exitOnFlagError(() => {
  const flags = parseFlags(Deno.args, {
    preset: text("a preset name or a preset JSON file", "default"),
    columns: integer(1),
  }, "Cannot parse guard_cost flags");
  let preset: Preset;
  try {
    preset = loadPreset(flags.preset);
  } catch (e) {
    if (e instanceof RangeError) throw new FlagError(e.message);
    throw e;
  }
  return { ...flags, preset };
});

const I = columns;
const s = new StreamModel({
  id: "bench",
  preset,
  columns: Array.from({ length: I }, (_, i) => `v${i}`),
});
const T0 = Date.UTC(2026, 0, 1), FIVE_MIN = 300_000;
const row = new Float64Array(I);
const fill = (t: number) => {
  for (let i = 0; i < I; i++) row[i] = 20 + 3 * Math.sin((2 * Math.PI * t) / 288 + i);
};
for (let t = 0; t < 500; t++) {
  fill(t);
  s.observe(T0 + t * FIVE_MIN, row);
}

/** CPU µs per call of fn over n calls. */
function cpuUs(n: number, fn: (k: number) => void): number {
  const c0 = cpuSeconds();
  for (let k = 0; k < n; k++) fn(k);
  return ((cpuSeconds() - c0) / n) * 1e6;
}

let sink = 0;
const perReading = cpuUs(200_000, (k) => {
  if (s.bounds.check(row) === null) sink++;
  s.bounds.add(row);
  s.period.add(FIVE_MIN);
  if (s.period.countGap(false)) sink++;
  if (signsOfDivergence(s, k % s.origins.S)) sink++;
});
const scan = cpuUs(500, () => {
  sink += divergedExperts(s).length;
  const own = new Set<string>();
  for (const e of s.experts) for (const name in e.arrays?.() ?? {}) own.add(name);
  sink += divergedParts(stateArrays(s), own, [s.level.weight, s.change.weight]).size;
});
let t = 500;
const step = cpuUs(3000, () => {
  fill(t);
  s.observe(T0 + t++ * FIVE_MIN, row);
});
const added = perReading + scan / SCAN_EVERY;
const rec = {
  bench: "guard_cost",
  preset: preset.name,
  columns: I,
  stateBytes: s.bytes,
  checksUsPerReading: Math.round(perReading * 1000) / 1000,
  scanUs: Math.round(scan * 10) / 10,
  addedUsPerReading: Math.round(added * 1000) / 1000,
  observeUsPerReading: Math.round(step * 10) / 10,
  addedShare: Math.round((added / step) * 10000) / 10000,
  sink,
};
emitResult(rec);
console.error(
  `guard_cost: preset ${rec.preset}, ${I} column(s): checks ${rec.checksUsPerReading} µs CPU per ` +
    `reading, a whole-state scan ${rec.scanUs} µs every ${SCAN_EVERY} readings: ` +
    `${rec.addedUsPerReading} µs per reading, ${(rec.addedShare * 100).toFixed(2)}% of a ` +
    `reading's ${rec.observeUsPerReading} µs`,
);
