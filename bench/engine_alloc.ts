/**
 * What the stream engine alone allocates a reading, in process (not part of
 * the test suite): `streams` streams of one column with the preset `preset`,
 * each fed 10 readings a round (5 minutes apart, a slow sine) through
 * `Engine.observe` from one value row; after the first round and `skip`
 * more (V8's warm-up), the bytes V8 allocated on the JS heap over `rounds`
 * rounds (node:v8's `total_allocated_bytes`: garbage included, whatever the
 * load), per reading. The loop of `bench/worker_path_alloc.ts --part=engine`
 * without its child process and trace, so a change is measured in about
 * 10 s of CPU; that bench stays the reference for the worker's whole path.
 *
 *   deno run --allow-read bench/engine_alloc.ts [--preset=pi-small] [--streams=100] \
 *     [--skip=200] [--rounds=30]
 *
 * One `RESULT {json}` line on stdout.
 */
import { getHeapStatistics } from "node:v8";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    preset: text("the streams' preset", "pi-small"),
    streams: integer(100),
    skip: integer(200, 0),
    rounds: integer(30),
  }, "Cannot parse engine_alloc flags")
);

const allocated = () =>
  (getHeapStatistics() as { total_allocated_bytes?: number }).total_allocated_bytes ?? NaN;

const START = Date.UTC(2025, 5, 2);
const engine = new Engine();
const preset = getPreset(f.preset);
const ids = Array.from({ length: f.streams }, (_, k) => `s${k}`);
for (const id of ids) engine.create(id, { columns: ["v"], preset });
const row = new Float64Array(1);
// the timestamps made before the count (a number made in the loop would be counted)
const ts = Array.from({ length: (f.skip + f.rounds + 1) * 10 }, (_, n) => START + n * 300_000);
let before = NaN;
for (let round = 0; round <= f.skip + f.rounds; round++) {
  if (round === f.skip + 1) before = allocated();
  for (let k = 0; k < f.streams; k++) {
    for (let i = 0; i < 10; i++) {
      const n = round * 10 + i;
      row[0] = 20 + Math.sin(n / 40) + k * 0.01;
      engine.observe(ids[k], ts[n], row);
    }
  }
}
const readings = f.rounds * 10 * f.streams;
emitResult({
  bench: "engine_alloc",
  preset: f.preset,
  streams: f.streams,
  skip: f.skip,
  readings,
  bytesPerReading: Math.round((allocated() - before) / readings * 10) / 10,
});
