import assert from "node:assert/strict";
import { jsonArrayInPieces } from "../../src/ingest/json_array_pieces.ts";

const enc = new TextEncoder();

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings that look like the places a cut is tried: commas before braces, quotes, escapes. */
const TRICKY = ['},{"a":1}', ",{", '\\",{', "ü,{é}", "😀,{", "[,{]", "\\\\", "\n,\t{"];

function element(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 1 ? 4 : 7));
  if (k === 0) return Math.round(r() * 1e6) / 1e3;
  if (k === 1) return TRICKY[Math.floor(r() * TRICKY.length)] + String(r()).slice(2, 5);
  if (k === 2) return r() < 0.5 ? null : r() < 0.5;
  if (k === 3) return `s${Math.floor(r() * 100)}`;
  if (k === 4) return Array.from({ length: Math.floor(r() * 4) }, () => element(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) {
    o[i % 2 ? TRICKY[i] : `k${i}`] = element(r, depth + 1);
  }
  return o;
}

/** JSON text of an array of mostly objects (readings are), spaced in several ways. */
function arrayText(r: () => number, n: number): string {
  const parts = Array.from(
    { length: n },
    () => JSON.stringify(r() < 0.8 ? { stream: "k", values: { v: element(r) } } : element(r)),
  );
  const sep = [",", ", ", ",\n  ", " ,\t"][Math.floor(r() * 4)];
  return `${r() < 0.5 ? "" : " \n"}[${parts.join(sep)}]${r() < 0.5 ? "" : "\r\n "}`;
}

/** Ways to spoil a valid text: every one gives JSON.parse an error or another value. */
const SPOILED: ((t: string, r: () => number) => string)[] = [
  (t, r) => t.slice(0, Math.floor(r() * t.length)),
  (t) => t.replace(/\]\s*$/, ",]"),
  (t) => t.replace("[", "[,"),
  (t, r) => {
    const i = Math.floor(r() * t.length);
    return t.slice(0, i) + ["}", "]", '"', "{", ",,", "x"][Math.floor(r() * 6)] + t.slice(i);
  },
  (t) => `\uFEFF${t}`,
  (t) => `${t}\u00a0`,
  (t) => `${t} 1`,
  (t) => `{"readings": ${t}}`,
];

/** What JSON.parse makes of `text`, or the error as a string. */
function whole(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return `error: ${(e as Error).name}`;
  }
}

Deno.test("jsonArrayInPieces() gives JSON.parse's array or null, for text and bytes, 600 arrays cut every 1 to 200 units", async () => {
  const r = rng(13);
  let taken = 0;
  let refusedInvalid = 0;
  for (let n = 0; n < 600; n++) {
    const valid = arrayText(r, 1 + Math.floor(r() * 40));
    const text = n % 3 === 0 ? valid : SPOILED[n % SPOILED.length](valid, r);
    const expected = whole(text);
    const pieceBytes = 1 + Math.floor(r() * 200);
    for (const payload of [text, enc.encode(text)]) {
      const sliceMs = n % 20 === 0 ? 0.01 : 1000; // some with turns (each a 4 ms timer)
      const got = await jsonArrayInPieces(payload, { pieceBytes, sliceMs });
      if (got === null) {
        if (typeof expected === "string") refusedInvalid++;
        continue;
      }
      assert.ok(Array.isArray(expected), `taken, yet JSON.parse gave ${String(expected)}: ${text}`);
      assert.deepEqual(got.elements, expected, text);
      taken++;
    }
  }
  // both outcomes are exercised: most valid arrays are taken, spoiled ones refused
  assert.ok(taken >= 400, `${taken} taken`);
  assert.ok(refusedInvalid >= 300, `${refusedInvalid} invalid refused`);
});

Deno.test("jsonArrayInPieces() refuses what the whole parse must judge", async () => {
  const cases: (string | Uint8Array)[] = [
    "",
    "  ",
    "21.5",
    '{"v": 1}',
    '{"readings": [{"v": 1}, {"v": 2}]}',
    "\uFEFF[{},{}]",
    "[{},{}]\u00a0",
    "[{},{},]",
    "[,{},{}]",
    "[ ,{},{}]",
    "[{},{}] [",
    "[{},{}",
    new Uint8Array([0x5b, 0x7b, 0x7d, 0x2c, 0x7b, 0xff, 0x7d, 0x5d]), // [{},{\xff}]
  ];
  for (const c of cases) {
    assert.equal(await jsonArrayInPieces(c, { pieceBytes: 1 }), null, String(c));
  }
  // an empty array, and one that is cut into one piece per element
  assert.deepEqual((await jsonArrayInPieces(" [ ] ", { pieceBytes: 1 }))?.elements, []);
  const text = '[{"a":"},{"}, {"b":[1,{"c":2}]},{"d":"é,{"}]';
  assert.deepEqual(
    (await jsonArrayInPieces(enc.encode(text), { pieceBytes: 1 }))?.elements,
    JSON.parse(text),
  );
});

Deno.test("jsonArrayInPieces() turns the event loop between slices and parses piece by piece", async () => {
  const text = JSON.stringify(
    Array.from({ length: 4_000 }, (_, i) => ({ stream: "k", ts: i, values: { v: i / 7 } })),
  );
  const parse = JSON.parse;
  let calls = 0;
  JSON.parse = ((t: string, reviver?: (key: string, value: unknown) => unknown) => {
    calls++;
    return parse(t, reviver);
  }) as typeof JSON.parse;
  let beats = 0;
  const beat = setInterval(() => beats++, 0);
  try {
    const r = await jsonArrayInPieces(enc.encode(text), { pieceBytes: 4_096, sliceMs: 0.01 });
    assert.equal(r?.elements.length, 4_000);
    assert.ok(calls >= text.length / 4_096 - 1, `${calls} pieces`);
    assert.ok(beats >= 2, `a timer ran ${beats} times while the array was read`);
    // a slice of 1 s: the same pieces, no turn
    calls = 0;
    beats = 0;
    const quick = await jsonArrayInPieces(text, { pieceBytes: 4_096, sliceMs: 1000 });
    assert.equal(quick?.elements.length, 4_000);
    assert.equal(beats, 0);
  } finally {
    JSON.parse = parse;
    clearInterval(beat);
  }
});
