/**
 * A reading, and the rules for the names every layer checks: stream ids,
 * value names and preset names.
 *
 * Stream ids and value names share one alphabet, `[A-Za-z0-9_.:-]`, 1-128
 * characters: both end up as MQTT topic levels (alerts go to
 * `<prefix>/<stream>/<value>`), URL path segments and Deno KV key parts, so
 * neither may hold "/", spaces or wildcards. `__proto__` is not a value name
 * (values are kept in a plain object).
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

/** Stream ids: 1-128 of A-Z a-z 0-9 _ . : - */
export const STREAM_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Value names: the same alphabet and length as stream ids. */
export const VALUE_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The constraint stated in error messages about stream ids. */
export const STREAM_ID_RULE = "1-128 characters of A-Z a-z 0-9 _ . : -";
/** The constraint stated in error messages about value names. */
export const VALUE_NAME_RULE = "1-128 characters of A-Z a-z 0-9 _ . : - (not __proto__)";

/** True when `s` is a valid stream id. */
export function isStreamId(s: unknown): s is string {
  return typeof s === "string" && STREAM_ID_PATTERN.test(s);
}

/** True when `s` is a valid value name. */
export function isValueName(s: unknown): s is string {
  return typeof s === "string" && VALUE_NAME_PATTERN.test(s) && s !== "__proto__";
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
