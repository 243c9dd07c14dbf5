/**
 * For tests/service/warm_up_jit_test.ts (run in a child with V8's
 * --trace-deopt): a new daemon's shard worker as bench/warm_window.ts runs
 * one, smaller: a Service over a `:memory:` KV loads with its warm-up
 * (`warmUpNew`, not capped), prints MARK, then 50 new streams take 40
 * readings each, 10 a batch, and the first checkpoint saves them.
 */
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import { memoryScratchStore } from "./_memory_scratch_store.ts";

export const MARK = "=== ready ===";
const STEP = 300_000;
const START = Date.UTC(2025, 0, 1);

if (import.meta.main) {
  const kv = await Deno.openKv(":memory:");
  const s = new Service({
    options: { warmUpNew: true, warmUpReadings: 1000, warmUpMs: 600_000, shedAfterMs: 3_600_000 },
    store: new Store(kv),
    log: captureLog().log,
    raise: () => {},
    // as a shard worker's (src/shard/shard_worker.ts): a scratch store in memory
    scratchStore: memoryScratchStore,
  });
  await s.load();
  console.log(`${MARK} ${s.warmUpReadings} ${s.warmUpServiceReadings}`);
  for (let n = 0; n < 40; n += 10) {
    for (let k = 0; k < 50; k++) {
      const batch = [];
      for (let m = n; m < n + 10; m++) {
        batch.push({
          stream: `dev-${k}`,
          ts: START + m * STEP,
          values: { value: 20 + Math.sin(m / 9) + k / 100 },
        });
      }
      await s.ingest(batch, "mqtt");
    }
  }
  await s.checkpoint();
  await s.close();
  kv.close();
}
