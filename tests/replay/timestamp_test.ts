import assert from "node:assert/strict";
import { parseTimestamp } from "../../src/replay/timestamp.ts";

Deno.test("parseTimestamp() reads ETT's 'YYYY-MM-DD HH:MM:SS' as UTC", () => {
  assert.equal(parseTimestamp("2016-07-01 00:00:00"), Date.UTC(2016, 6, 1));
  assert.equal(parseTimestamp("2016-07-01 23:45:00"), Date.UTC(2016, 6, 1, 23, 45));
  assert.equal(parseTimestamp("  2018-06-26 19:00:00 "), Date.UTC(2018, 5, 26, 19));
});

Deno.test("parseTimestamp() reads ISO 8601 with and without a zone, fractions and short forms", () => {
  const t = Date.UTC(2025, 0, 1, 12, 30, 15);
  assert.equal(parseTimestamp("2025-01-01T12:30:15Z"), t);
  assert.equal(parseTimestamp("2025-01-01T12:30:15"), t, "no zone is UTC");
  assert.equal(parseTimestamp("2025-01-01T13:30:15+01:00"), t);
  assert.equal(parseTimestamp("2025-01-01T13:30:15+0100"), t);
  assert.equal(parseTimestamp("2025-01-01T13:30:15+01"), t);
  assert.equal(parseTimestamp("2025-01-01T07:00:15-05:30"), t);
  assert.equal(parseTimestamp("2025-01-01T12:30:15.250Z"), t + 250);
  assert.equal(parseTimestamp("2025-01-01 12:30"), t - 15_000);
  assert.equal(parseTimestamp("2025-01-01"), Date.UTC(2025, 0, 1));
  assert.equal(parseTimestamp("2016-02-29 00:00:00"), Date.UTC(2016, 1, 29), "a leap day");
});

Deno.test("parseTimestamp() reads epoch seconds below 1e11 and milliseconds above", () => {
  assert.equal(parseTimestamp("1735689600"), Date.UTC(2025, 0, 1));
  assert.equal(parseTimestamp("1735689600000"), Date.UTC(2025, 0, 1));
  assert.equal(parseTimestamp("1735689600.5"), Date.UTC(2025, 0, 1) + 500);
});

Deno.test("parseTimestamp() returns NaN for impossible dates and other text", () => {
  for (
    const s of [
      "2016-02-30 00:00:00",
      "2015-02-29",
      "2016-13-01",
      "2016-07-01 24:00:00",
      "2016-07-01 12:60:00",
      "2016-07-01 12:00:61",
      "01/07/2016 00:00",
      "yesterday",
      "",
      "NaN",
      "Infinity",
    ]
  ) {
    assert.ok(Number.isNaN(parseTimestamp(s)), `"${s}" must not parse`);
  }
});
