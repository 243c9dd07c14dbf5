import assert from "node:assert/strict";
import { crc32 } from "../../src/stream/crc32.ts";

Deno.test("crc32() gives the standard check value for '123456789'", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});
