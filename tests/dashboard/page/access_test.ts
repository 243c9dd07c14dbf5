import assert from "node:assert/strict";
import { describeAccess, READ_ONLY_NOTICE } from "../../../src/dashboard/page/access.ts";

Deno.test("describeAccess() says when a token can read but not write, and nothing without tokens", () => {
  assert.deepEqual(describeAccess(null), { badge: null, canWrite: true, notice: null });
  assert.deepEqual(describeAccess({ required: false, role: "write", token: null }), {
    badge: null,
    canWrite: true,
    notice: null,
  });
  assert.deepEqual(describeAccess({ required: true, role: "write", token: "sha256:1" }), {
    badge: "write token",
    canWrite: true,
    notice: null,
  });
  assert.deepEqual(describeAccess({ required: true, role: "read", token: "sha256:2" }), {
    badge: "read-only token",
    canWrite: false,
    notice: READ_ONLY_NOTICE,
  });
  assert.match(READ_ONLY_NOTICE, /read but not write.*write role/);
});
