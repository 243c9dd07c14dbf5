import assert from "node:assert/strict";
import {
  CommitBatcher,
  keyBytes,
  KV_LIMITS,
  type Op,
  valueBytes,
} from "../../src/store/commit_batcher.ts";
import { listKeys, probeKv, withKv } from "./_kv.ts";

/** Sets whose cost, counted as Deno KV counts it, is exactly `payload` bytes. */
function setsOfPayload(payload: number, keyOf: (i: number) => Deno.KvKey): Op[] {
  const ops: Op[] = [];
  let rest = payload;
  for (let i = 0; rest > 0; i++) {
    const key = keyOf(i);
    const k = keyBytes(key);
    const size = Math.min(KV_LIMITS.maxValueBytes, rest - 2 * k);
    assert.ok(size >= 0, "payload not reachable with these keys");
    ops.push({ type: "set", key, value: new Uint8Array(size) });
    rest -= 2 * k + size;
  }
  return ops;
}

// Keys with every kind of part, NUL bytes that the encoding escapes, and non-ASCII text.
const keyOf = (i: number): Deno.KvKey => [
  "t\u0000é",
  i,
  (i % 3 === 0 ? -1n : 1n) * BigInt(i) ** BigInt(i + 10), // 0 to 10 bytes
  i % 2 === 0,
  new Uint8Array([0, i & 0xff, 0]),
];

Deno.test("keyBytes() and valueBytes() count a commit exactly as Deno KV does: 819,200 bytes pass, 819,201 fail", async () => {
  await withKv(async (kv) => {
    const exact = setsOfPayload(KV_LIMITS.maxPayloadBytes, keyOf);
    const b = new CommitBatcher(kv);
    assert.equal(b.cost(exact).payload, KV_LIMITS.maxPayloadBytes);
    for (const g of exact) await b.add({ ops: [g] });
    await b.flush();
    assert.equal(b.commits, 1, "it fits one commit");

    const over = setsOfPayload(KV_LIMITS.maxPayloadBytes + 1, (i) => keyOf(i + 100));
    const op = kv.atomic();
    for (const o of over) if (o.type === "set") op.set(o.key, o.value);
    await assert.rejects(op.commit(), /Total mutation size too large \(max 819200 bytes\)/);
  });
});

Deno.test("valueBytes() is the size Deno KV refuses a JSON value above 65,536 bytes at", async () => {
  await withKv(async (kv) => {
    const fits = { s: "a".repeat(65_524) };
    const over = { s: "a".repeat(65_525) };
    assert.equal(valueBytes(fits), 65_536);
    assert.equal(valueBytes(over), 65_537);
    assert.ok((await kv.set(["x"], fits)).ok);
    await assert.rejects(kv.set(["x"], over), /Value too large \(max 65536 bytes\)/);
  });
});

Deno.test("CommitBatcher packs 30 chunks of 64 KiB into 3 commits of 12, 12, 6", async () => {
  await withKv(async (raw) => {
    const probe = probeKv(raw);
    const sizes: number[] = [];
    probe.hooks.beforeCommit = async () => {
      sizes.push((await listKeys(raw, ["c"])).length);
    };
    const b = new CommitBatcher(probe.kv);
    for (let i = 0; i < 30; i++) {
      await b.add({ ops: [{ type: "set", key: ["c", i], value: new Uint8Array(65_536) }] });
    }
    await b.flush();
    assert.equal(b.commits, 3);
    assert.equal(probe.commits, 3);
    assert.deepEqual(sizes, [0, 12, 24], "keys present before each commit");
    assert.equal((await listKeys(raw, ["c"])).length, 30);
  });
});

Deno.test("CommitBatcher splits at 1,000 mutations, 100 checks and 81,920 bytes of set keys", async () => {
  await withKv(async (kv) => {
    const mutations = new CommitBatcher(kv);
    for (let i = 0; i < 2_500; i++) {
      await mutations.add({ ops: [{ type: "delete", key: ["m", i] }] });
    }
    await mutations.flush();
    assert.equal(mutations.commits, 3);

    const checks = new CommitBatcher(kv);
    for (let i = 0; i < 250; i++) {
      await checks.add({
        owner: `o${i}`,
        ops: [{ type: "check", key: ["k", i], versionstamp: null }],
      });
    }
    await checks.flush();
    assert.equal(checks.commits, 3);

    const keys = new CommitBatcher(kv);
    const long = "k".repeat(1_000); // 1,011 bytes encoded: 81 set keys make 81,891 bytes
    for (let i = 0; i < 100; i++) {
      await keys.add({ ops: [{ type: "set", key: [long, i], value: 0 }] });
    }
    await keys.flush();
    assert.equal(keys.commits, 2);
    assert.equal((await listKeys(kv, [long])).length, 100);
  });
});

Deno.test("CommitBatcher drops the groups of an owner whose check fails and commits the rest", async () => {
  await withKv(async (kv) => {
    await kv.set(["guard", "b"], 1);
    const b = new CommitBatcher(kv);
    const committed: string[] = [];
    for (const owner of ["a", "b", "c"]) {
      await b.add({
        owner,
        ops: [
          { type: "check", key: ["guard", owner], versionstamp: null },
          { type: "set", key: ["data", owner], value: owner },
        ],
        onCommitted: () => committed.push(owner),
      });
    }
    await b.flush();
    await b.add({ owner: "b", ops: [{ type: "set", key: ["later", "b"], value: 1 }] });
    await b.flush();
    assert.deepEqual([...b.failed], ["b"]);
    assert.deepEqual(committed, ["a", "c"]);
    assert.deepEqual((await listKeys(kv, ["data"])).map((k) => k[1]), ["a", "c"]);
    assert.deepEqual(
      await listKeys(kv, ["later"]),
      [],
      "a failed owner's later groups are dropped",
    );
    assert.equal(b.commits, 2, "the refused commit, then the one without b");
  });
});

Deno.test("CommitBatcher names a group too big for one commit, a key or value over the limit, and an ownerless check", async () => {
  await withKv(async (kv) => {
    const b = new CommitBatcher(kv);
    const ops: Op[] = Array.from({ length: 1_001 }, (_, i) => ({ type: "delete", key: ["d", i] }));
    await assert.rejects(
      b.add({ ops }),
      /^RangeError: Cannot queue KV group: a group must fit one atomic commit \(1000 mutations, 100 checks, 819200 bytes, 81920 bytes of set keys\): current group needs 1001 mutations, 0 checks, 12012 bytes, 0 bytes of set keys$/,
    );
    await assert.rejects(
      b.add({ ops: [{ type: "set", key: ["v"], value: new Uint8Array(65_537) }] }),
      /^RangeError: Cannot commit to Deno KV: a value must be at most 65536 bytes: current size is 65537 \(key \["v"\]\)$/,
    );
    await assert.rejects(
      b.add({ ops: [{ type: "delete", key: ["k".repeat(2_047)] }] }),
      /^RangeError: Cannot commit to Deno KV: a key must be at most 2048 bytes: current size is 2049/,
    );
    await assert.rejects(
      b.add({ ops: [{ type: "check", key: ["k"], versionstamp: null }] }),
      /^TypeError: Cannot queue KV group: a group with checks must have an owner$/,
    );
    assert.equal(b.commits, 0);
  });
});
