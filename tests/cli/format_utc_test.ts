import assert from "node:assert/strict";
import { formatUtc, needsSeconds } from "../../src/cli/format_utc.ts";

Deno.test("formatUtc() writes UTC to the minute, or to the second; a dash for no time", () => {
  const t = Date.UTC(2025, 5, 2, 14, 5, 30);
  assert.equal(formatUtc(t), "2025-06-02 14:05");
  assert.equal(formatUtc(t, true), "2025-06-02 14:05:30");
  assert.equal(formatUtc(null), "–");
  assert.equal(formatUtc(NaN), "–");
});

Deno.test("needsSeconds() is true when some time is not on a whole minute", () => {
  assert.equal(needsSeconds([Date.UTC(2025, 0, 1), null, Date.UTC(2025, 0, 1, 0, 5)]), false);
  assert.equal(needsSeconds([Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 1, 0, 0, 1)]), true);
});
