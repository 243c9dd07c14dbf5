/**
 * What one `GET /metrics` scrape of many streams costs the main thread,
 * in-process (not part of the test suite): the longest run without a turn
 * of the event loop while it is answered (a 0 ms timer's longest wait, in
 * wall and in CPU time), the whole scrape's wall and CPU time, its bytes and
 * the chunks its body came in; `--rounds` scrapes, the median and the worst.
 *
 *   deno run --allow-read --allow-run=cat [--allow-read=DIR] bench/metrics_stall.ts
 *     [--streams=10000] [--horizons=12] [--rounds=10] [--src=DIR]
 *
 * The stats are those a sharded daemon's main thread holds: two workers'
 * horizon columns (src/shard/horizon_columns.ts) of `streams / 2` streams
 * each, `horizons` horizons per stream (pi-small forecasts 12; /metrics
 * exports 1, 6, 12 and 24), a value in ten not scored yet (NaN), read the
 * way ShardedService.horizonStats reads them. `--src=DIR` takes the route
 * and the columns from another checkout of forecastd (a worktree of an
 * older revision), to compare before and after in one command each:
 *
 *   git worktree add --detach /tmp/forecastd-before <revision>
 *   deno run ... bench/metrics_stall.ts --src=/tmp/forecastd-before
 *
 * With an older checkout the workers' columns are in the order the streams
 * came in (its Service did not sort them) and read one worker after the
 * other; with one that has mergeHorizonColumns, in id order and merged.
 */
import { pathToFileURL } from "node:url";
import type { HorizonColumns } from "../src/shard/horizon_columns.ts";
import type { StreamHorizonStats } from "../src/service/application.ts";
import type { MetricsSource } from "../src/api/metrics.ts";
import { exitOnFlagError, FlagError, integer, parseFlags } from "./args.ts";
import { loadavg } from "./proc_stats.ts";
import { cpuSeconds, emitResult, median, StallWatch } from "./stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(10_000, 2),
    horizons: integer(12),
    rounds: integer(10),
    src: {
      must: "a directory holding forecastd's src/",
      read: (text: string) => text === "" ? undefined : text,
      fallback: new URL("..", import.meta.url).pathname,
    },
  }, "Cannot parse flags")
);
exitOnFlagError(() => {
  try {
    Deno.statSync(`${f.src}/src/api/health.ts`);
  } catch {
    throw new FlagError(
      `Cannot parse flags: --src must hold src/api/health.ts: current value is "${f.src}"`,
    );
  }
});

const src = (path: string) => pathToFileURL(`${Deno.realPathSync(f.src)}/${path}`).href;
const { healthRoutes } = await import(src("src/api/health.ts"));
const columnsModule = await import(src("src/shard/horizon_columns.ts"));
const toHorizonColumns: (s: Iterable<StreamHorizonStats>) => HorizonColumns =
  columnsModule.toHorizonColumns;
const fromHorizonColumns: (c: HorizonColumns) => Iterable<StreamHorizonStats> =
  columnsModule.fromHorizonColumns;
const merge: ((all: HorizonColumns[]) => Iterable<StreamHorizonStats>) | undefined =
  columnsModule.mergeHorizonColumns;

/** Two workers' columns, ids in the order streams came in (or sorted when they are merged). */
function workerColumns(): HorizonColumns[] {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const workers: StreamHorizonStats[][] = [[], []];
  for (let i = 0; i < f.streams; i++) {
    const stream = `site${(i * 7919) % 97}/sensor-${(i * 104729) % f.streams}`;
    const horizons = [];
    for (let h = 1; h <= f.horizons; h++) {
      const v = (x: number) => rand() < 0.1 ? NaN : x;
      horizons.push({
        horizon: h,
        scored: 100,
        mse: { blend: v(rand()) },
        skill: { blend: v(rand() - 0.5) },
        coverage: v(rand()),
      });
    }
    workers[i % 2].push({ stream, horizons });
  }
  if (merge) { for (const w of workers) w.sort((a, b) => a.stream < b.stream ? -1 : 1); }
  return workers.map((w) => structuredClone(toHorizonColumns(w)));
}

const columns = workerColumns();
const source: MetricsSource = {
  counters: {
    readings: { mqtt: 1, ws: 0, http: 0, demo: 0 },
    rejects: {},
    checkpoints: 0,
    checkpointFailures: 0,
    checkpointCommits: 0,
    alertsStored: 0,
    alertFailures: 0,
    checkpointedAt: Date.now(),
    readingsBeyondLossBound: 0,
    trainingShed: 0,
    trainingCaughtUp: 0,
    unhandledRejections: 0,
  },
  rejects: () => ({}),
  learning: { readings: 0, learned: 0, observeSeconds: 0, recoveries: 0 },
  streams: f.streams,
  horizonStats: merge ? () => merge(columns) : function* () {
    for (const c of columns) yield* fromHorizonColumns(c);
  },
  // the columns themselves, as ShardedService gives them since the eleventh round (an older
  // checkout's metrics.ts does not read them)
  horizonColumns: () => columns,
  subscribers: 0,
  queued: 0,
};
const app = healthRoutes({
  version: "bench",
  readiness: () => ({ kv: true, broker: null }),
  metrics: source,
});

const cpuMs = () => cpuSeconds() * 1000;
const round = (x: number) => Math.round(x * 100) / 100;
const sum = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return { medianMs: round(median(s)), maxMs: round(s.at(-1)!) };
};

const stallWall: number[] = [], stallCpu: number[] = [], scrapeWall: number[] = [];
const scrapeCpu: number[] = [];
let bytes = 0, chunks = 0;
const load0 = loadavg();
for (let r = 0; r < f.rounds; r++) {
  await new Promise((res) => setTimeout(res, 50)); // the last round's garbage, and the timers, settle
  const watch = new StallWatch();
  const t0 = performance.now(), c0 = cpuMs();
  const res: Response = await app.request("/metrics");
  bytes = 0;
  chunks = 0;
  for await (const chunk of res.body!) {
    bytes += chunk.length;
    chunks++;
  }
  scrapeWall.push(performance.now() - t0);
  scrapeCpu.push(cpuMs() - c0);
  const stall = watch.stop();
  stallWall.push(stall.wallMs);
  stallCpu.push(stall.cpuMs);
}

emitResult({
  part: "metrics_stall",
  src: merge ? "sliced (mergeHorizonColumns)" : "older checkout (no mergeHorizonColumns)",
  streams: f.streams,
  horizons: f.horizons,
  rounds: f.rounds,
  bytes,
  chunks,
  longestStallMs: { wall: sum(stallWall), cpu: sum(stallCpu) },
  scrapeMs: { wall: sum(scrapeWall), cpu: sum(scrapeCpu) },
  loadavg: [load0, loadavg()],
});
