import assert from "node:assert/strict";
import {
  parseHttpBody,
  parseJsonValue,
  parseMqttMessage,
  parseWebSocketMessage,
} from "../../src/ingest/parse.ts";
import { IngestError, type ParseResult, REJECT_REASONS } from "../../src/ingest/ingest_error.ts";
import { compileTopicPatterns } from "../../src/ingest/topics.ts";
import {
  assertOutcome,
  CASE_TOPIC_PATTERNS,
  INGEST_CASES,
  inputs,
  type Outcome,
  RECEIVED_AT,
  T0,
} from "./cases.ts";

const patterns = compileTopicPatterns(CASE_TOPIC_PATTERNS);
const opts = { receivedAt: RECEIVED_AT };
const enc = new TextEncoder();

function outcome(r: ParseResult): Outcome {
  return r.ok
    ? { ok: true, readings: r.readings }
    : { ok: false, reason: r.error.reason, message: r.error.message };
}

function rejected(r: ParseResult): IngestError {
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.readings)}`);
  return r.error;
}

function accepted(r: ParseResult) {
  if (!r.ok) throw new Error(`expected readings, got ${r.error.reason}: ${r.error.message}`);
  return r.readings;
}

// --- the conformance table, every case through every parser it is written for

for (const c of INGEST_CASES) {
  for (const input of inputs(c)) {
    Deno.test(`conformance (${input.source}): ${c.name}`, () => {
      const result = input.source === "mqtt"
        ? parseMqttMessage(input.topic, enc.encode(input.payload), patterns, opts)
        : input.source === "ws"
        ? parseWebSocketMessage(input.message, opts)
        : parseHttpBody(input.body, { ...opts, stream: input.stream });
      assertOutcome(c, input.source, outcome(result), RECEIVED_AT);
    });
  }
}

Deno.test("the conformance table covers every reject reason and each source", () => {
  const reasons = new Set(
    INGEST_CASES.flatMap((c) => "reason" in c.expect ? [c.expect.reason] : []),
  );
  for (const r of REJECT_REASONS) {
    if (r === "too_many") continue; // a batch over the limit: a unit test below, too big for a table
    assert.ok(reasons.has(r), `no conformance case for ${r}`);
  }
  for (const source of ["mqtt", "ws", "http"] as const) {
    const n = INGEST_CASES.filter((c) => inputs(c).some((i) => i.source === source)).length;
    assert.ok(n >= 20, `${source} has only ${n} cases`);
  }
});

Deno.test("the conformance table's accepted cases use one stream id prefix per case", () => {
  const seen = new Map<string, string>();
  for (const c of INGEST_CASES) {
    if (!("readings" in c.expect)) continue;
    for (const r of c.expect.readings) {
      const owner = seen.get(r.stream);
      assert.ok(owner === undefined || owner === c.name, `${r.stream} used by two cases`);
      seen.set(r.stream, c.name);
    }
  }
});

// --- payload forms

Deno.test("parseMqttMessage() accepts a payload as text or as UTF-8 bytes, with a byte-order mark", () => {
  const a = accepted(parseMqttMessage("sensors/k/t", " 21.5\n", patterns, opts));
  const b = accepted(parseMqttMessage("sensors/k/t", enc.encode("\uFEFF21.5"), patterns, opts));
  assert.deepEqual(a, [{ stream: "k", ts: RECEIVED_AT, values: { t: 21.5 } }]);
  assert.deepEqual(b, a);
});

Deno.test("parseMqttMessage() reads a payload's bytes as it reads the same text, short or long, ASCII or not", () => {
  // (the bytes of an ASCII payload up to 512 are decoded without the check: parse.ts)
  const long = `{"value":1,"ts":${RECEIVED_AT},"stream":"k${"x".repeat(220)}"}`.padEnd(600);
  const payloads = [
    '{"value":21.5}',
    ' {"values":{"t":"4e1"}}\t',
    "21.5",
    "",
    " ",
    '{"value":21.5,"note":"caf\u00e9"}',
    '{"value":"21,5"}',
    "[1,2]",
    long.slice(0, 255),
    long.slice(0, 256),
    long.slice(0, 257),
    long.slice(0, 511),
    long.slice(0, 512),
    long.slice(0, 513),
    long,
    `{"value":1,"stream":"k\u00e9${"x".repeat(250)}"}`,
    `{"value":1,"stream":"k\u00e9${"x".repeat(500)}"}`,
  ];
  for (const text of payloads) {
    const bytes = enc.encode(text);
    for (const topic of ["sensors/k/t", "sensors/k"]) {
      const fromText = parseMqttMessage(topic, text, patterns, opts);
      const fromBytes = parseMqttMessage(topic, bytes, patterns, opts);
      assert.deepEqual(fromBytes, fromText, `${topic} ${JSON.stringify(text).slice(0, 40)}`);
    }
  }
});

Deno.test("parseMqttMessage() rejects bytes that are not UTF-8 as bad_json", () => {
  const e = rejected(
    parseMqttMessage("sensors/k/t", new Uint8Array([0xff, 0xfe, 0x31]), patterns, opts),
  );
  assert.equal(e.reason, "bad_json");
  assert.match(e.message, /must be UTF-8 text: current value is "3 bytes"/);
});

Deno.test("a bare number may have a sign, exponent or leading dot, as devices print them", () => {
  for (const [text, value] of [["+3", 3], ["-0.5", -0.5], [".5", 0.5], ["1e3", 1000], ['"7"', 7]]) {
    const r = accepted(parseMqttMessage("sensors/k/t", String(text), patterns, opts));
    assert.equal(r[0].values.t, value, String(text));
  }
});

Deno.test("hex, Infinity and a decimal comma are not numbers", () => {
  for (const text of ["0x10", "Infinity", "-Infinity", "21,5", "true", "null"]) {
    const e = rejected(parseMqttMessage("sensors/k/t", text, patterns, opts));
    assert.equal(e.reason, "bad_value", text);
    assert.equal(e.field, "value");
  }
});

Deno.test("the brief's example message is produced verbatim for a NaN payload", () => {
  const e = rejected(parseMqttMessage("sensors/kitchen/temperature", "NaN", patterns, opts));
  assert.equal(
    e.message,
    `Cannot ingest reading: 'value' must be a finite number: current value is "NaN"`,
  );
  assert.equal(e.value, "NaN");
});

Deno.test("a topic with {value} takes a batch of {value} objects, and names each value", () => {
  const r = accepted(parseMqttMessage(
    "sensors/k/temp",
    JSON.stringify([{ ts: T0, value: 1 }, { ts: T0 + 1, value: 2 }]),
    patterns,
    opts,
  ));
  assert.deepEqual(r.map((x) => x.values), [{ temp: 1 }, { temp: 2 }]);
});

Deno.test("a topic with {value} refuses payloads that name values themselves", () => {
  for (const payload of ['{"values":{"a":1}}', '{"a":1}', '[{"bn":"k/","n":"a","v":1}]']) {
    const e = rejected(parseMqttMessage("sensors/k/temp", payload, patterns, opts));
    assert.equal(e.reason, "bad_shape", payload);
    assert.match(e.message, /because the topic names the value \("temp"\)/);
  }
});

Deno.test("a pattern without {stream} leaves the stream to the payload", () => {
  const own = compileTopicPatterns(["gateway/senml", "gateway/{value}"]);
  const a = accepted(
    parseMqttMessage("gateway/temp", '{"stream":"k","value":1,"ts":' + T0 + "}", own, opts),
  );
  assert.deepEqual(a, [{ stream: "k", ts: T0, values: { temp: 1 } }]);
  const b = accepted(parseMqttMessage("gateway/senml", '[{"bn":"k/","n":"h","v":2}]', own, opts));
  assert.deepEqual(b, [{ stream: "k", ts: RECEIVED_AT, values: { h: 2 } }]);
  const e = rejected(parseMqttMessage("gateway/temp", "1", own, opts));
  assert.equal(e.reason, "bad_shape");
});

Deno.test("a stream field equal to the scoped stream is accepted", () => {
  const r = accepted(parseHttpBody('{"stream":"k","value":1}', { ...opts, stream: "k" }));
  assert.equal(r[0].stream, "k");
});

Deno.test("parseHttpBody() rejects an invalid stream id from the path before reading the body", () => {
  const e = rejected(parseHttpBody("{", { ...opts, stream: "a/b" }));
  assert.equal(e.reason, "bad_stream");
  assert.match(e.message, /'stream' must be a stream id .* in the path: current value is "a\/b"/);
});

Deno.test("parseHttpBody() without a stream reads the unscoped forms, like a WebSocket message", () => {
  const body = '{"stream":"k","values":{"a":1},"ts":"2025-06-01T11:00:00+00:00"}';
  assert.deepEqual(parseHttpBody(body, opts), parseWebSocketMessage(body, opts));
  assert.equal(accepted(parseHttpBody(body, opts))[0].ts, T0);
});

Deno.test("a WebSocket batch may mix streams", () => {
  const r = accepted(parseWebSocketMessage(
    JSON.stringify([{ stream: "a", value: 1 }, { stream: "b", values: { x: 2 } }]),
    opts,
  ));
  assert.deepEqual(r.map((x) => x.stream), ["a", "b"]);
});

Deno.test("{readings} accepts no other field and must hold an array", () => {
  const a = rejected(parseWebSocketMessage('{"readings":[{"stream":"a","value":1}],"x":1}', opts));
  assert.equal(a.reason, "bad_shape");
  assert.equal(a.field, "x");
  const b = rejected(parseWebSocketMessage('{"readings":{"stream":"a"}}', opts));
  assert.equal(b.reason, "bad_shape");
  assert.equal(b.field, "readings");
});

Deno.test("an empty values object, or an object with only ts, has no value (bad_shape)", () => {
  const a = rejected(parseHttpBody('{"values":{}}', { ...opts, stream: "k" }));
  assert.equal(a.reason, "bad_shape");
  assert.equal(a.field, "values");
  const b = rejected(parseHttpBody(`{"ts":${T0}}`, { ...opts, stream: "k" }));
  assert.equal(b.reason, "bad_shape");
  assert.match(b.message, /must hold at least one value/);
});

Deno.test("values that are not an object are bad_shape", () => {
  const e = rejected(parseHttpBody('{"values":[1,2]}', { ...opts, stream: "k" }));
  assert.equal(e.reason, "bad_shape");
  assert.match(e.message, /'values' must be an object of value names to numbers/);
});

Deno.test("a batch element that is not an object is bad_shape naming its index", () => {
  const e = rejected(parseHttpBody("[21.5]", { ...opts, stream: "k" }));
  assert.equal(e.reason, "bad_shape");
  assert.equal(e.field, "[0]");
});

Deno.test("a batch longer than maxBatch is rejected as too_many before it is read", () => {
  const batch = JSON.stringify(Array.from({ length: 4 }, () => ({ value: "not read" })));
  const e = rejected(parseHttpBody(batch, { ...opts, stream: "k", maxBatch: 3 }));
  assert.equal(e.reason, "too_many");
  assert.match(e.message, /must hold at most 3 elements: current value is "4 elements"/);
  assert.equal(
    accepted(parseHttpBody('[{"value":1}]', { ...opts, stream: "k", maxBatch: 1 })).length,
    1,
  );
});

Deno.test("__proto__ is not a value name in any form", () => {
  for (const body of ['{"__proto__":1}', '{"values":{"__proto__":1}}']) {
    const e = rejected(parseHttpBody(body, { ...opts, stream: "k" }));
    assert.equal(e.reason, "bad_name", body);
  }
});

Deno.test("value names may use the stream-id alphabet and be 128 characters long", () => {
  const long = "a".repeat(128);
  const r = accepted(
    parseHttpBody(JSON.stringify({ [long]: 1, "x.y:z-_9": 2 }), { ...opts, stream: "k" }),
  );
  assert.deepEqual(Object.keys(r[0].values), [long, "x.y:z-_9"]);
  const e = rejected(parseHttpBody(JSON.stringify({ [long + "a"]: 1 }), { ...opts, stream: "k" }));
  assert.equal(e.reason, "bad_name");
  const slash = rejected(parseHttpBody('{"a/b":1}', { ...opts, stream: "k" }));
  assert.equal(slash.reason, "bad_name");
});

Deno.test("parseJsonValue() reads an already-parsed body with the same rules", () => {
  const r = parseJsonValue(
    { values: { a: 1 } },
    { stream: "k", value: null, source: "path" },
    opts,
  );
  assert.deepEqual(accepted(r), [{ stream: "k", ts: RECEIVED_AT, values: { a: 1 } }]);
  const e = rejected(
    parseJsonValue({ value: NaN }, { stream: "k", value: null, source: "path" }, opts),
  );
  assert.equal(
    e.message,
    "Cannot ingest reading: 'value' must be a finite number: current value is NaN",
  );
});

// --- timestamps

Deno.test("ts may be ms, seconds, a numeric string or RFC 3339 with Z, an offset or a space", () => {
  const forms: unknown[] = [
    T0,
    T0 / 1000,
    String(T0),
    String(T0 / 1000),
    "2025-06-01T11:00:00Z",
    "2025-06-01T13:00:00+02:00",
    "2025-06-01T06:00:00-0500",
    "2025-06-01 11:00:00.000Z",
  ];
  for (const ts of forms) {
    const r = accepted(parseHttpBody(JSON.stringify({ value: 1, ts }), { ...opts, stream: "k" }));
    assert.equal(r[0].ts, T0, JSON.stringify(ts));
  }
});

Deno.test("ts in fractional seconds is rounded to whole milliseconds", () => {
  const r = accepted(
    parseHttpBody(`{"value":1,"ts":${T0 / 1000 + 0.1234}}`, { ...opts, stream: "k" }),
  );
  assert.equal(r[0].ts, T0 + 123);
});

Deno.test("ts null is the receive time", () => {
  const r = accepted(parseHttpBody('{"value":1,"ts":null}', { ...opts, stream: "k" }));
  assert.equal(r[0].ts, RECEIVED_AT);
});

Deno.test("ts more than maxFutureMs after receipt is bad_ts; up to it is accepted", () => {
  const day = 86_400_000;
  const ok = accepted(
    parseHttpBody(`{"value":1,"ts":${RECEIVED_AT + day}}`, { ...opts, stream: "k" }),
  );
  assert.equal(ok[0].ts, RECEIVED_AT + day);
  const e = rejected(
    parseHttpBody(`{"value":1,"ts":${RECEIVED_AT + day + 1}}`, { ...opts, stream: "k" }),
  );
  assert.equal(e.reason, "bad_ts");
  assert.match(e.message, /to 24 h after receipt/);
  const tight = rejected(
    parseHttpBody(`{"value":1,"ts":${RECEIVED_AT + 2000}}`, {
      ...opts,
      stream: "k",
      maxFutureMs: 1000,
    }),
  );
  assert.equal(tight.reason, "bad_ts");
});

Deno.test("microsecond timestamps are out of range, not silently misread", () => {
  const e = rejected(parseHttpBody(`{"value":1,"ts":${T0 * 1000}}`, { ...opts, stream: "k" }));
  assert.equal(e.reason, "bad_ts");
});

Deno.test("a non-string, non-number ts is bad_ts", () => {
  for (const ts of ["true", "{}", "[1]"]) {
    const e = rejected(parseHttpBody(`{"value":1,"ts":${ts}}`, { ...opts, stream: "k" }));
    assert.equal(e.reason, "bad_ts", ts);
  }
});

// --- errors

Deno.test("IngestError carries reason, field and value, and prints long values shortened", () => {
  const e = rejected(
    parseWebSocketMessage(JSON.stringify({ stream: "x".repeat(200), value: 1 }), opts),
  );
  assert.ok(e instanceof IngestError);
  assert.equal(e.reason, "bad_stream");
  assert.equal(e.field, "stream");
  assert.equal(e.value, "x".repeat(200));
  assert.ok(e.message.endsWith('..."') || e.message.endsWith("..."), e.message);
  assert.ok(e.message.length < 250, e.message);
});

Deno.test("every error message has the action, the constraint and the value, and no trailing period", () => {
  for (const c of INGEST_CASES) {
    for (const input of inputs(c)) {
      const r = input.source === "mqtt"
        ? parseMqttMessage(input.topic, input.payload, patterns, opts)
        : input.source === "ws"
        ? parseWebSocketMessage(input.message, opts)
        : parseHttpBody(input.body, { ...opts, stream: input.stream });
      if (r.ok) continue;
      assert.match(r.error.message, /^Cannot ingest reading: .+: current value is .+$/s);
      assert.ok(!r.error.message.endsWith("."), r.error.message);
    }
  }
});
