import assert from "node:assert/strict";
import {
  formatShard,
  ownerShard,
  ownsStream,
  parseShard,
  peerUrl,
  type ShardMap,
} from "../../src/domain/shard_map.ts";
import { shardOf } from "../../src/domain/shard_of.ts";

Deno.test("parseShard() reads I/N with 0 <= I < N <= 1024 and refuses anything else", () => {
  assert.deepEqual(parseShard("0/1"), { index: 0, count: 1 });
  assert.deepEqual(parseShard("1/2"), { index: 1, count: 2 });
  assert.deepEqual(parseShard("1023/1024"), { index: 1023, count: 1024 });
  for (
    const bad of ["", "1", "2/2", "0/0", "-1/2", "1/1025", "a/2", "0/2 ", " 0/2", "0//2", "1.0/2"]
  ) {
    assert.equal(parseShard(bad), null, JSON.stringify(bad));
  }
  assert.equal(formatShard({ index: 1, count: 3 }), "1/3");
});

Deno.test("ownsStream() follows shardOf() and peerUrl() joins the owner's base URL", () => {
  const a: ShardMap = { index: 0, count: 2, peers: ["http://a:8080", "http://b:8081/fd/"] };
  const b: ShardMap = { ...a, index: 1 };
  // fixed vectors of shard_of_test.ts: boiler-1 -> 0, pump.2 -> 1 of 2
  assert.equal(ownerShard(a, "boiler-1"), 0);
  assert.equal(ownerShard(a, "pump.2"), 1);
  assert.equal(ownsStream(a, "boiler-1"), true);
  assert.equal(ownsStream(b, "boiler-1"), false);
  assert.equal(ownsStream(b, "pump.2"), true);
  for (let i = 0; i < 200; i++) {
    const id = `s${i}`;
    assert.notEqual(ownsStream(a, id), ownsStream(b, id), id);
    assert.equal(ownerShard(a, id), shardOf(id, 2), id);
  }
  assert.equal(peerUrl(a, 0, "/v1/streams/x?h=3"), "http://a:8080/v1/streams/x?h=3");
  assert.equal(peerUrl(a, 1, "/v1/streams/x"), "http://b:8081/fd/v1/streams/x");
  assert.throws(
    () => peerUrl(a, 2, "/"),
    /^RangeError: Cannot name the instance of a shard: the shard must have a base URL among the 2 peers: current value is 2$/,
  );
});

Deno.test("one shard owns every stream", () => {
  const only: ShardMap = { index: 0, count: 1, peers: [] };
  for (const id of ["a", "boiler-1", "pump.2"]) assert.equal(ownsStream(only, id), true);
});
