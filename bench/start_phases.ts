/**
 * Where a daemon's start goes (not part of the test suite): starts a new
 * daemon (empty data directory, 2 shard workers, the embedded broker on port
 * 0) `--runs` times and gives, for each start, the ms from the spawn to each
 * step the daemon logs (at debug level), by the log lines' own times:
 *
 * - `starting`: forecastd.starting, main.ts's first line: the processes
 *   before it (with `--via=task` `deno task start` and its launcher, with
 *   `--via=wrapper` a Node wrapper before them, as tests/cli/launch_test.ts
 *   runs it) and main.ts's modules loaded;
 * - `swept`: store.swept, the KV file opened and swept;
 * - `workerInit` (one per worker): shard.nice, a worker's first line, once its
 *   modules are loaded and its thread made nice;
 * - `workerLoaded` (one per worker): its streams.loaded, after its KV handle,
 *   its streams and its warm-up (`warmUpReadings`, `warmUpMs`);
 * - `loaded`: the main thread's streams.loaded, every worker ready;
 * - `ready`: forecastd.ready, after the broker and the HTTP server, beside
 *   the start-up lines (what tests/e2e/_daemon.ts's startDaemon waits for);
 * - `subscribed`: mqtt.subscribed (what startDaemon waits for next).
 *
 *   deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-env \
 *     bench/start_phases.ts [--runs=3] [--via=direct|task|wrapper]
 *
 * One `RESULT {json}` line per start on stdout. Each daemon is ended by its
 * pid (SIGTERM) and its data directory removed.
 */
import { type Daemon, NODE_WRAPPER, startDaemon } from "../tests/e2e/_daemon.ts";
import { exitOnFlagError, integer, oneOf, parseFlags } from "./args.ts";
import { emitResult } from "./stats.ts";
import { loadavg } from "./proc_stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    runs: integer(3),
    via: oneOf(["direct", "task", "wrapper"] as const, "direct"),
  })
);

/** The program startDaemon runs for `via`, in `dir` (the wrapper's file goes there). */
async function program(dir: string): Promise<{ cmd: string; args: string[] } | undefined> {
  if (f.via === "direct") return undefined;
  const task = [Deno.execPath(), "task", "start"];
  if (f.via === "task") return { cmd: task[0], args: task.slice(1) };
  await Deno.writeTextFile(`${dir}/wrapper.cjs`, NODE_WRAPPER);
  return { cmd: "node", args: [`${dir}/wrapper.cjs`, ...task] };
}

/** ms from `t0` to the time of the first log entry `event` (and `worker`) names, or null. */
function at(d: Daemon, t0: number, event: string, worker?: number): number | null {
  const e = d.log.find((e) => e.event === event && e.worker === worker);
  return e ? Date.parse(e.ts) - t0 : null;
}

for (let run = 0; run < f.runs; run++) {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-start-" });
  try {
    const t0 = Date.now();
    const d = await startDaemon({
      dataDir: `${dir}/data`,
      args: ["--log-level", "debug"],
      program: await program(dir),
      startMs: 300_000,
    });
    const spawnToSubscribed = Date.now() - t0;
    try {
      await d.waitForLog((e) => e.event === "forecastd.ready", "forecastd.ready", 300_000);
      const workers = [0, 1].map((w) => {
        const loaded = d.log.find((e) => e.event === "streams.loaded" && e.worker === w);
        return {
          workerInit: at(d, t0, "shard.nice", w),
          workerLoaded: at(d, t0, "streams.loaded", w),
          warmUpReadings: loaded?.warmUpReadings ?? null,
          warmUpMs: loaded?.warmUpMs ?? null,
        };
      });
      emitResult({
        via: f.via,
        run,
        loadavg1: loadavg(),
        starting: at(d, t0, "forecastd.starting"),
        swept: at(d, t0, "store.swept"),
        workers,
        loaded: at(d, t0, "streams.loaded"),
        ready: at(d, t0, "forecastd.ready"),
        subscribed: at(d, t0, "mqtt.subscribed"),
        spawnToSubscribed,
      });
    } finally {
      await d.stop("SIGTERM");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
