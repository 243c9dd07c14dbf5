/**
 * Why a source refused a message: the error a rejected message carries and
 * what parsing a message gives. The reading and its name rules are in
 * src/domain/reading.ts.
 */
import { showValue } from "../domain/show_value.ts";
import type { Reading } from "../domain/reading.ts";

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
