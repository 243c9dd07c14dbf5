import assert from "node:assert/strict";
import { captureLog } from "../../src/log.ts";
import { resolveServiceOptions } from "../../src/service/service_options.ts";
import { StreamRegistry } from "../../src/service/stream_registry.ts";
import { Store } from "../../src/store/store.ts";

/** A store whose checkpoint reads end 30 ms late, and say when they have. */
class LateStore extends Store {
  readsEnded = 0;
  override async loadCheckpoint(id: string): Promise<Uint8Array | null> {
    await new Promise((r) => setTimeout(r, 30));
    try {
      return await super.loadCheckpoint(id);
    } finally {
      this.readsEnded++;
    }
  }
}

Deno.test("StreamRegistry.load() leaves no checkpoint read running for a stream it leaves out", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new LateStore(kv);
    await store.setConfig("k", {
      id: "k",
      preset: "no-such-preset",
      columns: ["t"],
      targets: ["t"],
      periodMs: null,
      frozen: false,
      createdAt: 0,
      updatedAt: null,
    });
    await store.saveCheckpoint("k", new Uint8Array([1, 2, 3]));
    const captured = captureLog("error");
    const registry = new StreamRegistry({
      store,
      log: captured.log,
      options: resolveServiceOptions(),
      now: () => 0,
    });
    await registry.load(() => {});
    // the stream is left out for its preset, and its checkpoint's read has ended with load()
    assert.equal(registry.records.has("k"), false);
    assert.deepEqual(captured.entries().map((e) => e.event), ["stream.restore_failed"]);
    assert.equal(store.readsEnded, 1);
  } finally {
    kv.close();
  }
});
