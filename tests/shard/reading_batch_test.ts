import assert from "node:assert/strict";
import { decodeReadings, encodeReadings } from "../../src/shard/reading_batch.ts";
import type { Reading } from "../../src/domain/reading.ts";

Deno.test("decodeReadings(encodeReadings()) gives back the picked readings, in order", () => {
  const readings: Reading[] = [
    { stream: "a", ts: 1, values: { x: 1.5, y: -2 } },
    { stream: "b", ts: 2, values: { x: 3 } },
    { stream: "a", ts: 3, values: { y: 4, x: 5 } },
    { stream: "c", ts: 4, values: {} },
  ];
  const batch = encodeReadings(readings, [2, 0, 3]);
  assert.deepEqual(batch.streams, ["a", "c"]);
  assert.deepEqual(batch.names, ["y", "x"]);
  const back = decodeReadings(structuredClone(batch));
  assert.deepEqual(back.map((r) => ({ ...r, values: { ...r.values } })), [
    readings[2],
    readings[0],
    readings[3],
  ]);
});

Deno.test("encodeReadings() puts the five columns in one buffer, which a structured clone copies once", () => {
  const readings: Reading[] = [
    { stream: "a", ts: 1, values: { x: 1.5, y: -2 } },
    { stream: "b", ts: 2, values: { x: 3 } },
    { stream: "a", ts: 3, values: {} },
  ];
  const batch = encodeReadings(readings);
  const columns = [batch.ts, batch.value, batch.stream, batch.start, batch.name];
  for (const c of columns) {
    assert.equal(c.buffer, batch.ts.buffer, "every column a view of one buffer");
  }
  // 3 times and 3 values (8 bytes each), 3 stream indices, 4 offsets and 3 name indices (4 each)
  assert.equal(batch.ts.buffer.byteLength, 8 * 6 + 4 * 10);
  const copy = structuredClone(batch);
  for (const c of [copy.value, copy.stream, copy.start, copy.name]) {
    assert.equal(c.buffer, copy.ts.buffer, "the copy's columns share its one buffer too");
  }
  assert.deepEqual([...copy.start], [0, 2, 3, 3]);
  assert.equal(batch.ts.length, 3, "copied, not transferred: the sender's batch is whole");
});

Deno.test("encodeReadings() without indices takes every reading, in order", () => {
  const readings: Reading[] = [
    { stream: "a", ts: 1, values: { x: 1 } },
    { stream: "b", ts: 2, values: { x: 2, y: 3 } },
  ];
  const batch = encodeReadings(readings);
  assert.deepEqual(
    decodeReadings(batch).map((r) => ({ ...r, values: { ...r.values } })),
    readings,
  );
});

Deno.test("a value that is not a number crosses as NaN; a name like __proto__ stays a value, none is inherited", () => {
  const values = JSON.parse('{"__proto__": 2, "on": true, "off": null}');
  const batch = encodeReadings([{ stream: "s", ts: 0, values }], [0]);
  const [r] = decodeReadings(batch);
  assert.deepEqual(Object.keys(r.values), ["__proto__", "on", "off"]);
  assert.equal(r.values["__proto__"], 2);
  assert.ok(Number.isNaN(r.values.on) && Number.isNaN(r.values.off));
  // nothing inherited: a name the reading lacks is absent, even one of Object.prototype's
  for (const name of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
    assert.equal(r.values[name], undefined, name);
    assert.ok(!(name in r.values), name);
  }
});
