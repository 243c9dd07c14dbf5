/**
 * What a source received -> normalized readings, or an IngestError naming
 * what was wrong. Pure: no sockets, no clock (the receive time is passed in).
 *
 * Two contexts, the same forms:
 *
 * - stream-scoped: the MQTT topic (`{stream}`) or the URL path
 *   (`POST /v1/streams/{id}/readings`) names the stream. Payloads:
 *     21.5                                   bare number (text or JSON): value "value"
 *     {"value": 21.5, "ts": ...}             one value named "value"
 *     {"values": {"temperature": 21.5}, "ts": ...}
 *     {"temperature": 21.5, "humidity": 40, "ts": ...}   named values
 *     [ ...any of the objects above ]        a batch
 *     {"readings": [ ... ]}                  the same batch
 *     [{"bn": "...", "n": "temperature", "v": 21.5}, ...]   a SenML pack (see senml.ts)
 *   An object may also carry `"stream"`, which must then equal the scoped stream.
 *   When the topic names the value too (`{value}`), the payload must be a
 *   number or `{"value": ..., "ts": ...}` (or a batch of those), and the value
 *   takes the topic's name.
 * - unscoped: WebSocket messages, `POST /v1/readings`, MQTT patterns without
 *   `{stream}`. The same object forms with a required `"stream"`, batches of
 *   them, and SenML packs whose `bn` names the stream. A bare number has no
 *   stream and is rejected.
 *
 * Rules for every form: values are finite numbers or decimal strings
 * ("21.5"); NaN, Infinity, booleans, null, objects and other strings are
 * rejected. `ts`: see timestamp.ts; missing -> the receive time. Objects with
 * `values` or `value` accept no other fields than `stream` and `ts`; in the
 * named form every field except `stream` and `ts` is a value. A message is
 * taken whole or not at all: one bad reading rejects the batch, and the
 * error names its index (`[3].values.temperature`).
 */
import { z } from "zod";
import {
  finiteNumber,
  isStreamId,
  isValueName,
  type Reading,
  STREAM_ID_RULE,
  VALUE_NAME_RULE,
} from "../domain/reading.ts";
import { IngestError, type ParseResult } from "./ingest_error.ts";
import {
  issueToError,
  type ReasonByField,
  streamField,
  tsField,
  valueField,
  valueNameKey,
} from "./schema.ts";
import { isSenmlPack, senmlReadings } from "./senml.ts";
import { checkTimestamp, DEFAULT_MAX_FUTURE_MS } from "./timestamp.ts";
import { matchTopic, type TopicPattern } from "./topics.ts";

/** Settings every parse takes. */
export interface ParseOptions {
  /** When the message arrived, ms since the epoch: the time of readings that carry none. */
  receivedAt: number;
  /** Most elements a batch or SenML pack may hold. Default 10000. */
  maxBatch?: number;
  /** How far after receipt a timestamp may lie, ms. Default one day. */
  maxFutureMs?: number;
}

/** Where the stream (and maybe the value name) of a payload comes from. */
export interface Scope {
  /** The stream named by the topic or path, or null: the payload names it. */
  stream: string | null;
  /** The value name given by the topic, or null. */
  value: string | null;
  /** What named the stream, for messages: "topic" or "path". */
  source: "topic" | "path";
}

/** Default of ParseOptions.maxBatch. */
export const DEFAULT_MAX_BATCH = 10_000;

const UNSCOPED: Scope = { stream: null, value: null, source: "path" };
const REASONS: ReasonByField = { stream: "bad_stream", ts: "bad_ts", value: "bad_value" };
const decoder = new TextDecoder("utf-8", { fatal: true });

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

/**
 * An MQTT message: the first of `patterns` matching `topic` says the stream
 * and value; the payload gives the rest. A topic no pattern matches is
 * rejected as unknown_topic.
 */
export function parseMqttMessage(
  topic: string,
  payload: string | Uint8Array,
  patterns: readonly TopicPattern[],
  opts: ParseOptions,
): ParseResult {
  const m = matchTopic(patterns, topic);
  if (m === null) {
    const error = new IngestError(
      "unknown_topic",
      "topic",
      `must match a topic pattern (${patterns.map((p) => p.pattern).join(", ")})`,
      topic,
    );
    return { ok: false, error };
  }
  if (m.stream !== null && !isStreamId(m.stream)) {
    const error = new IngestError(
      "bad_stream",
      "topic",
      `must hold a stream id of ${STREAM_ID_RULE} at {stream} of ${m.pattern.pattern}`,
      topic,
    );
    return { ok: false, error };
  }
  if (m.value !== null && !isValueName(m.value)) {
    const error = new IngestError(
      "bad_name",
      "topic",
      `must hold a value name of ${VALUE_NAME_RULE} at {value} of ${m.pattern.pattern}`,
      topic,
    );
    return { ok: false, error };
  }
  return parsePayload(payload, { stream: m.stream, value: m.value, source: "topic" }, opts);
}

/** A WebSocket message (also the body of `POST /v1/readings`): the payload names the stream. */
export function parseWebSocketMessage(
  message: string | Uint8Array,
  opts: ParseOptions,
): ParseResult {
  return parsePayload(message, UNSCOPED, opts);
}

