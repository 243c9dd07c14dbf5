import assert from "node:assert/strict";
import { crc32, crc32Bytewise } from "../../src/stream/crc32.ts";

Deno.test("crc32() gives the standard check value for '123456789'", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

Deno.test("crc32() eight bytes a step equals crc32Bytewise() at every length and offset", () => {
  let x = 12345;
  const bytes = Uint8Array.from({ length: 300 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= bytes.length; end += 7) {
      const b = bytes.subarray(start, end);
      assert.equal(crc32(b), crc32Bytewise(b), `bytes ${start} to ${end}`);
    }
  }
  assert.equal(crc32Bytewise(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});
