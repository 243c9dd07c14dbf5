/**
 * What the anomaly scorer allocates a reading (not part of the test suite):
 * one AnomalyScorer with the default preset's settings takes `warmup`
 * surprises, then `updates` more in each of `rounds` rounds, as
 * scoreReading gives them (a surprise, no record, learning, not quiet, the
 * shape detector's evidence, two tests); prints the bytes V8 allocated on
 * the JS heap per update in each round (node:v8's `total_allocated_bytes`:
 * exact, whatever the load). The scorer alone, apart from the engine,
 * whose allocation a reading moves by hundreds of bytes from run to run
 * (bench/engine_load.ts `allocatedBytesPerReading`).
 *
 *   deno run --allow-read bench/scorer_alloc.ts [--updates=1000000] [--rounds=3] [--warmup=200000]
 *
 * One `RESULT {json}` line on stdout.
 */
import { getHeapStatistics } from "node:v8";
import { exitOnFlagError, integer, parseFlags } from "./args.ts";
import { emitResult } from "./stats.ts";
import { mulberry32 } from "../src/model/rng.ts";
import { AnomalyScorer } from "../src/stream/anomaly.ts";
import { getPreset } from "../src/stream/preset.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    updates: integer(1_000_000),
    rounds: integer(3),
    warmup: integer(200_000),
  }, "Cannot parse scorer_alloc flags")
);

const a = getPreset("default").anomaly;
const scorer = new AnomalyScorer({
  smoothing: a.smoothing,
  history: a.history,
  refractory: a.refractory,
  escalation: a.escalation,
  density: a.density,
  densityLevel: a.densityLevel,
});
const uniform = mulberry32(1);
/** n updates: exponential surprises (a tail), the shape detector's evidence uniform in [0, 3). */
function run(n: number): void {
  for (let i = 0; i < n; i++) {
    scorer.update(-Math.log(1 - uniform()) * 0.7, 0, true, false, 3 * uniform(), 2);
  }
}
const allocated = () =>
  (getHeapStatistics() as { total_allocated_bytes?: number }).total_allocated_bytes ?? NaN;

run(f.warmup);
const perUpdate: number[] = [];
for (let r = 0; r < f.rounds; r++) {
  const a0 = allocated();
  run(f.updates);
  perUpdate.push(Math.round((allocated() - a0) / f.updates * 10) / 10);
}
emitResult({ bench: "scorer_alloc", updates: f.updates, bytesPerUpdate: perUpdate });
