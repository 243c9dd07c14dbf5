/**
 * The body of `GET /v1/streams/{id}/recent`: the kept readings of a stream
 * in columns, like a forecast's (`timestamps` and per target arrays), so the
 * page draws both the same way.
 *
 *   {"stream":"demo","capacity":288,"timestamps":["2025-06-02T00:05:00.000Z",...],
 *    "missed":[0,...],"targets":{"temperature":{"value":[21.3,...],"point":[21.2,...],
 *    "lower":[20.9,...],"upper":[21.5,...]}}}
 */
import type { RecentReading } from "./recent_readings.ts";

/** One target's columns: the readings' values and the forecasts made for them (null: none seen). */
export interface RecentTargetColumns {
  value: number[];
  point: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
}

/** The recent readings of a stream, oldest first. */
export interface RecentJson {
  stream: string;
  /** Readings kept per stream at most. */
  capacity: number;
  /** RFC 3339 times of the readings. */
  timestamps: string[];
  /** Per reading: readings of the stream before it (since the previous one) that were not kept. */
  missed: number[];
  targets: Record<string, RecentTargetColumns>;
}

/** `readings` of `stream` (targets in order) as the response body. */
export function recentJson(
  stream: string,
  targets: readonly string[],
  readings: readonly RecentReading[],
  capacity: number,
): RecentJson {
  const columns: Record<string, RecentTargetColumns> = {};
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
    missed: readings.map((r) => r.missed),
    targets: columns,
  };
}
