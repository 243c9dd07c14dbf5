/**
 * The fast path of the parser (src/ingest/fast_reading.ts) against the zod
 * path it stands in for: element by element over many generated good and bad
 * reading objects, and message by message over the fuzz test's payloads and
 * generated batches, through the synchronous and the sliced parsers. The
 * results must be identical: the same readings (same keys in the same
 * order), or the same reason, field and message.
 */
import assert from "node:assert/strict";
import { fastReading } from "../../src/ingest/fast_reading.ts";
import type { ParseResult } from "../../src/ingest/ingest_error.ts";
import { IngestError } from "../../src/ingest/ingest_error.ts";
import {
  parseHttpBody,
  parseHttpBodyAsync,
  parseMqttMessage,
  parseMqttMessageAsync,
  parseWebSocketMessage,
  parseWebSocketMessageAsync,
} from "../../src/ingest/parse.ts";
import { readingObject, type Scope } from "../../src/ingest/reading_object.ts";
import { compileTopicPatterns } from "../../src/ingest/topics.ts";
import { mulberry32 } from "../../src/model/rng.ts";
import { DEFAULT_MAX_FUTURE_MS } from "../../src/ingest/timestamp.ts";
import { generateFuzz, SOURCES } from "../e2e/_fuzz_payloads.ts";
import { CASE_TOPIC_PATTERNS, RECEIVED_AT, T0 } from "./cases.ts";

const patterns = compileTopicPatterns(CASE_TOPIC_PATTERNS);
const set = { receivedAt: RECEIVED_AT, maxFutureMs: DEFAULT_MAX_FUTURE_MS };
const SCOPES: Scope[] = [
  { stream: null, value: null, source: "path" },
  { stream: "k", value: null, source: "path" },
  { stream: "k", value: null, source: "topic" },
  { stream: "k", value: "t", source: "topic" },
];

/** A reading or the error, as a string that differs whenever anything does (key order too). */
function shown(r: ParseResult): string {
  return r.ok
    ? JSON.stringify({ readings: r.readings, ignored: r.ignored })
    : JSON.stringify({ reason: r.error.reason, field: r.error.field, message: r.error.message });
}

function zodPath(raw: unknown, scope: Scope): ParseResult {
  try {
    return { ok: true, readings: [readingObject(raw, "", scope, set)], ignored: [] };
  } catch (e) {
    if (e instanceof IngestError) return { ok: false, error: e };
    throw e;
  }
}

// ---- generated elements -----------------------------------------------------------------

const GOOD_VALUES: unknown[] = [21.5, 0, -0, -3, 1e308, 5e-324, 17, "21.5", " 21.5 ", "+3", ".5"];
const BAD_VALUES: unknown[] = [
  "1e3x",
  "0x10",
  "NaN",
  "Infinity",
  "",
  " ",
  "1,5",
  true,
  null,
  [],
  [1],
  {},
  { v: 1 },
];
const GOOD_NAMES = ["temperature", "t", "x.y:z-_9", "1", "0", "a".repeat(128), "..a", "A_B"];
const BAD_NAMES = ["a/b", "..", ".", "__proto__", "a".repeat(129), "", "é", "a b", "#", "+"];
const GOOD_TS: unknown[] = [
  T0,
  T0 / 1000,
  T0 / 1000 + 0.1234,
  T0 + 0.4,
  String(T0),
  ` ${T0 / 1000} `,
  new Date(T0).toISOString(),
  "2025-06-01T13:00:00+02:00",
  "2025-06-01 11:00:00Z",
  null,
  RECEIVED_AT + DEFAULT_MAX_FUTURE_MS,
];
const BAD_TS: unknown[] = [
  RECEIVED_AT + DEFAULT_MAX_FUTURE_MS + 1,
  0,
  -1,
  946684799999,
  T0 * 1000,
  "2025-06-01T11:00:00",
  "yesterday",
  "",
  true,
  {},
  [],
  1e300,
];
const GOOD_STREAMS: unknown[] = ["k", "kitchen", "a:b.c-d_e", "x".repeat(128)];
const BAD_STREAMS: unknown[] = ["a/b", "..", "", "x".repeat(129), 3, null, true, {}];
const EXTRA = ["unit", "stream2", "tss", "Values"];

