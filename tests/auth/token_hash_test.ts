import assert from "node:assert/strict";
import {
  createToken,
  hashToken,
  TOKEN_HASH_PATTERN,
  TOKEN_PREFIX,
  tokenDigest,
} from "../../src/auth/token_hash.ts";

Deno.test("createToken() makes fcd_ and 43 base64url characters, different each time", () => {
  const a = createToken(), b = createToken();
  assert.match(a, /^fcd_[A-Za-z0-9_-]{43}$/);
  assert.ok(a.startsWith(TOKEN_PREFIX));
  assert.notEqual(a, b);
});

Deno.test("hashToken() is sha256:<hex> of the token's UTF-8 bytes (FIPS 180-2 vector for abc)", () => {
  assert.equal(
    hashToken("abc"),
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.match(hashToken(createToken()), TOKEN_HASH_PATTERN);
  assert.equal(tokenDigest("abc").length, 32);
  assert.equal(tokenDigest("abc")[0], 0xba);
});
