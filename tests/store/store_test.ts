import assert from "node:assert/strict";
import { resolveStoreOptions, Store } from "../../src/store/store.ts";
import { alertsPrefix, ROOT } from "../../src/store/keys.ts";
import { getPreset } from "../../src/stream/preset.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { bytesOf, listKeys, probeKv, sameBytes, withKv } from "./_kv.ts";

Deno.test("setConfig()/getConfig() round-trip a stream's configuration; listStreams() lists it", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const config = { preset: "room-temperature", hidden: 32, window: 48, topics: ["a/b", "c/d"] };
    await store.setConfig("greenhouse.temp", config);
    assert.deepEqual(await store.getConfig("greenhouse.temp"), config);
    assert.equal(await store.getConfig("other"), null);
    await store.setConfig("greenhouse.temp", { ...config, hidden: 16 });
    assert.equal((await store.getConfig<typeof config>("greenhouse.temp"))?.hidden, 16);
    await store.saveCheckpoint("attic", bytesOf(10));
    assert.deepEqual(await store.listStreams(), ["attic", "greenhouse.temp"]);
  });
});

Deno.test("setConfig() names a bad id, a missing config and one over 64 KiB", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    await assert.rejects(
      store.setConfig("bad id!", {}),
      /^TypeError: Cannot store stream: id must be 1-128 characters of A-Z a-z 0-9 _ \. : -, not only dots: current value is "bad id!"$/,
    );
    await assert.rejects(
      store.setConfig("s", undefined),
      /^TypeError: Cannot store stream "s": config must be a value: current value is missing$/,
    );
    await assert.rejects(
      store.setConfig("s", { notes: "x".repeat(70_000) }),
      /^RangeError: Cannot store stream "s": config must serialise to at most 65536 bytes: current size is 700\d\d$/,
    );
    assert.deepEqual(await listKeys(kv, []), []);
  });
});

Deno.test("storeRecords() stores new streams' records 100 to a commit, and keeps a config a checkpoint save wrote", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const store = new Store(probe.kv);
    await store.saveCheckpoints([{ id: "s0007", bytes: bytesOf(10), config: { v: "checkpoint" } }]);
    const entries = Array.from({ length: 250 }, (_, i) => ({
      id: `s${String(i).padStart(4, "0")}`,
      config: { v: "record", i },
    }));
    const before = probe.commits;
    const result = await store.storeRecords(entries);
    // 100 checks per commit (Deno KV's limit): 3 commits, and one retried without s0007
    assert.ok(probe.commits - before <= 4, `${probe.commits - before} commits for 250 records`);
    assert.equal(result.commits, probe.commits - before);
    assert.deepEqual(result.existing, ["s0007"]);
    assert.deepEqual(result.stored, entries.map((e) => e.id).filter((id) => id !== "s0007"));
    assert.deepEqual(await store.listStreams(), entries.map((e) => e.id));
    assert.deepEqual(await store.getConfig("s0007"), { v: "checkpoint" });
    assert.deepEqual(await store.getConfig("s0249"), { v: "record", i: 249 });
    assert.equal(await store.loadCheckpoint("s0249"), null, "a record alone has no checkpoint");
    // a second time: every record is there, nothing is written
    const again = await store.storeRecords(entries.slice(0, 5));
    assert.deepEqual(again.stored, []);
    assert.equal(again.existing.length, 5);
    assert.deepEqual(await store.getConfig("s0000"), { v: "record", i: 0 });
  });
});

Deno.test("storeRecords() names a bad id, a config over 64 KiB and an id twice, before writing", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    await assert.rejects(
      store.storeRecords([{ id: "ok", config: {} }, { id: "bad id!", config: {} }]),
      /^TypeError: Cannot store stream record: id must be 1-128 characters of A-Z a-z 0-9 _ \. : -, not only dots: current value is "bad id!"$/,
    );
    await assert.rejects(
      store.storeRecords([{ id: "s", config: { notes: "x".repeat(70_000) } }]),
      /^RangeError: Cannot store stream record "s": config must serialise to at most 65536 bytes: current size is 700\d\d$/,
    );
    await assert.rejects(
      store.storeRecords([{ id: "s", config: {} }, { id: "s", config: {} }]),
      /^RangeError: Cannot store stream records: each stream may appear once per batch: "s" appears again at index 1$/,
    );
    assert.deepEqual(await listKeys(kv, []), []);
  });
});

