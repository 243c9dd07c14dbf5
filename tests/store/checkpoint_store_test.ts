import assert from "node:assert/strict";
import { CheckpointConflictError, Store } from "../../src/store/store.ts";
import {
  chunkKey,
  chunksPrefix,
  configKey,
  journalPrefix,
  manifestKey,
  streamsPrefix,
} from "../../src/store/keys.ts";
import { bytesOf, listKeys, probeKv, sameBytes, withKv } from "./_kv.ts";

/** The distinct chunk versions stored for `id`, with their chunk counts. */
async function chunkVersions(kv: Deno.Kv, id: string): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const key of await listKeys(kv, chunksPrefix(id))) {
    const v = key[chunksPrefix(id).length] as string;
    versions.set(v, (versions.get(v) ?? 0) + 1);
  }
  return versions;
}

async function journal(kv: Deno.Kv): Promise<{ key: Deno.KvKey; state: string }[]> {
  const out = [];
  for await (const e of kv.list<{ state: string }>({ prefix: journalPrefix() })) {
    out.push({ key: e.key, state: e.value.state });
  }
  return out;
}

/** Asserts the only chunks of `id` are the `chunkCount` of `version`, and the journal is empty. */
async function assertOnlyCurrent(kv: Deno.Kv, id: string, version: string, chunkCount: number) {
  const versions = await chunkVersions(kv, id);
  assert.deepEqual(
    [...versions],
    chunkCount === 0 ? [] : [[version, chunkCount]],
    "chunk versions left",
  );
  assert.deepEqual(await journal(kv), [], "journal entries left");
}

for (
  const [n, chunks, commits] of [
    [0, 0, 1],
    [1, 1, 1],
    [65_536, 1, 1],
    [65_537, 2, 1],
    [2_000_000, 31, 3],
  ]
) {
  Deno.test(`saveCheckpoint()/loadCheckpoint() round-trip ${n} bytes: ${chunks} chunks, ${commits} commits`, async () => {
    await withKv(async (raw) => {
      const probe = probeKv(raw);
      const store = new Store(probe.kv);
      const bytes = bytesOf(n, n);
      const saved = await store.saveCheckpoint("greenhouse.temp", bytes);
      assert.equal(saved.manifest.byteLength, n);
      assert.equal(saved.manifest.chunkCount, chunks);
      assert.equal(saved.commits, commits);
      assert.equal(probe.commits, commits, "commits reported = commits made");
      const back = await store.loadCheckpoint("greenhouse.temp");
      assert.ok(back instanceof Uint8Array);
      assert.equal(back.length, n);
      assert.ok(sameBytes(back, bytes), "bytes differ");
      assert.deepEqual(await store.getManifest("greenhouse.temp"), saved.manifest);
      await assertOnlyCurrent(raw, "greenhouse.temp", saved.manifest.version, chunks);
    });
  });
}

Deno.test("loadCheckpoint() and getManifest() give null for a stream without a checkpoint", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    assert.equal(await store.loadCheckpoint("nothing"), null);
    assert.equal(await store.getManifest("nothing"), null);
  });
});

Deno.test("saveCheckpoint() replacing a checkpoint leaves only the new version's chunks", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const sizes = [10, 2_000_000, 1_500_000, 70_000, 0, 3];
    for (const [i, n] of sizes.entries()) {
      const bytes = bytesOf(n, i);
      const { manifest } = await store.saveCheckpoint("s", bytes);
      assert.ok(sameBytes(await store.loadCheckpoint("s"), bytes), `save ${i} (${n} bytes)`);
      await assertOnlyCurrent(kv, "s", manifest.version, manifest.chunkCount);
    }
  });
});

Deno.test("a reader between the commits of a big write sees the old checkpoint, then the new", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const store = new Store(probe.kv);
    const before = bytesOf(2_000_000, 1);
    const after = bytesOf(2_100_000, 2);
    await store.saveCheckpoint("s", before);
    const seen: string[] = [];
    probe.hooks.afterCommit = async () => {
      const got = await store.loadCheckpoint("s");
      seen.push(sameBytes(got, before) ? "old" : sameBytes(got, after) ? "new" : "MIXED");
    };
    const { commits } = await store.saveCheckpoint("s", after);
    assert.equal(commits, 3);
    assert.deepEqual(seen, ["old", "old", "new"]);
  });
});

