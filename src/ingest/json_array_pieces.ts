/**
 * A big JSON array read in pieces: the payload (UTF-8 bytes or text) is cut
 * between its elements into pieces of about `pieceBytes`, and each piece is
 * decoded and given to `JSON.parse` on its own (as `[piece]`), with a turn
 * of the event loop whenever a slice of `sliceMs` is used up. The UTF-8
 * decoding and `JSON.parse` of a 1 MiB body were pieces of 3 to 9 ms each in
 * one task; here no task does more than about a slice of them.
 *
 * ```ts
 * const r = await jsonArrayInPieces(bytes, { pieceBytes: 32_768, sliceMs: 2.5 });
 * if (r === null) json = JSON.parse(new TextDecoder().decode(bytes)); // not taken: parse it whole
 * ```
 *
 * Where to cut is found without reading the payload unit by unit: past
 * `pieceBytes`, the next `{` whose previous non-blank unit is a `,` (between
 * two objects: readings are objects). Such a comma may lie inside a string
 * or a nested value; then the piece up to it does not parse (a piece cut
 * inside a string ends in an open string, one cut inside a nested value
 * leaves a bracket open), and the next place is tried. Conversely, when
 * every piece parses as `[piece]` with at least one element, the whole
 * array is valid JSON and its elements are the pieces' in order: the
 * result is `JSON.parse`'s exactly.
 *
 * Only that is taken: a top-level array (JSON whitespace, `[`, ..., `]`,
 * JSON whitespace) whose pieces each decode and parse. Anything else
 * (another value, a `{"readings": [...]}` object, a byte-order mark, text
 * `trim()` strips but JSON does not, invalid UTF-8 or JSON) gives null, and
 * the caller parses the payload whole, which yields the value or the error
 * it always did. A cut is on an ASCII comma, never inside a multi-byte UTF-8
 * sequence.
 */
import { nextTurn } from "../async/next_turn.ts";

/** Options of jsonArrayInPieces(); every field has the default it names. */
export interface JsonArrayPiecesOptions {
  /** Least size of a piece (the cut is at the next comma between elements), bytes or UTF-16 units. Default 32768. */
  pieceBytes?: number;
  /** Longest run of pieces before the event loop may run, ms. Default 5. */
  sliceMs?: number;
  /**
   * Takes each piece's elements, in order, as soon as the piece is parsed
   * (in the same slice): they are then not gathered, and the result's
   * `elements` is empty. What it keeps of them is its own; the rest is
   * garbage at once instead of living, and being copied by the collector,
   * until the whole array is parsed. Default none: the elements are gathered.
   */
  each?: (elements: unknown[]) => void;
}

/** The elements, and when the task that read the last pieces began (performance.now() ms). */
export interface ArrayPieces {
  /** The array's elements (none with `each`, which took them). */
  elements: unknown[];
  /** How many elements the array has. */
  count: number;
  taskStart: number;
}

/** Default of JsonArrayPiecesOptions.pieceBytes. */
export const DEFAULT_PIECE_BYTES = 32_768;

const decoder = new TextDecoder("utf-8", { fatal: true });

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d, OPEN_OBJECT = 0x7b, COMMA = 0x2c;
/** Places tried for one cut before the payload is left to the whole parse. */
const TRIES = 8;

const isSpace = (c: number) => c === SPACE || c === LF || c === CR || c === TAB;

/** A payload's units (bytes, or a string's UTF-16 units): what the cutting needs. */
interface Units {
  length: number;
  at(i: number): number;
  /** The next `{` at or after `from`, or -1. */
  nextObject(from: number): number;
  /** Units [from, to) as text. */
  text(from: number, to: number): string;
}

function unitsOf(payload: string | Uint8Array): Units {
  if (typeof payload === "string") {
    return {
      length: payload.length,
      at: (i) => payload.charCodeAt(i),
      nextObject: (from) => payload.indexOf("{", from),
      text: (from, to) => payload.slice(from, to),
    };
  }
  return {
    length: payload.length,
    at: (i) => payload[i],
    nextObject: (from) => payload.indexOf(OPEN_OBJECT, from),
    text: (from, to) => decoder.decode(payload.subarray(from, to)),
  };
}

/**
 * The next place to cut in [least, end): the index of a comma whose next
 * non-blank unit is `{`, or -1.
 */
function nextComma(u: Units, least: number, end: number): number {
  for (let i = u.nextObject(least); i >= 0 && i < end; i = u.nextObject(i + 1)) {
    let j = i - 1;
    while (j > least && isSpace(u.at(j))) j--;
    if (j >= least && u.at(j) === COMMA) return j;
  }
  return -1;
}

/** `[text]` parsed, or null when it is not JSON. */
function parsed(u: Units, from: number, to: number): unknown[] | null {
  try {
    return JSON.parse(`[${u.text(from, to)}]`);
  } catch {
    return null; // invalid UTF-8 or JSON
  }
}

/**
 * The elements of the JSON array `payload`, read in pieces (see the module
 * comment), or null when the payload is not one this reader takes.
 */
export async function jsonArrayInPieces(
  payload: string | Uint8Array,
  opts: JsonArrayPiecesOptions = {},
): Promise<ArrayPieces | null> {
  const pieceBytes = opts.pieceBytes ?? DEFAULT_PIECE_BYTES;
  const sliceMs = opts.sliceMs ?? 5;
  const u = unitsOf(payload);
  let start = 0;
  while (start < u.length && isSpace(u.at(start))) start++;
  let end = u.length - 1;
  while (end > start && isSpace(u.at(end))) end--;
  if (end <= start || u.at(start) !== OPEN_ARRAY || u.at(end) !== CLOSE_ARRAY) return null;
  // the elements lie in [start + 1, end)
  const elements: unknown[] = [];
  const each = opts.each ?? null;
  let count = 0;
  let taskStart = performance.now();
  for (let from = start + 1;;) {
    let part: unknown[] | null = null;
    let cut = from + pieceBytes < end ? nextComma(u, from + pieceBytes, end) : -1;
    for (let tries = 0; cut >= 0 && part === null; tries++) {
      if (tries === TRIES) return null;
      part = parsed(u, from, cut);
      if (part === null) cut = nextComma(u, cut + 1, end);
    }
    if (part === null) {
      cut = end; // the rest is the last piece
      part = parsed(u, from, end);
      if (part === null) return null;
    }
    // a piece of no element ("[ ,{}]" cut at its comma) is no list: only "[]" itself is empty
    if (part.length === 0 && !(cut === end && count === 0)) return null;
    count += part.length;
    if (each !== null) each(part);
    else for (let i = 0; i < part.length; i++) elements.push(part[i]);
    if (cut === end) return { elements, count, taskStart };
    from = cut + 1;
    if (performance.now() - taskStart > sliceMs) {
      await nextTurn();
      taskStart = performance.now();
    }
  }
}
