import assert from "node:assert/strict";
import {
  MAX_REJECT_MESSAGE,
  MAX_REJECT_TOPIC,
  RecentRejects,
  type RejectEntry,
} from "../../src/service/recent_rejects.ts";

const entry = (source: string, i: number): RejectEntry => ({
  time: 1000 + i,
  source,
  stream: i % 2 === 0 ? `s${i}` : null,
  reason: "bad_json",
  message: `Cannot ingest reading: message ${i}`,
});

Deno.test("RecentRejects keeps the newest `capacity` refusals per source, newest first", () => {
  const r = new RecentRejects({ capacity: 3 });
  assert.deepEqual(r.list("mqtt"), [], "a source that refused nothing");
  for (let i = 0; i < 2; i++) r.record(entry("mqtt", i));
  assert.deepEqual(r.list("mqtt").map((e) => e.time), [1001, 1000]);
  for (let i = 2; i < 8; i++) r.record(entry("mqtt", i));
  r.record(entry("http", 100));
  assert.deepEqual(r.list("mqtt").map((e) => e.time), [1007, 1006, 1005], "the oldest went");
  assert.deepEqual(r.list("mqtt")[0], entry("mqtt", 7), "every field kept");
  assert.deepEqual(r.list("http").map((e) => e.time), [1100], "each source its own ring");
  assert.deepEqual(r.sources(), ["http", "mqtt"]);
});

Deno.test("RecentRejects cuts a long message, keeps a copy, and refuses a bad capacity", () => {
  const r = new RecentRejects();
  assert.equal(r.capacity, 20);
  const e = { ...entry("ws", 0), message: "x".repeat(5000), topic: "t/".repeat(1000) };
  r.record(e);
  e.stream = "changed";
  const [kept] = r.list("ws");
  assert.equal(kept.message.length, MAX_REJECT_MESSAGE);
  assert.ok(kept.message.endsWith("…"));
  assert.equal(kept.topic?.length, MAX_REJECT_TOPIC);
  assert.equal(kept.stream, "s0", "the caller's object is not kept");
  assert.throws(
    () => new RecentRejects({ capacity: 0 }),
    /^RangeError: Cannot keep recent refusals: capacity must be a positive integer: current value is 0$/,
  );
});
