/**
 * The cheap way through a reading object of a JSON message: the common forms
 * checked by hand, without zod, giving exactly the Reading the zod path of
 * parse.ts gives.
 *
 *   {"values": {"temperature": 21.5}, "stream"?: ..., "ts"?: ...}
 *   {"value": 21.5, "stream"?: ..., "ts"?: ...}
 *   {"temperature": 21.5, "humidity": "40", "stream"?: ..., "ts"?: ...}
 *
 * with values that are finite numbers or decimal strings, a valid stream id
 * (that agrees with the scope's), and a `ts` in range or none. Anything else
 * (a field it does not expect, a bad value, a name outside the rules, a time
 * out of range, an object that is not a plain one) gives null, and the
 * caller takes the zod path, which names what is wrong with the same error,
 * reason and field as ever. So this function never rejects: it accepts or
 * declines, and accepts only what the zod path accepts, in the same form
 * (tests/ingest/fast_reading_test.ts runs both over the same inputs).
 *
 * Why: zod's safeParse, three schemas per element, cost about 10 µs per
 * reading, so a 10,000-reading body held the event loop for 14 to 110 ms on
 * an idle machine; see docs/scaling.md, "Where the /healthz wait goes".
 */
import { finiteNumber, isStreamId, isValueName, type Reading } from "../domain/reading.ts";
import { MIN_TS, timestampMs } from "./timestamp.ts";

/** Where a reading's stream and value name come from (parse.ts's Scope, the part used here). */
export interface FastScope {
  /** The stream named by the topic or path, or null: the object must name it. */
  stream: string | null;
  /** The value name the topic gives, or null. */
  value: string | null;
}

const hasOwn = Object.hasOwn;

// The loops below take an object's own keys with `for...in` and hasOwn, not Object.keys: the
// same keys in the same order (the objects are plain ones, checked first), without an array
// per object; for a 10,000-reading body that was 1.3 MB of the main thread's garbage.

/**
 * `raw` as a Reading when it is in one of the common forms and valid
 * throughout; null otherwise (then the zod path decides, and names the error).
 */
export function fastReading(
  raw: unknown,
  scope: FastScope,
  receivedAt: number,
  maxFutureMs: number,
): Reading | null {
  if (raw === null || typeof raw !== "object" || Object.getPrototypeOf(raw) !== Object.prototype) {
    return null;
  }
  const obj = raw as Record<string, unknown>;
  let values: Record<string, number> | null;
  if (hasOwn(obj, "values")) {
    if (scope.value !== null || !onlyFields(obj, "values")) return null;
    values = valueRecord(obj.values);
  } else if (hasOwn(obj, "value")) {
    if (!onlyFields(obj, "value")) return null;
    const v = finiteNumber(obj.value);
    if (v === null) return null;
    values = { [scope.value ?? "value"]: v };
  } else {
    if (scope.value !== null) return null;
    values = namedValues(obj);
  }
  if (values === null) return null;

  let id = scope.stream;
  if (hasOwn(obj, "stream")) {
    const s = obj.stream;
    if (!isStreamId(s) || (id !== null && s !== id)) return null;
    id = s;
  }
  if (id === null) return null;

  let ts = receivedAt;
  if (hasOwn(obj, "ts") && obj.ts !== null) {
    const ms = timestampMs(obj.ts);
    if (ms === null) return null;
    ts = Math.round(ms);
    if (!(ts >= MIN_TS && ts <= receivedAt + maxFutureMs)) return null;
  }
  return { stream: id, ts, values };
}

/** True when `obj` has no other fields than `stream`, `ts` and `field`. */
function onlyFields(obj: Record<string, unknown>, field: string): boolean {
  for (const k in obj) {
    if (hasOwn(obj, k) && k !== field && k !== "stream" && k !== "ts") return false;
  }
  return true;
}

/** `{"name": number, ...}` with at least one valid name and value, as a fresh object; else null. */
function valueRecord(raw: unknown): Record<string, number> | null {
  if (raw === null || typeof raw !== "object" || Object.getPrototypeOf(raw) !== Object.prototype) {
    return null;
  }
  const out: Record<string, number> = {};
  let n = 0;
  for (const k in raw) {
    if (!hasOwn(raw, k)) continue;
    if (!isValueName(k)) return null;
    const v = finiteNumber((raw as Record<string, unknown>)[k]);
    if (v === null) return null;
    out[k] = v;
    n++;
  }
  return n === 0 ? null : out;
}

/** The named form's values: every field but `stream` and `ts`; null as valueRecord. */
function namedValues(obj: Record<string, unknown>): Record<string, number> | null {
  const out: Record<string, number> = {};
  let n = 0;
  for (const k in obj) {
    if (!hasOwn(obj, k) || k === "stream" || k === "ts") continue;
    if (!isValueName(k)) return null;
    const v = finiteNumber(obj[k]);
    if (v === null) return null;
    out[k] = v;
    n++;
  }
  return n === 0 ? null : out;
}
