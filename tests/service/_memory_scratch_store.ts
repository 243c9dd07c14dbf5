/**
 * The warm-up's scratch store as the service tests, bench/warm_window.ts and
 * bench/worker_spread.ts give a Service one (ServiceDeps.scratchStore): a
 * Store over a KV of its own in memory. A shard worker's (src/shard/shard_worker.ts) wraps that KV
 * in retryLocked as well, as it does its real one.
 */
import { Store } from "../../src/store/store.ts";
import type { ScratchStore } from "../../src/service/service_deps.ts";

/** Opens a Store over a fresh `:memory:` KV; its `close()` closes the KV. */
export async function memoryScratchStore(): Promise<ScratchStore> {
  const kv = await Deno.openKv(":memory:");
  return { store: new Store(kv), close: () => kv.close() };
}
