import assert from "node:assert/strict";
import {
  crossingJson,
  crossingSchema,
  forecastJson,
  forecastSchema,
  streamSummaryJson,
  streamSummarySchema,
} from "../../src/api/stream_json.ts";
import type { Crossing, StreamForecast, StreamSummary } from "../../src/service/service.ts";

const T = Date.UTC(2025, 5, 1, 12);

Deno.test("forecastJson() writes times as RFC 3339 in UTC and unknown ones as null", () => {
  const f: StreamForecast = {
    stream: "s",
    origin: T,
    periodMs: null,
    timestamps: [T + 60_000, NaN],
    coverage: 0.9,
    targets: {
      v: {
        point: [1, 2],
        lower: [0.5, null],
        upper: [1.5, null],
        interval: ["calibrated", "recalibrating"],
      },
    },
    model: { version: 3, updatedAt: null, state: "learning" },
  };
  const json = forecastJson(f);
  assert.deepEqual(json, {
    ...f,
    origin: "2025-06-01T12:00:00.000Z",
    timestamps: ["2025-06-01T12:01:00.000Z", null],
    model: { version: 3, updatedAt: null, state: "learning" },
  });
  assert.equal(
    forecastJson({ ...f, model: { ...f.model, updatedAt: T } }).model.updatedAt,
    json.origin,
  );
  assert.ok(forecastSchema.safeParse(json).success);
  const odd = { ...json, targets: { v: { ...json.targets.v, interval: ["nan", "calibrated"] } } };
  assert.equal(forecastSchema.safeParse(odd).success, false, "a status the schema names");
});

Deno.test("crossingJson() writes each time as RFC 3339, null when not within the horizon or not known", () => {
  const c: Crossing = {
    stream: "s",
    target: "v",
    threshold: 5,
    direction: "above",
    value: 4,
    origin: T,
    horizonEnd: NaN,
    crossing: T + 90_000,
    earliest: null,
    latest: NaN,
    coverage: 0.9,
  };
  const json = crossingJson(c);
  assert.deepEqual(json, {
    ...c,
    origin: "2025-06-01T12:00:00.000Z",
    horizonEnd: null,
    crossing: "2025-06-01T12:01:30.000Z",
    earliest: null,
    latest: null,
  });
  assert.ok(crossingSchema.safeParse(json).success);
});

Deno.test("streamSummaryJson() shows accuracy not scored yet (NaN) as null and keeps the rest", () => {
  const s: StreamSummary = {
    id: "s",
    preset: "default",
    columns: ["v"],
    targets: ["v"],
    periodMs: 60_000,
    frozen: false,
    createdAt: T,
    updatedAt: T,
    state: "learning",
    readings: 10,
    learnedReadings: 9,
    lastReading: T,
    gaps: 0,
    periodSource: "estimated",
    observedPeriodMs: 60_000,
    recoveries: 1,
    model: { hidden: 8, layers: 1, window: 4, horizons: 2, experts: ["a"], bytes: 1, updates: 2 },
    horizons: [
      { horizon: 1, scored: 4, skill: 0.5, skillByExpert: { a: 0.25, blend: 0.5 }, coverage: 0.75 },
      { horizon: 2, scored: 0, skill: NaN, skillByExpert: { a: NaN, blend: NaN }, coverage: NaN },
    ],
  };
  const json = streamSummaryJson(s);
  assert.deepEqual(json, {
    ...s,
    horizons: [
      s.horizons[0],
      {
        horizon: 2,
        scored: 0,
        skill: null,
        skillByExpert: { a: null, blend: null },
        coverage: null,
      },
    ],
  });
  assert.ok(streamSummarySchema.safeParse(json).success);
});
