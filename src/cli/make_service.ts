/**
 * The application the daemon runs, as the configuration asks: every stream
 * on the main thread (`workers` 0), or sharded over that many workers (by
 * default one per core). MQTT forecasts and Home Assistant discovery read
 * forecasts synchronously, so with either of them on the streams stay on
 * the main thread (logged as `shard.disabled`). The workers' threads run
 * `workerNice` nice levels below the main thread where a thread can have its
 * own (Linux, with the permission); elsewhere the daemon says so once
 * (`shard.nice_unavailable`) and runs them at the main thread's priority.
 * With `workers` 0 there is no worker thread to lower.
 *
 * The in-process Service (and with it the engine: the streams, the models,
 * the experts) is imported only for `workers` 0: a sharded daemon's main
 * thread holds none of it, its workers do.
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log.ts";
import type { Application } from "../service/application.ts";
import type { Service } from "../service/service.ts";
import type { ServiceOptions } from "../service/service_options.ts";
import { SHARD_WORKER_URL, ShardedService, type WorkerHealth } from "../shard/sharded_service.ts";
import type { Store } from "../store/store.ts";
import { threadPriorityProblem } from "../shard/lower_thread_priority.ts";

/** The application, and its parts the wiring needs. */
export interface MadeService {
  service: Application;
  /** The in-process Service (workers 0), which the MQTT forecasts read; else null. */
  local: Service | null;
  /** The workers' state for /healthz, when sharded. */
  workers?: () => WorkerHealth[];
}

/** Workers the configuration asks for: unset is one per core, at least 1. */
export function workerCount(cfg: Pick<Config, "workers">): number {
  return cfg.workers ?? Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * Why a worker could not load its modules, or null when it can: Deno checks
 * a worker's module graph against the read permission, and a bundle of
 * main.ts holds no worker module (a compiled binary holds it with
 * `--include src/shard/shard_worker.ts`).
 */
function workerProblem(): string | null {
  if (SHARD_WORKER_URL.protocol !== "file:") return null;
  try {
    Deno.statSync(SHARD_WORKER_URL);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return `the worker module ${SHARD_WORKER_URL.pathname} must exist (a bundle of main.ts ` +
        "holds none: run the checkout, or a binary compiled with --include " +
        "src/shard/shard_worker.ts)";
    }
  }
  const dir = new URL("../", SHARD_WORKER_URL);
  if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") {
    return `Deno must be allowed to read forecastd's modules to start workers ` +
      `(--allow-read=${dir.pathname}, or . from the checkout)`;
  }
  return null;
}

/** The application over `store` (whose KV is the file `kvPath`), as `cfg` asks. */
export async function makeService(
  cfg: Config,
  store: Store,
  kvPath: string,
  log: Logger,
): Promise<MadeService> {
  const options: ServiceOptions = {
    maxStreams: cfg.maxStreams,
    defaultPreset: cfg.defaultPreset,
    falseAlertsPerWeek: cfg.falseAlertsPerWeek,
    checkpointEvery: cfg.checkpointEvery,
    checkpointSeconds: cfg.checkpointSeconds,
    maxValuesPerStream: cfg.maxValuesPerStream,
    maxNameLength: cfg.maxNameLength,
    maxAbsValue: cfg.maxAbsValue,
    maxValueSpreads: cfg.maxValueSpreads,
    maxQueuedReadings: cfg.maxQueuedReadings,
    shedAfterMs: cfg.shedAfterMs,
  };
  let workers = workerCount(cfg);
  if (workers > 0 && (cfg.mqttForecasts || cfg.haDiscovery)) {
    log.warn("shard.disabled", {
      workers,
      message: "MQTT forecasts and Home Assistant discovery read every stream on the main " +
        "thread: the streams run there (workers 0)",
    });
    workers = 0;
  }
  const missing = workers > 0 ? workerProblem() : null;
  if (missing !== null) {
    log.warn("shard.disabled", {
      workers,
      message: `${missing}: the streams run on the main thread (workers 0)`,
    });
    workers = 0;
  }
  if (workers === 0) {
    const { Service } = await import("../service/service.ts");
    const local = new Service({ store, log, options });
    return { service: local, local };
  }
  let workerNice = cfg.workerNice;
  const niceProblem = workerNice > 0 ? threadPriorityProblem() : null;
  if (niceProblem !== null) {
    log.warn("shard.nice_unavailable", {
      workerNice,
      message: `${niceProblem}: the workers run at the main thread's priority`,
    });
    workerNice = 0;
  }
  const sharded = new ShardedService({
    store,
    log,
    kvPath,
    workers,
    options,
    logLevel: cfg.logLevel,
    logFormat: cfg.logFormat,
    workerNice,
    traceStreams: cfg.traceStreams,
  });
  return { service: sharded, local: null, workers: () => sharded.workers() };
}