/** `n` reading objects, good and bad, from one seeded sequence. */
function elements(seed: number, n: number): unknown[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const maybe = (p: number) => rnd() < p;
  const value = () => maybe(0.85) ? pick(GOOD_VALUES) : pick(BAD_VALUES);
  const name = () => maybe(0.9) ? pick(GOOD_NAMES) : pick(BAD_NAMES);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const obj: Record<string, unknown> = {};
    const form = Math.floor(rnd() * 3);
    if (form === 0) {
      const values: Record<string, unknown> = {};
      const count = maybe(0.05) ? 0 : 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < count; j++) values[name()] = value();
      obj.values = maybe(0.03) ? pick([null, [], 3, "x", [1, 2]]) : values;
      if (maybe(0.03)) obj.value = value();
    } else if (form === 1) {
      obj.value = value();
    } else {
      const count = maybe(0.05) ? 0 : 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < count; j++) obj[name()] = value();
    }
    if (maybe(0.5)) obj.stream = maybe(0.85) ? pick(GOOD_STREAMS) : pick(BAD_STREAMS);
    if (maybe(0.6)) obj.ts = maybe(0.8) ? pick(GOOD_TS) : pick(BAD_TS);
    if (maybe(0.04)) obj[pick(EXTRA)] = 1;
    // keys in another order now and then: the readings must keep the order given
    const shuffled = maybe(0.3)
      ? Object.fromEntries(Object.entries(obj).sort(() => rnd() - 0.5))
      : obj;
    // through JSON, as a message brings them (an own "__proto__" key stays a key)
    out.push(JSON.parse(JSON.stringify(shuffled)));
  }
  return out;
}

Deno.test("fastReading() gives the zod path's reading or declines, over 20,000 generated elements in 4 scopes", () => {
  let taken = 0, declined = 0, goodDeclined = 0;
  for (const raw of elements(11, 20_000)) {
    for (const scope of SCOPES) {
      const ref = zodPath(raw, scope);
      const fast = fastReading(raw, scope, set.receivedAt, set.maxFutureMs);
      if (fast === null) {
        declined++;
        if (ref.ok) goodDeclined++;
        continue;
      }
      taken++;
      assert.ok(ref.ok, `fast path took ${JSON.stringify(raw)} in ${JSON.stringify(scope)}`);
      assert.equal(
        JSON.stringify(fast),
        JSON.stringify(ref.readings[0]),
        `${JSON.stringify(raw)} in ${JSON.stringify(scope)}`,
      );
      assert.deepEqual(fast, ref.readings[0]);
    }
  }
  // both ways are exercised, and what the zod path accepts the fast path takes almost always
  assert.ok(taken > 20_000, `taken ${taken}`);
  assert.ok(declined > 20_000, `declined ${declined}`);
  assert.ok(goodDeclined < taken / 100, `good but declined: ${goodDeclined} of ${taken}`);
});

Deno.test("fastReading() takes the common forms and declines what is not a plain object", () => {
  const scope = SCOPES[1];
  const at = (raw: unknown) => fastReading(raw, scope, set.receivedAt, set.maxFutureMs);
  assert.deepEqual(at({ value: 1, ts: T0 }), { stream: "k", ts: T0, values: { value: 1 } });
  assert.deepEqual(at({ values: { a: "2" }, stream: "k" }), {
    stream: "k",
    ts: RECEIVED_AT,
    values: { a: 2 },
  });
  assert.deepEqual(at({ a: 1, b: 2, ts: null }), {
    stream: "k",
    ts: RECEIVED_AT,
    values: { a: 1, b: 2 },
  });
  const bare = Object.assign(Object.create(null), { value: 1 });
  assert.equal(at(bare), null);
  assert.equal(at([{ value: 1 }]), null);
  assert.equal(at({ value: 1, ts: undefined }), null, "an undefined ts: the zod path decides");
  assert.equal(zodPath({ value: 1, ts: undefined }, scope).ok, true);
});

// ---- whole messages -----------------------------------------------------------------------

