/**
 * The normalized reading every source produces, the rules for its names, and
 * the error a rejected message carries.
 *
 * Stream ids and value names share one alphabet, `[A-Za-z0-9_.:-]`, 1-128
 * characters: both end up as MQTT topic levels (alerts go to
 * `<prefix>/<stream>/<value>`), URL path segments and Deno KV key parts, so
 * neither may hold "/", spaces or wildcards. `__proto__` is not a value name
 * (values are kept in a plain object).
 */
import { z } from "zod";

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

/** A stream id, for zod schemas at other boundaries (API paths, webhook filters). */
export const streamIdSchema = z.string().regex(STREAM_ID_PATTERN, {
  error: `must be a stream id of ${STREAM_ID_RULE}`,
});

/**
 * Why a message was rejected, for the daemon's reject counters:
 *
 * - `empty`: the payload is empty (MQTT clears a retained message this way)
 * - `bad_json`: the payload is neither JSON nor a bare number, or is not UTF-8
 * - `bad_shape`: valid JSON in no known form: a wrong type, an unknown field,
 *   no values, an empty batch, a SenML field that must be understood
 * - `bad_value`: a value that is not a finite number
 * - `bad_name`: a value name outside VALUE_NAME_PATTERN
 * - `bad_stream`: a missing or invalid stream id, or one that contradicts the topic or path
 * - `bad_ts`: a timestamp that cannot be read or is out of range
 * - `unknown_topic`: an MQTT topic that no configured pattern matches
 * - `too_many`: a batch longer than the limit
 */
export const REJECT_REASONS = [
  "empty",
  "bad_json",
  "bad_shape",
  "bad_value",
  "bad_name",
  "bad_stream",
  "bad_ts",
  "unknown_topic",
  "too_many",
] as const;

/** A machine-readable reason a message was rejected. */
export type RejectReason = typeof REJECT_REASONS[number];

/** A rejected message: `Cannot ingest reading: <field> <constraint>: current value is <value>`. */
export class IngestError extends Error {
  override name = "IngestError";
  /** Short code for counters. */
  readonly reason: RejectReason;
  /** Where in the message the problem is (`value`, `[2].ts`, `topic`), or "" for the whole payload. */
  readonly field: string;
  /** The offending value as received. */
  readonly value: unknown;

  constructor(reason: RejectReason, field: string, constraint: string, value: unknown) {
    const what = field === "" ? "payload" : `'${field}'`;
    super(`Cannot ingest reading: ${what} ${constraint}: current value is ${showValue(value)}`);
    this.reason = reason;
    this.field = field;
    this.value = value;
  }
}

/** What parsing a message gives: readings, or the reason it was rejected. */
export type ParseResult =
  | {
    ok: true;
    readings: Reading[];
    /** Parts of the message deliberately skipped (e.g. SenML string values), for debug logs. */
    ignored: string[];
  }
  | { ok: false; error: IngestError };

/** A value as it appears in messages: JSON, shortened to 80 characters. */
export function showValue(value: unknown): string {
  let s: string;
  if (value === undefined) s = "missing";
  else if (typeof value === "number") s = String(value); // NaN, Infinity stay readable
  else if (typeof value === "bigint") s = String(value);
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
