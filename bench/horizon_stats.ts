/**
 * What a shard worker's accuracy columns cost (not part of the test suite):
 * every 5 s a worker sends every stream's accuracy by horizon to the main
 * thread for /metrics (src/shard/shard_worker.ts), in one piece on its
 * thread, its readings waiting behind it. One Service, as a shard worker
 * runs it, over a KV file seeded with `streams` steady-state checkpoints
 * (bench/steady_state.ts, as `bench/scale.ts --part=footprint --steady`
 * seeds the daemon's), loaded and fed `feed` rounds of one reading per
 * stream; then `rounds` times each, alternated (A B A B ...):
 *
 * - `objects`: `toHorizonColumns(service.horizonStats())`, the worker's
 *   way up to the tenth round (every id sorted, an object per stream and
 *   horizon, each expert's MSE and skill);
 * - `direct`: `HorizonColumnsWriter.take(service.engine.streams)`, a whole
 *   pass from the streams' state (the id order kept while the streams are
 *   the same);
 * - `quarter`: `HorizonColumnsWriter.step(service.engine.streams, 4)`, the
 *   part a worker does in each of the 4 seconds between two sends.
 *
 * Each round's wall ms and this thread's CPU ms, the median and the worst,
 * and whether the two gave the same columns (every number, NaN alike).
 *
 *   deno run --allow-read --allow-write=/tmp --allow-env --allow-run=sh,cat bench/horizon_stats.ts \
 *     [--streams=5000] [--rounds=10] [--feed=3] [--preset=pi-small] [--seed-dir=]
 *
 * One `RESULT {json}` line on stdout.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { cpuSeconds, emitResult, median } from "./stats.ts";
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { createLogger } from "../src/log.ts";
import type { Reading } from "../src/domain/reading.ts";
import { HorizonColumnsWriter, toHorizonColumns } from "../src/shard/horizon_columns.ts";
import type { HorizonColumns } from "../src/service/application.ts";
import { deviceValue, seedSteadyState } from "./steady_state.ts";
import { loadavg } from "./proc_stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(5000),
    rounds: integer(10),
    feed: integer(3),
    preset: text("a preset name", "pi-small"),
    "seed-dir": text("a directory", "", true),
  }, "Cannot parse horizon_stats flags")
);

const START = Date.UTC(2025, 5, 2);
const PERIOD_MS = 1000;

/** Whether `a` and `b` hold the same streams and numbers (NaN equal to NaN). */
function same(a: HorizonColumns | void, b: HorizonColumns | void): boolean {
  if (!a || !b) return false;
  if (a.streams.join("\n") !== b.streams.join("\n")) return false;
  if (a.counts.join() !== b.counts.join() || a.values.length !== b.values.length) return false;
  return a.values.every((v, i) => Object.is(v, b.values[i]));
}

const dir = Deno.makeTempDirSync({ prefix: "horizon_stats_" });
try {
  await seedSteadyState(dir, {
    streams: f.streams,
    preset: f.preset,
    start: START,
    periodMs: PERIOD_MS,
    ...(f["seed-dir"] ? { cacheDir: f["seed-dir"] } : {}),
  });
  const kv = await Deno.openKv(`${dir}/forecastd.kv`);
  const service = new Service({
    store: new Store(kv),
    log: createLogger({ level: "error" }),
    options: { maxStreams: f.streams + 1, defaultPreset: f.preset },
  });
  await service.load();
  service.start();
  for (let n = 0; n < f.feed; n++) {
    const batch: Reading[] = [];
    for (let k = 0; k < f.streams; k++) {
      batch.push({
        stream: `s${k}`,
        ts: START + n * PERIOD_MS,
        values: { v: deviceValue(k, n, PERIOD_MS) },
      });
    }
    await service.ingest(batch, "mqtt");
  }
  const writer = new HorizonColumnsWriter(), parts = new HorizonColumnsWriter();
  const ways = {
    objects: () => toHorizonColumns(service.horizonStats()),
    direct: () => writer.take(service.engine.streams),
    quarter: () => parts.step(service.engine.streams, 4),
  };
  const ms: Record<keyof typeof ways, { wall: number[]; cpu: number[] }> = {
    objects: { wall: [], cpu: [] },
    direct: { wall: [], cpu: [] },
    quarter: { wall: [], cpu: [] },
  };
  const load0 = loadavg();
  let identical = true;
  for (let r = 0; r < f.rounds; r++) {
    const out: Partial<Record<keyof typeof ways, HorizonColumns | void>> = {};
    for (const way of ["objects", "direct", "quarter"] as const) {
      await new Promise((res) => setTimeout(res, 20));
      const c0 = cpuSeconds(), t0 = performance.now();
      out[way] = ways[way]();
      ms[way].wall.push(performance.now() - t0);
      ms[way].cpu.push((cpuSeconds() - c0) * 1000);
    }
    identical &&= same(out.objects!, out.direct!);
    if (r % 4 === 3) parts.take(service.engine.streams); // a pass done: the next starts
  }
  const summary = (a: number[]) => {
    const s = [...a].sort((x, y) => x - y);
    return { medianMs: Math.round(median(s) * 10) / 10, maxMs: Math.round(s.at(-1)! * 10) / 10 };
  };
  emitResult({
    part: "horizon_stats",
    streams: f.streams,
    preset: f.preset,
    rounds: f.rounds,
    identical,
    objects: { wall: summary(ms.objects.wall), cpu: summary(ms.objects.cpu) },
    direct: { wall: summary(ms.direct.wall), cpu: summary(ms.direct.cpu) },
    quarter: { wall: summary(ms.quarter.wall), cpu: summary(ms.quarter.cpu) },
    loadavg: [load0, loadavg()],
  });
  await service.close();
  kv.close();
} finally {
  Deno.removeSync(dir, { recursive: true });
}
