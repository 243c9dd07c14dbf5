/**
 * Calendar inputs: time of day and day of week as points on the unit circle,
 * so 23:59 sits next to 00:00 and Sunday next to Monday.
 */

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
// 1970-01-01 was a Thursday: shift so that the week starts on Monday 00:00
const MONDAY_OFFSET_MS = 3 * DAY_MS;

/** Number of calendar inputs {@link calendarFeatures} writes. */
export const CALENDAR_FEATURES = 4;

/** The time {@link calendarFeatures} passes to {@link calendarFeaturesAt}. */
const TS = new Float64Array(1);

/**
 * Writes [sin, cos] of the time of day and [sin, cos] of the day of week of
 * `ts` (ms since the epoch, shifted by `offsetMinutes` to local time) into
 * out at off.
 */
export function calendarFeatures(
  ts: number,
  offsetMinutes: number,
  out: Float64Array | Float32Array,
  off: number,
): void {
  TS[0] = ts;
  calendarFeaturesAt(TS, 0, offsetMinutes, out, off);
}

/**
 * {@link calendarFeatures} of the time at `src[at]` (which `out` at off may
 * be: it is read first). For the per-reading paths: a time passed as a number
 * to a call V8 does not inline (this one is too large for its mid tier,
 * Maglev) is a new heap object at each call; an element of a Float64Array is
 * not.
 */
export function calendarFeaturesAt(
  src: Float64Array,
  at: number,
  offsetMinutes: number,
  out: Float64Array | Float32Array,
  off: number,
): void {
  const local = src[at] + offsetMinutes * 60_000;
  const day = (((local % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS;
  const week = ((((local + MONDAY_OFFSET_MS) % WEEK_MS) + WEEK_MS) % WEEK_MS) / WEEK_MS;
  out[off] = Math.sin(2 * Math.PI * day);
  out[off + 1] = Math.cos(2 * Math.PI * day);
  out[off + 2] = Math.sin(2 * Math.PI * week);
  out[off + 3] = Math.cos(2 * Math.PI * week);
}
