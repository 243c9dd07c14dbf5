/**
 * What a save of many streams holds in memory while it writes (not part of
 * the test suite): `streams` streams of `preset` in one process, each given
 * `readings` readings one second apart, saved by the checkpoint scheduler
 * into a real KV file in /tmp, `rounds` times, for each `batch-kib` (the
 * scheduler's `batchBytes`: the checkpoint bytes a save takes before it
 * writes them). Prints per batch size the checkpoint bytes held at once (the
 * most a batch took), the process's peak of ArrayBuffer memory outside the
 * JS heap and of RSS over the streams alone (sampled every 5 ms), the KV
 * commits, and the CPU per checkpoint.
 *
 *   deno run --allow-read=/tmp,. --allow-write=/tmp --allow-env --allow-run=cat \
 *     --allow-sys=loadavg --v8-flags=--expose-gc bench/save_memory.ts \
 *     [--streams=2000] [--readings=120] [--preset=pi-small] [--rounds=2] [--batch-kib=16384,1024,256]
 *
 * One `RESULT {json}` line per batch size on stdout.
 */
import { CheckpointScheduler } from "../src/service/checkpoint_scheduler.ts";
import { Store } from "../src/store/store.ts";
import { captureLog } from "../src/log.ts";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { exitOnFlagError, integer, integerList, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { loadavg, ownCpu } from "./proc_stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(2000),
    readings: integer(120),
    preset: text("a preset name", "pi-small"),
    rounds: integer(2),
    "batch-kib": integerList([16384, 1024, 256], 1, 1 << 20),
  }, "Cannot parse save_memory flags")
);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const engine = new Engine();
const preset = getPreset(f.preset);
const T0 = Date.UTC(2026, 0, 5);
for (let k = 0; k < f.streams; k++) {
  engine.create(`s${k}`, { preset, columns: ["v"], periodMs: 1000 });
}
for (let r = 0; r < f.readings; r++) {
  for (let k = 0; k < f.streams; k++) {
    engine.observe(`s${k}`, T0 + r * 1000, [20 + Math.sin(r / 10 + k) + (k % 7) / 10]);
  }
}
const checkpointBytes = engine.get("s0")!.toBytes().byteLength;

for (const kib of f["batch-kib"]) {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-save-memory-" });
  const kv = await Deno.openKv(`${dir}/forecastd.kv`);
  const counters = {
    checkpoints: 0,
    checkpointFailures: 0,
    checkpointCommits: 0,
    readingsBeyondLossBound: 0,
  };
  let held = 0, heldMax = 0;
  const scheduler = new CheckpointScheduler({
    store: {
      saveCheckpoints: async (entries) => {
        held = entries.reduce((a, e) => a + e.bytes.byteLength, 0);
        heldMax = Math.max(heldMax, held);
        return await store.saveCheckpoints(entries);
      },
    },
    source: { snapshot: (id) => ({ bytes: engine.get(id)!.toBytes(), config: { id } }) },
    log: captureLog("error").log,
    counters,
  }, { batchBytes: kib * 1024, seconds: 3600 });
  const store = new Store(kv);
  gc();
  const m0 = Deno.memoryUsage();
  let externalMax = 0, rssMax = 0;
  const sampler = setInterval(() => {
    const m = Deno.memoryUsage();
    externalMax = Math.max(externalMax, m.external - m0.external);
    rssMax = Math.max(rssMax, m.rss - m0.rss);
  }, 5);
  const c0 = ownCpu(), t0 = performance.now();
  for (let round = 0; round < f.rounds; round++) {
    for (const id of engine.streams.keys()) scheduler.changed(id, 1);
    await scheduler.save();
  }
  const seconds = (performance.now() - t0) / 1000, cpuSeconds = ownCpu() - c0;
  clearInterval(sampler);
  await scheduler.stop();
  kv.close();
  await Deno.remove(dir, { recursive: true });
  const saved = counters.checkpoints;
  emitResult({
    bench: "save_memory",
    streams: f.streams,
    preset: f.preset,
    readings: f.readings,
    batchKiB: kib,
    checkpointBytes,
    checkpoints: saved,
    failures: counters.checkpointFailures,
    commits: counters.checkpointCommits,
    heldMaxBytes: heldMax,
    externalPeakBytes: externalMax,
    rssPeakBytes: rssMax,
    cpuUsPerCheckpoint: Math.round(cpuSeconds / saved * 1e6),
    msPerCheckpoint: Math.round(seconds / saved * 1e6) / 1000,
    loadavg1: loadavg(),
  });
}
