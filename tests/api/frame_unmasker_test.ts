/**
 * FrameUnmasker against a reference: a stream of client frames cut into
 * chunks anywhere comes out as the same frames with their keys 0 and their
 * payloads unmasked, a big payload whole, each chunk's bytes unmasked in the
 * call that took it.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { FrameUnmasker } from "../../src/api/frame_unmasker.ts";

interface Frame {
  fin?: boolean;
  opcode: number;
  payload: Uint8Array;
  /** The mask key, or null for an unmasked frame. */
  key: number[] | null;
}

/** A frame's bytes: its payload masked with its key, or (`unmasked`) with the key 0 and the payload plain. */
function encode(f: Frame, unmasked = false): Uint8Array {
  const len = f.payload.length;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | f.opcode];
  const m = f.key !== null ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 255);
  else head.push(m | 127, 0, 0, 0, 0, len >>> 24, (len >> 16) & 255, (len >> 8) & 255, len & 255);
  const key = f.key === null ? null : unmasked ? [0, 0, 0, 0] : f.key;
  if (key !== null) head.push(...key);
  const out = new Uint8Array(head.length + len);
  out.set(head);
  for (let i = 0; i < len; i++) out[head.length + i] = f.payload[i] ^ (key?.[i & 3] ?? 0);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A seeded generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(n: number, next: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

/** Frames of every kind: small, 16-bit and 64-bit lengths, fragments with a ping between, empty, a close. */
function frames(next: () => number): Frame[] {
  const key = () => [0, 1, 2, 3].map(() => 1 + Math.floor(next() * 255));
  return [
    { opcode: 1, payload: bytes(20, next), key: key() },
    { opcode: 2, payload: bytes(200_000, next), key: key() },
    { opcode: 1, payload: new Uint8Array(0), key: key() },
    { opcode: 1, fin: false, payload: bytes(70_001, next), key: key() },
    { opcode: 9, payload: bytes(5, next), key: key() },
    { opcode: 0, fin: false, payload: bytes(300, next), key: key() },
    { opcode: 0, payload: bytes(65_536, next), key: key() },
    { opcode: 2, payload: bytes(1000, next), key: key() },
    { opcode: 8, payload: new Uint8Array([3, 232]), key: key() },
  ];
}

/** `stream` cut into chunks of 1 to `most` bytes (Buffers, as a socket gives them). */
function chunks(stream: Uint8Array, next: () => number, most: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length;) {
    const n = Math.min(stream.length - at, 1 + Math.floor(next() * most));
    out.push(Buffer.from(stream.subarray(at, at + n)));
    at += n;
  }
  return out;
}

for (const [seed, most] of [[1, 1], [2, 7], [3, 1500], [4, 65_536], [5, 300_000]]) {
  Deno.test(`FrameUnmasker hands on the frames with keys 0 and payloads unmasked, in chunks of up to ${most} bytes`, () => {
    const next = random(seed);
    const fs = frames(next);
    const input = concat(fs.map((f) => encode(f)));
    const expected = concat(fs.map((f) => encode(f, true)));
    const u = new FrameUnmasker({ maxPayload: 1 << 20, gatherBytes: 65_536 });
    const parts = chunks(input, next, most).flatMap((c) => u.take(c));
    assert.ok(parts.every((p) => p instanceof Buffer), "Buffers, as ws expects");
    const out = concat(parts);
    assert.equal(out.length, expected.length);
    assert.ok(out.every((b, i) => b === expected[i]), "the bytes ws reads");
    // the payloads of gatherBytes or more went whole, each one part of its size
    for (const n of [200_000, 70_001, 65_536]) {
      assert.equal(parts.filter((p) => p.length === n).length, 1, `a part of ${n} bytes`);
    }
    assert.equal(u.unmasked, fs.reduce((n, f) => n + f.payload.length, 0));
  });
}

Deno.test("FrameUnmasker unmasks each chunk's payload bytes in the call that takes it", () => {
  const next = random(6);
  const payload = bytes(1 << 20, next);
  const input = encode({ opcode: 1, payload, key: [9, 8, 7, 6] });
  const u = new FrameUnmasker({ maxPayload: 1 << 20 });
  const head = input.length - payload.length;
  let seen = 0;
  for (const c of chunks(input, next, 65_536)) {
    const parts = u.take(c);
    seen += c.length;
    assert.equal(u.unmasked, Math.max(0, seen - head), `after ${seen} bytes`);
    if (seen < input.length) assert.ok(parts.every((p) => p.length <= c.length));
    else assert.equal(parts.at(-1)!.length, payload.length, "the payload whole at its last byte");
  }
});

Deno.test("FrameUnmasker gathers nothing of a message over maxPayload: its chunks go on as they come", () => {
  const u = new FrameUnmasker({ maxPayload: 1 << 20 });
  // a header declaring 64 MiB, then payload chunks: ws refuses it from the header (1009)
  const head = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x04, 0, 0, 0, 1, 2, 3, 4]);
  assert.deepEqual(u.take(head).map((p) => p.length), [14]);
  const chunk = Buffer.alloc(65_536, 0x20);
  assert.deepEqual(u.take(chunk).map((p) => p.length), [65_536], "handed on, not held");
  // fragments: the second takes the message over the limit
  const v = new FrameUnmasker({ maxPayload: 100_000 });
  const first = encode({
    opcode: 1,
    fin: false,
    payload: new Uint8Array(70_000),
    key: [1, 2, 3, 4],
  });
  assert.deepEqual(v.take(Buffer.from(first)).map((p) => p.length), [
    first.length - 70_000,
    70_000,
  ]);
  const second = encode({ opcode: 0, payload: new Uint8Array(70_000), key: [1, 2, 3, 4] });
  assert.deepEqual(v.take(Buffer.from(second)).map((p) => p.length), [second.length]);
});

Deno.test("FrameUnmasker leaves an unmasked frame as it is (ws closes the socket with 1002)", () => {
  const f = encode({ opcode: 1, payload: new TextEncoder().encode('{"stream":"v"}'), key: null });
  const u = new FrameUnmasker({ maxPayload: 1 << 20 });
  const out = concat(u.take(Buffer.from(f)));
  assert.deepEqual(out, f);
  assert.equal(u.unmasked, 0);
});
