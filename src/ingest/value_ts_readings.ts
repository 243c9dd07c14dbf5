/**
 * The readings of a device's usual payload read straight from its bytes,
 * without decoding it to text, without JSON.parse's objects and without
 * fast_reading.ts's look at them: a stream-scoped (topic or path) payload of
 *
 *   {"value": 21.5, "ts": 1735689600000}
 *   [{"value": 21.5, "ts": 1735689600000}, {"value": 21.6}, ...]
 *
 * objects of a number `value` and at most a number `ts`, in either order,
 * with JSON's whitespace between the tokens. It gives exactly the readings
 * parse.ts gives for the same bytes (tests/ingest/value_ts_readings_test.ts
 * compares the two, and parse.ts's zod path, over the same payloads), or
 * null for anything else: another form, another field, a string, `null`, an
 * escape, a key twice, a time out of range, a batch that is empty or larger
 * than `maxBatch`, bytes that are not ASCII, anything JSON.parse would
 * refuse. parse.ts then reads the payload as before and names what is wrong.
 *
 * Numbers: a JSON number of at most 15 digits and no exponent is read as
 * digits / 10^fraction digits, one division of two doubles that are exact,
 * so the one rounding is IEEE's correct one: the double JSON.parse gives;
 * any other goes through Number() of its text, which JSON.parse's numbers
 * equal too.
 *
 * Why: a message of 10 readings of a device cost the main thread its text,
 * ten parsed objects and their checks before the ten readings were made, a
 * share of the main thread's CPU a reading and of the garbage its collector
 * copies (docs/scaling.md, "the main thread's CPU a reading, nineteenth
 * round").
 */
import type { Reading } from "../domain/reading.ts";
import { MIN_TS, timestampMs } from "./timestamp.ts";

/** What is used of parse.ts's scope: the stream the topic or path names, and the value name. */
export interface ValueTsScope {
  stream: string | null;
  value: string | null;
}

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const QUOTE = 0x22, COMMA = 0x2c, COLON = 0x3a;
const OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, ZERO = 0x30, NINE = 0x39;
const LOWER_E = 0x65, UPPER_E = 0x45;

/** 10^k for k = 0..22: each a double exactly. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

const asciiDecoder = new TextDecoder();

/** The scanner's place (one scan at a time, on one thread). */
let at = 0;
/** The last number read, in a typed array: a double kept in a variable of the module is boxed. */
const read = new Float64Array(1);

function skipSpace(b: Uint8Array): void {
  let i = at;
  const n = b.length;
  while (i < n) {
    const c = b[i];
    if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
    i++;
  }
  at = i;
}

/**
 * Reads a JSON number at `at` into `read[0]` (moving `at` past it); false
 * when none is there, or when it is not finite.
 */
function readNumber(b: Uint8Array): boolean {
  const n = b.length;
  const start = at;
  let i = at;
  const negative = b[i] === MINUS;
  if (negative) i++;
  if (i >= n) return false;
  let digits = 0;
  let m = 0;
  let c = b[i];
  if (c === ZERO) {
    i++;
  } else if (c > ZERO && c <= NINE) {
    while (i < n && (c = b[i]) >= ZERO && c <= NINE) {
      m = m * 10 + (c - ZERO);
      digits++;
      i++;
    }
  } else return false;
  let fraction = 0;
  if (i < n && b[i] === DOT) {
    i++;
    const first = i;
    while (i < n && (c = b[i]) >= ZERO && c <= NINE) {
      m = m * 10 + (c - ZERO);
      digits++;
      i++;
    }
    fraction = i - first;
    if (fraction === 0) return false;
  }
  let exponent = false;
  if (i < n && (b[i] === LOWER_E || b[i] === UPPER_E)) {
    exponent = true;
    i++;
    if (i < n && (b[i] === PLUS || b[i] === MINUS)) i++;
    const first = i;
    while (i < n && (c = b[i]) >= ZERO && c <= NINE) i++;
    if (i === first) return false;
  }
  at = i;
  let x: number;
  if (!exponent && digits <= 15 && fraction <= 22) {
    // both exact doubles: the quotient is rounded once, correctly
    x = fraction === 0 ? m : m / POW10[fraction];
    if (negative) x = -x;
  } else {
    x = Number(asciiDecoder.decode(b.subarray(start, i)));
  }
  if (!Number.isFinite(x)) return false;
  read[0] = x;
  return true;
}

