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
 *
 * Each function comes twice: synchronous (`parseHttpBody`), and sliced
 * (`parseHttpBodyAsync`) for the sources, which checks the elements of a
 * batch in slices of at most `sliceMs` and lets the event loop run between
 * them, so that no request or message waits behind a big batch; both give the
 * same result. A reading object in a common form is read by hand (a device's
 * `{"value": n, "ts": n}` from its bytes: value_ts_readings.ts; others by
 * fast_reading.ts); anything else by reading_object.ts's zod, naming the error.
 */
import {
  finiteNumber,
  isStreamId,
  isValueName,
  type Reading,
  STREAM_ID_RULE,
  VALUE_NAME_RULE,
} from "../domain/reading.ts";
import { nextTurn } from "../async/next_turn.ts";
import { fastReading } from "./fast_reading.ts";
import {
  type Batch,
  checkSize,
  PieceReader,
  readElements,
  type Settings,
} from "./read_elements.ts";
import { DEFAULT_PIECE_BYTES, jsonArrayInPieces } from "./json_array_pieces.ts";
import { IngestError, type ParseResult } from "./ingest_error.ts";
import { readingObject, type Scope, valueTopicError } from "./reading_object.ts";
import { isSenmlPack, senmlReadings, senmlReadingsAsync } from "./senml.ts";
import { DEFAULT_MAX_FUTURE_MS } from "./timestamp.ts";
import { matchTopic, type TopicPattern } from "./topics.ts";
import { valueTsReadings } from "./value_ts_readings.ts";

export type { Scope };

/** Settings every parse takes. */
export interface ParseOptions {
  /** When the message arrived, ms since the epoch: the time of readings that carry none. */
  receivedAt: number;
  /** Most elements a batch or SenML pack may hold. Default 10000. */
  maxBatch?: number;
  /** How far after receipt a timestamp may lie, ms. Default one day. */
  maxFutureMs?: number;
  /**
   * Read reading objects in the common forms by hand (fast_reading.ts).
   * Default true; false reads each with the zod schemas alone: the reference
   * the tests compare the fast path with (the results are the same).
   */
  fastPath?: boolean;
}

/** Settings of the sliced parsers (`parse*Async`). */
export interface SliceOptions {
  /**
   * Longest run of checking before the event loop may run, ms (looked at
   * every 64 elements of a batch). Default 5.
   */
  sliceMs?: number;
  /**
   * A payload longer than twice this (bytes, or UTF-16 units of a string)
   * that is a JSON array is decoded and parsed in pieces of about this size
   * (json_array_pieces.ts), `sliceMs / 2` of them at a time. Default 32768.
   */
  pieceBytes?: number;
}

/** Default of ParseOptions.maxBatch. */
export const DEFAULT_MAX_BATCH = 10_000;
/** Default of SliceOptions.sliceMs. */
export const DEFAULT_SLICE_MS = 5;

const UNSCOPED: Scope = { stream: null, value: null, source: "path" };
const decoder = new TextDecoder("utf-8", { fatal: true });

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
  const scope = mqttScope(topic, patterns);
  return scope instanceof IngestError ? refused(scope) : parsePayload(payload, scope, opts);
}

/** parseMqttMessage() in slices (see the module comment). */
export function parseMqttMessageAsync(
  topic: string,
  payload: string | Uint8Array,
  patterns: readonly TopicPattern[],
  opts: ParseOptions & SliceOptions,
): Promise<ParseResult> {
  const scope = mqttScope(topic, patterns);
  if (scope instanceof IngestError) return Promise.resolve(refused(scope));
  return parsePayloadAsync(payload, scope, opts);
}

/** A WebSocket message (also the body of `POST /v1/readings`): the payload names the stream. */
export function parseWebSocketMessage(
  message: string | Uint8Array,
  opts: ParseOptions,
): ParseResult {
  return parsePayload(message, UNSCOPED, opts);
}

/** parseWebSocketMessage() in slices (see the module comment). */
export function parseWebSocketMessageAsync(
  message: string | Uint8Array,
  opts: ParseOptions & SliceOptions,
): Promise<ParseResult> {
  return parsePayloadAsync(message, UNSCOPED, opts);
}

/**
 * An HTTP request body. With `stream` (from `POST /v1/streams/{stream}/readings`)
 * the path names the stream; without it the body must (`POST /v1/readings`).
 */
export function parseHttpBody(
  body: string | Uint8Array,
  opts: ParseOptions & { stream?: string },
): ParseResult {
  const scope = httpScope(opts.stream);
  return scope instanceof IngestError ? refused(scope) : parsePayload(body, scope, opts);
}

/** parseHttpBody() in slices (see the module comment). */
export function parseHttpBodyAsync(
  body: string | Uint8Array,
  opts: ParseOptions & SliceOptions & { stream?: string },
): Promise<ParseResult> {
  const scope = httpScope(opts.stream);
  if (scope instanceof IngestError) return Promise.resolve(refused(scope));
  return parsePayloadAsync(body, scope, opts);
}

