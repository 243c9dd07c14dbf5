import assert from "node:assert/strict";
import { mix32, shardOf, streamHash } from "../../src/shard/shard_of.ts";

Deno.test("streamHash() is the 32-bit FNV-1a of the id's UTF-8 bytes", () => {
  // reference values of FNV-1a 32 (offset 0x811c9dc5, prime 0x01000193)
  assert.equal(streamHash(""), 0x811c9dc5);
  assert.equal(streamHash("a"), 0xe40c292c);
  assert.equal(streamHash("foobar"), 0xbf9cf968);
  // UTF-8, not UTF-16 code units: "é" is the two bytes c3 a9
  let h = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  assert.equal(streamHash("é"), h);
});

Deno.test("shardOf() spreads ids over every shard and refuses a count below 1", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(shardOf(`sensor-${i}`, 4));
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3]);
  assert.equal(shardOf("anything", 1), 0);
  assert.throws(() => shardOf("a", 0), /count must be a positive integer: current value is 0/);
});

Deno.test("shardOf() spreads an instance's streams over its workers whatever --shard it has", () => {
  // the streams of instance i of 2 (fnv1a32 % 2 === i) land on both of its 2 workers, evenly
  for (const instance of [0, 1]) {
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) {
      const id = `sensor-${i}`;
      if (streamHash(id) % 2 === instance) counts[shardOf(id, 2)]++;
    }
    const total = counts[0] + counts[1];
    assert.ok(Math.min(...counts) > 0.45 * total, `instance ${instance}: ${counts}`);
  }
});

Deno.test("mix32() is MurmurHash3's fmix32", () => {
  assert.equal(mix32(0), 0);
  assert.equal(mix32(1), 0x514e28b7);
  assert.equal(mix32(0xffffffff), 0x81f16f39);
});