/** Which key is at `at` (moving past it and its colon): 1 "value", 2 "ts", 0 anything else. */
function readKey(b: Uint8Array): number {
  const n = b.length;
  let i = at;
  if (b[i] !== QUOTE) return 0;
  let key = 0;
  if (
    i + 6 < n && b[i + 1] === 0x76 && b[i + 2] === 0x61 && b[i + 3] === 0x6c &&
    b[i + 4] === 0x75 && b[i + 5] === 0x65 && b[i + 6] === QUOTE
  ) {
    key = 1; // "value"
    i += 7;
  } else if (i + 3 < n && b[i + 1] === 0x74 && b[i + 2] === 0x73 && b[i + 3] === QUOTE) {
    key = 2; // "ts"
    i += 4;
  } else return 0;
  at = i;
  skipSpace(b);
  if (b[at] !== COLON) return 0;
  at++;
  skipSpace(b);
  return key;
}

/**
 * The reading of the object at `at` (moving past it), or null when it is
 * not one of a number `value` and at most a number `ts`, or its time is out
 * of range (what fast_reading.ts takes of that form, the same Reading).
 */
function readObject(
  b: Uint8Array,
  stream: string,
  name: string,
  receivedAt: number,
  maxFutureMs: number,
): Reading | null {
  if (b[at] !== OPEN_BRACE) return null;
  at++;
  skipSpace(b);
  let value = 0;
  let ts = receivedAt;
  let seen = 0;
  for (;;) {
    const key = readKey(b);
    if (key === 0 || (seen & key) !== 0 || !readNumber(b)) return null;
    seen |= key;
    const number = read[0];
    if (key === 1) value = number;
    else {
      // fast_reading.ts's rule: timestamp.ts's seconds or ms, rounded, in range (a finite number
      // is never null there)
      ts = Math.round(timestampMs(number)!);
      if (!(ts >= MIN_TS && ts <= receivedAt + maxFutureMs)) return null;
    }
    skipSpace(b);
    const c = b[at++];
    if (c === CLOSE_BRACE) break;
    if (c !== COMMA) return null;
    skipSpace(b);
  }
  if ((seen & 1) === 0) return null;
  // fast_reading.ts's objects, in its order; the usual name as a literal key (V8 gives an object
  // of a computed key 24 bytes more: docs/scaling.md, "the main thread's path a message")
  const values = name === "value" ? { value } : { [name]: value };
  return { stream, ts, values };
}

/**
 * The readings of `payload` in the forms above (one object, or an array of
 * at most `maxBatch` of them), as parse.ts gives them; null for anything
 * else, and for text (parse.ts reads it then).
 */
export function valueTsReadings(
  payload: string | Uint8Array,
  scope: ValueTsScope,
  opts: { receivedAt: number; maxFutureMs: number; maxBatch: number },
): Reading[] | null {
  const stream = scope.stream;
  if (stream === null || typeof payload === "string") return null;
  const { receivedAt, maxFutureMs, maxBatch } = opts;
  const name = scope.value ?? "value";
  const b = payload;
  at = 0;
  skipSpace(b);
  let out: Reading[];
  if (b[at] === OPEN_BRACKET) {
    at++;
    skipSpace(b);
    out = [];
    for (;;) {
      const r = readObject(b, stream, name, receivedAt, maxFutureMs);
      if (r === null || out.length === maxBatch) return null;
      out.push(r);
      skipSpace(b);
      const c = b[at++];
      if (c === CLOSE_BRACKET) break;
      if (c !== COMMA) return null;
      skipSpace(b);
    }
  } else {
    const r = readObject(b, stream, name, receivedAt, maxFutureMs);
    if (r === null) return null;
    out = [r];
  }
  skipSpace(b);
  return at === b.length ? out : null;
}
