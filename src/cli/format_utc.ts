/**
 * Times in the clients' tables: UTC, as the logs and the API write them, so a
 * time read off a table can be looked up in either; to the minute, or to the
 * second when some time of the table needs it.
 */
import { NONE } from "../dashboard/page/format.ts";

/** True when some of `times` (ms) does not fall on a whole minute. */
export function needsSeconds(times: Iterable<number | null>): boolean {
  for (const t of times) if (t !== null && Number.isFinite(t) && t % 60_000 !== 0) return true;
  return false;
}

/** `ms` as "2025-06-02 14:05" (or "2025-06-02 14:05:30" with seconds), UTC; a dash for none. */
export function formatUtc(ms: number | null, seconds = false): string {
  if (ms === null || !Number.isFinite(ms)) return NONE;
  const iso = new Date(ms).toISOString(); // 2025-06-02T14:05:30.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)}`;
}
