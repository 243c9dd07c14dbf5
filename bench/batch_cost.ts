/**
 * What one batch to a shard worker costs beside its readings (not part of
 * the test suite): in this process, a ShardedService with one worker over
 * `streams` streams (shedding and the checkpoint cadence out of the way),
 * fed calls of `sizes` readings each (one stream's reading each, streams in
 * turn), every call awaited before the next is made: one batch in flight,
 * so each call is one batch and one reply, the worker waiting between them
 * as at a low rate. CPU µs a batch and a reading, by thread (this process's
 * `main`, the `workers`, and `other`: V8's helpers, KV), after the streams'
 * first readings and `warm` rounds of batches of 250 (V8's compilers). The
 * sizes are measured `repeat` times in turn; each line is one measurement.
 *
 *   deno run --allow-read --allow-write=/tmp --allow-env --allow-run bench/batch_cost.ts \
 *     [--sizes=1,10,250] [--streams=1000] [--rounds=10] [--warm=30] [--repeat=2] \
 *     [--preset=pi-small] [--root=.]
 *
 * `--root=DIR` runs the code of another checkout (an export of an older
 * revision): A/B runs with one bench. One `RESULT {json}` line per size and
 * repeat on stdout.
 */
import { exitOnFlagError, integer, integerList, parseFlags, text } from "./args.ts";
import { loadavg, threadCpu } from "./proc_stats.ts";
import { emitResult } from "./stats.ts";
import type { Reading } from "../src/domain/reading.ts";
import type { ShardedService } from "../src/shard/sharded_service.ts";
import { withShardedService } from "../tests/shard/_with_sharded_service.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    sizes: integerList([1, 10, 250], 1, 256),
    streams: integer(1000),
    rounds: integer(10),
    warm: integer(30),
    repeat: integer(2),
    preset: text("a preset name", "pi-small"),
    root: text("a checkout's directory", "."),
  }, "Cannot parse batch_cost flags")
);

const root = new URL(`${f.root.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
const { createLogger } = await import(new URL("src/log.ts", root).href);

const START = Date.UTC(2025, 5, 2);
const STEP = 300_000;
const reading = (k: number, n: number): Reading => ({
  stream: `s${k}`,
  ts: START + n * STEP,
  values: { v: 20 + 3 * Math.sin((2 * Math.PI * n) / 288) + k * 0.01 },
});

let n = 0;
/** Step n of every stream, in calls of `size` readings, each awaited. */
async function round(svc: ShardedService, size: number): Promise<void> {
  for (let k = 0; k < f.streams; k += size) {
    const call: Reading[] = [];
    for (let j = k; j < Math.min(f.streams, k + size); j++) call.push(reading(j, n));
    await svc.ingest(call, "mqtt");
  }
  n++;
}

const options = {
  defaultPreset: f.preset,
  maxStreams: f.streams + 10,
  maxQueuedReadings: 10_000_000,
  shedAfterMs: 3_600_000,
  checkpointEvery: 1_000_000_000,
  checkpointSeconds: 1_000_000,
};
await withShardedService({ workers: 1, options }, async (svc) => {
  for (let i = 0; i <= f.warm; i++) await round(svc, 250);
  for (let rep = 0; rep < f.repeat; rep++) {
    for (const size of f.sizes) {
      const load = loadavg();
      const c0 = threadCpu(Deno.pid);
      for (let r = 0; r < f.rounds; r++) await round(svc, size);
      const c1 = threadCpu(Deno.pid);
      const readings = f.rounds * f.streams;
      const batches = f.rounds * Math.ceil(f.streams / size);
      const per = (sec: number, count: number) => Math.round((sec / count) * 1e7) / 10;
      emitResult({
        bench: "batch_cost",
        root: f.root,
        preset: f.preset,
        streams: f.streams,
        size,
        batches,
        usPerBatch: {
          main: per(c1.main - c0.main, batches),
          workers: per(c1.workers - c0.workers, batches),
          other: per(c1.other - c0.other, batches),
        },
        usPerReading: {
          main: per(c1.main - c0.main, readings),
          workers: per(c1.workers - c0.workers, readings),
          other: per(c1.other - c0.other, readings),
        },
        loadavg1: load,
      });
    }
  }
}, { root, log: createLogger({ level: "warn" }) });
