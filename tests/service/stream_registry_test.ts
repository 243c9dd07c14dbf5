import assert from "node:assert/strict";
import { captureLog } from "../../src/log.ts";
import { resolveServiceOptions } from "../../src/service/service_options.ts";
import { StreamRegistry } from "../../src/service/stream_registry.ts";
import { Store } from "../../src/store/store.ts";
import { Engine } from "../../src/stream/engine.ts";

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

Deno.test("StreamRegistry.readScratch() reads a scratch stream's forecast, accuracy and bytes, and keeps and stores nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const registry = new StreamRegistry({
      store: new Store(kv),
      log: captureLog().log,
      options: resolveServiceOptions({ defaultPreset: "pi-small" }),
      now: () => 0,
    });
    const scratch = new Engine();
    const s = registry.scratchStream(scratch);
    const calls: string[] = [];
    for (const name of ["forecast", "stats", "toBytes"] as const) {
      const f = s[name].bind(s) as (...args: unknown[]) => unknown;
      Object.defineProperty(s, name, {
        value: (...args: unknown[]) => (calls.push(name), f(...args)),
      });
    }
    // before any reading: no forecast to read, the rest read alike
    registry.readScratch(s);
    for (let n = 0; n < 50; n++) scratch.observe(s.id, 1e12 + n * 60_000, [20 + Math.sin(n)]);
    registry.readScratch(s);
    assert.deepEqual(calls.filter((c) => c !== "stats"), [
      "forecast",
      "toBytes",
      "forecast",
      "toBytes",
    ]);
    assert.ok(calls.includes("stats"), "stats read");
    assert.equal(registry.records.size, 0);
    assert.equal(registry.engine.streams.size, 0);
    assert.equal(scratch.streams.size, 1);
    const stored = [];
    for await (const e of kv.list({ prefix: [] })) stored.push(e.key);
    assert.deepEqual(stored, []);
  } finally {
    kv.close();
  }
});
