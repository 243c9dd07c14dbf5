import assert from "node:assert/strict";
import { isSenmlPack, senmlReadings, senmlReadingsAsync } from "../../src/ingest/senml.ts";
import { IngestError } from "../../src/ingest/ingest_error.ts";

const RECEIVED_AT = Date.UTC(2025, 5, 1, 12);
const unscoped = { stream: null, receivedAt: RECEIVED_AT, maxFutureMs: 86_400_000 };
const scoped = { ...unscoped, stream: "kitchen" };

function rejects(pack: unknown[], scope = unscoped): IngestError {
  try {
    senmlReadings(pack, scope);
  } catch (e) {
    if (e instanceof IngestError) return e;
    throw e;
  }
  throw new Error(`expected a rejection of ${JSON.stringify(pack)}`);
}

Deno.test("the RFC 8428 section 5.1.2 example (multiple data points) resolves as the RFC says", () => {
  // bn urn:dev:ow:10e2073a01080063:, bt 1.320067464e+09, voltage/current with relative t.
  const pack = [
    {
      bn: "urn:dev:ow:10e2073a01080063:",
      bt: 1.320067464e+09,
      bu: "A",
      bver: 5,
      n: "voltage",
      u: "V",
      v: 120.1,
    },
    { n: "current", t: -5, v: 1.2 },
    { n: "current", t: -4, v: 1.3 },
    { n: "current", t: -3, v: 1.4 },
    { n: "current", t: -2, v: 1.5 },
    { n: "current", t: -1, v: 1.6 },
    { n: "current", v: 1.7 },
  ];
  const { readings, ignored } = senmlReadings(pack, {
    ...unscoped,
    receivedAt: Date.UTC(2011, 10, 1),
  });
  const base = 1.320067464e12;
  assert.deepEqual(ignored, []);
  assert.deepEqual(readings, [
    { stream: "urn:dev:ow:10e2073a01080063", ts: base, values: { voltage: 120.1, current: 1.7 } },
    { stream: "urn:dev:ow:10e2073a01080063", ts: base - 5000, values: { current: 1.2 } },
    { stream: "urn:dev:ow:10e2073a01080063", ts: base - 4000, values: { current: 1.3 } },
    { stream: "urn:dev:ow:10e2073a01080063", ts: base - 3000, values: { current: 1.4 } },
    { stream: "urn:dev:ow:10e2073a01080063", ts: base - 2000, values: { current: 1.5 } },
    { stream: "urn:dev:ow:10e2073a01080063", ts: base - 1000, values: { current: 1.6 } },
  ]);
});

Deno.test("a SenML time of 0 or none is the receive time; 2^28 and above is absolute", () => {
  const { readings } = senmlReadings(
    [{ bn: "k/", n: "a", v: 1 }, { n: "b", t: 0, v: 2 }, { n: "c", t: 1.7e9, v: 3 }],
    unscoped,
  );
  assert.deepEqual(readings.map((r) => r.ts), [RECEIVED_AT, 1.7e12]);
  assert.deepEqual(readings[0].values, { a: 1, b: 2 });
});

Deno.test("a time of 2^28 s (1978) then fails the range check as bad_ts naming the field", () => {
  const e = rejects([{ bn: "k/", n: "c", t: 2 ** 28, v: 3 }], { ...unscoped });
  assert.equal(e.reason, "bad_ts");
  assert.equal(e.field, "[0].t");
  assert.match(e.message, /read as 1978-/);
});

Deno.test("with a scoped stream, bn is not used and n is the value name", () => {
  const { readings } = senmlReadings(
    [{ bn: "urn:dev:mac:0024befffe804ff1:", n: "temp", v: 21 }, { bn: "other:", n: "hum", v: 40 }],
    scoped,
  );
  assert.deepEqual(readings, [{
    stream: "kitchen",
    ts: RECEIVED_AT,
    values: { temp: 21, hum: 40 },
  }]);
});

Deno.test("unscoped, bn without one trailing : or / is the stream; a change of bn starts another stream", () => {
  const { readings } = senmlReadings(
    [{ bn: "kitchen/", n: "t", v: 1 }, { bn: "hall:", n: "t", v: 2 }, {
      bn: "garage",
      n: "t",
      v: 3,
    }],
    unscoped,
  );
  assert.deepEqual(readings.map((r) => r.stream), ["kitchen", "hall", "garage"]);
});

Deno.test("a record without n names the value 'value'", () => {
  const { readings } = senmlReadings(
    [{ bn: "urn:dev:ow:10e2073a0108006", v: 23.1, u: "Cel" }],
    unscoped,
  );
  assert.deepEqual(readings, [{
    stream: "urn:dev:ow:10e2073a0108006",
    ts: RECEIVED_AT,
    values: { value: 23.1 },
  }]);
});

Deno.test("unscoped, a pack without bn is bad_stream", () => {
  const e = rejects([{ n: "temp", v: 1 }]);
  assert.equal(e.reason, "bad_stream");
  assert.equal(e.field, "[0].bn");
  assert.match(e.message, /must name the stream .*: current value is missing/);
});

Deno.test("a bn that is no stream id once stripped is bad_stream", () => {
  const e = rejects([{ bn: "/3303/0/", n: "5700", v: 1 }]);
  assert.equal(e.reason, "bad_stream");
  assert.match(e.message, /current value is "\/3303\/0\/"/);
});

