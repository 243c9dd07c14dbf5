/**
 * Reading timestamps: what a message may say, and the range accepted.
 *
 * A `ts` is one of
 *
 * - a number of milliseconds since 1970-01-01T00:00:00Z, or of seconds when
 *   it is below 1e11 (1e11 ms is March 1973, 1e11 s the year 5138), so both
 *   `1735689600` and `1735689600000` are 2025-01-01T00:00:00Z; fractions allowed
 * - the same number as a string (`"1735689600"`)
 * - an RFC 3339 time with a zone: `2025-01-01T00:00:00Z`, `2025-01-01T01:00:00.5+01:00`
 *   (a time without a zone is rejected: it would depend on the gateway's zone)
 *
 * A missing `ts` (or `null`) is the time the message was received. The result
 * is rounded to whole milliseconds and must lie from 2000-01-01 (a device
 * whose clock was never set reports 1970) to `maxFutureMs` after receipt.
 */
import { DECIMAL } from "../domain/reading.ts";
import { IngestError } from "./ingest_error.ts";

/** The earliest timestamp accepted: 2000-01-01T00:00:00Z. */
export const MIN_TS = Date.UTC(2000, 0, 1);
/** Numbers below this are seconds, at or above it milliseconds. */
export const SECONDS_BELOW = 1e11;
/** Default of how far after receipt a timestamp may lie: one day. */
export const DEFAULT_MAX_FUTURE_MS = 86_400_000;

/** The accepted forms, as stated in error messages. */
export const TS_RULE = "must be milliseconds or seconds since 1970 or an RFC 3339 time with a zone";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/;

/** Milliseconds since the epoch that `raw` names (before the range check), or null. */
export function timestampMs(raw: unknown): number | null {
  let n: number;
  if (typeof raw === "number") n = raw;
  else if (typeof raw === "string" && DECIMAL.test(raw.trim())) n = Number(raw.trim());
  else if (typeof raw === "string" && RFC3339.test(raw.trim())) {
    const ms = Date.parse(raw.trim().replace(" ", "T"));
    return Number.isFinite(ms) ? ms : null;
  } else return null;
  if (!Number.isFinite(n)) return null;
  return Math.abs(n) < SECONDS_BELOW ? n * 1000 : n;
}

/** Rounds `ms` and checks it is from MIN_TS to receivedAt + maxFutureMs; throws bad_ts naming `field`. */
export function checkTimestamp(
  ms: number,
  raw: unknown,
  field: string,
  receivedAt: number,
  maxFutureMs: number,
): number {
  const t = Math.round(ms);
  if (t >= MIN_TS && t <= receivedAt + maxFutureMs) return t;
  const read = Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t);
  const future = maxFutureMs % 3_600_000 === 0
    ? `${maxFutureMs / 3_600_000} h`
    : `${maxFutureMs / 1000} s`;
  throw new IngestError(
    "bad_ts",
    field,
    `must be a time from 2000-01-01T00:00:00Z to ${future} after receipt ` +
      `(${new Date(receivedAt).toISOString()}); read as ${read}`,
    raw,
  );
}
