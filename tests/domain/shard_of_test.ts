import assert from "node:assert/strict";
import { fnv1a32, shardOf } from "../../src/domain/shard_of.ts";

// Reference vectors of FNV-1a 32 (the FNV authors' test suite, draft-eastlake-fnv):
// "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
Deno.test("fnv1a32() matches the published FNV-1a 32-bit vectors", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
});

Deno.test("fnv1a32() hashes the UTF-8 bytes of text outside ASCII", () => {
  // "é" is C3 A9 in UTF-8: hashing those two bytes by hand must agree.
  let h = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  assert.equal(fnv1a32("é"), h);
  assert.notEqual(fnv1a32("é"), fnv1a32("\u00e9".normalize("NFD")));
});

// Fixed vectors for the documented shard function (docs/clustering.md), computed by an
// independent implementation (Python: h = 0x811c9dc5; for b in id.encode(): h = ((h ^ b) *
// 0x01000193) & 0xffffffff), so a tool in another language can check it routes the same way.
Deno.test("shardOf() gives the documented shard for fixed stream ids", () => {
  const vectors: [id: string, hash: number, n2: number, n3: number, n4: number][] = [
    ["boiler-1", 0x6258b51a, 0, 0, 2],
    ["pump.2", 0x1a1bf757, 1, 0, 3],
    ["line:3_temp", 0xa87e5a63, 1, 0, 3],
    ["s0", 0x0751b736, 0, 1, 2],
    ["s1", 0x0851b8c9, 1, 0, 1],
    ["s42", 0x81ad9c10, 0, 0, 0],
  ];
  for (const [id, hash, n2, n3, n4] of vectors) {
    assert.equal(fnv1a32(id), hash, `fnv1a32(${id})`);
    assert.equal(shardOf(id, 1), 0, `shardOf(${id}, 1)`);
    assert.equal(shardOf(id, 2), n2, `shardOf(${id}, 2)`);
    assert.equal(shardOf(id, 3), n3, `shardOf(${id}, 3)`);
    assert.equal(shardOf(id, 4), n4, `shardOf(${id}, 4)`);
  }
});

Deno.test("shardOf() spreads many stream ids about evenly", () => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[shardOf(`sensor-${i}`, 4)]++;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `counts ${counts}`);
});

Deno.test("shardOf() refuses a shard count that is not an integer of at least 1", () => {
  for (const n of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => shardOf("a", n),
      (e: Error) =>
        e instanceof RangeError &&
        e.message ===
          `Cannot compute the shard of a stream: the shard count must be an integer of at least 1: current value is ${n}`,
    );
  }
});
