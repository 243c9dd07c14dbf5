/**
 * The engine alone, in process (not part of the test suite): N streams of
 * one value each with a preset, readings round-robin over the streams, each
 * stream's timestamps 5 minutes apart (a daily sine, a slower drift and
 * noise), through `Engine.observe` as the daemon's ingest calls it: score,
 * learn, forecast every horizon. Reports microseconds per reading after a
 * warm-up of 100 readings per stream, in wall time and in CPU time (user +
 * system: far less disturbed by other jobs on a shared machine); `learned`
 * counts the timed readings the models learned from (the warm-up's are not
 * counted); `allocatedBytesPerReading` the bytes V8 allocated on the JS heap
 * over the second half of the timed readings (node:v8's
 * `total_allocated_bytes`: garbage included, whatever the load; the
 * compilers' share varies from run to run), per reading.
 *
 *   deno run --allow-read bench/engine_load.ts [--preset=default|FILE.json] \
 *     [--streams=100] [--readings=30000] [--kernels=wasm|ts]
 *
 * One `RESULT {json}` line on stdout, a summary on stderr; a bad or unknown
 * flag ends the run with status 2. With `--v8-flags=...` before the file
 * name, V8's flags can be compared. The noise is uniform in [-0.15, 0.15)
 * from mulberry32 (seed 1).
 */
import { Engine } from "../src/stream/engine.ts";
import type { Preset } from "../src/stream/preset.ts";
import { loadPreset } from "../src/replay/cli.ts";
import { mulberry32 } from "../src/model/rng.ts";
import { exitOnFlagError, FlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { useKernels } from "../src/model/kernels.ts";
import { cpuSeconds, emitResult } from "./stats.ts";
import { getHeapStatistics } from "node:v8";

/** Bytes V8 has allocated on this isolate's heap so far. */
const allocatedBytes = () =>
  (getHeapStatistics() as { total_allocated_bytes?: number }).total_allocated_bytes ?? NaN;

const { preset, streams, readings, kernels } = exitOnFlagError(() => {
  const flags = parseFlags(Deno.args, {
    preset: text("a preset name or a preset JSON file", "default"),
    streams: integer(100),
    readings: integer(30000),
    kernels: oneOf(["wasm", "ts"] as const, "wasm"),
  }, "Cannot parse engine_load flags");
  let preset: Preset;
  try {
    preset = loadPreset(flags.preset);
  } catch (e) {
    // an unknown preset or an unreadable file is a bad flag value too
    if (e instanceof RangeError) throw new FlagError(e.message);
    throw e;
  }
  return { ...flags, preset };
});

useKernels(kernels); // before the engine allocates its networks
const engine = new Engine();
for (let k = 0; k < streams; k++) engine.create(`s${k}`, { preset, columns: ["v"] });
const T0 = Date.UTC(2026, 0, 1), FIVE_MIN = 300_000;
const uniform = mulberry32(1);
const noise = () => uniform() - 0.5;
const row = new Float64Array(1);

/** Feeds n readings, round-robin, from step `from` of every stream on. */
function feed(n: number, from: number): void {
  for (let r = 0; r < n; r++) {
    const k = r % streams, step = from + Math.floor(r / streams);
    row[0] = 20 + 3 * Math.sin((2 * Math.PI * step) / 288 + k) + Math.sin(step / 1000) +
      0.3 * noise();
    engine.observe(`s${k}`, T0 + step * FIVE_MIN, row);
  }
}

const warm = 100;
feed(streams * warm, 0);
const learnedInWarmUp = engine.counters.learned;
const t0 = performance.now();
const c0 = cpuSeconds();
const half = Math.floor(readings / 2 / streams) * streams;
feed(half, warm);
const a0 = allocatedBytes();
feed(readings - half, warm + half / streams);
const allocated = allocatedBytes() - a0;
const ms = performance.now() - t0;
const cpuMs = (cpuSeconds() - c0) * 1000;
const rec = {
  bench: "engine_load",
  preset: preset.name,
  hidden: preset.model.hidden,
  window: preset.model.window,
  k1: preset.model.k1,
  kernels,
  horizons: preset.horizons,
  streams,
  readings,
  usPerReading: Math.round((ms / readings) * 1000 * 10) / 10,
  readingsPerSecond: Math.round(readings / (ms / 1000)),
  cpuUsPerReading: Math.round((cpuMs / readings) * 1000 * 10) / 10,
  allocatedBytesPerReading: Math.round(allocated / (readings - half)),
  learned: engine.counters.learned - learnedInWarmUp,
  when: new Date().toISOString(),
};
emitResult(rec);
// under V8's --expose-gc (bench/alloc_per_reading.ts), one last collection: V8's --trace-gc-nvp
// line for it counts what was allocated since the collection before
(globalThis as { gc?: () => void }).gc?.();
console.error(
  `engine_load: preset ${rec.preset} (H ${rec.hidden}, window ${rec.window}, k1 ${rec.k1}, ` +
    `${rec.horizons} horizons), ${streams} streams: ${rec.usPerReading} µs per reading ` +
    `(${rec.cpuUsPerReading} µs of CPU), ${rec.readingsPerSecond} readings/s`,
);