/** Any payload in a given scope: the common core of the functions above. */
export function parsePayload(
  payload: string | Uint8Array,
  scope: Scope,
  opts: ParseOptions,
): ParseResult {
  try {
    const set = settings(opts);
    const readings = set.fastPath ? valueTsReadings(payload, scope, set) : null;
    if (readings !== null) return { ok: true, readings, ignored: [] };
    return { ok: true, ...fromJson(decodePayload(payload, scope), scope, set) };
  } catch (e) {
    if (e instanceof IngestError) return refused(e);
    throw e;
  }
}

/**
 * parsePayload() in slices: the elements of a batch are checked `sliceMs` at
 * a time and the event loop runs between slices; nothing is returned before
 * the whole message is checked, and the result is parsePayload()'s.
 */
export async function parsePayloadAsync(
  payload: string | Uint8Array,
  scope: Scope,
  opts: ParseOptions & SliceOptions,
): Promise<ParseResult> {
  const sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
  try {
    const set = settings(opts);
    let task = performance.now(); // when this task of the event loop began its work
    // a big array is decoded and parsed in pieces (json_array_pieces.ts), a slice at a time (the
    // whole of it, as one decoding and one JSON.parse, was 4 to 9 ms in the daemon here and is ten
    // times that on a Raspberry Pi), and each piece's elements are read as it is parsed
    // (PieceReader); anything else whole
    const pieceBytes = opts.pieceBytes ?? DEFAULT_PIECE_BYTES;
    const big = payload.length > 2 * pieceBytes;
    if (big) {
      // a turn first: the task that got the payload did its own work on all of it (a WebSocket
      // message's unmasking, UTF-8 check and decoding, 1 MiB of it 5 to 10 ms here; a body's last
      // chunk and the copy of them all), and the first slice is not to add to it
      await nextTurn();
      task = performance.now();
    }
    const reader = big ? new PieceReader(scope, set) : null;
    const pieces = reader !== null
      ? await jsonArrayInPieces(payload, { pieceBytes, sliceMs, each: (part) => reader.take(part) })
      : null;
    let json: unknown;
    if (pieces !== null) {
      task = pieces.taskStart;
      const readings = reader!.finish(pieces.count);
      if (readings !== null) {
        if (performance.now() - task > sliceMs / 2) await nextTurn(); // see the end
        return { ok: true, readings, ignored: [] };
      }
      json = reader!.kept; // a SenML pack, or no element
    } else {
      if (big && performance.now() - task > sliceMs) {
        await nextTurn(); // the pieces got far before they were refused
        task = performance.now();
      }
      // UTF-8 decoding and JSON.parse are one native call each: a turn between them when the
      // first was long
      const text = decodeText(payload);
      if (performance.now() - task > sliceMs / 2) {
        await nextTurn();
        task = performance.now();
      }
      json = parseText(text, scope);
    }
    const batch = batchOf(json);
    if (batch === null) return { ok: true, ...single(json, scope, set) };
    const pack = isPack(batch, scope, set);
    if (performance.now() - task > sliceMs) {
      await nextTurn();
      task = performance.now();
    }
    if (pack) {
      const senml = { stream: scope.stream, ...set };
      return { ok: true, ...await senmlReadingsAsync(batch.array, senml, batch.prefix, sliceMs) };
    }
    const readings: Reading[] = [];
    // the first slice goes on from what this task already did (decoding, parsing): a task does at
    // most about `sliceMs` of work
    let next = readElements(batch, scope, set, readings, 0, task + sliceMs);
    while (next < batch.array.length) {
      await nextTurn();
      task = performance.now();
      next = readElements(batch, scope, set, readings, next, task + sliceMs);
    }
    // What takes the readings runs in the task that resolves this (the stream creation limit and
    // the split by worker: about 5 ms for 10,000 readings): after a long slice, in a task of its own
    if (performance.now() - task > sliceMs / 2) await nextTurn();
    return { ok: true, readings, ignored: [] };
  } catch (e) {
    if (e instanceof IngestError) return refused(e);
    throw e;
  }
}

/** Already-parsed JSON in a given scope (for callers that parsed the body themselves). */
export function parseJsonValue(json: unknown, scope: Scope, opts: ParseOptions): ParseResult {
  try {
    return { ok: true, ...fromJson(json, scope, settings(opts)) };
  } catch (e) {
    if (e instanceof IngestError) return refused(e);
    throw e;
  }
}

const refused = (error: IngestError): ParseResult => ({ ok: false, error });

/** The scope an MQTT topic gives, or the error of a topic that gives none. */
function mqttScope(topic: string, patterns: readonly TopicPattern[]): Scope | IngestError {
  const m = matchTopic(patterns, topic);
  if (m === null) {
    return new IngestError(
      "unknown_topic",
      "topic",
      `must match a topic pattern (${patterns.map((p) => p.pattern).join(", ")})`,
      topic,
    );
  }
  if (m.stream !== null && !isStreamId(m.stream)) {
    return new IngestError(
      "bad_stream",
      "topic",
      `must hold a stream id of ${STREAM_ID_RULE} at {stream} of ${m.pattern.pattern}`,
      topic,
    );
  }
  if (m.value !== null && !isValueName(m.value)) {
    return new IngestError(
      "bad_name",
      "topic",
      `must hold a value name of ${VALUE_NAME_RULE} at {value} of ${m.pattern.pattern}`,
      topic,
    );
  }
  return { stream: m.stream, value: m.value, source: "topic" };
}

