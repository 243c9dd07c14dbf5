import assert from "node:assert/strict";
import { decodeReadings, encodeReadings, ReadingDecoder } from "../../src/shard/reading_batch.ts";
import type { Reading } from "../../src/domain/reading.ts";

Deno.test("decodeReadings(encodeReadings()) gives back the picked readings, in order", () => {
  const readings: Reading[] = [
    { stream: "a", ts: 1, values: { x: 1.5, y: -2 } },
    { stream: "b", ts: 2, values: { x: 3 } },
    { stream: "a", ts: 3, values: { y: 4, x: 5 } },
    { stream: "c", ts: 4, values: {} },
  ];
  const { batch, transfer } = encodeReadings(readings, [2, 0, 3]);
  assert.deepEqual(batch.streams, ["a", "c"]);
  assert.deepEqual(batch.names, ["y", "x"]);
  assert.equal(transfer.length, 5);
  const back = decodeReadings(structuredClone(batch, { transfer }));
  assert.deepEqual(back.map((r) => ({ ...r, values: { ...r.values } })), [
    readings[2],
    readings[0],
    readings[3],
  ]);
  assert.equal(batch.ts.length, 0, "the buffers were transferred, not copied");
});

Deno.test("encodeReadings() without indices takes every reading, in order", () => {
  const readings: Reading[] = [
    { stream: "a", ts: 1, values: { x: 1 } },
    { stream: "b", ts: 2, values: { x: 2, y: 3 } },
  ];
  const { batch } = encodeReadings(readings);
  assert.deepEqual(
    decodeReadings(batch).map((r) => ({ ...r, values: { ...r.values } })),
    readings,
  );
});

Deno.test("a value that is not a number crosses as NaN; a name like __proto__ stays a value, none is inherited", () => {
  const values = JSON.parse('{"__proto__": 2, "on": true, "off": null}');
  const { batch } = encodeReadings([{ stream: "s", ts: 0, values }], [0]);
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

Deno.test("ReadingDecoder gives decodeReadings' readings, in the objects it was given back", () => {
  const batches: Reading[][] = [
    [
      { stream: "a", ts: 1, values: { x: 1.5, y: -2 } },
      { stream: "b", ts: 2, values: { x: 3 } },
      { stream: "c", ts: 3, values: { toString: 7 } },
    ],
    // the same names in another order, fewer names, other names, one reading more
    [
      { stream: "b", ts: 4, values: { y: 4, x: 5 } },
      { stream: "a", ts: 5, values: { y: 6 } },
      { stream: "c", ts: 6, values: { z: 0.25 } },
      { stream: "d", ts: 1.7e12, values: { x: 8, z: 9 } },
    ],
    [{ stream: "a", ts: 7, values: { x: 10 } }],
  ];
  const plain = (rs: Reading[]) => rs.map((r) => ({ ...r, values: { ...r.values } }));
  const decoder = new ReadingDecoder();
  const seen = new Set<Reading>();
  for (const readings of batches) {
    const { batch } = encodeReadings(readings);
    const got = decoder.decode(batch);
    assert.deepEqual(plain(got), plain(decodeReadings(batch)));
    assert.deepEqual(plain(got), readings);
    for (const r of got) {
      assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(r.values)), null);
      seen.add(r);
    }
    decoder.release(got);
  }
  // the first batch's three objects, then one more: four in all, all given back
  assert.equal(seen.size, 4);
  assert.equal(decoder.free, 4);
});

Deno.test("ReadingDecoder never decodes into readings not given back", () => {
  const decoder = new ReadingDecoder();
  const one = encodeReadings([{ stream: "a", ts: 1, values: { x: 1 } }]).batch;
  const first = decoder.decode(one);
  const second = decoder.decode(encodeReadings([{ stream: "b", ts: 2, values: { x: 2 } }]).batch);
  assert.notEqual(first[0], second[0]);
  assert.deepEqual({ ...first[0], values: { ...first[0].values } }, {
    stream: "a",
    ts: 1,
    values: { x: 1 },
  });
  decoder.release(first);
  assert.equal(decoder.decode(one)[0], first[0]);
});
