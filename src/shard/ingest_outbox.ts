/**
 * The parts of batches bound for one shard worker, as they are sent to it:
 *
 * - Small parts (at most `piece` readings) go together, at most `batch`
 *   readings a batch: an MQTT message carries one reading, and one worker
 *   message per reading (a structured clone, a reply, a turn of the
 *   worker's queue) cost the main thread more than the broker did. Parts
 *   handed in during one task of the event loop go as one batch; while
 *   `inflight` batches are in flight the next ones gather, and go when one
 *   is answered.
 * - A bigger part goes in pieces, so that the other streams' batches on
 *   that worker are taken between pieces: one piece at a time while the
 *   worker's cost is not known, then `piecesInFlight` (2) at a time, the
 *   next waiting in the worker while it takes one (else the worker waits a
 *   round trip to the main thread between pieces with nothing to do: idle
 *   time, docs/scaling.md "the idle time of two workers"). What a source's
 *   message waits for in the worker behind a big batch is at most those
 *   pieces, and in the worker's queue it goes before the pieces' readings
 *   not yet taken (src/service/ingest_queue.ts, PushOptions.yields). A
 *   piece is sized by time, not by a count: about `pieceMs` of
 *   the worker's work, from what a reading cost it lately (`cost`, which the
 *   worker sends with each reply: the lower quartile of its ingest queue's
 *   last 16 slices' means), between `minPiece` readings and `batch`; `piece` readings until
 *   the worker has measured; the last piece takes a rest smaller than
 *   `minPiece` (a 10-reading message at pieces of 8 goes whole, not as 8
 *   and 2). 64 readings of the default preset were 6 to 10
 *   ms of a worker here and ten times that on a Raspberry Pi
 *   (docs/scaling.md, "the sources' wait").
 *
 * Each part is answered on its own, with its own result, once the worker
 * took its readings; a worker takes its messages in order, so a stream's
 * readings keep theirs. While a big part goes in pieces, a later part with
 * a reading of one of its streams waits until the last piece is sent (and
 * so do the later parts of that part's streams), so it cannot overtake the
 * pieces still to go; the other streams' parts go between the pieces. And a
 * big part's first piece goes once the batches waiting when it came are
 * sent, so it cannot overtake an earlier part of its streams gathered whole
 * (whether a part goes in pieces depends on the worker's cost at the time).
 *
 * ```ts
 * const outbox = new IngestOutbox((readings, source) => host.ingest(...encode(readings), source));
 * const { accepted, rejected } = await outbox.add([reading], [0], "mqtt");
 * ```
 */
import type { Reading } from "../domain/reading.ts";
import type { IngestResult, Rejection, Source } from "../ingest/ingest_sink.ts";

/** Options of IngestOutbox; every field has the default it names. */
export interface IngestOutboxOptions {
  /**
   * Readings of a piece while the worker's cost a reading is not known (no
   * `cost`, or it answers NaN): a bigger part goes in pieces of this size.
   * Default 64.
   */
  piece?: number;
  /**
   * With `cost`: a piece is about this many ms of the worker's work (what a
   * source's message waits for behind it). Default 5.
   */
  pieceMs?: number;
  /**
   * Fewest readings of a piece sized by `pieceMs` (each costs the main thread
   * a message); the last piece of a part takes a rest smaller than this, and
   * a part that would leave one after its first piece goes whole, with the
   * small parts (within `batch`). Default 8.
   */
  minPiece?: number;
  /**
   * What a reading costs the worker lately, ms (NaN or none: not known yet);
   * read before each piece. Default none: pieces of `piece` readings.
   */
  cost?: () => number;
  /**
   * Most readings of small parts gathered in one batch, and of a piece
   * (at least `piece`). Default 256.
   */
  batch?: number;
  /**
   * Most batches in flight: 2 (the default) keeps one being taken and one
   * waiting in the worker, so the worker never waits for the main thread.
   */
  inflight?: number;
  /**
   * Pieces of a big part in flight at once once the worker's cost is known
   * (with `cost`): 2 (the default) keeps the next piece waiting in the
   * worker while it takes one, so it does not wait a round trip to the main
   * thread between pieces; a source's batch then waits behind up to this
   * many pieces. While the cost is not known, and without `cost`: 1.
   */
  piecesInFlight?: number;
}

/**
 * How a batch's readings are kept until it is sent: an array of them (the
 * default), or, for the sharded service, the batch encoded as they come
 * (reading_batch.ts's ReadingBatchBuilder: a waiting reading's objects are
 * then garbage at once, not kept alive while it waits).
 */
export interface Gather<B> {
  /** An empty batch. */
  start(): B;
  /** Adds `reading` after the batch's readings. */
  add(batch: B, reading: Reading): void;
}