/** The scope of an HTTP body (the path's stream, if any), or the error of an invalid one. */
function httpScope(stream: string | undefined): Scope | IngestError {
  if (stream === undefined) return UNSCOPED;
  if (!isStreamId(stream)) {
    return new IngestError(
      "bad_stream",
      "stream",
      `must be a stream id of ${STREAM_ID_RULE} in the path`,
      stream,
    );
  }
  return { stream, value: null, source: "path" };
}

function settings(opts: ParseOptions): Settings {
  return {
    receivedAt: opts.receivedAt,
    maxBatch: opts.maxBatch ?? DEFAULT_MAX_BATCH,
    maxFutureMs: opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
    fastPath: opts.fastPath ?? true,
  };
}

interface Parsed {
  readings: Reading[];
  ignored: string[];
}

/** The payload as JSON (a bare number as one when the scope names the stream); throws IngestError. */
function decodePayload(payload: string | Uint8Array, scope: Scope): unknown {
  return parseText(decodeText(payload), scope);
}

/**
 * ASCII payloads up to this many bytes (a reading is some 40) go through a
 * decoder that does not check: ASCII is UTF-8 as it is, and the checking one
 * cost 0.4 µs against 0.15 at 40 bytes, 0.3 at 360 (`fromCharCode.apply`,
 * used before, made 370 bytes of garbage a message: docs/scaling.md, gcload).
 */
const ASCII_FAST_BYTES = 512;
const asciiDecoder = new TextDecoder();

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 127) return false;
  return true;
}

/** The payload as text, trimmed; throws IngestError (not UTF-8, empty). */
function decodeText(payload: string | Uint8Array): string {
  let text: string;
  if (typeof payload === "string") text = payload;
  else if (payload.length <= ASCII_FAST_BYTES && isAscii(payload)) {
    text = asciiDecoder.decode(payload);
  } else {
    try {
      text = decoder.decode(payload);
    } catch {
      throw new IngestError("bad_json", "", "must be UTF-8 text", `${payload.length} bytes`);
    }
  }
  text = text.trim();
  if (text === "") throw new IngestError("empty", "", "must not be empty", "");
  return text;
}

/** decodeText()'s text as JSON, or a bare number when the scope names the stream. */
function parseText(text: string, scope: Scope): unknown {
  // A bare number ("21.5", "+3", "1e3"); JSON.parse would refuse "+3" and ".5".
  const bare = finiteNumber(text);
  if (bare !== null && scope.stream !== null) return bare;

  try {
    return JSON.parse(text);
  } catch {
    const first = text[0];
    if (scope.stream !== null && first !== "{" && first !== "[" && first !== '"') {
      // A token such as NaN, Infinity or 21,5 where a number was due.
      throw new IngestError("bad_value", "value", "must be a finite number", text);
    }
    throw new IngestError("bad_json", "", "must be JSON or a number", text);
  }
}

function fromJson(json: unknown, scope: Scope, set: Settings): Parsed {
  const batch = batchOf(json);
  if (batch === null) return single(json, scope, set);
  if (isPack(batch, scope, set)) {
    return senmlReadings(batch.array, { stream: scope.stream, ...set }, batch.prefix);
  }
  const readings: Reading[] = [];
  readElements(batch, scope, set, readings, 0, Infinity);
  return { readings, ignored: [] };
}

/** The batch `json` is (an array, or `{"readings": [...]}`), or null for one reading. */
function batchOf(json: unknown): Batch | null {
  if (Array.isArray(json)) return { array: json, prefix: "", senmlAllowed: true };
  if (json === null || typeof json !== "object" || !Object.hasOwn(json, "readings")) return null;
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
  return { array: batch, prefix: "readings", senmlAllowed: false };
}

/** One reading object, or a bare JSON number, string, boolean or null. */
function single(json: unknown, scope: Scope, set: Settings): Parsed {
  if (json !== null && typeof json === "object") {
    const r = (set.fastPath ? fastReading(json, scope, set.receivedAt, set.maxFutureMs) : null) ??
      readingObject(json, "", scope, set);
    return { readings: [r], ignored: [] };
  }
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

/**
 * Checks a batch's size; true when it is a SenML pack (read whole by
 * senml.ts: a pack's base fields run from record to record), false for a
 * batch of reading objects.
 */
function isPack(batch: Batch, scope: Scope, set: Settings): boolean {
  const { array, prefix } = batch;
  if (array.length === 0) {
    throw new IngestError("bad_shape", prefix, "must hold at least one reading", array);
  }
  checkSize(array.length, prefix, set);
  if (!batch.senmlAllowed || !isSenmlPack(array)) return false;
  if (scope.value !== null) throw valueTopicError(prefix, scope, array);
  return true;
}