Deno.test("readers running freely beside big writes see complete checkpoints, never an older one after a newer", async () => {
  // How many reads land mid-write depends on scheduling; the test with commit hooks above pins
  // that down. Here any read that lands anywhere must be a whole version, in save order.
  await withKv(async (kv) => {
    const store = new Store(kv);
    const versions = [0, 1, 2, 3].map((i) => bytesOf(900_000 + 300_000 * i, 10 + i));
    await store.saveCheckpoint("s", versions[0]);
    let writing = true;
    const writer = (async () => {
      try {
        for (const v of versions.slice(1)) await store.saveCheckpoint("s", v);
      } finally {
        writing = false;
      }
    })();
    const reader = async () => {
      const seen: number[] = [];
      while (writing) {
        const got = await store.loadCheckpoint("s");
        const which = versions.findIndex((v) => sameBytes(got, v));
        assert.ok(which >= 0, `a read returned ${got?.length} bytes matching no saved version`);
        seen.push(which);
      }
      return seen;
    };
    const seen = await Promise.all([reader(), reader(), reader()]);
    await writer;
    for (const s of seen) {
      assert.deepEqual(s, [...s].sort((a, b) => a - b), `reads went back in time: ${s}`);
    }
    assert.ok(sameBytes(await store.loadCheckpoint("s"), versions[3]));
  });
});

Deno.test("a reader whose version is replaced between manifest and chunks reads the new one", async () => {
  await withKv(async (raw) => {
    const writer = new Store(raw);
    const old = bytesOf(300_000, 1);
    const next = bytesOf(200_000, 2);
    await writer.saveCheckpoint("s", old);
    const probe = probeKv(raw);
    let lists = 0;
    probe.hooks.beforeList = async () => {
      // The reader has the old manifest; the writer switches and deletes the old chunks now.
      if (lists++ === 0) await writer.saveCheckpoint("s", next);
    };
    const reader = new Store(probe.kv);
    assert.ok(sameBytes(await reader.loadCheckpoint("s"), next));
    assert.equal(lists, 2, "the reader listed chunks twice (old version gone, then the new)");
  });
});

Deno.test("a crash between the chunks and the switch keeps the old checkpoint; sweep() removes the orphans", async () => {
  await withKv(async (raw) => {
    let clock = 1_700_000_000_000;
    let crashAt = Infinity;
    const probe = probeKv(raw, {
      beforeCommit: (n) => {
        if (n >= crashAt) throw new Error("simulated power loss");
      },
    });
    const store = new Store(probe.kv, { now: () => clock });
    const old = bytesOf(2_000_000, 1);
    const { manifest } = await store.saveCheckpoint("s", old);
    crashAt = probe.commits + 3; // the new write's third commit is its switch
    await assert.rejects(store.saveCheckpoint("s", bytesOf(2_000_000, 2)), /simulated power loss/);

    // What the crash left: the old checkpoint, 24 chunks of a version no manifest points to.
    assert.ok(sameBytes(await store.loadCheckpoint("s"), old));
    const versions = await chunkVersions(raw, "s");
    assert.equal(versions.get(manifest.version), 31);
    assert.deepEqual([...versions.values()].sort(), [24, 31]);
    assert.deepEqual((await journal(raw)).map((e) => e.state), ["writing"]);

    // After a restart: a write younger than staleWriteMs might still be running elsewhere.
    const restarted = new Store(raw, { now: () => clock });
    assert.deepEqual(await restarted.sweep(), { versions: 0, chunks: 0, commits: 0 });
    clock += restarted.options.staleWriteMs;
    const swept = await restarted.sweep();
    assert.equal(swept.versions, 1);
    assert.equal(swept.chunks, 31, "deletes by the planned chunk count, present or not");
    await assertOnlyCurrent(raw, "s", manifest.version, 31);
    assert.ok(sameBytes(await restarted.loadCheckpoint("s"), old));
  });
});

