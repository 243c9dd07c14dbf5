/**
 * The JSON the page reads from the API: the fields it uses, as the API
 * sends them (times of forecasts and crossings as RFC 3339 strings, times
 * of streams and alerts as ms).
 */
export type { StoredAlert, TargetContext } from "../../domain/alert.ts";

/** `GET /v1/auth`: whether tokens are required, and what the page's token may do. */
export interface AuthJson {
  required: boolean;
  role: "read" | "write";
  /** The token's id (never the token), or null without tokens. */
  token: string | null;
}

/** A stream's state, as `GET /v1/streams` gives it. */
export type StreamState = "warming_up" | "learning" | "anomaly" | "frozen";

/** Accuracy at one horizon. */
export interface HorizonJson {
  horizon: number;
  scored: number;
  /** 1 - MSE / MSE of persistence (the last value), or null before any forecast was scored. */
  skill: number | null;
  /** Share of readings inside the interval, or null before any was scored. */
  coverage: number | null;
}

/** One stream of `GET /v1/streams`. */
export interface StreamJson {
  id: string;
  preset: string;
  columns: string[];
  targets: string[];
  periodMs: number | null;
  frozen: boolean;
  state: StreamState;
  readings: number;
  learnedReadings: number;
  lastReading: number | null;
  gaps: number;
  model: { horizons: number; experts: string[] };
  horizons: HorizonJson[];
}

/** A page of `GET /v1/streams`: `next` is the `after` of the next page, null on the last. */
export interface StreamPageJson {
  streams: StreamJson[];
  next: string | null;
}

/** A target's forecast path. */
export interface PathJson {
  point: number[];
  lower: (number | null)[];
  upper: (number | null)[];
}

/** `GET /v1/streams/{id}/forecast`. */
export interface ForecastJson {
  stream: string;
  origin: string;
  periodMs: number | null;
  timestamps: (string | null)[];
  /** The intervals' target coverage, e.g. 0.9. */
  coverage: number;
  targets: Record<string, PathJson>;
}

/** `GET /v1/streams/{id}/crossing`. */
export interface CrossingJson {
  stream: string;
  target: string;
  threshold: number;
  direction: "above" | "below";
  /** The newest value of the target. */
  value: number;
  origin: string;
  horizonEnd: string | null;
  crossing: string | null;
  earliest: string | null;
  latest: string | null;
  coverage: number;
}

/** One target's columns of `GET /v1/streams/{id}/recent`: the values and the forecasts made for them. */
export interface RecentTargetColumns {
  value: number[];
  point: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
}

/** `GET /v1/streams/{id}/recent`: a stream's last readings, oldest first. */
export interface RecentJson {
  stream: string;
  /** Readings kept per stream at most. */
  capacity: number;
  /** RFC 3339 times of the readings. */
  timestamps: string[];
  /** Per reading: a gap came before it (the lines break there). */
  gap: boolean[];
  targets: Record<string, RecentTargetColumns>;
}
