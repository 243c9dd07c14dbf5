import assert from "node:assert/strict";
import { calendarFeatures } from "../../src/stream/calendar.ts";

Deno.test("calendarFeatures() puts midnight next to 23:59 and Monday 00:00 at the week's start", () => {
  const out = new Float64Array(4);
  calendarFeatures(Date.UTC(2026, 0, 5, 0, 0), 0, out, 0); // Monday 00:00 UTC
  assert.deepEqual(Array.from(out, (v) => +v.toFixed(12)), [0, 1, 0, 1]);
  calendarFeatures(Date.UTC(2026, 0, 5, 6, 0), 0, out, 0); // 06:00
  assert.ok(Math.abs(out[0] - 1) < 1e-12 && Math.abs(out[1]) < 1e-12);
  calendarFeatures(Date.UTC(2026, 0, 4, 23, 0), 60, out, 0); // Sunday 23:00 UTC is Monday 00:00 at +01:00
  assert.ok(Math.abs(out[0]) < 1e-12 && Math.abs(out[1] - 1) < 1e-12 && Math.abs(out[2]) < 1e-12);
});
