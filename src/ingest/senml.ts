/**
 * SenML (RFC 8428) JSON packs as readings.
 *
 * A pack is an array of records. Base fields (`bn` name, `bt` time, `bu` unit,
 * `bv` value, `bver` version) apply to their record and every later one
 * until changed. For each record:
 *
 * - name: the resolved name is `bn + n`. When the topic or the URL path names
 *   the stream, that is the stream and `n` is the value name (`bn` only names
 *   the device and is not used). Otherwise `bn`, without one trailing `:` or
 *   `/`, is the stream (`"urn:dev:ow:10e2073a01080063:"` ->
 *   `urn:dev:ow:10e2073a01080063`, `"kitchen/"` -> `kitchen`) and `n` is the
 *   value name; a pack without `bn` is rejected there. A record without `n`
 *   names the value "value".
 * - time: `bt + t` in seconds; below 2^28 it is relative to the time the pack
 *   was received (0 or absent: "now", -60: a minute ago), from 2^28 on it is
 *   seconds since 1970.
 * - value: `bv + v`. Records with only a string (`vs`), boolean (`vb`) or
 *   data (`vd`) value, or only a sum (`s`), are skipped and listed in the
 *   result's `ignored`: forecastd learns numbers. A pack with no numeric value
 *   left is rejected (bad_value). Units (`u`, `bu`) and `ut` are not used.
 * - records carrying only base fields set them and produce nothing.
 * - a field whose name ends in `_` must be understood (RFC 8428 section 4.4):
 *   forecastd understands none, so such a pack is rejected; other unknown
 *   fields are ignored. `bver` above 10 is rejected.
 *
 * Records of one stream at one time become one reading whose values are
 * every name measured then (a later record for the same name wins).
 */
import { z } from "zod";
import {
  isStreamId,
  isValueName,
  type Reading,
  STREAM_ID_RULE,
  VALUE_NAME_RULE,
} from "../domain/reading.ts";
import { IngestError } from "./ingest_error.ts";
import { issueToError, type ReasonByField } from "./schema.ts";
import { checkTimestamp } from "./timestamp.ts";
import { nextTurn } from "../async/next_turn.ts";

/** The SenML JSON labels (RFC 8428 section 4.1 and 4.2). */
export const SENML_FIELDS = [
  "bn",
  "bt",
  "bu",
  "bv",
  "bs",
  "bver",
  "n",
  "u",
  "v",
  "vs",
  "vb",
  "vd",
  "s",
  "t",
  "ut",
] as const;

const BASE_FIELDS = new Set(["bn", "bt", "bu", "bv", "bs", "bver"]);

/** Times below this (seconds) are relative to the receive time (RFC 8428 section 4.5.3). */
export const SENML_RELATIVE_BELOW = 2 ** 28;

const num = (what: string) => z.number({ error: `must be ${what}` }).optional();
const str = z.string({ error: "must be a string" }).optional();

/** One SenML record; unknown fields pass through (and are then ignored or rejected). */
const senmlRecord = z.looseObject({
  bn: str,
  bt: num("a number of seconds"),
  bu: str,
  bv: num("a finite number"),
  bs: num("a finite number"),
  bver: z.number({ error: "must be a SenML version from 1 to 10" }).int().min(1).max(10, {
    error: "must be a SenML version from 1 to 10 (forecastd reads version 10 and older)",
  }).optional(),
  n: str,
  u: str,
  v: num("a finite number"),
  vs: str,
  vb: z.boolean({ error: "must be true or false" }).optional(),
  vd: str,
  s: num("a finite number"),
  t: num("a number of seconds"),
  ut: num("a number of seconds"),
});

const REASONS: ReasonByField = { bt: "bad_ts", t: "bad_ts", bv: "bad_value", v: "bad_value" };

/** Where the stream comes from, and the clock. */
export interface SenmlScope {
  /** The stream named by the topic or path, or null: then `bn` names it. */
  stream: string | null;
  receivedAt: number;
  maxFutureMs: number;
}

/** True when `array` looks like a SenML pack: its first record has a SenML label and none of ours. */
export function isSenmlPack(array: readonly unknown[]): boolean {
  const first = array[0];
  if (first === null || typeof first !== "object" || Array.isArray(first)) return false;
  const keys = Object.keys(first);
  if (keys.some((k) => k === "stream" || k === "ts" || k === "value" || k === "values")) {
    return false;
  }
  return keys.some((k) => (SENML_FIELDS as readonly string[]).includes(k));
}

/** What a SenML pack gives: readings, and the records skipped (for debug logs). */
export interface SenmlResult {
  readings: Reading[];
  ignored: string[];
}

