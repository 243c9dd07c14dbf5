/**
 * What a shard worker's Service spends on its streams' first readings after
 * they were restored (not part of the test suite): one Service, as a shard
 * worker runs it, over a KV file in a temporary directory seeded with
 * `streams` steady-state checkpoints (bench/steady_state.ts, as
 * `bench/scale.ts --part=footprint --steady` seeds the daemon's), loaded and
 * started, then fed `rounds` rounds of one reading per stream (the readings
 * that follow each checkpoint, `period-ms` apart) in batches of `batch`, as
 * the main thread hands them over. Per round: the wall ms, this thread's CPU
 * and the other threads' (V8's compiler and collector helpers), µs per
 * reading; round 1 is every stream's first reading after the restore.
 * `--seed=false` starts with no checkpoint: round 1 creates the streams.
 * `--warm=N`: N more streams (seeded alike) are fed `rounds` readings before
 * the rounds measured, so that the code is compiled (V8 tiers it up) and
 * what is left in round 1 is each stream's own first-reading work.
 * `--profile=true`: V8's sampling profiler (every 100 µs, through
 * node:inspector) over each round, `profile` in the result: each round's
 * functions with the most self time, ms.
 * `--recent=0` keeps no recent readings (the service's recentReadings).
 * `--warm-up=N`: the service's warmUpReadings (default: the service's own;
 * 0: no warm-up at load, src/service/warm_up.ts).
 * `--seed-dir=D` keeps the seeded KV file in D and copies it from there on
 * the next run (seeding 3,000 streams takes a minute or more).
 *
 *   deno run --allow-read --allow-write=/tmp --allow-env --allow-run=sh,cat --allow-sys bench/first_readings.ts \
 *     [--streams=5000] [--rounds=6] [--batch=500] [--preset=pi-small] [--period-ms=1000] [--seed=true] \
 *     [--warm=0] [--seed-dir=] [--profile=false] [--top=20] [--recent=288] [--warm-up=N]
 *
 * One `RESULT {json}` line on stdout.
 */
import { boolean, exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { createLogger } from "../src/log.ts";
import type { Reading } from "../src/domain/reading.ts";
import { deviceValue, seedSteadyState } from "./steady_state.ts";
import { loadavg, threadCpu } from "./proc_stats.ts";
import { Session } from "node:inspector/promises";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(5000),
    rounds: integer(6),
    batch: integer(500),
    preset: text("a preset name", "pi-small"),
    "period-ms": integer(1000),
    seed: boolean(true),
    warm: integer(0, 0),
    "seed-dir": text("a directory", "", true),
    profile: boolean(false),
    recent: integer(288, 0),
    top: integer(20),
    "warm-up": integer(-1, -1),
  }, "Cannot parse first_readings flags")
);

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The `top` functions of `p` by self time, `name (file:line) ms`. */
function topSelf(p: Profile, top: number): string[] {
  const byNode = new Map<number, number>();
  p.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + p.timeDeltas[i]));
  const byFn = new Map<string, number>();
  for (const n of p.nodes) {
    const us = byNode.get(n.id);
    if (!us) continue;
    const c = n.callFrame;
    const file = c.url.replace(/^.*\/(src|bench)\//, "$1/");
    const key = `${c.functionName || "(anonymous)"} (${file}:${c.lineNumber + 1})`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  return [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, us]) => `${k} ${Math.round(us / 100) / 10}`);
}

const START = Date.UTC(2025, 5, 2);
const dir = Deno.makeTempDirSync({ prefix: "first_readings_" });
try {
  const t0 = performance.now();
  const all = f.streams + f.warm;
  if (f.seed) {
    await seedSteadyState(dir, {
      streams: all,
      preset: f.preset,
      start: START,
      periodMs: f["period-ms"],
      ...(f["seed-dir"] ? { cacheDir: f["seed-dir"] } : {}),
    });
  }
  const seedSeconds = Math.round(performance.now() - t0) / 1000;
  const kv = await Deno.openKv(`${dir}/forecastd.kv`);
  const service = new Service({
    store: new Store(kv),
    log: createLogger({ level: "error" }),
    options: {
      maxStreams: all + 1,
      defaultPreset: f.preset,
      recentReadings: f.recent,
      ...(f["warm-up"] >= 0 ? { warmUpReadings: f["warm-up"] } : {}),
    },
  });
  const tLoad = performance.now();
  await service.load();
  const loadSeconds = Math.round(performance.now() - tLoad) / 1000;
  service.start();
  /** Reading n of streams from .. to - 1, in batches. */
  const feed = async (from: number, to: number, n: number) => {
    for (let k0 = from; k0 < to; k0 += f.batch) {
      const batch: Reading[] = [];
      for (let k = k0; k < Math.min(to, k0 + f.batch); k++) {
        batch.push({
          stream: `s${k}`,
          ts: START + n * f["period-ms"],
          values: { v: deviceValue(k, n, f["period-ms"]) },
        });
      }
      await service.ingest(batch, "mqtt");
    }
  };
  for (let n = 0; n < f.rounds; n++) await feed(f.streams, all, n);
  const rounds = [];
  const profile: Record<number, string[]> = {};
  const session = f.profile ? new Session() : null;
  session?.connect();
  await session?.post("Profiler.enable");
  await session?.post("Profiler.setSamplingInterval", { interval: 100 });
  for (let n = 0; n < f.rounds; n++) {
    await session?.post("Profiler.start");
    const c0 = threadCpu(Deno.pid);
    const w0 = performance.now();
    await feed(0, f.streams, n);
    const wall = performance.now() - w0;
    const c1 = threadCpu(Deno.pid);
    if (session) {
      const p = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
      profile[n + 1] = topSelf(p.profile, f.top);
    }
    const us = (s: number) => Math.round(s / f.streams * 1e6);
    rounds.push({
      round: n + 1,
      wallUsPerReading: Math.round(wall / f.streams * 1000),
      mainUsPerReading: us(c1.main - c0.main),
      otherUsPerReading: us(c1.other - c0.other),
    });
  }
  const c = service.counters;
  emitResult({
    streams: f.streams,
    preset: f.preset,
    seed: f.seed,
    warm: f.warm,
    recent: f.recent,
    batch: f.batch,
    seedSeconds,
    loadSeconds,
    warmUpReadings: service.warmUpReadings,
    rounds,
    trainingShed: c.trainingShed,
    ...(session ? { profile } : {}),
    loadavg1: loadavg(),
  });
  await service.close();
  kv.close();
} finally {
  Deno.removeSync(dir, { recursive: true });
}
