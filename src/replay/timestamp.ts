/**
 * Timestamps of recorded data, as CSV files write them.
 *
 * Accepted, after trimming:
 *
 * - `YYYY-MM-DD HH:MM:SS` (ETT, NAB) and the ISO 8601 forms `YYYY-MM-DDTHH:MM`,
 *   `...:SS`, `...:SS.fff`, with an optional zone `Z`, `+HH:MM`, `+HHMM` or
 *   `+HH`. **A time without a zone is UTC**: recorded files carry no zone and
 *   the result must not depend on the machine replaying them.
 * - a date alone, `YYYY-MM-DD`: midnight UTC.
 * - a number: seconds since 1970-01-01T00:00:00Z when its magnitude is below
 *   1e11, milliseconds otherwise (the rule the ingest adapters use).
 *
 * Impossible dates (`2016-02-30`, hour 24) are rejected rather than rolled
 * over. The result is whole milliseconds since the epoch.
 */

/** The accepted forms, as stated in error messages. */
export const TIMESTAMP_RULE =
  "must be a date and time (YYYY-MM-DD HH:MM:SS, UTC unless a zone is given), an ISO 8601 time, or seconds or milliseconds since 1970";

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Numbers below this magnitude are seconds, at or above it milliseconds. */
export const SECONDS_BELOW = 1e11;

/**
 * Milliseconds since the epoch that `text` names, or NaN when it names no
 * valid time.
 */
export function parseTimestamp(text: string): number {
  const s = text.trim();
  const m = DATE_TIME.exec(s);
  if (m) {
    const [, y, mo, d, hh, mi, ss, frac, zone] = m;
    const year = Number(y), month = Number(mo), day = Number(d);
    const hour = hh === undefined ? 0 : Number(hh);
    const minute = mi === undefined ? 0 : Number(mi);
    const second = ss === undefined ? 0 : Number(ss);
    const ms = frac === undefined ? 0 : Number(`0.${frac}`) * 1000;
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
    const t = Date.UTC(year, month - 1, day, hour, minute, second);
    // Date.UTC rolls 2016-02-30 over to March: reject it instead
    if (new Date(t).getUTCDate() !== day) return NaN;
    return Math.round(t + ms - zoneOffsetMs(zone));
  }
  if (NUMBER.test(s)) {
    const n = Number(s);
    if (!Number.isFinite(n)) return NaN;
    return Math.round(Math.abs(n) < SECONDS_BELOW ? n * 1000 : n);
  }
  return NaN;
}

/** Offset of a zone designator from UTC in ms (`+01:00` is 3,600,000); 0 for none or Z. */
function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}
