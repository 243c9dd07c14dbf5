/**
 * One reading object of a message by the zod schemas: the way through that
 * names every error (the field, the constraint, the value as received).
 * parse.ts tries fast_reading.ts first and comes here for whatever it
 * declines, so these rules decide what is refused and why.
 */
import { z } from "zod";
import { isValueName, type Reading, STREAM_ID_RULE, VALUE_NAME_RULE } from "../domain/reading.ts";
import { IngestError } from "./ingest_error.ts";
import {
  issueToError,
  type ReasonByField,
  streamField,
  tsField,
  valueField,
  valueNameKey,
} from "./schema.ts";
import { checkTimestamp } from "./timestamp.ts";

/** Where the stream (and maybe the value name) of a payload comes from. */
export interface Scope {
  /** The stream named by the topic or path, or null: the payload names it. */
  stream: string | null;
  /** The value name given by the topic, or null. */
  value: string | null;
  /** What named the stream, for messages: "topic" or "path". */
  source: "topic" | "path";
}

/** What readingObject needs of the parse's settings. */
export interface ReadingSettings {
  /** When the message arrived, ms since the epoch: the time of readings that carry none. */
  receivedAt: number;
  /** How far after receipt a timestamp may lie, ms. */
  maxFutureMs: number;
}

const REASONS: ReasonByField = { stream: "bad_stream", ts: "bad_ts", value: "bad_value" };

// The three object forms of a reading (one zod schema each).
const valuesForm = z.strictObject({
  stream: streamField.optional(),
  ts: tsField.optional(),
  values: z.record(valueNameKey, valueField, {
    error: "must be an object of value names to numbers",
  }),
});
const valueForm = z.strictObject({
  stream: streamField.optional(),
  ts: tsField.optional(),
  value: valueField,
});
const namedForm = z.object({ stream: streamField.optional(), ts: tsField.optional() })
  .catchall(valueField);

const VALUES_FIELDS = ["stream", "ts", "values"];
const VALUE_FIELDS = ["stream", "ts", "value"];

/** `raw`, found at `at` of a message, as a Reading; throws the IngestError naming what is wrong. */
export function readingObject(
  raw: unknown,
  at: string,
  scope: Scope,
  set: ReadingSettings,
): Reading {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new IngestError(
      "bad_shape",
      at,
      'must be a reading object ({"values": ...}, {"value": ...} or named values)',
      raw,
    );
  }
  const obj = raw as Record<string, unknown>;
  let values: Record<string, number>;
  let stream: string | undefined;
  let ts: number | null | undefined;

  if (Object.hasOwn(obj, "values") || Object.hasOwn(obj, "value")) {
    const isValues = Object.hasOwn(obj, "values");
    if (isValues && scope.value !== null) throw valueTopicError(at, scope, raw);
    if (isValues) checkNames(obj.values, join(at, "values"));
    const parsed = isValues ? valuesForm.safeParse(obj) : valueForm.safeParse(obj);
    if (!parsed.success) {
      throw issueToError(parsed.error, obj, at, REASONS, isValues ? VALUES_FIELDS : VALUE_FIELDS);
    }
    stream = parsed.data.stream;
    ts = parsed.data.ts;
    values = "values" in parsed.data
      ? parsed.data.values
      : { [scope.value ?? "value"]: parsed.data.value };
  } else {
    if (scope.value !== null) throw valueTopicError(at, scope, raw);
    checkNames(obj, at, ["stream", "ts"]);
    const parsed = namedForm.safeParse(obj);
    if (!parsed.success) throw issueToError(parsed.error, obj, at, REASONS, []);
    const { stream: s, ts: t, ...rest } = parsed.data;
    stream = s;
    ts = t;
    values = rest as Record<string, number>;
  }
  if (Object.keys(values).length === 0) {
    const inValues = Object.hasOwn(obj, "values");
    throw new IngestError(
      "bad_shape",
      inValues ? join(at, "values") : at,
      "must hold at least one value",
      inValues ? obj.values : obj,
    );
  }

  if (stream !== undefined && scope.stream !== null && stream !== scope.stream) {
    throw new IngestError(
      "bad_stream",
      join(at, "stream"),
      `must match the stream named by the ${scope.source} ("${scope.stream}")`,
      stream,
    );
  }
  const id = stream ?? scope.stream;
  if (id === null) {
    throw new IngestError(
      "bad_stream",
      join(at, "stream"),
      `must be a stream id of ${STREAM_ID_RULE}`,
      undefined,
    );
  }
  const when = ts === undefined || ts === null
    ? set.receivedAt
    : checkTimestamp(ts, obj.ts, join(at, "ts"), set.receivedAt, set.maxFutureMs);
  return { stream: id, ts: when, values };
}

/** Rejects the first key of `obj` that is not a value name (zod's record drops `__proto__`). */
function checkNames(obj: unknown, at: string, fields: readonly string[] = []): void {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return; // zod reports it
  const bad = Object.keys(obj).find((k) => !fields.includes(k) && !isValueName(k));
  if (bad !== undefined) {
    throw new IngestError(
      "bad_name",
      join(at, bad),
      `must be a value name of ${VALUE_NAME_RULE}`,
      bad,
    );
  }
}

/** The error of a form the topic's value name rules out. */
export function valueTopicError(at: string, scope: Scope, raw: unknown): IngestError {
  return new IngestError(
    "bad_shape",
    at,
    `must be a number or {"value": ...} because the topic names the value ("${scope.value}")`,
    raw,
  );
}

function join(at: string, key: string): string {
  return at === "" ? key : `${at}.${key}`;
}
