import assert from "node:assert/strict";
import type { AlertEvent } from "../../src/domain/alert.ts";
import { alertMessage } from "../../src/stream/alert_event.ts";

const event = (type: AlertEvent["type"]): Omit<AlertEvent, "message"> => ({
  type,
  stream: "room",
  ts: Date.UTC(2026, 0, 5, 12),
  since: Date.UTC(2026, 0, 5, 10),
  targets: {
    temp: { value: 31.5, forecast: 21.25, lower: 20.5, upper: 22.0004 },
    hum: { value: 40, forecast: 41, lower: 39, upper: 43 },
  },
  score: 0.9,
  likelihood: 0.99999,
  percentile: 0.99871,
  unusual: { count: 6, of: 15, most: 3 },
  learning: type !== "opened",
});

Deno.test("alertMessage() says what opened an alert, from the first target, and what the density test saw", () => {
  assert.equal(
    alertMessage(event("opened"), "temp", false),
    "room: temp = 31.5 is outside the expected 20.500 .. 22.000 (forecast 21.250); more unusual than 99.9% of this stream's readings; learning paused",
  );
  assert.equal(
    alertMessage(event("opened"), "hum", true),
    "room: hum = 40 is outside the expected 39.000 .. 43.000 (forecast 41.000); more unusual than 99.9% of this stream's readings; 6 of the last 15 readings were unusual (never more than 3 before); learning paused",
  );
});

Deno.test("alertMessage() says since when a resolved alert is back, and a new normal has persisted", () => {
  assert.equal(
    alertMessage(event("resolved"), "temp", true),
    "room: back within the expected range since 2026-01-05T12:00:00.000Z; learning resumed",
  );
  assert.equal(
    alertMessage(event("new_normal"), "temp", false),
    "room: the change since 2026-01-05T10:00:00.000Z has persisted and is accepted as the new normal; learning resumed",
  );
});