Deno.test("the next write of a stream cleans up its crashed write", async () => {
  await withKv(async (raw) => {
    let crash = false;
    const probe = probeKv(raw, {
      beforeCommit: (n) => {
        if (crash && n > 1) throw new Error("simulated power loss");
      },
    });
    let clock = 0;
    const crashed = new Store(probe.kv, { now: () => clock });
    crash = true;
    await assert.rejects(
      crashed.saveCheckpoint("s", bytesOf(1_000_000, 1)),
      /simulated power loss/,
    );
    assert.equal(await crashed.loadCheckpoint("s"), null, "a first write that crashed leaves none");
    assert.equal((await chunkVersions(raw, "s")).size, 1);
    clock += 600_000;
    const store = new Store(raw, { now: () => clock });
    const bytes = bytesOf(5_000, 2);
    const { manifest } = await store.saveCheckpoint("s", bytes);
    await assertOnlyCurrent(raw, "s", manifest.version, 1);
    assert.ok(sameBytes(await store.loadCheckpoint("s"), bytes));
  });
});

Deno.test("a crash after the switch leaves the new checkpoint; sweep() deletes the obsolete chunks", async () => {
  await withKv(async (raw) => {
    let oldVersion = "";
    const probe = probeKv(raw, {
      beforeCommit: async () => {
        const m = await raw.get<{ version: string }>(manifestKey("s"));
        if (oldVersion !== "" && m.value?.version !== oldVersion) {
          throw new Error("simulated power loss");
        }
      },
    });
    // 40 chunks of 1 KiB, at most 20 mutations a commit: the old chunks cannot go in the switch.
    const options = { chunkSize: 1024, commitLimits: { maxMutations: 20 } };
    const store = new Store(probe.kv, options);
    const { manifest: first } = await store.saveCheckpoint("s", bytesOf(40_000, 1));
    oldVersion = first.version;
    const next = bytesOf(40_000, 2);
    await assert.rejects(store.saveCheckpoint("s", next), /simulated power loss/);
    assert.ok(sameBytes(await store.loadCheckpoint("s"), next));
    assert.deepEqual((await journal(raw)).map((e) => e.state), ["obsolete"]);
    assert.equal((await chunkVersions(raw, "s")).get(first.version), 40);

    const swept = await new Store(raw, options).sweep();
    assert.equal(swept.versions, 1);
    assert.ok(swept.commits >= 2, `40 deletes at 20 mutations a commit took ${swept.commits}`);
    const current = (await store.getManifest("s"))!;
    await assertOnlyCurrent(raw, "s", current.version, 40);
  });
});

Deno.test("a sweep from another store gives up a stale write in progress and its switch fails", async () => {
  await withKv(async (raw) => {
    const old = bytesOf(100_000, 1);
    const other = new Store(raw, { staleWriteMs: 0 });
    const probe = probeKv(raw, {
      afterCommit: async (n) => {
        if (n === 3) assert.equal((await other.sweep()).versions, 1);
      },
    });
    const store = new Store(probe.kv);
    await store.saveCheckpoint("s", old); // commit 1
    const err = await store.saveCheckpoint("s", bytesOf(2_000_000, 2)).catch((e) => e);
    assert.ok(err instanceof CheckpointConflictError, String(err));
    assert.deepEqual(err.streams, ["s"]);
    assert.ok(sameBytes(await store.loadCheckpoint("s"), old));
    const current = (await store.getManifest("s"))!;
    await assertOnlyCurrent(raw, "s", current.version, 2);
  });
});

