/**
 * The application the daemon runs, as the configuration asks: every stream
 * on the main thread (`workers` 0), or sharded over that many workers (by
 * default one per core). MQTT forecasts and Home Assistant discovery read
 * forecasts synchronously, so with either of them on the streams stay on
 * the main thread (logged as `shard.disabled`).
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log.ts";
import type { Application } from "../service/application.ts";
import { Service, type ServiceOptions } from "../service/service.ts";
import { SHARD_WORKER_URL, ShardedService, type WorkerHealth } from "../shard/sharded_service.ts";
import type { Store } from "../store/store.ts";

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
 * Whether a worker may load its modules: Deno checks a worker's module
 * graph against the read permission (a compiled binary holds them inside).
 */
function canLoadWorkers(): boolean {
  if (SHARD_WORKER_URL.protocol !== "file:") return true;
  const dir = new URL("../", SHARD_WORKER_URL);
  return Deno.permissions.querySync({ name: "read", path: dir }).state === "granted";
}

/** The application over `store` (whose KV is the file `kvPath`), as `cfg` asks. */
export function makeService(cfg: Config, store: Store, kvPath: string, log: Logger): MadeService {
  const options: ServiceOptions = {
    maxStreams: cfg.maxStreams,
    defaultPreset: cfg.defaultPreset,
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
  if (workers > 0 && !canLoadWorkers()) {
    log.warn("shard.disabled", {
      workers,
      message: `Deno must be allowed to read forecastd's modules to start workers ` +
        `(--allow-read=${new URL("../", SHARD_WORKER_URL).pathname}, or . from the checkout): ` +
        "the streams run on the main thread (workers 0)",
    });
    workers = 0;
  }
  if (workers === 0) {
    const local = new Service({ store, log, options });
    return { service: local, local };
  }
  const sharded = new ShardedService({
    store,
    log,
    kvPath,
    workers,
    options,
    logLevel: cfg.logLevel,
  });
  return { service: sharded, local: null, workers: () => sharded.workers() };
}
