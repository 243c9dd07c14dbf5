/**
 * What a stream is (its record, as stored in KV and shown by the API), how
 * one is asked for, and its last readings as the service gives them.
 */
import type { RecentReading } from "./recent_readings.ts";

/**
 * How far after now a stream's newest reading may lie in a checkpoint: as
 * far as the sources take a reading's time (a day, src/ingest/timestamp.ts).
 */
export const MAX_FUTURE_MS = 86_400_000;

/** What a stream is, as stored in KV and shown by the API. */
export interface StreamRecord {
  id: string;
  preset: string;
  columns: string[];
  targets: string[];
  /** Sampling period in ms, or null: the interval between the first two readings. */
  periodMs: number | null;
  frozen: boolean;
  createdAt: number;
  /** Time of the last reading the model learned from, ms (null before). */
  updatedAt: number | null;
}

/** How a stream may be created or changed through the API. */
export interface StreamSpec {
  preset?: string;
  columns?: string[];
  targets?: string[];
  periodMs?: number | null;
  frozen?: boolean;
}

/** A stream's last readings, as the service's `recent()` gives them. */
export interface StreamRecent {
  /** The stream's targets, in order. */
  targets: string[];
  /** Readings kept per stream at most (0: none are kept). */
  capacity: number;
  /** Oldest first. */
  readings: RecentReading[];
}