Deno.test("loadCheckpoint() names a corrupted, short, missing or foreign chunk", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const bytes = bytesOf(100_000, 1);
    const { manifest: m } = await store.saveCheckpoint("s", bytes);
    const key = chunkKey("s", m.version, 1);
    const chunk = (await kv.get<Uint8Array>(key)).value!;
    const what = `Cannot load checkpoint of stream "s" \\(version ${m.version}\\)`;

    const flipped = chunk.slice();
    flipped[100] ^= 0x01;
    await kv.set(key, flipped);
    await assert.rejects(
      store.loadCheckpoint("s"),
      new RegExp(
        `^RangeError: ${what}: its checksum must match the manifest's ${m.checksum}: the chunks hash to sha256:[0-9a-f]{64}$`,
      ),
    );

    await kv.set(key, chunk.slice(1));
    await assert.rejects(
      store.loadCheckpoint("s"),
      new RegExp(
        `${what}: its chunks must hold the 100000 bytes its manifest gives: current length is 99999$`,
      ),
    );

    await kv.set(key, "not bytes");
    await assert.rejects(
      store.loadCheckpoint("s"),
      new RegExp(`${what}: chunk 1 must be bytes: current value is "not bytes"$`),
    );

    await kv.delete(chunkKey("s", m.version, 0));
    await assert.rejects(
      store.loadCheckpoint("s"),
      new RegExp(`${what}: all 2 chunks must be present: chunk 0 is missing$`),
    );
  });
});

Deno.test("loadCheckpoint() names a bad manifest field", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const { manifest } = await store.saveCheckpoint("s", bytesOf(10, 1));
    await kv.set(manifestKey("s"), { ...manifest, format: 2 });
    await assert.rejects(
      store.loadCheckpoint("s"),
      /^TypeError: Cannot read checkpoint manifest of stream "s": format must be 1: current value is 2$/,
    );
    await kv.set(manifestKey("s"), { ...manifest, version: "../other" });
    await assert.rejects(
      store.loadCheckpoint("s"),
      /: version must be a string matching .*: current value is "..\/other"$/,
    );
    await kv.set(manifestKey("s"), { ...manifest, chunkCount: 7 });
    await assert.rejects(store.loadCheckpoint("s"), /chunkCount must be 1 .*: current value is 7$/);
  });
});

Deno.test("saveCheckpoints() stores 100 small checkpoints in one commit and replaces them in one", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const store = new Store(probe.kv);
    const ids = Array.from({ length: 100 }, (_, i) => `sensor-${String(i).padStart(3, "0")}`);
    for (const round of [0, 1]) {
      const entries = ids.map((id, i) => ({
        id,
        bytes: bytesOf(1 + (i * 97 + round) % 7_000, i + round),
      }));
      const before = probe.commits;
      const result = await store.saveCheckpoints(entries);
      assert.equal(result.commits, 1, `round ${round}`);
      assert.equal(probe.commits - before, 1, `round ${round}: commits made`);
      assert.deepEqual(result.saved.map((m) => m.byteLength), entries.map((e) => e.bytes.length));
      for (const e of entries) {
        assert.ok(sameBytes(await store.loadCheckpoint(e.id), e.bytes), `${e.id} round ${round}`);
      }
    }
    const chunkKeys = (await listKeys(raw, streamsPrefix())).filter((k) => k[4] === "chunks");
    assert.equal(chunkKeys.length, 100, "one chunk per stream: the old ones are gone");
    assert.deepEqual(await store.listStreams(), ids);
  });
});

Deno.test("saveCheckpoints() packs big and small checkpoints close to the payload limit", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const store = new Store(probe.kv);
    const entries = [
      ...Array.from({ length: 40 }, (_, i) => ({ id: `small-${i}`, bytes: bytesOf(3_000 + i, i) })),
      { id: "big-1", bytes: bytesOf(1_500_000, 100) },
      { id: "big-2", bytes: bytesOf(1_000_000, 101) },
      ...Array.from(
        { length: 40 },
        (_, i) => ({ id: `mid-${i}`, bytes: bytesOf(20_000, 200 + i) }),
      ),
    ];
    const total = entries.reduce((n, e) => n + e.bytes.length, 0);
    const { commits } = await store.saveCheckpoints(entries);
    const floor = Math.ceil(total / 819_200);
    assert.ok(commits <= floor + 1, `${commits} commits for ${total} bytes (at least ${floor})`);
    assert.equal(probe.commits, commits);
    for (const e of entries) assert.ok(sameBytes(await store.loadCheckpoint(e.id), e.bytes), e.id);
  });
});

