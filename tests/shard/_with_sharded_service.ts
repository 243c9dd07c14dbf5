/**
 * A ShardedService as the shard tests and the benches of the hand-off set
 * one up: over a real KV file in a fresh temporary directory (the main
 * thread's store behind retryLocked, as the daemon opens it; every worker
 * opens the file itself), a captured log, the workers' log at "warn".
 * Imported by tests/shard/worker_turns_test.ts and bench/ingest_handoff.ts.
 */
import type { ShardedService, ShardedServiceDeps } from "../../src/shard/sharded_service.ts";
import { withTempDir } from "../_helpers.ts";

/** What a caller chooses of the service's deps; the rest is the set-up's. */
export type ShardedSetUp = Omit<ShardedServiceDeps, "store" | "log" | "kvPath" | "logLevel">;

/**
 * Runs `fn` with a loaded ShardedService of `deps`; closes it, its KV and
 * the directory afterwards (also when `fn` or the load throws).
 *
 * `root`: the checkout whose src/ the service is built from, default this
 * one (a bench's `--root`: another revision's code under the same set-up).
 */
export async function withShardedService<T>(
  deps: ShardedSetUp,
  fn: (svc: ShardedService) => Promise<T>,
  root: URL = new URL("../../", import.meta.url),
): Promise<T> {
  const src = (path: string) => import(new URL(path, root).href);
  const { ShardedService } = await src(
    "src/shard/sharded_service.ts",
  ) as typeof import("../../src/shard/sharded_service.ts");
  const { Store } = await src("src/store/store.ts") as typeof import("../../src/store/store.ts");
  const { captureLog } = await src("src/log.ts") as typeof import("../../src/log.ts");
  const { retryLocked } = await src(
    "src/shard/locked_kv_retry.ts",
  ) as typeof import("../../src/shard/locked_kv_retry.ts");
  return await withTempDir(async (dir) => {
    const kvPath = `${dir}/kv.sqlite3`;
    const kv = await Deno.openKv(kvPath);
    try {
      const svc = new ShardedService({
        ...deps,
        store: new Store(retryLocked(kv)),
        log: captureLog().log,
        kvPath,
        logLevel: "warn",
      });
      try {
        await svc.load();
        return await fn(svc);
      } finally {
        await svc.close();
      }
    } finally {
      kv.close();
    }
  });
}
