import assert from "node:assert/strict";
import type { CrossingJson } from "../../../src/dashboard/page/api_types.ts";
import { crossingInput, describeCrossing } from "../../../src/dashboard/page/crossing.ts";

Deno.test("crossingInput() asks about 'above' for a threshold over the newest value, else 'below'", () => {
  assert.deepEqual(crossingInput("25", 22.4), { ok: true, threshold: 25, direction: "above" });
  assert.deepEqual(crossingInput(" 20.5 ", 22.4), {
    ok: true,
    threshold: 20.5,
    direction: "below",
  });
  assert.deepEqual(crossingInput("-3e1", 0), { ok: true, threshold: -30, direction: "below" });
  // a comma as decimal mark, and no value yet
  assert.deepEqual(crossingInput("21,5", null), { ok: true, threshold: 21.5, direction: "above" });
});

Deno.test("crossingInput() refuses what is not a number, naming it", () => {
  assert.deepEqual(crossingInput("", 1), { ok: false, error: "Type a threshold" });
  assert.deepEqual(crossingInput("25°C", 1), {
    ok: false,
    error: 'The threshold must be a number: current value is "25°C"',
  });
  assert.equal(crossingInput("Infinity", 1).ok, false);
  assert.equal(crossingInput("0x10", 1).ok, false);
});

const base: CrossingJson = {
  stream: "room",
  target: "temperature",
  threshold: 25,
  direction: "above",
  value: 22.4,
  origin: "2025-06-02T12:00:00.000Z",
  horizonEnd: "2025-06-02T14:00:00.000Z",
  crossing: "2025-06-02T13:20:00.000Z",
  earliest: "2025-06-02T12:50:00.000Z",
  latest: "2025-06-02T13:45:00.000Z",
  coverage: 0.9,
};
const utc = { timeZone: "UTC" };

Deno.test("describeCrossing() gives the time, the wait from the latest reading and the interval", () => {
  assert.equal(
    describeCrossing(base, utc),
    "Expected to go above 25 at 2025-06-02 13:20, in 1 h 20 min after the latest reading " +
      "(90% interval: 2025-06-02 12:50 to 2025-06-02 13:45)",
  );
  assert.equal(
    describeCrossing({ ...base, latest: null }, utc),
    "Expected to go above 25 at 2025-06-02 13:20, in 1 h 20 min after the latest reading " +
      "(90% interval: 2025-06-02 12:50 to after the forecast's end)",
  );
});

Deno.test("describeCrossing() says when there is no crossing within the horizon, or one already", () => {
  assert.equal(
    describeCrossing({ ...base, crossing: null, earliest: null, latest: null }, utc),
    "Not expected to go above 25 before 2025-06-02 14:00 (the end of the forecast); now 22.4",
  );
  assert.equal(
    describeCrossing({ ...base, direction: "below", threshold: 23, crossing: base.origin }, utc),
    "Already below 23: now 22.4",
  );
});