Deno.test("saveCheckpoints() keeps another writer's checkpoint and saves the rest", async () => {
  await withKv(async (raw) => {
    const other = new Store(raw);
    const theirs = bytesOf(1_000, 9);
    let interfere: (() => Promise<void>) | null = null;
    const probe = probeKv(raw, {
      beforeCommit: async () => {
        const f = interfere;
        interfere = null;
        await f?.();
      },
    });
    const store = new Store(probe.kv);
    await store.saveCheckpoints([
      { id: "a", bytes: bytesOf(500, 1) },
      { id: "b", bytes: bytesOf(500, 2) },
    ]);
    // small: the switch is in the first commit; big: another writer switches mid-write
    for (const size of [800, 2_000_000]) {
      interfere = async () => void await other.saveCheckpoint("a", theirs);
      const mine = [{ id: "a", bytes: bytesOf(size, 3) }, { id: "b", bytes: bytesOf(size, 4) }];
      const err = await store.saveCheckpoints(mine).catch((e) => e);
      assert.ok(err instanceof CheckpointConflictError, String(err));
      assert.deepEqual(err.streams, ["a"]);
      assert.deepEqual(err.result.saved.map((m) => m.byteLength), [size]);
      assert.match(
        err.message,
        /^Cannot save checkpoints: no other writer may replace a stream's checkpoint this store saves: another writer did for "a" \(theirs is kept, this save's is discarded\); 1 of 2 saved$/,
      );
      assert.ok(sameBytes(await store.loadCheckpoint("a"), theirs), `size ${size}: theirs kept`);
      assert.ok(sameBytes(await store.loadCheckpoint("b"), mine[1].bytes), `size ${size}: b saved`);
      for (const id of ["a", "b"]) {
        const m = (await store.getManifest(id))!;
        await assertOnlyCurrent(raw, id, m.version, m.chunkCount);
      }
    }
  });
});

Deno.test("saveCheckpoints() names a bad id, a repeated stream and bytes that are not bytes", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    await assert.rejects(
      store.saveCheckpoint("living room", new Uint8Array(1)),
      /^TypeError: Cannot save checkpoint: id must be 1-128 characters of A-Z a-z 0-9 _ \. : -, not only dots: current value is "living room"$/,
    );
    await assert.rejects(
      store.saveCheckpoints([{ id: "a", bytes: new Uint8Array(1) }, {
        id: "a",
        bytes: new Uint8Array(2),
      }]),
      /^RangeError: Cannot save checkpoints: each stream may appear once per batch: "a" appears again at index 1$/,
    );
    await assert.rejects(
      store.saveCheckpoint("a", [1, 2, 3] as unknown as Uint8Array),
      /^TypeError: Cannot save checkpoint of stream "a": bytes must be a Uint8Array: current value is \[1,2,3\]$/,
    );
    await assert.rejects(
      store.loadCheckpoint("x".repeat(129)),
      /^TypeError: Cannot load checkpoint: id must be 1-128 characters .*: current value is "x{76}\.\.\.$/,
    );
    assert.deepEqual(await store.saveCheckpoints([]), { saved: [], commits: 0 });
    assert.deepEqual(await listKeys(kv, []), [], "nothing written");
  });
});

