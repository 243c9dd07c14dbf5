/**
 * A reading, and the rules for the names every layer checks: stream ids,
 * value names and preset names.
 *
 * Stream ids and value names share one alphabet, `[A-Za-z0-9_.:-]`, 1-128
 * characters, not made only of dots: both end up as MQTT topic levels (alerts
 * go to `<prefix>/<stream>/<value>`), URL path segments and Deno KV key parts,
 * so neither may hold "/", spaces or wildcards, nor be `.` or `..`, which
 * clients resolve away in a URL path (`/v1/streams/..` is `/v1/`).
 * `__proto__` is not a value name (values are kept in a plain object). A
 * daemon may allow shorter names than 128 characters (`maxNameLength`); the
 * alphabet is fixed.
 *
 * How many values one stream may have is limited too ({@link valueCountProblem}):
 * the linear expert keeps a d×d matrix per horizon with d about 4 times the
 * values, so 300 values make a model of hundreds of MB.
 */

/** One moment of one stream: every value measured at `ts`. */
export interface Reading {
  /** Stream id, see STREAM_ID_PATTERN. */
  stream: string;
  /** Milliseconds since 1970-01-01T00:00:00Z (an integer). */
  ts: number;
  /** Value name -> finite number; at least one entry. */
  values: Record<string, number>;
}

/** Stream ids: 1-128 of A-Z a-z 0-9 _ . : -, not only dots */
export const STREAM_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9_.:-]{1,128}$/;
/** Value names: the same alphabet and length as stream ids. */
export const VALUE_NAME_PATTERN = /^(?!\.+$)[A-Za-z0-9_.:-]{1,128}$/;

/** The longest stream id or value name any daemon takes. */
export const MAX_NAME_LENGTH = 128;

/** The constraint stated in error messages about stream ids. */
export const STREAM_ID_RULE = "1-128 characters of A-Z a-z 0-9 _ . : -, not only dots";
/** The constraint stated in error messages about value names. */
export const VALUE_NAME_RULE =
  "1-128 characters of A-Z a-z 0-9 _ . : -, not only dots (not __proto__)";

/** True when `s` is a valid stream id. */
export function isStreamId(s: unknown): s is string {
  return typeof s === "string" && STREAM_ID_PATTERN.test(s);
}

/** True when `s` is a valid value name. */
export function isValueName(s: unknown): s is string {
  return typeof s === "string" && VALUE_NAME_PATTERN.test(s) && s !== "__proto__";
}

/**
 * What is wrong with a stream id or value name on a daemon that allows names
 * of at most `maxLength` characters (1 … {@link MAX_NAME_LENGTH}), as the
 * constraint of an error message; null when nothing is. (A value name must
 * also not be `__proto__`: {@link isValueName}.)
 */
export function nameProblem(name: string, maxLength: number): string | null {
  if (!STREAM_ID_PATTERN.test(name)) return `must be ${STREAM_ID_RULE}`;
  if (name.length > maxLength) return `must be at most ${maxLength} characters long`;
  return null;
}

/** Values per stream a daemon allows by default (`maxValuesPerStream`). */
export const MAX_VALUES_DEFAULT = 64;
/** The most values per stream any daemon allows (the API's PUT checks it before the daemon's own). */
export const MAX_VALUES_LIMIT = 256;

/**
 * What is wrong with a stream of `count` values on a daemon that allows at
 * most `max`, as the constraint of an error message; null when nothing is.
 * Readings that would create such a stream and `PUT /v1/streams/{id}` both
 * ask this.
 */
export function valueCountProblem(count: number, max: number): string | null {
  if (count < 1) return "must hold at least 1 value";
  if (count > max) return `must hold at most ${max} values`;
  return null;
}

/** Preset names (models/NAME.json): 1-64 letters, digits, - and _. */
export const PRESET_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The constraint stated in error messages about preset names. */
export const PRESET_NAME_RULE = "a preset name of 1-64 letters, digits, - and _";

/** A decimal number as devices print them: no hex, no Infinity, no NaN, no empty string. */
export const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** `raw` as a finite number (a JSON number, or a decimal string like "21.5"), or null. */
export function finiteNumber(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : null;
  if (typeof raw === "string") {
    const s = raw.trim();
    if (!DECIMAL.test(s)) return null;
    const n = Number(s);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}