type Input =
  | { source: "http"; body: string | Uint8Array; stream?: string }
  | { source: "ws"; message: string | Uint8Array }
  | { source: "mqtt"; topic: string; payload: string | Uint8Array };

/** The three ways to parse a message: the zod path alone, the fast path, the sliced one. */
async function threeWays(input: Input, opts: { receivedAt: number }): Promise<string[]> {
  const zod = { ...opts, fastPath: false };
  // pieces of 16 units: every big-enough array payload is also read by json_array_pieces.ts
  const sliced = { ...opts, sliceMs: 0.01, pieceBytes: 16 };
  switch (input.source) {
    case "http":
      return [
        shown(parseHttpBody(input.body, { ...zod, stream: input.stream })),
        shown(parseHttpBody(input.body, { ...opts, stream: input.stream })),
        shown(await parseHttpBodyAsync(input.body, { ...sliced, stream: input.stream })),
      ];
    case "ws":
      return [
        shown(parseWebSocketMessage(input.message, zod)),
        shown(parseWebSocketMessage(input.message, opts)),
        shown(await parseWebSocketMessageAsync(input.message, sliced)),
      ];
    case "mqtt":
      return [
        shown(parseMqttMessage(input.topic, input.payload, patterns, zod)),
        shown(parseMqttMessage(input.topic, input.payload, patterns, opts)),
        shown(await parseMqttMessageAsync(input.topic, input.payload, patterns, sliced)),
      ];
  }
}

Deno.test("the fuzz test's payloads parse the same by the zod path, the fast path and in slices", async () => {
  const now = Date.UTC(2025, 5, 2, 12);
  const plan = generateFuzz({ seed: 1234, count: 4000, now });
  let n = 0;
  let ok = 0;
  for (const src of SOURCES) {
    for (const m of [...plan[src].setup, ...plan[src].messages]) {
      let input: Input;
      if (src === "mqtt") input = { source: "mqtt", topic: m.target, payload: m.body };
      else if (src === "ws") input = { source: "ws", message: m.body };
      else if (src === "http_all") input = { source: "http", body: m.body };
      else {
        const path = /^\/v1\/streams\/([^/?]*)\/readings$/.exec(m.target);
        if (path === null) continue; // no ingest route: never parsed
        input = { source: "http", body: m.body, stream: decodeURIComponent(path[1]) };
      }
      const [zod, fast, sliced] = await threeWays(input, { receivedAt: now });
      assert.equal(fast, zod, `${src} ${m.kind}`);
      assert.equal(sliced, zod, `${src} ${m.kind} (sliced)`);
      n++;
      if (zod.startsWith('{"readings"')) ok++;
    }
  }
  assert.ok(n >= 4000, `${n} messages compared`);
  assert.ok(ok > 300 && ok < n - 1000, `${ok} of ${n} accepted: both outcomes are compared`);
});

Deno.test("generated batches parse the same by the zod path, the fast path and in slices", async () => {
  const els = elements(7, 12_000);
  let accepted = 0;
  for (let b = 0; b < 60; b++) {
    // mostly good elements, so that a batch gets far before its first bad one (if any)
    const batch = els.slice(b * 200, b * 200 + 200).filter((el) =>
      b % 4 === 0 || zodPath(el, SCOPES[1]).ok
    );
    const wrapped = b % 3 === 0 ? { readings: batch } : batch;
    const body = JSON.stringify(wrapped);
    const results = await Promise.all([
      threeWays({ source: "http", body, stream: "k" }, { receivedAt: RECEIVED_AT }),
      threeWays({ source: "ws", message: body }, { receivedAt: RECEIVED_AT }),
      threeWays({ source: "mqtt", topic: "sensors/k", payload: body }, {
        receivedAt: RECEIVED_AT,
      }),
      threeWays({ source: "mqtt", topic: "sensors/k/t", payload: body }, {
        receivedAt: RECEIVED_AT,
      }),
    ]);
    for (const [zod, fast, sliced] of results) {
      assert.equal(fast, zod, `batch ${b}`);
      assert.equal(sliced, zod, `batch ${b} (sliced)`);
      if (zod.startsWith('{"readings"')) accepted++;
    }
  }
  assert.ok(accepted >= 20, `${accepted} batches accepted`);
});

