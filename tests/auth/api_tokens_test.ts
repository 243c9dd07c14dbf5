import assert from "node:assert/strict";
import {
  ApiTokens,
  parseTokenSpec,
  roleAllows,
  tokenSpecProblem,
} from "../../src/auth/api_tokens.ts";
import { createToken, hashToken } from "../../src/auth/token_hash.ts";

Deno.test("ApiTokens.authenticate() finds the token whose hash is configured, and no other", () => {
  const reader = createToken(), writer = createToken();
  const tokens = ApiTokens.fromSpecs([`read:${hashToken(reader)}`, `write:${hashToken(writer)}`]);
  assert.equal(tokens.authenticate(reader)?.role, "read");
  assert.equal(tokens.authenticate(writer)?.role, "write");
  assert.equal(tokens.authenticate(createToken()), null);
  assert.equal(tokens.authenticate(""), null);
  assert.equal(tokens.authenticate(hashToken(reader)), null, "the hash is not the token");
  assert.equal(tokens.authenticate(reader.slice(0, -1)), null);
  assert.equal(tokens.enabled, true);
  assert.equal(tokens.describe(), "1 write, 1 read");
  assert.equal(new ApiTokens([]).enabled, false);
  assert.equal(new ApiTokens([]).authenticate(reader), null);
});

Deno.test("an API token's id names its hash's first 8 digits and not the token", () => {
  const t = parseTokenSpec(`write:${hashToken("abc")}`);
  assert.deepEqual(t, {
    role: "write",
    hash: "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    id: "sha256:ba7816bf",
  });
});

Deno.test("a configured token must be ROLE:HASH with a known role and a sha256 hash", () => {
  const h = hashToken("abc");
  assert.equal(tokenSpecProblem(`read:${h}`), null);
  assert.match(tokenSpecProblem(`admin:${h}`)!, /the role must be read or write$/);
  assert.match(tokenSpecProblem(h)!, /the role must be read or write$/);
  assert.match(tokenSpecProblem("read:sha256:abc")!, /the hash must be sha256:<64 hex digits>/);
  assert.match(tokenSpecProblem(`read:${h.toUpperCase()}`)!, /the hash must be/);
  assert.match(tokenSpecProblem("write:fcd_secret")!, /the hash must be/);
  assert.throws(
    () => parseTokenSpec("write:fcd_secret"),
    (e: Error) =>
      e instanceof RangeError && e.message.startsWith("Cannot read an API token: it must be") &&
      !e.message.includes("fcd_secret"),
  );
});

Deno.test("roleAllows(): write includes read, read does not include write", () => {
  assert.equal(roleAllows("write", "read"), true);
  assert.equal(roleAllows("write", "write"), true);
  assert.equal(roleAllows("read", "read"), true);
  assert.equal(roleAllows("read", "write"), false);
});