Deno.test("saveCheckpoints() writes each stream's config in the commit that switches its checkpoint", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const store = new Store(probe.kv);
    // 100 streams of 128 KiB (a default-preset model) with their configs: the payload limit
    // (819,200 bytes) is the floor; a config must not cost a commit of its own
    const ids = Array.from({ length: 100 }, (_, i) => `sensor-${i}`);
    const entries = ids.map((id, i) => ({
      id,
      bytes: bytesOf(128_556, i),
      config: { id, preset: "default", columns: ["temperature"], updatedAt: i },
    }));
    const total = entries.reduce((n, e) => n + e.bytes.length, 0);
    const { commits } = await store.saveCheckpoints(entries);
    const floor = Math.ceil(total / 819_200);
    assert.ok(commits <= floor + 1, `${commits} commits for 100 streams (at least ${floor})`);
    assert.equal(probe.commits, commits, "commits reported = commits made");
    for (const e of entries) {
      assert.deepEqual(await store.getConfig(e.id), e.config, e.id);
      assert.ok(sameBytes(await store.loadCheckpoint(e.id), e.bytes), e.id);
    }
    assert.deepEqual(await store.listStreams(), [...ids].sort());

    // the config and the manifest of a stream change in one commit: a crash never splits them
    const seen: { config: unknown; manifest: unknown }[] = [];
    probe.hooks.afterCommit = async () => {
      const [config, manifest] = await raw.getMany([
        configKey("sensor-7"),
        manifestKey("sensor-7"),
      ]);
      seen.push({ config: config.versionstamp, manifest: manifest.versionstamp });
    };
    await store.saveCheckpoints(entries.map((e) => ({ ...e, config: { ...e.config, v: 2 } })));
    for (const s of seen) assert.equal(s.config, s.manifest, "same versionstamp: same commit");
    assert.deepEqual(await store.getConfig("sensor-7"), { ...entries[7].config, v: 2 });
  });
});

Deno.test("saveCheckpoints() refuses a config over 64 KiB before writing anything", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    // 256 value names of 128 characters, as columns and as targets
    const columns = Array.from({ length: 256 }, (_, i) => `${i}`.padStart(128, "v"));
    const config = { columns, targets: [...columns] };
    await assert.rejects(
      store.saveCheckpoints([
        { id: "a", bytes: bytesOf(10, 1), config: { ok: true } },
        { id: "b", bytes: bytesOf(10, 2), config },
      ]),
      /^RangeError: Cannot save checkpoint of stream "b": config must serialise to at most 65536 bytes: current size is 6\d{4}$/,
    );
    assert.deepEqual(await listKeys(kv, []), [], "nothing written");
  });
});

Deno.test("saveCheckpoints() of many streams checks and plans them in slices of sliceMs, timers firing between", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv, { sliceMs: 1 });
    const log: string[] = [];
    const ticks = setInterval(() => log.push("t"), 1);
    // each stream's config takes 0.05 ms to read (a save's own work on a big batch)
    const entries = Array.from({ length: 300 }, (_, i) => ({
      id: `sensor-${i}`,
      bytes: bytesOf(200, i),
      get config() {
        const end = performance.now() + 0.05;
        while (performance.now() < end) { /* work */ }
        log.push("c");
        return { n: i };
      },
    }));
    try {
      const result = await store.saveCheckpoints(entries);
      assert.equal(result.saved.length, 300);
    } finally {
      clearInterval(ticks);
    }
    const longest = Math.max(...log.join("").split("t").map((run) => run.length));
    // in one stretch, the checks alone read all 300 configs twice (600 in a row)
    assert.ok(longest < 100, `longest run of config reads without a timer between: ${longest}`);
    assert.deepEqual((await kv.get(configKey("sensor-7"))).value, { n: 7 });
  });
});

