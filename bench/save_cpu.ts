/**
 * What a checkpoint save of many streams costs in CPU, and where (not part
 * of the test suite): `streams` streams of `preset` in one process, each
 * given `readings` readings one second apart (as the footprint part of
 * bench/scale.ts feeds them), then `rounds` times one more reading each and
 * a save of every stream by the checkpoint scheduler into a real KV file in
 * /tmp, as a shard worker saves its streams at the checkpoint cadence.
 * Prints the CPU per checkpoint: all, the thread that runs the JavaScript
 * (`main`; the snapshots, i.e. encoding the streams' state, measured apart), and
 * the process's other threads by name (Deno KV's SQLite, V8's helpers);
 * the KV commits and bytes per checkpoint, and the bytes the process wrote
 * to the disk per checkpoint (`writtenBytesPerCheckpoint`, /proc/self/io's
 * write_bytes over the rounds: the KV's SQLite file and its write-ahead
 * log), and the CPU of restoring a stream from its saved checkpoint
 * (`restoreUsPerStream`: load from KV and `restoreNew()`, as at start-up).
 * With `--steady=true` the streams start from the steady-state checkpoints
 * of bench/steady_state.ts (two days at one reading a second, their season
 * and shape memory whole: what `bench/scale.ts --steady` restores; made
 * once and kept in /tmp/forecastd-steady-cache) and go on with their
 * readings, `--readings` ignored.
 *
 *   deno run --allow-read=/tmp,. --allow-write=/tmp --allow-env --allow-run=cat,sh \
 *     --allow-sys bench/save_cpu.ts [--streams=2000] [--readings=60] \
 *     [--preset=pi-small] [--rounds=3] [--profile=0] [--steady=false]
 *
 * With `--profile=N` the last round's save is sampled every N µs
 * (node:inspector, this thread): its busy time by file and function.
 *
 * One `RESULT {json}` line on stdout.
 */
import { CheckpointScheduler } from "../src/service/checkpoint_scheduler.ts";
import { Store } from "../src/store/store.ts";
import { newCounters } from "../src/service/service_counters.ts";
import { captureLog } from "../src/log.ts";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { deviceValue, steadyCheckpoint, VARIANTS } from "./steady_state.ts";
import { emitResult } from "./stats.ts";
import { byNamePer, loadavg, threadCpu } from "./proc_stats.ts";
import { type ProfileSummary, profileSummary } from "./long_tasks.ts";
import { Session } from "node:inspector";

/** Samples this thread every `us` µs while `run` runs (node:inspector); where the time went. */
async function profiled(us: number, run: () => Promise<void>): Promise<ProfileSummary> {
  const s = new Session();
  s.connect();
  const post = (m: string, p: object = {}) =>
    new Promise<unknown>((res, rej) => s.post(m, p, (e, r) => e ? rej(e) : res(r)));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: us });
  await post("Profiler.start");
  await run();
  // deno-lint-ignore no-explicit-any
  const { profile } = await post("Profiler.stop") as { profile: any };
  s.disconnect();
  return profileSummary(profile, 30);
}

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(2000),
    readings: integer(60),
    preset: text("a preset name", "pi-small"),
    rounds: integer(3),
    profile: integer(0, 0),
    steady: oneOf(["true", "false"] as const, "false"),
  }, "Cannot parse save_cpu flags")
);

const engine = new Engine();
const preset = getPreset(f.preset);
const T0 = Date.UTC(2026, 0, 5);
const steady = f.steady === "true";
const observe = (r: number) => {
  for (let k = 0; k < f.streams; k++) {
    const v = steady ? deviceValue(k, r, 1000) : 20 + Math.sin(r / 10 + k) + (k % 7) / 10;
    engine.observe(`s${k}`, T0 + r * 1000, [v]);
  }
};
/** Variant v's steady-state checkpoint, made once and kept in /tmp (two days of readings). */
async function steadyBytes(v: number): Promise<Uint8Array> {
  const path = `/tmp/forecastd-steady-cache/${f.preset}-${T0}-${v}.bin`;
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const bytes = steadyCheckpoint(v, f.preset, T0, 1000);
  await Deno.mkdir("/tmp/forecastd-steady-cache", { recursive: true });
  await Deno.writeFile(path, bytes);
  return bytes;
}
const seeds = steady
  ? await Promise.all(Array.from({ length: VARIANTS }, (_, v) => steadyBytes(v)))
  : [];
