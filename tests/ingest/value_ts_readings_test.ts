import assert from "node:assert/strict";
import { valueTsReadings } from "../../src/ingest/value_ts_readings.ts";
import { parseMqttMessage } from "../../src/ingest/parse.ts";
import { compileTopicPatterns } from "../../src/ingest/topics.ts";
import type { ParseResult } from "../../src/ingest/ingest_error.ts";

const patterns = compileTopicPatterns(["sensors/{stream}/{value}", "sensors/{stream}"]);
const NOW = Date.UTC(2026, 11, 7, 12);
const DAY = 86_400_000;
const bytes = (s: string) => new TextEncoder().encode(s);
const scan = (s: string, value: string | null = null, maxBatch = 10_000) =>
  valueTsReadings(bytes(s), { stream: "s1", value }, {
    receivedAt: NOW,
    maxFutureMs: DAY,
    maxBatch,
  });

/** A result as the tests compare it: its readings with -0 told apart, or its error. */
function shown(r: ParseResult): string {
  if (!r.ok) return `error ${r.error.reason} ${r.error.field}: ${r.error.message}`;
  return JSON.stringify(r, (_, v) => Object.is(v, -0) ? "-0" : v);
}

/** The MQTT message parsed as the source does (bytes), as text (fast_reading.ts) and by zod. */
function threeWays(topic: string, payload: string): string[] {
  const opts = { receivedAt: NOW };
  return [
    shown(parseMqttMessage(topic, bytes(payload), patterns, opts)),
    shown(parseMqttMessage(topic, payload, patterns, opts)),
    shown(parseMqttMessage(topic, bytes(payload), patterns, { ...opts, fastPath: false })),
  ];
}

