import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { readWholeBuffer } from "../../src/ingest/read_whole_buffer.ts";

function twoChunks(): Readable {
  const r = new Readable({ read() {} });
  r.push(Buffer.alloc(100, 1));
  r.push(Buffer.alloc(50, 2));
  return r;
}

Deno.test("Deno's Readable.read() without a size still returns one chunk (when this fails, remove read_whole_buffer.ts)", () => {
  const r = twoChunks();
  const got = r.read() as Buffer;
  if (got.length === 150) {
    throw new Error(
      `Deno ${Deno.version.deno} returns all 150 buffered bytes from read(): the work-around ` +
        "in src/ingest/read_whole_buffer.ts is no longer needed",
    );
  }
  assert.equal(got.length, 100);
  assert.equal(r.readableLength, 50);
});

Deno.test("readWholeBuffer() makes read() return every buffered chunk, in order", () => {
  const r = readWholeBuffer(twoChunks());
  const got = r.read() as Buffer;
  assert.equal(got.length, 150);
  assert.deepEqual([...new Set(got.subarray(0, 100))], [1]);
  assert.deepEqual([...new Set(got.subarray(100))], [2]);
  assert.equal(r.readableLength, 0);
  assert.equal(r.read(), null, "nothing left");
});

Deno.test("readWholeBuffer() leaves read(size) alone", () => {
  const r = readWholeBuffer(twoChunks());
  assert.equal((r.read(120) as Buffer).length, 120);
  assert.equal(r.readableLength, 30);
});