for (let k = 0; k < f.streams; k++) {
  const s = engine.create(`s${k}`, { preset, columns: ["v"], periodMs: 1000 });
  if (steady) s.restoreNew(seeds[k % VARIANTS]);
}
const readings = steady ? 0 : f.readings;
for (let r = 0; r < readings; r++) observe(r);

const dir = await Deno.makeTempDir({ prefix: "forecastd-save-cpu-" });
const kv = await Deno.openKv(`${dir}/forecastd.kv`);
// the service's counters (the scheduler counts its checkpoints and commits there)
const counters = newCounters(Date.now);
let bytes = 0;
const store = new Store(kv);
// the worker's config of a stream: its record (a small object, as the service's)
const config = (id: string) => ({ id, preset: f.preset, columns: ["v"], periodMs: 1000 });
const scheduler = new CheckpointScheduler({
  store,
  source: {
    snapshot: (id) => {
      const b = engine.get(id)!.toBytes();
      bytes += b.byteLength;
      return { bytes: b, config: config(id) };
    },
  },
  log: captureLog("error").log,
  counters,
}, { seconds: 3600 });
// a first save: every stream's first checkpoint (the footprint run's streams have one too)
for (const id of engine.streams.keys()) scheduler.changed(id, 1);
await scheduler.save();
const saved0 = counters.checkpoints, commits0 = counters.checkpointCommits;
bytes = 0;
// the snapshots alone (the encoding of every stream's state), CPU of the JavaScript's thread
const s0 = threadCpu(Deno.pid).main;
for (let i = 0; i < 3; i++) for (const id of engine.streams.keys()) engine.get(id)!.toBytes();
const snapshotUs = (threadCpu(Deno.pid).main - s0) / (3 * f.streams) * 1e6;
// through cat, as bench/proc_stats.ts reads /proc
const writeBytes = () =>
  Number(
    /^write_bytes:\s+(\d+)/m.exec(
      new TextDecoder().decode(
        new Deno.Command("cat", { args: [`/proc/${Deno.pid}/io`] }).outputSync().stdout,
      ),
    )![1],
  );
const w0 = writeBytes();
const t0 = threadCpu(Deno.pid);
let seconds = 0;
let profile: ProfileSummary | null = null;
for (let round = 0; round < f.rounds; round++) {
  const before = threadCpu(Deno.pid);
  observe(readings + round); // not counted: the model's work
  const after = threadCpu(Deno.pid);
  // the readings' CPU left out: shift the start by it
  for (const k of Object.keys(after.byName)) {
    t0.byName[k] = (t0.byName[k] ?? 0) + after.byName[k] - (before.byName[k] ?? 0);
  }
  for (const id of engine.streams.keys()) scheduler.changed(id, 1);
  const t = performance.now();
  if (f.profile > 0 && round === f.rounds - 1) {
    profile = await profiled(f.profile, async () => void await scheduler.save());
  } else await scheduler.save();
  seconds += (performance.now() - t) / 1000;
}
const t1 = threadCpu(Deno.pid);
await scheduler.stop();
const written = writeBytes() - w0;
// the restore of every stream, as at start-up: load from KV, restoreNew() into a new stream
const fresh = new Engine();
const r0 = threadCpu(Deno.pid).main;
for (let k = 0; k < f.streams; k++) {
  const bytes = (await store.loadCheckpoint(`s${k}`))!;
  fresh.create(`s${k}`, { preset, columns: ["v"], periodMs: 1000 }).restoreNew(bytes);
}
const restoreUs = (threadCpu(Deno.pid).main - r0) / f.streams * 1e6;
kv.close();
await Deno.remove(dir, { recursive: true });
const n = counters.checkpoints - saved0;
const by = byNamePer(t0, t1, n);
const all = Object.values(by).reduce((a, b) => a + b, 0);
emitResult({
  bench: "save_cpu",
  streams: f.streams,
  preset: f.preset,
  readings: steady ? "steady" : f.readings,
  checkpoints: n,
  failures: counters.checkpointFailures,
  bytesPerCheckpoint: Math.round(bytes / n),
  writtenBytesPerCheckpoint: Math.round(written / n),
  checkpointsPerCommit: Math.round(n / (counters.checkpointCommits - commits0) * 10) / 10,
  cpuUsPerCheckpoint: all,
  snapshotUsPerCheckpoint: Math.round(snapshotUs),
  threadUsPerCheckpoint: by,
  msPerCheckpoint: Math.round(seconds / n * 1e6) / 1000,
  restoreUsPerStream: Math.round(restoreUs),
  loadavg1: loadavg(),
  ...(profile ? { profile } : {}),
});