/** A seeded generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("valueTsReadings() reads numbers as JSON.parse does, to the bit", () => {
  const rnd = random(7);
  const texts = [
    "0",
    "-0",
    "-0.0",
    "1",
    "21.5",
    "0.1",
    "0.000123",
    "123456789012345",
    "1234567890123456",
    "12345678901234567890",
    "0.1234567890123456789",
    "9007199254740993",
    "1e3",
    "1E-7",
    "-2.5e+2",
    "4.9e-324",
    "1.7976931348623157e308",
    "0.30000000000000004",
    "1735689600000",
    "1735689600.5",
  ];
  for (let i = 0; i < 3000; i++) {
    const int = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 16)));
    const frac = rnd() < 0.7
      ? `.${String(Math.floor(rnd() * 1e9)).padStart(9, "0").slice(0, 1 + Math.floor(rnd() * 9))}`
      : "";
    const exp = rnd() < 0.1 ? `e${rnd() < 0.5 ? "-" : ""}${Math.floor(rnd() * 30)}` : "";
    texts.push(`${rnd() < 0.3 ? "-" : ""}${int}${frac}${exp}`);
  }
  for (const t of texts) {
    const got = scan(`{"value":${t}}`);
    assert.ok(got !== null, t);
    assert.ok(Object.is(got[0].values.value, JSON.parse(t)), `${t}: ${got[0].values.value}`);
  }
});

Deno.test("valueTsReadings() gives parse.ts's readings for the value/ts forms, null for others", () => {
  const t = NOW - 3_600_000;
  const taken = [
    `{"value":21.5,"ts":${t}}`,
    `{"ts":${t},"value":21.5}`,
    `  {\t"value" :\n21.5 , "ts": ${t / 1000} }\r\n`,
    `{"value":-3}`,
    `[{"value":1,"ts":${t}},{"value":2,"ts":${t + 1}} , {"value":3}]`,
    `[{"value":1,"ts":${t}.4}]`,
    `{"value":1,"ts":${NOW + DAY}}`,
    `{"value":1,"ts":946684800}`,
    `{"value":1,"ts":1.7356896e12}`,
  ];
  for (const p of taken) {
    assert.ok(scan(p) !== null, `read from its bytes: ${p}`);
    const [fromBytes, fromText, zod] = threeWays("sensors/s1", p);
    assert.equal(fromBytes, fromText, p);
    assert.equal(fromBytes, zod, p);
  }
  // the topic's value name
  assert.deepEqual(scan(`{"value":2}`, "temp")?.[0].values, { temp: 2 });
  const [a, b, c] = threeWays("sensors/s1/temp", `[{"value":2,"ts":${t}}]`);
  assert.equal(a, b);
  assert.equal(a, c);
  const declined = [
    `{"value":1,"value":2}`,
    `{"ts":${t},"ts":${t}}`,
    `{"ts":${t}}`,
    `{}`,
    `[]`,
    `[{"value":1},]`,
    `{"value":1,}`,
    `{"value":"21.5"}`,
    `{"value":null}`,
    `{"value":1,"ts":null}`,
    `{"value":1,"ts":"${t}"}`,
    `{"values":{"value":1}}`,
    `{"value":1,"stream":"s1"}`,
    `{"temperature":1}`,
    `{"val\\u0075e":1}`,
    `{"value":01}`,
    `{"value":1.}`,
    `{"value":.5}`,
    `{"value":+1}`,
    `{"value":1e}`,
    `{"value":1e400}`,
    `{"value":-}`,
    `{"value":1,"ts":0}`,
    `{"value":1,"ts":${NOW + DAY + 1}}`,
    `{"value":1,"ts":946684799}`,
    `[[{"value":1}]]`,
    `[{"value":1}] x`,
    `{"value":1}{"value":2}`,
    `\u00a0{"value":1}`,
    `\v{"value":1}`,
    `{"value":1}\u00a0`,
    `21.5`,
    `[{"value":1}`,
    `{"value":1`,
    `{"value" 1}`,
  ];
  for (const p of declined) {
    assert.equal(scan(p), null, `declined: ${p}`);
    const [fromBytes, fromText, zod] = threeWays("sensors/s1", p);
    assert.equal(fromBytes, fromText, p);
    assert.equal(fromBytes, zod, p);
  }
  // a payload that names no stream: parse.ts's forms, not these
  assert.equal(
    valueTsReadings(bytes(`{"value":1}`), { stream: null, value: null }, {
      receivedAt: NOW,
      maxFutureMs: DAY,
      maxBatch: 10,
    }),
    null,
  );
});

Deno.test("valueTsReadings() takes a batch of at most maxBatch readings", () => {
  const batch = (n: number) =>
    `[${Array.from({ length: n }, (_, i) => `{"value":${i}}`).join(",")}]`;
  assert.equal(scan(batch(3), null, 3)?.length, 3);
  assert.equal(scan(batch(4), null, 3), null);
  assert.equal(scan(batch(1), null, 0), null);
});

Deno.test("seeded value/ts payloads parse the same from bytes, from text and by the zod path", () => {
  const rnd = random(99);
  const ws = () => [" ", "\t", "\n", "\r", "", "", ""][Math.floor(rnd() * 7)];
  const num = () => {
    const r = rnd();
    if (r < 0.05) return "-0";
    if (r < 0.1) return `${Math.floor(rnd() * 100)}e${Math.floor(rnd() * 5) - 2}`;
    return String(
      Math.round((rnd() - 0.5) * 10 ** Math.floor(rnd() * 8)) / 10 ** Math.floor(rnd() * 6),
    );
  };
  const ts = () => {
    const r = rnd();
    if (r < 0.1) return String(Math.floor((NOW + (rnd() - 0.3) * 4 * DAY) / 1000));
    if (r < 0.15) return "0";
    return String(NOW - Math.floor(rnd() * 1e9) + (rnd() < 0.2 ? 2 * DAY : 0));
  };
  const object = () => {
    const fields = [`"value"${ws()}:${ws()}${num()}`];
    if (rnd() < 0.8) fields.push(`"ts"${ws()}:${ws()}${ts()}`);
    if (rnd() < 0.03) fields.push(`"value":1`);
    if (rnd() < 0.03) fields.push(`"extra":1`);
    if (rnd() < 0.5) fields.reverse();
    return `{${ws()}${fields.join(`${ws()},${ws()}`)}${ws()}}`;
  };
  let read = 0;
  for (let i = 0; i < 2000; i++) {
    const p = rnd() < 0.3
      ? `${ws()}${object()}${ws()}`
      : `${ws()}[${
        Array.from({ length: 1 + Math.floor(rnd() * 12) }, object).join(`${ws()},${ws()}`)
      }]${ws()}`;
    const topic = rnd() < 0.2 ? "sensors/s7/temp" : "sensors/s7";
    const [fromBytes, fromText, zod] = threeWays(topic, p);
    assert.equal(fromBytes, fromText, p);
    assert.equal(fromBytes, zod, p);
    if (scan(p) !== null) read++;
  }
  assert.ok(read > 500, `read from their bytes: ${read} of 2000`);
});
