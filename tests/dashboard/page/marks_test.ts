import assert from "node:assert/strict";
import { alertMarks, anomalySpans } from "../../../src/dashboard/page/marks.ts";
import { storedAlert } from "../../_helpers.ts";

const a = (id: number, type: "opened" | "resolved" | "new_normal", ts: number, since = ts) =>
  storedAlert({ id: String(id).padStart(16, "0"), type, stream: "room", ts, time: ts, since });

Deno.test("anomalySpans() runs from an opening's `since` to the reading that ended it, in id order", () => {
  const alerts = [a(3, "opened", 500, 480), a(2, "resolved", 300), a(1, "opened", 100, 90)];
  assert.deepEqual(anomalySpans(alerts, "room"), [{ from: 90, to: 300 }, { from: 480, to: null }]);
});

Deno.test("anomalySpans(): new_normal ends a span; an end without its opening spans from its `since`", () => {
  assert.deepEqual(anomalySpans([a(1, "opened", 100), a(2, "new_normal", 250)], "room"), [
    { from: 100, to: 250 },
  ]);
  assert.deepEqual(anomalySpans([a(7, "resolved", 400, 200)], "room"), [{ from: 200, to: 400 }]);
  // two openings in a row: the first ends where the second begins
  assert.deepEqual(anomalySpans([a(1, "opened", 100), a(2, "opened", 200, 150)], "room"), [
    { from: 100, to: 200 },
    { from: 150, to: null },
  ]);
});

Deno.test("anomalySpans() and alertMarks() take only the given stream's alerts", () => {
  const other = storedAlert({ id: "0000000000000009", stream: "boiler", ts: 50, since: 50 });
  const alerts = [a(1, "opened", 100), other, a(2, "resolved", 300)];
  assert.deepEqual(anomalySpans(alerts, "room"), [{ from: 100, to: 300 }]);
  assert.deepEqual(alertMarks(alerts, "room"), [
    { id: "0000000000000001", ts: 100, type: "opened" },
    { id: "0000000000000002", ts: 300, type: "resolved" },
  ]);
  assert.deepEqual(alertMarks(alerts, "nowhere"), []);
});
