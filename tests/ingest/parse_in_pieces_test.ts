/**
 * A big JSON array parsed in slices (parse.ts's parsePayloadAsync over
 * json_array_pieces.ts): each piece's elements are read into readings as
 * the piece is parsed, in the same slice, and the result is the
 * synchronous parser's, errors included.
 */
import assert from "node:assert/strict";
import {
  parseHttpBody,
  parseHttpBodyAsync,
  parsePayload,
  parsePayloadAsync,
  type Scope,
} from "../../src/ingest/parse.ts";
import { jsonArrayInPieces } from "../../src/ingest/json_array_pieces.ts";
import { mulberry32 } from "../../src/model/rng.ts";

const RECEIVED_AT = Date.UTC(2026, 0, 5, 12);
const T0 = RECEIVED_AT - 86_400_000;
const UNSCOPED: Scope = { stream: null, value: null, source: "path" };
const SCOPED: Scope = { stream: "k", value: null, source: "path" };

/** The result as text (an IngestError by its reason, field and message). */
function shown(r: ReturnType<typeof parsePayload>): string {
  return r.ok
    ? JSON.stringify({ readings: r.readings, ignored: r.ignored })
    : JSON.stringify({ reason: r.error.reason, field: r.error.field, message: r.error.message });
}

/** One element's text: a good reading in one of the forms, or (`bad`) one the parser refuses. */
function element(r: () => number, i: number, scoped: boolean, bad: boolean): string {
  const stream = scoped ? (r() < 0.5 ? "" : '"stream":"k",') : `"stream":"s${i % 3}",`;
  const ts = r() < 0.3
    ? ""
    : r() < 0.5
    ? `,"ts":${T0 + i}`
    : `,"ts":"${new Date(T0 + i * 1000).toISOString()}"`;
  const v = (20 + r() * 5).toFixed(2);
  if (bad) {
    const kinds = [
      `{${stream}"values":{"t":"warm"}${ts}}`,
      `{${stream}"value":${v},"extra":1${ts}}`,
      `{"stream":"no such id!","value":${v}}`,
      `{${stream}"values":{"t":${v}},"ts":-5}`,
      `[${v}]`,
    ];
    return kinds[Math.floor(r() * kinds.length)];
  }
  const forms = [
    `{${stream}"values":{"t":${v},"h":"${v}"}${ts}}`,
    `{${stream}"value":${v}${ts}}`,
    `{${stream}"t":${v}${ts}}`,
  ];
  return forms[Math.floor(r() * forms.length)];
}

Deno.test("parsePayloadAsync() gives parsePayload()'s result for 300 seeded big arrays, bad elements and late bad JSON among them", async () => {
  const r = mulberry32(21);
  const outcomes = new Set<string>();
  for (let n = 0; n < 300; n++) {
    const scoped = n % 2 === 0;
    const count = 20 + Math.floor(r() * 400);
    // no bad element, one anywhere, or one at the very end (the last piece's last element)
    const badAt = n % 3 === 0 ? -1 : n % 3 === 1 ? Math.floor(r() * count) : count - 1;
    const els = Array.from({ length: count }, (_, i) => element(r, i, scoped, i === badAt));
    let text = `[${els.join(",")}]`;
    if (n % 10 === 7) text = text.slice(0, -2) + ",]"; // bad JSON at the end
    const maxBatch = n % 11 === 5 ? count - 1 : undefined; // one element too many
    const payload = n % 4 === 0 ? new TextEncoder().encode(text) : text;
    const scope = scoped ? SCOPED : UNSCOPED;
    const opts = { receivedAt: RECEIVED_AT, maxBatch };
    const expected = shown(parsePayload(payload, scope, opts));
    // pieces of 64 to 2,048 units, some slices with turns
    const pieceBytes = 64 + Math.floor(r() * 1984);
    const sliceMs = n % 5 === 0 ? 0.01 : 1000;
    const got = shown(await parsePayloadAsync(payload, scope, { ...opts, pieceBytes, sliceMs }));
    assert.equal(got, expected, `array ${n} (${count} elements, bad at ${badAt})`);
    outcomes.add(JSON.parse(expected).reason ?? "ok");
  }
  for (const reason of ["ok", "bad_json", "too_many", "bad_value", "bad_stream", "bad_ts"]) {
    assert.ok(outcomes.has(reason), `${reason} among ${[...outcomes]}`);
  }
});

