import assert from "node:assert/strict";
import {
  decodeReadings,
  encodeReadings,
  ReadingBatchBuilder,
} from "../../src/shard/reading_batch.ts";
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

Deno.test("ReadingBatchBuilder gives encodeReadings()'s batch, reading by reading, past its first columns' size", () => {
  // seeded: streams and value names repeat, some readings have no value or several, a value not a number
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const names = ["v", "x", "__proto__", "toString", "y"];
  for (const n of [0, 1, 7, 8, 9, 17, 100, 300]) {
    const readings: Reading[] = Array.from({ length: n }, (_, i) => {
      const values: Record<string, number> = Object.create(null);
      const k = Math.floor(next() * 4);
      for (let j = 0; j < k; j++) {
        values[names[Math.floor(next() * names.length)]] = next() < 0.05
          ? "21.5" as unknown as number
          : next() * 100 - 50;
      }
      return { stream: `s${Math.floor(next() * 12)}`, ts: 1_700_000_000_000 + i, values };
    });
    const builder = new ReadingBatchBuilder();
    for (const r of readings) builder.add(r);
    assert.equal(builder.length, n);
    const built = builder.finish();
    const encoded = encodeReadings(readings);
    assert.deepEqual(built.streams, encoded.streams, `n = ${n}`);
    assert.deepEqual(built.names, encoded.names, `n = ${n}`);
    for (const c of ["ts", "value", "stream", "start", "name"] as const) {
      assert.deepEqual([...built[c]], [...encoded[c]], `${c}, n = ${n}`);
      assert.equal(built[c].buffer, built.ts.buffer, `${c} a view of the one buffer`);
    }
    assert.equal(built.ts.buffer.byteLength, encoded.ts.buffer.byteLength);
  }
});

Deno.test("ReadingBatchBuilder gives encodeReadings()'s batch for runs of one stream and name, streams named again later", () => {
  // a device's messages: runs of readings that share their stream and name strings; a stream
  // named again after others, by an equal string that is not the same one
  const readings: Reading[] = [];
  const runs = [["a", 3], ["b", 10], ["a", 1], ["c", 4], ["b", 2], ["a", 5]] as const;
  let ts = 1_700_000_000_000;
  for (const [stream, n] of runs) {
    const id = String.fromCharCode(stream.charCodeAt(0)); // a string of its own each run
    for (let i = 0; i < n; i++) {
      const name = i % 4 === 3 ? "w" : "value";
      readings.push({ stream: id, ts: ts++, values: { [name]: i } });
    }
  }
  const builder = new ReadingBatchBuilder();
  for (const r of readings) builder.add(r);
  const built = builder.finish();
  const encoded = encodeReadings(readings);
  assert.deepEqual(built.streams, encoded.streams);
  assert.deepEqual(built.names, encoded.names);
  for (const c of ["ts", "value", "stream", "start", "name"] as const) {
    assert.deepEqual([...built[c]], [...encoded[c]], c);
  }
  assert.deepEqual(
    decodeReadings(built).map((r) => `${r.stream} ${Object.keys(r.values)}`),
    readings.map((r) => `${r.stream} ${Object.keys(r.values)}`),
  );
});
