/**
 * The reading objects of a batch (a JSON array, or its `readings`) read into
 * readings, in order, in slices or piece by piece: parse.ts's core for a
 * batch, apart so that each part has a file of its own.
 *
 * - readElements(): from an index until the end or a deadline; throws the
 *   first bad element's error, naming its index in the message.
 * - PieceReader: the elements of each piece of a big array as
 *   json_array_pieces.ts parses it (see the class).
 */
import type { Reading } from "../domain/reading.ts";
import { fastReading } from "./fast_reading.ts";
import { IngestError } from "./ingest_error.ts";
import { readingObject, type Scope } from "./reading_object.ts";
import { isSenmlPack } from "./senml.ts";

/** What a parse was told (parse.ts's options, their defaults applied). */
export interface Settings {
  receivedAt: number;
  maxBatch: number;
  maxFutureMs: number;
  fastPath: boolean;
}

/** The elements of a batch, where they are (`readings` or ""), and whether it may be SenML. */
export interface Batch {
  array: unknown[];
  prefix: string;
  senmlAllowed: boolean;
}

/**
 * The readings of a top-level JSON array read piece by piece as
 * jsonArrayInPieces() parses it (`take`), in the same slice: each piece's
 * JSON objects are garbage once its readings are made, instead of all of
 * them living beside all the readings until the whole array is parsed (the
 * collector copied both, once or twice, in the main thread's scavenges:
 * docs/scaling.md, "the main thread's intake of a big batch, twentieth round").
 *
 * The result is parsePayload()'s: the same readings, or the same error. An
 * error is only given once the whole array is known to be JSON (when a
 * later piece is not, the caller parses the payload whole, and that names
 * the error), and in the synchronous parser's order: too many elements
 * before a bad element (isPack). A SenML pack (its base fields run from
 * record to record) and an empty array are left to the common path: their
 * elements are kept (`kept`).
 */
export class PieceReader {
  readonly #scope: Scope;
  readonly #set: Settings;
  readonly #readings: Reading[] = [];
  #count = 0;
  /** The first bad element's error (reading stops there). */
  #error: IngestError | null = null;
  /** The elements, kept whole when the array is a SenML pack; else empty. */
  readonly kept: unknown[] = [];
  #pack = false;

  constructor(scope: Scope, set: Settings) {
    this.#scope = scope;
    this.#set = set;
  }

  /** Reads the next piece's elements. */
  take(part: unknown[]): void {
    const base = this.#count;
    this.#count += part.length;
    if (base === 0 && isSenmlPack(part)) this.#pack = true;
    if (this.#pack) {
      for (let i = 0; i < part.length; i++) this.kept.push(part[i]);
      return;
    }
    if (this.#error !== null || this.#count > this.#set.maxBatch) return; // refused whatever comes
    const batch = { array: part, prefix: "", senmlAllowed: true };
    try {
      readElements(batch, this.#scope, this.#set, this.#readings, 0, Infinity, base);
    } catch (e) {
      if (!(e instanceof IngestError)) throw e;
      this.#error = e;
    }
  }

  /**
   * Once every piece of the `count` elements is taken: the readings, or null
   * when the common path reads `kept` (a pack, or no element); throws the
   * batch's IngestError.
   */
  finish(count: number): Reading[] | null {
    if (this.#pack || count === 0) return null;
    checkSize(count, "", this.#set);
    if (this.#error !== null) throw this.#error;
    return this.#readings;
  }
}

/** Refuses a batch of more than `maxBatch` elements (too_many). */
export function checkSize(length: number, prefix: string, set: Settings): void {
  if (length > set.maxBatch) {
    throw new IngestError(
      "too_many",
      prefix,
      `must hold at most ${set.maxBatch} elements`,
      `${length} elements`,
    );
  }
}

/**
 * Reads the batch's reading objects from index `from` into `out`, in order,
 * until the end or until `deadline` (performance.now() ms, looked at every
 * 64 elements); returns the index to go on from. Throws the first bad
 * element's IngestError, naming its index in the message (`base` + its
 * index in `batch.array`, a piece of the message's array).
 */
export function readElements(
  batch: Batch,
  scope: Scope,
  set: Settings,
  out: Reading[],
  from: number,
  deadline: number,
  base = 0,
): number {
  const { array, prefix } = batch;
  const { receivedAt, maxFutureMs, fastPath } = set;
  for (let i = from; i < array.length; i++) {
    const el = array[i];
    out.push(
      (fastPath ? fastReading(el, scope, receivedAt, maxFutureMs) : null) ??
        readingObject(el, `${prefix}[${base + i}]`, scope, set),
    );
    if ((i & 63) === 63 && performance.now() >= deadline) return i + 1;
  }
  return array.length;
}
