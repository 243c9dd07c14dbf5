/**
 * What the service tells about a stream, as plain data: its summary, its
 * forecast and a threshold crossing. Times are ms since the epoch; a number
 * that is not known yet is NaN. How they look on the wire (RFC 3339 times,
 * null for NaN) is the API's business (src/api/stream_json.ts).
 */
import type { Forecast, StreamModel } from "../stream/stream.ts";
import { firstCrossing } from "./crossing.ts";
import type { StreamRecord } from "./service.ts";

/** The accuracy of a stream's forecasts at one horizon so far (NaN: nothing scored yet). */
export interface HorizonAccuracy {
  horizon: number;
  /** Forecasts scored at this horizon (per target). */
  scored: number;
  /** Skill of the blend: 1 - its MSE / the MSE of persistence. */
  skill: number;
  /** Skill of each expert and of the blend, by name. */
  skillByExpert: Record<string, number>;
  /** Share of readings inside the prediction interval. */
  coverage: number;
}

/** A stream's record, its model and how well it forecasts. */
export interface StreamSummary extends StreamRecord {
  state: StreamModel["state"];
  readings: number;
  learnedReadings: number;
  /** Time of the newest reading, ms (null before the first). */
  lastReading: number | null;
  gaps: number;
  /** Where periodMs comes from: the record, or the readings (null while unknown). */
  periodSource: "configured" | "estimated" | null;
  /** The median of the recent intervals between readings, ms (null before two readings). */
  observedPeriodMs: number | null;
  /** Parts of the model the divergence guard re-initialised so far (see src/stream/divergence_guard.ts). */
  recoveries: number;
  model: {
    hidden: number;
    layers: number;
    window: number;
    /** Forecast steps (Hmax). */
    horizons: number;
    experts: string[];
    bytes: number;
    updates: number;
  };
  horizons: HorizonAccuracy[];
}

/** A stream's forecast from its newest reading. */
export interface StreamForecast {
  stream: string;
  /** Time of the reading the forecast starts from, ms. */
  origin: number;
  /** The sampling period, ms (null while it is not known). */
  periodMs: number | null;
  /** Times of the steps, ms (NaN while the period is not known). */
  timestamps: number[];
  /** The share of readings the intervals are meant to hold. */
  coverage: number;
  targets: Forecast["targets"];
  model: {
    /** Readings the model learned from. */
    version: number;
    /** Time of the newest reading it learned from, ms (null before). */
    updatedAt: number | null;
    state: StreamModel["state"];
  };
}

/**
 * When a target's forecast is expected to cross a threshold. Times in ms;
 * null: not within the horizon; NaN: not known while the sampling period is not.
 */
export interface Crossing {
  stream: string;
  target: string;
  threshold: number;
  direction: "above" | "below";
  /** The newest reading of the target. */
  value: number;
  origin: number;
  /** Time of the last forecast step (NaN while the period is not known). */
  horizonEnd: number;
  /** By the point forecast. */
  crossing: number | null;
  /** By the interval bound nearest the threshold. */
  earliest: number | null;
  /** By the interval bound farthest from it. */
  latest: number | null;
  coverage: number;
}

/** A stream's summary: its record, its model and its accuracy by horizon. */
export function streamSummary(rec: StreamRecord, s: StreamModel): StreamSummary {
  return {
    ...rec,
    state: s.state,
    readings: s.readings,
    learnedReadings: s.learnedReadings,
    lastReading: Number.isFinite(s.lastTs) ? s.lastTs : null,
    periodMs: Number.isFinite(s.periodMs) ? s.periodMs : rec.periodMs,
    gaps: s.gaps,
    periodSource: s.period.source,
    observedPeriodMs: Number.isFinite(s.period.observedMs) ? s.period.observedMs : null,
    recoveries: s.recoveries,
    model: {
      hidden: s.preset.model.hidden,
      layers: s.preset.model.layers,
      window: s.preset.model.window,
      horizons: s.Hm,
      experts: s.expertNames,
      bytes: s.bytes,
      updates: s.trainer?.updates ?? 0,
    },
    horizons: s.stats().map((h) => ({
      horizon: h.horizon,
      scored: h.scored,
      skill: h.skill.blend,
      skillByExpert: { ...h.skill },
      coverage: h.coverage,
    })),
  };
}

/** The stream's forecast `f` with what it was made by. */
export function streamForecast(rec: StreamRecord, s: StreamModel, f: Forecast): StreamForecast {
  return {
    stream: rec.id,
    origin: f.origin,
    periodMs: Number.isFinite(s.periodMs) ? s.periodMs : null,
    timestamps: f.timestamps,
    coverage: s.preset.intervals.coverage,
    targets: f.targets,
    model: { version: s.learnedReadings, updatedAt: rec.updatedAt, state: s.state },
  };
}

/** When the forecast `f` of `target` (one of the stream's) crosses `x`. */
export function streamCrossing(
  s: StreamModel,
  f: Forecast,
  target: string,
  x: number,
  direction: "above" | "below",
): Crossing {
  const t = f.targets[target];
  const now = s.latest(target);
  // the interval's earliest: the bound nearest the threshold; its latest: the farthest
  const near = direction === "above" ? t.upper : t.lower;
  const far = direction === "above" ? t.lower : t.upper;
  return {
    stream: s.id,
    target,
    threshold: x,
    direction,
    value: now,
    origin: f.origin,
    horizonEnd: f.timestamps[f.timestamps.length - 1],
    crossing: firstCrossing(f.origin, now, f.timestamps, t.point, x, direction),
    earliest: firstCrossing(f.origin, now, f.timestamps, near, x, direction),
    latest: firstCrossing(f.origin, now, f.timestamps, far, x, direction),
    coverage: s.preset.intervals.coverage,
  };
}