/** The readings of a SenML pack; throws IngestError. */
export function senmlReadings(
  pack: readonly unknown[],
  scope: SenmlScope,
  prefix = "",
): SenmlResult {
  const work = senmlRecords(pack, scope, prefix);
  let step = work.next();
  while (!step.done) step = work.next();
  return step.value;
}

/**
 * senmlReadings() in slices: records are read `sliceMs` at a time (looked at
 * every 64 records) and the event loop runs between slices; the same result.
 */
export async function senmlReadingsAsync(
  pack: readonly unknown[],
  scope: SenmlScope,
  prefix: string,
  sliceMs: number,
): Promise<SenmlResult> {
  const work = senmlRecords(pack, scope, prefix);
  let deadline = performance.now() + sliceMs;
  let step = work.next();
  for (let n = 1; !step.done; n++) {
    if ((n & 63) === 0 && performance.now() >= deadline) {
      await nextTurn();
      deadline = performance.now() + sliceMs;
    }
    step = work.next();
  }
  return step.value;
}

/** Reads a pack record by record, pausing (yield) before each; returns the result. */
function* senmlRecords(
  pack: readonly unknown[],
  scope: SenmlScope,
  prefix: string,
): Generator<void, SenmlResult, void> {
  const byKey = new Map<string, Reading>();
  const ignored: string[] = [];
  let bn = "", bt = 0, bv = 0;
  for (let i = 0; i < pack.length; i++) {
    yield;
    const raw = pack[i];
    const at = `${prefix}[${i}]`;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new IngestError("bad_shape", at, "must be a SenML record (an object)", raw);
    }
    const mustUnderstand = Object.keys(raw).find((k) => k.endsWith("_"));
    if (mustUnderstand !== undefined) {
      throw new IngestError(
        "bad_shape",
        `${at}.${mustUnderstand}`,
        "is a SenML field that must be understood, and forecastd does not know it",
        (raw as Record<string, unknown>)[mustUnderstand],
      );
    }
    const parsed = senmlRecord.safeParse(raw);
    if (!parsed.success) {
      throw issueToError(parsed.error, raw, at, REASONS, SENML_FIELDS);
    }
    const r = parsed.data;
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bv !== undefined) bv = r.bv;

    const hasValue = r.v !== undefined || r.vs !== undefined || r.vb !== undefined ||
      r.vd !== undefined || r.s !== undefined;
    if (!hasValue) {
      if (Object.keys(raw).every((k) => BASE_FIELDS.has(k))) continue; // sets bases only
      throw new IngestError(
        "bad_shape",
        at,
        "must hold a value (v, vs, vb, vd or s) or only base fields",
        raw,
      );
    }

    // Name: the stream from the scope or from bn, the value from n.
    let stream: string;
    if (scope.stream !== null) stream = scope.stream;
    else {
      if (bn === "") {
        throw new IngestError(
          "bad_stream",
          `${at}.bn`,
          "must name the stream (a SenML base name) when the topic or path does not",
          undefined,
        );
      }
      stream = bn.replace(/[:/]$/, "");
      if (!isStreamId(stream)) {
        throw new IngestError(
          "bad_stream",
          `${at}.bn`,
          `must be a stream id of ${STREAM_ID_RULE}, with an optional trailing : or /`,
          bn,
        );
      }
    }
    const name = r.n === undefined || r.n === "" ? "value" : r.n;
    if (!isValueName(name)) {
      throw new IngestError(
        "bad_name",
        `${at}.n`,
        `must be a value name of ${VALUE_NAME_RULE}`,
        r.n,
      );
    }

    if (r.v === undefined) {
      const kind = r.vs !== undefined
        ? "string"
        : r.vb !== undefined
        ? "boolean"
        : r.vd !== undefined
        ? "data"
        : "sum";
      ignored.push(`${at} (${stream} ${name}): ${kind} value ignored`);
      continue;
    }
    const value = bv + r.v;
    if (!Number.isFinite(value)) {
      throw new IngestError("bad_value", `${at}.v`, "must be a finite number with bv added", r.v);
    }

    // Time: bt + t seconds, relative to receipt below 2^28.
    const time = bt + (r.t ?? 0);
    const ms = time < SENML_RELATIVE_BELOW ? scope.receivedAt + time * 1000 : time * 1000;
    const ts = checkTimestamp(
      ms,
      r.t ?? bt,
      r.t !== undefined ? `${at}.t` : `${at}.bt`,
      scope.receivedAt,
      scope.maxFutureMs,
    );

    const key = `${stream}\u0000${ts}`;
    let reading = byKey.get(key);
    if (!reading) {
      reading = { stream, ts, values: {} };
      byKey.set(key, reading);
    }
    reading.values[name] = value;
  }
  if (byKey.size === 0) {
    throw new IngestError(
      "bad_value",
      prefix,
      "must hold at least one numeric SenML value (v)",
      pack,
    );
  }
  return { readings: [...byKey.values()], ignored };
}