/** The default Gather: the readings in an array. */
const ARRAYS: Gather<Reading[]> = {
  start: () => [],
  add: (batch, reading) => void batch.push(reading),
};

/** The defaults of IngestOutboxOptions. */
export const INGEST_OUTBOX_DEFAULTS = Object.freeze({
  piece: 64,
  pieceMs: 5,
  minPiece: 8,
  batch: 256,
  inflight: 2,
  piecesInFlight: 2,
});

/** A caller's part of a batch: readings [from, from + count) of it. */
interface Share {
  from: number;
  count: number;
  resolve(result: IngestResult): void;
  reject(e: unknown): void;
}

/** Parts of one source, sent together: `count` readings gathered in `readings`. */
interface Batch<B> {
  source: Source;
  readings: B;
  count: number;
  shares: Share[];
  /** Big parts handed in after it, waiting for it to be sent before their first piece. */
  then: (() => void)[] | null;
}

/** A part held until a big part of one of its streams has gone (see add()). */
interface Held {
  readings: readonly Reading[];
  at: readonly number[];
  source: Source;
  streams: readonly string[];
  resolve: (r: IngestResult) => void;
  reject: (e: unknown) => void;
}

/**
 * The streams of readings `at` of `readings`, each once, in order of first
 * reading. An array, walked by index: a Set's iterator and its results were
 * the main thread's garbage for every part while a big part went in pieces
 * (docs/scaling.md, "the main thread's CPU a reading, nineteenth round").
 */