Deno.test("deleteStream() removes the config, the manifest, every chunk and journal entry, and nothing else", async () => {
  await withKv(async (raw) => {
    let crash = false;
    const probe = probeKv(raw, {
      beforeCommit: (n) => {
        if (crash && n > 1) throw new Error("simulated power loss");
      },
    });
    const crashing = new Store(probe.kv);
    const store = new Store(raw);
    for (const id of ["s1", "s2"]) {
      await store.setConfig(id, { id });
      await store.saveCheckpoint(id, bytesOf(2_000_000, 1));
      await store.saveCheckpoint(id, bytesOf(1_000_000, 2));
      await store.appendAlert({ stream: id, time: 1 });
    }
    crash = true; // a write of s1 that crashed, fresh enough to look in progress
    await assert.rejects(crashing.saveCheckpoint("s1", bytesOf(1_000_000, 3)), /power loss/);
    const mentions = async (id: string) =>
      (await listKeys(raw, ROOT)).filter((k) => k.includes(id)).length;
    assert.ok(await mentions("s1") > 16 + 12, "s1's keys before");
    const s2Before = await mentions("s2");

    assert.equal(await store.deleteStream("s1"), true);
    assert.equal(await mentions("s1"), 0, "no key of s1 is left");
    assert.equal(await mentions("s2"), s2Before, "s2 untouched");
    assert.equal(await store.getConfig("s1"), null);
    assert.equal(await store.loadCheckpoint("s1"), null);
    assert.ok(sameBytes(await store.loadCheckpoint("s2"), bytesOf(1_000_000, 2)));
    assert.deepEqual(await store.listStreams(), ["s2"]);
    assert.equal((await listKeys(raw, alertsPrefix())).length, 2, "alerts are history: kept");
    assert.equal(await store.deleteStream("s1"), false);
    assert.equal(await store.deleteStream("never"), false);
  });
});

Deno.test("a KV file closed and reopened gives back every checkpoint byte for byte", async () => {
  // Under /tmp whatever TMPDIR says: `deno task test` may read and write /tmp only.
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "forecastd-store-" });
  const path = `${dir}/forecastd.kv`;
  try {
    // A real stream checkpoint among raw byte patterns of the sizes at the chunk edges.
    const stream = () =>
      new StreamModel({ id: "model", preset: getPreset("pi-small"), columns: ["a", "b"] });
    const live = stream();
    for (let t = 0; t < 50; t++) live.observe(t * 60_000, [Math.sin(t / 4), Math.cos(t / 7)]);
    const model = live.toBytes();
    const entries = [
      { id: "model", bytes: model },
      ...[0, 1, 65_536, 65_537, 2_000_000].map((n) => ({ id: `raw-${n}`, bytes: bytesOf(n, n) })),
    ];

    let kv = await Deno.openKv(path);
    let manifests;
    try {
      const store = new Store(kv);
      manifests = (await store.saveCheckpoints(entries)).saved;
      await store.setConfig("model", { hidden: 8 });
      await store.appendAlert({ stream: "model", time: 5 });
    } finally {
      kv.close();
    }

    kv = await Deno.openKv(path);
    try {
      const store = new Store(kv);
      for (const [i, e] of entries.entries()) {
        const back = await store.loadCheckpoint(e.id);
        assert.ok(sameBytes(back, e.bytes), `${e.id}: ${back?.length} bytes back`);
        assert.deepEqual(await store.getManifest(e.id), manifests[i]);
      }
      const restored = stream();
      restored.restore((await store.loadCheckpoint("model"))!);
      assert.deepEqual(restored.toBytes(), model);
      assert.deepEqual(restored.forecast(), live.forecast());
      assert.deepEqual(await store.getConfig("model"), { hidden: 8 });
      assert.deepEqual(await store.listStreams(), entries.map((e) => e.id).sort());
      assert.equal((await store.listAlerts())[0].stream, "model");
      assert.equal((await store.appendAlert({ stream: "model", time: 6 })).id, "0000000000000002");
    } finally {
      kv.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint saved with one chunk size reads back under another", async () => {
  await withKv(async (kv) => {
    const bytes = bytesOf(10_000, 3);
    const { manifest } = await new Store(kv, { chunkSize: 1_000 }).saveCheckpoint("s", bytes);
    assert.equal(manifest.chunkCount, 10);
    assert.ok(sameBytes(await new Store(kv).loadCheckpoint("s"), bytes));
  });
});

Deno.test("resolveStoreOptions() fills the defaults and names a bad option", () => {
  const o = resolveStoreOptions();
  assert.equal(o.chunkSize, 65_536);
  assert.equal(o.staleWriteMs, 600_000);
  assert.deepEqual(o.alertRetention, { maxEvents: 10_000, maxAgeMs: 2_592_000_000 });
  assert.equal(o.commitLimits.maxPayloadBytes, 819_200);
  assert.equal(o.sliceMs, 5);
  assert.equal(
    resolveStoreOptions({ alertRetention: { maxEvents: 5 } }).alertRetention.maxAgeMs,
    2_592_000_000,
  );
  assert.throws(
    () => resolveStoreOptions({ chunkSize: 65_537 }),
    /^RangeError: Cannot create store: chunkSize must be an integer from 1 to 65536: current value is 65537$/,
  );
  assert.throws(
    () => resolveStoreOptions({ staleWriteMs: -1 }),
    /^RangeError: Cannot create store: staleWriteMs must be a number >= 0: current value is -1$/,
  );
  assert.throws(
    () => resolveStoreOptions({ alertRetention: { maxAgeMs: 0 } }),
    /^RangeError: Cannot create store: maxAgeMs must be a positive number or Infinity: current value is 0$/,
  );
  assert.throws(
    () => resolveStoreOptions({ commitLimits: { maxMutations: 0 } }),
    /^RangeError: Cannot create store: commitLimits.maxMutations must be a positive integer: current value is 0$/,
  );
  assert.throws(
    () => resolveStoreOptions({ sliceMs: 0 }),
    /^RangeError: Cannot create store: sliceMs must be a positive number: current value is 0$/,
  );
});
