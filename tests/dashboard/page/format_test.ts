import assert from "node:assert/strict";
import {
  formatCoverage,
  formatDuration,
  formatPercent,
  formatSkill,
  formatTime,
  formatValue,
  NONE,
  parseTime,
  stateLabel,
} from "../../../src/dashboard/page/format.ts";

Deno.test("stateLabel() writes each stream state in words and leaves an unknown one as it is", () => {
  assert.deepEqual(
    ["warming_up", "learning", "anomaly", "frozen", "rebuilding"].map(stateLabel),
    ["warming up", "learning", "anomaly", "frozen", "rebuilding"],
  );
});

Deno.test("formatValue() keeps up to the given decimals and drops trailing zeros", () => {
  assert.equal(formatValue(21.5), "21.5");
  assert.equal(formatValue(22.4523), "22.452");
  assert.equal(formatValue(3), "3");
  assert.equal(formatValue(0.9065, 2), "0.91");
  assert.equal(formatValue(-0.0001), "0");
  assert.equal(formatValue(null), NONE);
  assert.equal(formatValue(NaN), NONE);
});

Deno.test("formatSkill() signs the percentage; formatPercent() and formatCoverage() round it", () => {
  assert.equal(formatSkill(0.3382), "+34%");
  assert.equal(formatSkill(-0.054), "-5%");
  assert.equal(formatSkill(0.001), "0%");
  assert.equal(formatSkill(null), NONE);
  assert.equal(formatPercent(0.9064), "91%");
  assert.equal(formatCoverage(0.8812, 0.9), "88% of 90%");
  assert.equal(formatCoverage(null, 0.9), NONE);
});

Deno.test("formatDuration() uses the two largest units", () => {
  assert.equal(formatDuration(45_000), "45 s");
  assert.equal(formatDuration(12 * 60_000), "12 min");
  assert.equal(formatDuration(80 * 60_000), "1 h 20 min");
  assert.equal(formatDuration(2 * 3_600_000), "2 h");
  assert.equal(formatDuration(51 * 3_600_000), "2 d 3 h");
  assert.equal(formatDuration(-90_000), "-2 min");
  assert.equal(formatDuration(NaN), NONE);
});

Deno.test("formatTime() writes a time in the given zone; parseTime() reads RFC 3339", () => {
  const ms = Date.UTC(2025, 5, 2, 14, 5, 30);
  assert.equal(formatTime(ms, { timeZone: "UTC" }), "2025-06-02 14:05");
  assert.equal(formatTime(ms, { timeZone: "Asia/Tokyo" }), "2025-06-02 23:05");
  assert.equal(formatTime(Date.UTC(2025, 0, 1, 0, 0), { timeZone: "UTC" }), "2025-01-01 00:00");
  assert.equal(formatTime(null), NONE);
  assert.equal(parseTime("2025-06-02T14:05:30.000Z"), ms);
  assert.equal(parseTime(null), null);
  assert.equal(parseTime("not a time"), null);
});