Deno.test("parseHttpBodyAsync() yields to the event loop between slices of a big batch", async () => {
  const body = JSON.stringify(
    Array.from({ length: 10_000 }, (_, i) => ({ values: { t: i }, ts: T0 + i })),
  );
  let beats = 0;
  const beat = setInterval(() => beats++, 0);
  try {
    const r = await parseHttpBodyAsync(body, {
      receivedAt: RECEIVED_AT,
      stream: "k",
      sliceMs: 0.01,
    });
    assert.ok(r.ok);
    assert.equal(r.readings.length, 10_000);
    assert.equal(r.readings[9_999].values.t, 9_999);
  } finally {
    clearInterval(beat);
  }
  assert.ok(beats >= 2, `a timer ran ${beats} times while the batch was read`);
  // the synchronous parser holds the loop: no timer runs during it
  beats = 0;
  const timer = setInterval(() => beats++, 0);
  parseHttpBody(body, { receivedAt: RECEIVED_AT, stream: "k" });
  clearInterval(timer);
  assert.equal(beats, 0);
});

Deno.test("parseHttpBodyAsync() turns the event loop between a long UTF-8 decoding and JSON.parse", async () => {
  const body = new TextEncoder().encode(
    JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ values: { t: i }, ts: T0 + i }))),
  );
  const parse = JSON.parse;
  const seen: boolean[] = [];
  let fired = false;
  JSON.parse = ((text: string, reviver?: (key: string, value: unknown) => unknown) => {
    seen.push(fired);
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    // a slice of 0.0002 ms: the decoding takes longer than half of it (the body decoded and
    // parsed whole: pieces, json_array_pieces.ts, would parse it in several)
    setTimeout(() => fired = true, 0);
    const r = await parseHttpBodyAsync(body, {
      receivedAt: RECEIVED_AT,
      stream: "k",
      sliceMs: 2e-4,
      pieceBytes: Infinity,
    });
    assert.ok(r.ok && r.readings.length === 2_000);
    // a small body with a slice of 1 s: decoded and parsed in one go
    fired = false;
    const timer = setTimeout(() => fired = true, 0);
    const one = await parseHttpBodyAsync(new TextEncoder().encode('{"v": 1}'), {
      receivedAt: RECEIVED_AT,
      stream: "k",
      sliceMs: 1000,
    });
    assert.ok(one.ok);
    clearTimeout(timer);
  } finally {
    JSON.parse = parse;
  }
  assert.deepEqual(seen, [true, false], "a timer ran before the first JSON.parse, not the second");
});

Deno.test("parseHttpBodyAsync() resolves in a turn of its own after a long last slice", async () => {
  const body = JSON.stringify(
    Array.from({ length: 40 }, (_, i) => ({ stream: "k", values: { t: i }, ts: T0 + i })),
  );
  const parse = JSON.parse;
  let fired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // the batch's array as JSON.parse gives it, but reading its last element sets a timer: a
  // turn of the event loop before the parse resolves lets it fire
  JSON.parse = ((text: string) => {
    const array = parse(text) as unknown[];
    return new Proxy(array, {
      get(target, key, receiver) {
        if (key === String(target.length - 1)) timer = setTimeout(() => fired = true, 0);
        return Reflect.get(target, key, receiver);
      },
    });
  }) as typeof JSON.parse;
  try {
    // a slice of 0.0002 ms: the last slice took more than half of it
    const r = await parseHttpBodyAsync(body, { receivedAt: RECEIVED_AT, sliceMs: 2e-4 });
    assert.ok(r.ok && r.readings.length === 40);
    assert.equal(fired, true, "a turn came after the last slice");
    // a slice of 1 s: the whole batch is read in a small part of it, and no turn follows
    fired = false;
    const quick = await parseHttpBodyAsync(body, { receivedAt: RECEIVED_AT, sliceMs: 1000 });
    assert.ok(quick.ok && quick.readings.length === 40);
    assert.equal(fired, false, "resolved in the task of the slice");
  } finally {
    JSON.parse = parse;
    clearTimeout(timer);
  }
});