/**
 * An HTTP request body. With `stream` (from `POST /v1/streams/{stream}/readings`)
 * the path names the stream; without it the body must (`POST /v1/readings`).
 */
export function parseHttpBody(
  body: string | Uint8Array,
  opts: ParseOptions & { stream?: string },
): ParseResult {
  if (opts.stream === undefined) return parsePayload(body, UNSCOPED, opts);
  if (!isStreamId(opts.stream)) {
    const error = new IngestError(
      "bad_stream",
      "stream",
      `must be a stream id of ${STREAM_ID_RULE} in the path`,
      opts.stream,
    );
    return { ok: false, error };
  }
  return parsePayload(body, { stream: opts.stream, value: null, source: "path" }, opts);
}

/** Any payload in a given scope: the common core of the functions above. */
export function parsePayload(
  payload: string | Uint8Array,
  scope: Scope,
  opts: ParseOptions,
): ParseResult {
  try {
    return { ok: true, ...readPayload(payload, scope, opts) };
  } catch (e) {
    if (e instanceof IngestError) return { ok: false, error: e };
    throw e;
  }
}

/** Already-parsed JSON in a given scope (for callers that parsed the body themselves). */
export function parseJsonValue(json: unknown, scope: Scope, opts: ParseOptions): ParseResult {
  try {
    return { ok: true, ...fromJson(json, scope, settings(opts)) };
  } catch (e) {
    if (e instanceof IngestError) return { ok: false, error: e };
    throw e;
  }
}

interface Settings {
  receivedAt: number;
  maxBatch: number;
  maxFutureMs: number;
}

function settings(opts: ParseOptions): Settings {
  return {
    receivedAt: opts.receivedAt,
    maxBatch: opts.maxBatch ?? DEFAULT_MAX_BATCH,
    maxFutureMs: opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
  };
}

interface Parsed {
  readings: Reading[];
  ignored: string[];
}

function readPayload(payload: string | Uint8Array, scope: Scope, opts: ParseOptions): Parsed {
  const set = settings(opts);
  let text: string;
  if (typeof payload === "string") text = payload;
  else {
    try {
      text = decoder.decode(payload);
    } catch {
      throw new IngestError("bad_json", "", "must be UTF-8 text", `${payload.length} bytes`);
    }
  }
  text = text.trim();
  if (text === "") throw new IngestError("empty", "", "must not be empty", "");

  // A bare number ("21.5", "+3", "1e3"); JSON.parse would refuse "+3" and ".5".
  const bare = finiteNumber(text);
  if (bare !== null && scope.stream !== null) return fromJson(bare, scope, set);

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const first = text[0];
    if (scope.stream !== null && first !== "{" && first !== "[" && first !== '"') {
      // A token such as NaN, Infinity or 21,5 where a number was due.
      throw new IngestError("bad_value", "value", "must be a finite number", text);
    }
    throw new IngestError("bad_json", "", "must be JSON or a number", text);
  }
  return fromJson(json, scope, set);
}

function fromJson(json: unknown, scope: Scope, set: Settings): Parsed {
  if (Array.isArray(json)) return fromArray(json, "", scope, set);
  if (json !== null && typeof json === "object") {
    if (Object.hasOwn(json, "readings")) {
      const batch = (json as Record<string, unknown>).readings;
      const extra = Object.keys(json).find((k) => k !== "readings");
      if (extra !== undefined) {
        throw new IngestError(
          "bad_shape",
          extra,
          "is not a known field next to 'readings'",
          (json as Record<string, unknown>)[extra],
        );
      }
      if (!Array.isArray(batch)) {
        throw new IngestError("bad_shape", "readings", "must be an array of readings", batch);
      }
      return fromArray(batch, "readings", scope, set, false);
    }
    return { readings: [readingObject(json, "", scope, set)], ignored: [] };
  }
  // A bare JSON number, string, boolean or null.
  if (scope.stream === null) {
    throw new IngestError(
      "bad_shape",
      "",
      "must be a reading object with a 'stream', a batch of them or a SenML pack",
      json,
    );
  }
  const value = finiteNumber(json);
  if (value === null) throw new IngestError("bad_value", "value", "must be a finite number", json);
  return {
    readings: [{
      stream: scope.stream,
      ts: set.receivedAt,
      values: { [scope.value ?? "value"]: value },
    }],
    ignored: [],
  };
}

function fromArray(
  array: unknown[],
  prefix: string,
  scope: Scope,
  set: Settings,
  senmlAllowed = true,
): Parsed {
  if (array.length === 0) {
    throw new IngestError("bad_shape", prefix, "must hold at least one reading", array);
  }
  if (array.length > set.maxBatch) {
    throw new IngestError(
      "too_many",
      prefix,
      `must hold at most ${set.maxBatch} elements`,
      `${array.length} elements`,
    );
  }
  if (senmlAllowed && isSenmlPack(array)) {
    if (scope.value !== null) throw valueTopicError(prefix, scope, array);
    return senmlReadings(array, { stream: scope.stream, ...set }, prefix);
  }
  const readings = array.map((el, i) => readingObject(el, `${prefix}[${i}]`, scope, set));
  return { readings, ignored: [] };
}

function readingObject(raw: unknown, at: string, scope: Scope, set: Settings): Reading {
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

function valueTopicError(at: string, scope: Scope, raw: unknown): IngestError {
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