Deno.test("saveCheckpoints() reads no manifest it switched itself; another writer's switch since is a conflict, then read", async () => {
  await withKv(async (raw) => {
    // every manifest read is a getMany() (src/store/checkpoint_store.ts #readManifests)
    const reads: Deno.KvKey[][] = [];
    const kv = new Proxy(raw, {
      get(target, prop) {
        if (prop === "getMany") {
          return (keys: Deno.KvKey[]) => (reads.push(keys), target.getMany(keys));
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const store = new Store(kv);
    const other = new Store(raw);
    const save = (seed: number, size = 700) =>
      store.saveCheckpoints(["a", "b"].map((id, i) => ({ id, bytes: bytesOf(size, seed + i) })));
    await save(1);
    assert.deepEqual(reads, [[manifestKey("a"), manifestKey("b")]], "the first save reads both");
    reads.length = 0;
    await save(3);
    await save(5, 2_000_000); // journalled: chunks over several commits, the switch in the last
    await save(7);
    assert.deepEqual(reads, [], "saves after it read no manifest");
    for (const id of ["a", "b"]) {
      const m = (await store.getManifest(id))!;
      await assertOnlyCurrent(raw, id, m.version, m.chunkCount);
      assert.ok(sameBytes(await store.loadCheckpoint(id), bytesOf(700, id === "a" ? 7 : 8)), id);
    }
    reads.length = 0;

    // another writer switches "a" between two saves of this store: its check fails, theirs kept
    const theirs = bytesOf(900, 99);
    await other.saveCheckpoint("a", theirs);
    const err = await save(9).catch((e) => e);
    assert.ok(err instanceof CheckpointConflictError, String(err));
    assert.deepEqual(err.streams, ["a"]);
    assert.ok(sameBytes(await store.loadCheckpoint("a"), theirs), "theirs kept");
    assert.ok(sameBytes(await store.loadCheckpoint("b"), bytesOf(700, 10)), "b saved");
    reads.length = 0; // (the failed commit's checks read to find whose failed: commit_batcher.ts)
    // the next save reads a's manifest (and not b's) and replaces theirs
    await save(11);
    assert.deepEqual(reads, [[manifestKey("a")]]);
    assert.ok(sameBytes(await store.loadCheckpoint("a"), bytesOf(700, 11)), "a saved");
    for (const id of ["a", "b"]) {
      const m = (await store.getManifest(id))!;
      await assertOnlyCurrent(raw, id, m.version, m.chunkCount);
    }

    // a deleted stream is read again: saved anew, listed, nothing of its old version left
    assert.equal(await store.deleteStream("b"), true);
    reads.length = 0;
    await store.saveCheckpoint("b", bytesOf(700, 13));
    assert.deepEqual(reads, [[manifestKey("b")]]);
    assert.deepEqual(await store.listStreams(), ["a", "b"]);
    const m = (await store.getManifest("b"))!;
    await assertOnlyCurrent(raw, "b", m.version, m.chunkCount);
    assert.ok(sameBytes(await store.loadCheckpoint("b"), bytesOf(700, 13)));
  });
});

Deno.test("saveCheckpoints() writes a config only when it changed since this store's last switch", async () => {
  await withKv(async (kv) => {
    const store = new Store(kv);
    const other = new Store(kv);
    let seed = 1;
    const save = (config: unknown) =>
      store.saveCheckpoints([{ id: "a", bytes: bytesOf(700, seed++), config }]);
    const stamps = async () => {
      const [config, manifest] = await kv.getMany([configKey("a"), manifestKey("a")]);
      return { config: config.versionstamp, manifest: manifest.versionstamp };
    };
    await save({ n: 1, columns: ["v"] });
    const first = await stamps();
    assert.equal(first.config, first.manifest, "written with the first switch");
    await save({ n: 1, columns: ["v"] }); // equal, another object
    const second = await stamps();
    assert.notEqual(second.manifest, first.manifest, "switched");
    assert.equal(second.config, first.config, "an unchanged config is not written again");
    await save({ n: 2, columns: ["v"] });
    const third = await stamps();
    assert.equal(third.config, third.manifest, "a changed config goes with its switch");
    assert.deepEqual(await store.getConfig("a"), { n: 2, columns: ["v"] });

    // another writer's switch and config: the conflict keeps theirs; the next save writes ours
    await other.saveCheckpoints([{ id: "a", bytes: bytesOf(700, 99), config: { n: 3 } }]);
    await assert.rejects(save({ n: 2, columns: ["v"] }), CheckpointConflictError);
    assert.deepEqual(await store.getConfig("a"), { n: 3 });
    await save({ n: 2, columns: ["v"] });
    assert.deepEqual(await store.getConfig("a"), { n: 2, columns: ["v"] });
    const fourth = await stamps();
    assert.equal(fourth.config, fourth.manifest);

    // a stream deleted and saved again has its config written
    await store.deleteStream("a");
    await save({ n: 2, columns: ["v"] });
    assert.deepEqual(await store.getConfig("a"), { n: 2, columns: ["v"] });
    assert.deepEqual(await store.listStreams(), ["a"]);
  });
});
