/**
 * A ShardedService as the shard tests and the benches of the hand-off set
 * one up: over a real KV file in a fresh temporary directory or a given one
 * (the main thread's store behind retryLocked, as the daemon opens it; every
 * worker opens the file itself), a captured log, the workers' log at "warn".
 * Imported by the tests of tests/shard/ and by bench/ingest_handoff.ts,
 * bench/batch_cost.ts and bench/shard_scale.ts.
 */
import type { ShardedService, ShardedServiceDeps } from "../../src/shard/sharded_service.ts";
import type { Store } from "../../src/store/store.ts";
import type { Logger } from "../../src/log.ts";
import { resolvesWithin } from "../../src/async/resolves_within.ts";
import { withTempDir } from "../_helpers.ts";

/** What a caller chooses of the service's deps; the rest is the set-up's. */
export type ShardedSetUp = Omit<ShardedServiceDeps, "store" | "log" | "kvPath" | "logLevel">;

/** How the service is set up around its deps; each has a default. */
export interface ShardedSetUpOptions {
  /**
   * The main thread's log (a test that reads `reading.trace` passes a
   * captured one at "info"). Default: a captured log at "debug" that no
   * one reads.
   */
  log?: Logger;
  /**
   * The directory of the KV file, left in place afterwards: a second
   * service over the same directory restores what the first saved. Default:
   * a fresh temporary directory, removed afterwards.
   */
  dir?: string;
  /**
   * The checkout whose src/ the service is built from, default this one (a
   * bench's `--root`: another revision's code under the same set-up).
   */
  root?: URL;
}

/** How long the workers may take to be ready (no start waits a minute, whatever its warm-up). */
const LOAD_MS = 60_000;

/**
 * Runs `fn` with a loaded ShardedService of `deps` and its main thread's
 * store; closes the service, its KV and the temporary directory afterwards
 * (also when `fn` or the load throws). Throws when the workers are not ready
 * within a minute.
 */
export async function withShardedService<T>(
  deps: ShardedSetUp,
  fn: (svc: ShardedService, store: Store) => Promise<T>,
  opts: ShardedSetUpOptions = {},
): Promise<T> {
  const root = opts.root ?? new URL("../../", import.meta.url);
  const src = (path: string) => import(new URL(path, root).href);
  const { ShardedService } = await src(
    "src/shard/sharded_service.ts",
  ) as typeof import("../../src/shard/sharded_service.ts");
  const { Store } = await src("src/store/store.ts") as typeof import("../../src/store/store.ts");
  const { captureLog } = await src("src/log.ts") as typeof import("../../src/log.ts");
  const { retryLocked } = await src(
    "src/shard/locked_kv_retry.ts",
  ) as typeof import("../../src/shard/locked_kv_retry.ts");
  const inDir = async (dir: string) => {
    const kvPath = `${dir}/kv.sqlite3`;
    const kv = await Deno.openKv(kvPath);
    try {
      const store = new Store(retryLocked(kv));
      const svc = new ShardedService({
        ...deps,
        store,
        log: opts.log ?? captureLog().log,
        kvPath,
        logLevel: "warn",
      });
      try {
        if (!await resolvesWithin(svc.load(), LOAD_MS)) {
          throw new Error(
            `Cannot start sharded service: the workers were not ready within ${LOAD_MS} ms`,
          );
        }
        return await fn(svc, store);
      } finally {
        await svc.close();
      }
    } finally {
      kv.close();
    }
  };
  return opts.dir === undefined ? await withTempDir(inDir) : await inDir(opts.dir);
}