Deno.test("parseHttpBodyAsync() refuses a 10,000-reading body whole for a bad reading at index 9,999, naming it", async () => {
  const readings = Array.from({ length: 10_000 }, (_, i) => ({ values: { t: i }, ts: T0 + i }));
  (readings[9_999].values as Record<string, unknown>).t = "warm";
  const body = new TextEncoder().encode(JSON.stringify(readings));
  const r = await parseHttpBodyAsync(body, { receivedAt: RECEIVED_AT, stream: "k" });
  assert.ok(!r.ok);
  assert.equal(r.error.reason, "bad_value");
  assert.equal(r.error.field, "[9999].values.t");
  assert.equal(shown(r), shown(parseHttpBody(body, { receivedAt: RECEIVED_AT, stream: "k" })));
});

Deno.test("parsePayloadAsync() takes a turn first, then reads each piece's elements as it is parsed, in the same slice, a turn between slices", async () => {
  const body = JSON.stringify(
    Array.from({ length: 600 }, (_, i) => ({ values: { t: i }, ts: T0 + i })),
  );
  // what happens, in order: a piece parsed (`parse n`: its elements), an element read (`read`), a
  // turn of the event loop asked for (`turn`)
  const events: string[] = [];
  const parse = JSON.parse;
  const setTimer = globalThis.setTimeout;
  const clock = performance.now;
  JSON.parse = ((text: string) => {
    const array = parse(text) as object[];
    events.push(`parse ${array.length}`);
    return array.map((el) =>
      new Proxy(el, {
        get(target, key, receiver) {
          if (key === "values") events.push("read");
          return Reflect.get(target, key, receiver);
        },
      })
    );
  }) as typeof JSON.parse;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    events.push("turn");
    return setTimer(fn, ms);
  }) as typeof setTimeout;
  // a clock 10 ms on at each look: every piece takes the whole of a 5 ms slice (load cannot
  // change what is counted)
  let now = 0;
  performance.now = () => now += 10;
  let r;
  try {
    r = await parsePayloadAsync(body, SCOPED, {
      receivedAt: RECEIVED_AT,
      pieceBytes: 2048,
      sliceMs: 5,
    });
  } finally {
    JSON.parse = parse;
    globalThis.setTimeout = setTimer;
    performance.now = clock;
  }
  assert.ok(r.ok && r.readings.length === 600);
  assert.equal(shown(r), shown(parsePayload(body, SCOPED, { receivedAt: RECEIVED_AT })));
  // a turn before the first piece: the task that got the payload has done its own work on it
  assert.equal(events[0], "turn", `a turn first: ${events.slice(0, 3)}`);
  // slices: the events between two turns (the last one's turn before the readings are handed on)
  const slices = events.slice(1).join(",").split(",turn").map((s) => s.replace(/^,/, "")).filter((
    s,
  ) => s !== "");
  assert.ok(slices.length > 10, `${slices.length} slices`);
  for (const slice of slices) {
    const [first, ...rest] = slice.split(",");
    const n = Number(/^parse (\d+)$/.exec(first)?.[1]);
    assert.ok(n > 0, `a slice begins with a piece parsed: ${slice.slice(0, 80)}`);
    assert.deepEqual(rest, Array(n).fill("read"), "then that piece's elements, each read once");
  }
});

Deno.test("jsonArrayInPieces() hands each piece's elements to `each` in order, and gathers none", async () => {
  const array = Array.from({ length: 300 }, (_, i) => ({ i, s: "x".repeat(i % 7) }));
  const text = JSON.stringify(array);
  const pieces: unknown[][] = [];
  const r = await jsonArrayInPieces(text, { pieceBytes: 256, each: (part) => pieces.push(part) });
  assert.ok(r !== null);
  assert.deepEqual(r.elements, []);
  assert.equal(r.count, 300);
  assert.ok(pieces.length > 20, `${pieces.length} pieces`);
  assert.deepEqual(pieces.flat(), array);
  // without `each`: gathered, as ever
  const whole = await jsonArrayInPieces(text, { pieceBytes: 256 });
  assert.deepEqual(whole?.elements, array);
  assert.equal(whole?.count, 300);
});
