import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { limitFrames } from "../../src/ingest/frame_limit.ts";

/** An MQTT packet of type byte `type` with `n` body bytes. */
function packet(type: number, n: number): Buffer {
  const len: number[] = [];
  let x = n;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    len.push(b);
  } while (x > 0);
  return Buffer.concat([Buffer.from([type, ...len]), Buffer.alloc(n, 7)]);
}

function readAll(r: Readable): number {
  let n = 0;
  for (let c = r.read(); c !== null; c = r.read()) n += (c as Buffer).length;
  return n;
}

Deno.test("limitFrames() passes packets up to the limit, split anywhere across reads", () => {
  const bytes = Buffer.concat([packet(0x30, 100), packet(0xc0, 0), packet(0x30, 200_000)]);
  const r = new Readable({ read() {} });
  const tooLarge: number[] = [];
  limitFrames(r, 200_000, (n) => tooLarge.push(n));
  let got = 0;
  for (let i = 0; i < bytes.length; i += 7) {
    r.push(bytes.subarray(i, i + 7));
    got += readAll(r);
  }
  assert.equal(got, bytes.length);
  assert.deepEqual(tooLarge, []);
});

Deno.test("limitFrames() stops at the header of a packet over the limit and says its size once", () => {
  const r = new Readable({ read() {} });
  const tooLarge: number[] = [];
  limitFrames(r, 1000, (n) => tooLarge.push(n));
  r.push(packet(0x30, 10));
  assert.equal(readAll(r), 12);
  // only the header of a 200 MB packet has come
  r.push(packet(0x30, 200_000_000).subarray(0, 5));
  assert.equal(r.read(), null);
  assert.deepEqual(tooLarge, [200_000_000]);
  r.push(Buffer.alloc(10));
  assert.equal(r.read(), null, "nothing more is handed on");
  assert.deepEqual(tooLarge, [200_000_000]);
});