function streamsOf(readings: readonly Reading[], at: readonly number[]): string[] {
  const ids: string[] = [];
  let seen: Set<string> | null = null;
  for (let k = 0; k < at.length; k++) {
    const id = readings[at[k]].stream;
    // (a message's readings are usually of one stream: no Set for those)
    if (ids.length === 1 && seen === null) {
      if (id === ids[0]) continue;
      seen = new Set(ids);
    }
    if (seen === null) ids.push(id);
    else if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}

/**
 * The outbox of one worker; see the module comment. `B` is what a batch's
 * readings are sent as (Gather; default an array of them).
 */
export class IngestOutbox<B = Reading[]> {
  readonly piece: number;
  readonly pieceMs: number;
  readonly minPiece: number;
  readonly batch: number;
  readonly inflight: number;
  readonly piecesInFlight: number;
  readonly #cost: (() => number) | null;
  readonly #send: (readings: B, source: Source, piece: boolean) => Promise<IngestResult>;
  readonly #gather: Gather<B>;
  /** Batches waiting to go, oldest first. */
  readonly #waiting: Batch<B>[] = [];
  #sent = 0;
  /** Pieces of big parts in flight. */
  #piecesOut = 0;
  #readings = 0;
  #flushQueued = false;
  /** The streams of the big parts going in pieces: how many such parts each has. */
  readonly #pieced = new Map<string, number>();
  /** Parts that share a stream with a big part going in pieces (or with a part held before them), in order. */
  readonly #held: Held[] = [];
  /** The streams of the parts held. */
  readonly #heldStreams = new Set<string>();

  /**
   * `send` hands a batch to the worker and resolves with how it went: every
   * reading taken or refused (its index in the batch), as Service.ingest does;
   * `piece` says it is a piece of a big part, which the worker's queue lets
   * later batches go before (the other streams', which never share a stream
   * with it: see add()).
   */
  constructor(
    send: (readings: B, source: Source, piece: boolean) => Promise<IngestResult>,
    options: IngestOutboxOptions & { gather?: Gather<B> } = {},
  ) {
    this.#send = send;
    this.#gather = options.gather ?? (ARRAYS as unknown as Gather<B>);
    this.piece = options.piece ?? INGEST_OUTBOX_DEFAULTS.piece;
    this.pieceMs = options.pieceMs ?? INGEST_OUTBOX_DEFAULTS.pieceMs;
    this.inflight = options.inflight ?? INGEST_OUTBOX_DEFAULTS.inflight;
    this.piecesInFlight = options.piecesInFlight ?? INGEST_OUTBOX_DEFAULTS.piecesInFlight;
    this.batch = options.batch ?? Math.max(this.piece, INGEST_OUTBOX_DEFAULTS.batch);
    this.minPiece = options.minPiece ?? Math.min(this.piece, INGEST_OUTBOX_DEFAULTS.minPiece);
    this.#cost = options.cost ?? null;
    if (!(this.pieceMs > 0)) {
      throw new RangeError(
        `Cannot create ingest outbox: pieceMs must be a positive number: current value is ${this.pieceMs}`,
      );
    }
    const checks = [
      ["piece", this.piece],
      ["minPiece", this.minPiece],
      ["inflight", this.inflight],
      ["piecesInFlight", this.piecesInFlight],
      ["batch", this.batch],
    ];
    for (const [name, v] of checks) {
      if (!Number.isSafeInteger(v) || (v as number) < 1) {
        throw new RangeError(
          `Cannot create ingest outbox: ${name} must be a positive integer: current value is ${v}`,
        );
      }
    }
    if (this.minPiece > this.piece) {
      throw new RangeError(
        `Cannot create ingest outbox: minPiece must be at most piece (${this.piece}): current value is ${this.minPiece}`,
      );
    }
    if (this.batch < this.piece) {
      throw new RangeError(
        `Cannot create ingest outbox: batch must be at least piece (${this.piece}): current value is ${this.batch}`,
      );
    }
  }

  /**
   * Readings of the next piece of a big part: about `pieceMs` of the
   * worker's work at its last cost a reading, within [minPiece, batch];
   * `piece` while the cost is not known.
   */
  pieceSize(): number {
    const ms = this.#cost?.() ?? NaN;
    if (!(ms > 0)) return this.piece;
    return Math.max(this.minPiece, Math.min(this.batch, Math.floor(this.pieceMs / ms)));
  }

  /**
   * Batches and pieces sent so far, by how many others were in flight to the
   * worker when each went ([k]: k others; the last entry: that many or
   * more): how often the worker had nothing more behind what it was taking.
   */
  readonly sentBehind: number[] = [0, 0, 0, 0];

  /** Counts a send in sentBehind. */
  #counted(): void {
    const k = this.#sent + this.#piecesOut;
    this.sentBehind[Math.min(k, this.sentBehind.length - 1)]++;
  }

  /** Batches and pieces sent and not yet answered, parts held: a trace's view (reading_trace.ts). */
  get inFlight(): { batches: number; pieces: number; held: number } {
    return { batches: this.#sent, pieces: this.#piecesOut, held: this.#held.length };
  }

  /** Readings handed in and not yet answered (waiting or in flight). */
  get length(): number {
    return this.#readings;
  }

  /**
   * Hands in readings `at` of `readings`; resolves with their result
   * (indices into `at`) once the worker took them, rejects with the
   * worker's error for their batch.
   */
  add(readings: readonly Reading[], at: readonly number[], source: Source): Promise<IngestResult> {
    if (this.#pieced.size > 0) {
      const streams = streamsOf(readings, at);
      if (this.#mustWait(streams)) {
        this.#readings += at.length;
        for (let k = 0; k < streams.length; k++) this.#heldStreams.add(streams[k]);
        return new Promise((resolve, reject) =>
          this.#held.push({ readings, at, source, streams, resolve, reject })
        );
      }
    }
    return this.#admit(readings, at, source);
  }

  /** Whether a part of `streams` must wait: a big part of one of them goes in pieces, or one is held. */
  #mustWait(streams: readonly string[]): boolean {
    for (let k = 0; k < streams.length; k++) {
      const id = streams[k];
      if (this.#pieced.has(id) || this.#heldStreams.has(id)) return true;
    }
    return false;
  }

  /** Once a big part's last piece is sent: the parts held that no longer must wait go, in order. */
  #release(): void {
    const held = this.#held.splice(0);
    this.#heldStreams.clear();
    for (let i = 0; i < held.length; i++) {
      const h = held[i];
      if (this.#mustWait(h.streams)) {
        this.#held.push(h);
        for (let k = 0; k < h.streams.length; k++) this.#heldStreams.add(h.streams[k]);
        continue;
      }
      this.#readings -= h.at.length;
      this.#admit(h.readings, h.at, h.source).then(h.resolve, h.reject);
    }
  }

  /** add() of a part that need not wait. */
  #admit(
    readings: readonly Reading[],
    at: readonly number[],
    source: Source,
  ): Promise<IngestResult> {
    const n = at.length;
    // a part goes in pieces when it makes two at least: its last piece takes a rest smaller than
    // minPiece (10 readings at pieces of 8 are one part, not 8 and 2: a message more to the
    // worker, a turn more of its queue, for 2 readings). (One reading, an MQTT message's, never
    // asks for the cost.)
    if (n > this.minPiece && (n - this.pieceSize() >= this.minPiece || n > this.batch)) {
      return this.#inPieces(readings, at, source);
    }
    let batch = this.#waiting.at(-1);
    if (batch === undefined || batch.source !== source || batch.count + n > this.batch) {
      this.#waiting.push(
        batch = { source, readings: this.#gather.start(), count: 0, shares: [], then: null },
      );
    }
    const from = batch.count;
    const gather = this.#gather;
    for (let i = 0; i < n; i++) gather.add(batch.readings, readings[at[i]]);
    batch.count += n;
    this.#readings += n;
    const shares = batch.shares;
    const done = new Promise<IngestResult>((resolve, reject) =>
      shares.push({ from, count: n, resolve, reject })
    );
    // the parts handed in during this task of the event loop go together
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => {
        this.#flushQueued = false;
        this.flush();
      });
    }
    return done;
  }

  /**
   * Sends a big part in pieces: one at a time while the worker's cost is not
   * known, then `piecesInFlight` at a time (the next piece waits in the
   * worker while it takes one).
   */
  async #inPieces(
    readings: readonly Reading[],
    at: readonly number[],
    source: Source,
  ): Promise<IngestResult> {
    const out: IngestResult = { accepted: 0, rejected: [] };
    this.#readings += at.length;
    let left = at.length;
    // (before the first await: a part handed in after this one sees its streams)
    const streams = streamsOf(readings, at);
    for (let k = 0; k < streams.length; k++) {
      this.#pieced.set(streams[k], (this.#pieced.get(streams[k]) ?? 0) + 1);
    }
    // the batches waiting to go hold parts handed in before this one: they are sent first (a
    // stream's message gathered whole, waiting, must not be overtaken by its next one in pieces,
    // whose streams' later parts are held from here on)
    const before = this.#waiting.at(-1);
    if (before !== undefined) await new Promise<void>((go) => (before.then ??= []).push(go));
    /** The pieces sent and not yet answered, oldest first: where each starts, and its answer. */
    const sent: { from: number; n: number; answer: Promise<IngestResult> }[] = [];
    /** Takes the oldest piece's answer into `out`. */
    const take = async () => {
      const p = sent[0];
      let r: IngestResult;
      try {
        r = await p.answer;
      } finally {
        sent.shift();
        this.#piecesOut--;
      }
      this.#readings -= p.n;
      left -= p.n;
      out.accepted += r.accepted;
      for (const x of r.rejected) out.rejected.push({ ...x, index: p.from + x.index });
    };
    try {
      for (let from = 0; from < at.length;) {
        // sized again for each piece: the worker's cost a reading comes with each reply
        const size = this.pieceSize();
        let end = Math.min(at.length, from + size);
        // the last piece takes a rest smaller than minPiece (within `batch`)
        if (at.length - end < this.minPiece && at.length - from <= this.batch) end = at.length;
        const piece = this.#gather.start();
        for (let i = from; i < end; i++) this.#gather.add(piece, readings[at[i]]);
        this.#counted();
        this.#piecesOut++;
        let answer: Promise<IngestResult>;
        try {
          answer = this.#send(piece, source, true);
        } catch (e) {
          answer = Promise.reject(e);
        }
        // (a piece refused while an earlier one is awaited is not an unhandled rejection)
        answer.catch(() => {});
        sent.push({ from, n: end - from, answer });
        from = end;
        // a second piece only once the worker's cost is known: a cold worker's piece is
        // `piece` readings of unknown time
        const most = this.#cost !== null && this.#cost() > 0 ? this.piecesInFlight : 1;
        while (sent.length >= most || (sent.length > 0 && from >= at.length)) await take();
      }
    } finally {
      // a piece failed: the others in flight settle before the part's streams are let go
      while (sent.length > 0) await take().catch(() => {});
      this.#readings -= left;
      for (let j = 0; j < streams.length; j++) {
        const id = streams[j];
        const k = this.#pieced.get(id)! - 1;
        if (k === 0) this.#pieced.delete(id);
        else this.#pieced.set(id, k);
      }
      this.#release();
    }
    return out;
  }

  /** Sends the waiting batches while fewer than `inflight` are in flight (`all`: every one). */
  flush(all = false): void {
    while (this.#waiting.length > 0 && (all || this.#sent < this.inflight)) {
      const batch = this.#waiting.shift()!;
      this.#counted();
      this.#sent++;
      let sent: Promise<IngestResult>;
      try {
        sent = this.#send(batch.readings, batch.source, false);
      } catch (e) {
        sent = Promise.reject(e);
      }
      // the big parts that waited for it: their first pieces go after it
      if (batch.then !== null) { for (const go of batch.then) go(); }
      sent.then(
        (r) => settleShares(batch.shares, r),
        (e) => {
          for (const s of batch.shares) s.reject(e);
        },
      ).finally(() => {
        this.#readings -= batch.count;
        this.#sent--;
        this.flush();
      });
    }
  }
}

/**
 * Hands each share of a batch its own result: its rejections (indices made
 * relative to the share) and the rest of its readings as accepted (the
 * service takes or refuses every reading of a batch, in order).
 */
function settleShares(shares: readonly Share[], r: IngestResult): void {
  const all = r.rejected.length > 1
    ? [...r.rejected].sort((a, b) => a.index - b.index)
    : r.rejected;
  let k = 0;
  for (const s of shares) {
    const rejected: Rejection[] = [];
    while (k < all.length && all[k].index < s.from + s.count) {
      const x = all[k++];
      rejected.push({ ...x, index: x.index - s.from });
    }
    s.resolve({ accepted: s.count - rejected.length, rejected });
  }
}