Deno.test("a name with a / is bad_name", () => {
  const e = rejects([{ bn: "k/", n: "a/b", v: 1 }]);
  assert.equal(e.reason, "bad_name");
  assert.equal(e.field, "[0].n");
});

Deno.test("a record holding only base fields sets them and produces nothing", () => {
  const { readings } = senmlReadings([{ bn: "k/", bt: 1.7e9 }, { n: "a", v: 1 }], unscoped);
  assert.deepEqual(readings, [{ stream: "k", ts: 1.7e12, values: { a: 1 } }]);
});

Deno.test("a record with a name but no value is bad_shape", () => {
  const e = rejects([{ bn: "k/", n: "a" }]);
  assert.equal(e.reason, "bad_shape");
  assert.match(e.message, /must hold a value/);
});

Deno.test("string, boolean, data and sum records are listed as ignored", () => {
  const { readings, ignored } = senmlReadings([
    { bn: "k/", n: "fw", vs: "1.0" },
    { n: "door", vb: false },
    { n: "blob", vd: "aGk" },
    { n: "energy", s: 12 },
    { n: "t", v: 1 },
  ], unscoped);
  assert.equal(readings.length, 1);
  assert.deepEqual(ignored, [
    "[0] (k fw): string value ignored",
    "[1] (k door): boolean value ignored",
    "[2] (k blob): data value ignored",
    "[3] (k energy): sum value ignored",
  ]);
});

Deno.test("wrong field types are rejected with the reason of the field", () => {
  const cases: [unknown[], string, string][] = [
    [[{ bn: "k/", n: "a", v: "1" }], "bad_value", "[0].v"],
    [[{ bn: "k/", n: "a", v: 1, t: "now" }], "bad_ts", "[0].t"],
    [[{ bn: "k/", bt: "x", n: "a", v: 1 }], "bad_ts", "[0].bt"],
    [[{ bn: 7, n: "a", v: 1 }], "bad_shape", "[0].bn"],
    [[{ bn: "k/", n: "a", vb: "yes" }], "bad_shape", "[0].vb"],
    [[{ bn: "k/", n: "a", v: 1 }, 3], "bad_shape", "[1]"],
  ];
  for (const [pack, reason, field] of cases) {
    const e = rejects(pack);
    assert.equal(e.reason, reason, JSON.stringify(pack));
    assert.equal(e.field, field, JSON.stringify(pack));
  }
});

Deno.test("bver above 10 is rejected, 10 and below accepted", () => {
  assert.equal(senmlReadings([{ bver: 10, bn: "k/", n: "a", v: 1 }], unscoped).readings.length, 1);
  const e = rejects([{ bver: 11, bn: "k/", n: "a", v: 1 }]);
  assert.equal(e.reason, "bad_shape");
  assert.match(e.message, /version 10 and older/);
});

Deno.test("unknown fields not ending in _ are ignored, as RFC 8428 allows", () => {
  const { readings } = senmlReadings([{ bn: "k/", n: "a", v: 1, note: "x" }], unscoped);
  assert.deepEqual(readings[0].values, { a: 1 });
});

Deno.test("a later record for the same name and time wins", () => {
  const { readings } = senmlReadings([{ bn: "k/", n: "a", v: 1 }, { n: "a", v: 2 }], unscoped);
  assert.deepEqual(readings, [{ stream: "k", ts: RECEIVED_AT, values: { a: 2 } }]);
});

Deno.test("isSenmlPack() looks at the first record's labels", () => {
  assert.equal(isSenmlPack([{ bn: "k/" }]), true);
  assert.equal(isSenmlPack([{ n: "a", v: 1 }]), true);
  assert.equal(isSenmlPack([{ value: 1 }]), false);
  assert.equal(isSenmlPack([{ ts: 1, v: 1 }]), false); // one of ours: a reading batch
  assert.equal(isSenmlPack([{ temperature: 1 }]), false);
  assert.equal(isSenmlPack([1]), false);
  assert.equal(isSenmlPack([]), false);
});

Deno.test("senmlReadingsAsync() gives senmlReadings()'s result, or its error, and lets timers run between slices", async () => {
  const t0 = RECEIVED_AT / 1000 - 86_400;
  const pack: unknown[] = [{ bn: "kitchen/", bt: t0 }];
  for (let i = 0; i < 6000; i++) pack.push({ n: i % 2 ? "t" : "h", t: Math.floor(i / 2), v: i });
  pack.push({ n: "note", vs: "ok" });
  let beats = 0;
  const beat = setInterval(() => beats++, 0);
  let sliced;
  try {
    sliced = await senmlReadingsAsync(pack, unscoped, "", 0.01);
  } finally {
    clearInterval(beat);
  }
  assert.deepEqual(sliced, senmlReadings(pack, unscoped));
  assert.equal(sliced.readings.length, 3000);
  assert.ok(beats >= 2, `a timer ran ${beats} times while the pack was read`);
  // a bad record late in the pack: the same error, after the same records
  const bad = [...pack.slice(0, 5000), { n: "t", t: 1, v: "x" }];
  const error = await senmlReadingsAsync(bad, unscoped, "", 0.01).then(() => null, (e) => e);
  assert.ok(error instanceof IngestError);
  const expected = rejects(bad);
  assert.deepEqual([error.reason, error.field, error.message], [
    expected.reason,
    expected.field,
    expected.message,
  ]);
  assert.equal(expected.field, "[5000].v");
});
