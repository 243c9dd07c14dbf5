/**
 * Streams as the API shows them: the zod schema of each response body (which
 * types the handlers and makes /openapi.json) and the function that turns the
 * service's data into it. Times become RFC 3339 strings in UTC and numbers
 * that are not known yet (NaN) become null.
 */
import { z } from "zod";
import type { Crossing, StreamForecast, StreamRecent, StreamSummary } from "../service/service.ts";
import { STREAM_ID_RULE, VALUE_NAME_RULE } from "../domain/reading.ts";

/** `ms` as an RFC 3339 time in UTC, or null when it is not a finite number. */
export function isoOrNull(ms: number | null): string | null {
  return ms !== null && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** `v`, or null when it is not a finite number (not scored yet). */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

const state = z.enum(["warming_up", "learning", "anomaly", "frozen"]).meta({
  description: "warming_up: not forecasting yet; learning: normal; anomaly: an alert is open; " +
    "frozen: forecasting without learning",
});
const isoTime = z.string().meta({ format: "date-time" });
const ratio = z.number().nullable().meta({ description: "null until something is scored" });

/** The body of `GET /v1/streams/{id}` and of `PUT`. */
export const streamSummarySchema = z.object({
  id: z.string().meta({ description: `The stream id (${STREAM_ID_RULE})` }),
  preset: z.string(),
  columns: z.array(z.string()).meta({ description: `Value names (${VALUE_NAME_RULE})` }),
  targets: z.array(z.string()).meta({ description: "The columns that are forecast" }),
  periodMs: z.number().nullable().meta({
    description: "Sampling period, ms: the configured one, else the median of the intervals " +
      "between readings (null until two readings have arrived)",
  }),
  frozen: z.boolean(),
  createdAt: z.number().meta({ description: "ms since the epoch" }),
  updatedAt: z.number().nullable().meta({
    description: "Time of the newest reading the model learned from, ms (null before)",
  }),
  state,
  readings: z.number().int(),
  learnedReadings: z.number().int(),
  lastReading: z.number().nullable().meta({ description: "Time of the newest reading, ms" }),
  gaps: z.number().int(),
  periodSource: z.enum(["configured", "estimated"]).nullable().meta({
    description: "configured: periodMs is the stream's; estimated: the median of the intervals " +
      "between its readings (null while unknown)",
  }),
  observedPeriodMs: z.number().nullable().meta({
    description: "The median of the recent intervals between readings, ms (null before two)",
  }),
  recoveries: z.number().int().meta({
    description: "Parts of the model re-initialised after their state went bad (NaN, overflow)",
  }),
  model: z.object({
    hidden: z.number().int(),
    layers: z.number().int(),
    window: z.number().int(),
    horizons: z.number().int(),
    experts: z.array(z.string()),
    bytes: z.number().int(),
    updates: z.number().int(),
  }),
  horizons: z.array(z.object({
    horizon: z.number().int(),
    scored: z.number().int(),
    skill: ratio,
    skillByExpert: z.record(z.string(), ratio),
    coverage: ratio,
  })),
}).meta({ id: "StreamSummary", description: "A stream, its model and its accuracy by horizon" });

/** The body of `GET /v1/streams`: a page of streams and the cursor of the next. */
export const streamListSchema = z.object({
  streams: z.array(streamSummarySchema),
  next: z.string().nullable().meta({
    description: "The id to give as `after` for the next page, or null: this is the last",
  }),
}).meta({ id: "StreamList" });

/** The body of `GET /v1/streams/{id}/forecast`. */
export const forecastSchema = z.object({
  stream: z.string(),
  origin: isoTime.meta({ description: "Time of the reading the forecast starts from" }),
  periodMs: z.number().nullable(),
  timestamps: z.array(isoTime.nullable()).meta({
    description: "Time of each step (null while the sampling period is not known)",
  }),
  coverage: z.number().meta({ description: "The share of readings the intervals aim to hold" }),
  targets: z.record(
    z.string(),
    z.object({
      point: z.array(z.number()),
      lower: z.array(z.number().nullable()),
      upper: z.array(z.number().nullable()),
      interval: z.array(z.enum(["calibrated", "not_calibrated", "recalibrating"])).meta({
        description: "Per step, why lower and upper are given or null: calibrated (given), " +
          "not_calibrated (no forecast of that horizon scored yet), recalibrating (the interval " +
          "state was reset after it went bad)",
      }),
    }),
  ).meta({ description: "Per target: the forecast and its interval (null until calibrated)" }),
  model: z.object({
    version: z.number().int().meta({ description: "Readings the model learned from" }),
    updatedAt: isoTime.nullable(),
    state,
  }),
}).meta({ id: "Forecast" });

/** The body of `GET /v1/streams/{id}/crossing`. */
export const crossingSchema = z.object({
  stream: z.string(),
  target: z.string(),
  threshold: z.number(),
  direction: z.enum(["above", "below"]),
  value: z.number().meta({ description: "The newest reading of the target" }),
  origin: isoTime,
  horizonEnd: isoTime.nullable(),
  crossing: isoTime.nullable().meta({
    description: "When the forecast reaches the threshold (null: not within the horizon)",
  }),
  earliest: isoTime.nullable().meta({ description: "By the interval bound nearest it" }),
  latest: isoTime.nullable().meta({ description: "By the interval bound farthest from it" }),
  coverage: z.number(),
}).meta({ id: "Crossing" });

/** A stream summary as JSON. */
export function streamSummaryJson(s: StreamSummary): z.infer<typeof streamSummarySchema> {
  return {
    ...s,
    horizons: s.horizons.map((h) => ({
      horizon: h.horizon,
      scored: h.scored,
      skill: finiteOrNull(h.skill),
      skillByExpert: Object.fromEntries(
        Object.entries(h.skillByExpert).map(([k, v]) => [k, finiteOrNull(v)]),
      ),
      coverage: finiteOrNull(h.coverage),
    })),
  };
}

/** A forecast as JSON. */
export function forecastJson(f: StreamForecast): z.infer<typeof forecastSchema> {
  return {
    ...f,
    origin: new Date(f.origin).toISOString(),
    timestamps: f.timestamps.map(isoOrNull),
    model: { ...f.model, updatedAt: isoOrNull(f.model.updatedAt) },
  };
}

/** A crossing as JSON. */
export function crossingJson(c: Crossing): z.infer<typeof crossingSchema> {
  return {
    ...c,
    origin: new Date(c.origin).toISOString(),
    horizonEnd: isoOrNull(c.horizonEnd),
    crossing: isoOrNull(c.crossing),
    earliest: isoOrNull(c.earliest),
    latest: isoOrNull(c.latest),
  };
}

/** The body of `GET /v1/streams/{id}/recent`: the kept readings in columns, like a forecast's. */
export const recentSchema = z.object({
  stream: z.string(),
  capacity: z.number().int().meta({ description: "Readings kept per stream at most (0: none)" }),
  timestamps: z.array(isoTime).meta({ description: "Time of each reading, oldest first" }),
  gap: z.array(z.boolean()).meta({
    description: "Per reading: a gap longer than the preset allows came before it",
  }),
  targets: z.record(
    z.string(),
    z.object({
      value: z.array(z.number()),
      point: z.array(z.number().nullable()).meta({
        description: "The one-step forecast made for each reading (null: none was made)",
      }),
      lower: z.array(z.number().nullable()),
      upper: z.array(z.number().nullable()),
    }),
  ),
}).meta({ id: "RecentReadings", description: "A stream's last readings with their forecasts" });

/** `readings` of `stream` (targets in order) as the body of `GET /v1/streams/{id}/recent`. */
export function recentJson(
  stream: string,
  recent: StreamRecent,
): z.infer<typeof recentSchema> {
  const { targets, readings, capacity } = recent;
  const columns: z.infer<typeof recentSchema>["targets"] = {};
  for (const t of targets) {
    columns[t] = {
      value: readings.map((r) => r.targets[t].value),
      point: readings.map((r) => r.targets[t].point),
      lower: readings.map((r) => r.targets[t].lower),
      upper: readings.map((r) => r.targets[t].upper),
    };
  }
  return {
    stream,
    capacity,
    timestamps: readings.map((r) => new Date(r.ts).toISOString()),
    gap: readings.map((r) => r.gap),
    targets: columns,
  };
}
