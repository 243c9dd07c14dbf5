/**
 * The trace of a reading's way to its shard worker and back, hop by hop, for
 * the streams named by `--trace-stream` (off by default: no stream traced, a
 * null check an ingest). Each batch sent to a worker with a traced stream's
 * reading is logged once its reply is back on the main thread, as a
 * `reading.trace` event:
 *
 * - `enteredAt`: the source handed the reading to the service (the main
 *   thread's receipt, after the broker or the WebSocket parsed it);
 * - `sentAt`: its batch was posted to the worker, and what was then in
 *   flight to that worker (`ahead`: batches and pieces of big parts, the
 *   readings of both) and held in its outbox;
 * - the worker's hops ({@link WorkerHops}): its receipt of the message, the
 *   readings then waiting in its ingest queue, when the queue came to the
 *   batch's first reading, when the batch was done, the reply posted;
 * - `receivedAt`: the main thread took the reply (then the source answers:
 *   the PUBACK, the WebSocket's reply).
 *
 * Times are wall-clock ms with performance.now()'s fraction
 * (`performance.timeOrigin + performance.now()`, the one clock every thread
 * reads alike), so a bench can put them beside its own send and answer
 * times and beside each thread's CPU time. `hops` gives the differences, ms.
 *
 * A read of a traced stream through its worker (summary, forecast,
 * crossing, recent) is logged the same way once answered, as a `read.trace`
 * event: when the service was called on the main thread (after the HTTP
 * request was read, routed and checked), the worker's receipt of the call,
 * the readings then in its ingest queue, when its answer was made and
 * posted ({@link ReadHops}), and the main thread's receipt of the answer
 * (then the route writes its JSON).
 * bench/scale.ts `--part=healthz --trace=true` traces its MQTT and
 * WebSocket readers' streams; docs/scaling.md "the hops of a reader's
 * reading".
 */
import type { Reading } from "../domain/reading.ts";
import type { Logger } from "../log.ts";
import type { Source } from "../ingest/ingest_sink.ts";
import type { ReadingBatch } from "./reading_batch.ts";

/** Wall-clock ms now, with performance.now()'s fraction (alike in every thread). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** A traced batch's hops in its worker (the reply carries them). */
export interface WorkerHops {
  /** The worker's receipt of the batch (its message handler ran). */
  receivedAt: number;
  /** Readings waiting in its ingest queue then (pieces and other batches ahead). */
  queued: number;
  /** When the queue came to the batch's first reading; NaN if it never did (refused). */
  startedAt: number;
  /** When every reading of the batch was taken. */
  doneAt: number;
  /** When the reply was posted. */
  repliedAt: number;
  /** What a reading cost the worker lately, ms (its Service's msPerReading). */
  costMs: number;
  /** Streams checkpointed by the worker while the batch was in it. */
  checkpoints: number;
}

/** A traced read's hops in its worker (the reply carries them). */
export interface ReadHops {
  /** The worker's receipt of the call (its message handler ran). */
  receivedAt: number;
  /** Readings waiting in its ingest queue then (the read does not wait for them). */
  queued: number;
  /** When the answer was made (the forecast computed, the summary read). */
  doneAt: number;
  /** When the reply was posted. */
  repliedAt: number;
}

/** What the outbox had in flight to the worker as a traced batch was posted (itself included). */
export interface InFlight {
  /** Batches of small parts, this one included when it is one. */
  batches: number;
  /** Pieces of big parts. */
  pieces: number;
  /** Readings sent to the worker and not yet answered, before this batch. */
  readings: number;
  /** Parts held in the outbox behind a big part of one of their streams. */
  held: number;
}

/** A traced batch on its way: what the main thread knew as it posted it. */
export interface TraceStart {
  worker: number;
  source: Source;
  readings: number;
  /** The traced streams' readings of the batch: the first of each, by its time. */
  traced: { stream: string; ts: number; enteredAt: number }[];
  sentAt: number;
  ahead: InFlight;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The tracer of the main thread; see the module comment. */
export class ReadingTracer {
  readonly #streams: ReadonlySet<string>;
  readonly #log: Logger;
  /** When each traced stream's newest reading was handed in. */
  readonly #entered = new Map<string, number>();

  constructor(streams: readonly string[], log: Logger) {
    this.#streams = new Set(streams);
    this.#log = log;
  }

  /** Whether stream `id` is traced. */
  traces(id: string): boolean {
    return this.#streams.has(id);
  }

  /**
   * A traced read of stream `stream` answered: logs `read.trace` (`calledAt`: the service was
   * called on the main thread; `hops`: the worker's part; `receivedAt`: the main thread took
   * the answer).
   */
  read(
    stream: string,
    method: string,
    worker: number,
    calledAt: number,
    hops: ReadHops | undefined,
    receivedAt = wallMs(),
  ): void {
    this.#log.info(
      "read.trace",
      readTraceRecord(stream, method, worker, calledAt, hops, receivedAt),
    );
  }

  /** Notes when the traced streams' readings of `readings` were handed in. */
  entered(readings: readonly Reading[]): void {
    let now = NaN;
    for (const r of readings) {
      if (!this.#streams.has(r.stream)) continue;
      if (Number.isNaN(now)) now = wallMs();
      this.#entered.set(r.stream, now);
    }
  }

  /**
   * A batch about to be posted to worker `worker`: its trace's start if it
   * holds a traced stream's reading, else null. `ahead` is asked only then.
   */
  start(
    batch: ReadingBatch,
    worker: number,
    source: Source,
    ahead: () => InFlight,
  ): TraceStart | null {
    let traced: TraceStart["traced"] | null = null;
    const n = batch.ts.length;
    for (let i = 0; i < n; i++) {
      const stream = batch.streams[batch.stream[i]];
      if (!this.#streams.has(stream)) continue;
      traced ??= [];
      if (traced.some((t) => t.stream === stream)) continue;
      traced.push({ stream, ts: batch.ts[i], enteredAt: this.#entered.get(stream) ?? NaN });
    }
    if (traced === null) return null;
    return { worker, source, readings: n, traced, sentAt: wallMs(), ahead: ahead() };
  }

  /** The reply of a traced batch came back (`hops`: the worker's part): logs `reading.trace`. */
  finish(start: TraceStart, hops: WorkerHops | undefined, receivedAt = wallMs()): void {
    this.#log.info("reading.trace", traceRecord(start, hops, receivedAt));
  }
}

/** The `reading.trace` event's fields: the times, and each hop in ms. */
export function traceRecord(start: TraceStart, w: WorkerHops | undefined, receivedAt: number) {
  const entered = Math.min(...start.traced.map((t) => t.enteredAt));
  const d = (a: number, b: number) => round2(b - a);
  return {
    ...start,
    receivedAt,
    inWorker: w ?? null,
    hops: {
      /** the source's hand-in to the post: the outbox gathering or holding it */
      outbox: d(entered, start.sentAt),
      /** the post to the worker's handler: the message crossing, the worker's slice under way */
      toWorker: w ? d(start.sentAt, w.receivedAt) : null,
      /** the queue's readings ahead of it (pieces, other batches) and what came between */
      queue: w ? d(w.receivedAt, w.startedAt) : null,
      /** its own readings, a new stream's record written to KV, and the rest of the queue's
       * slice under way (a batch is answered once the slice's task ends) */
      take: w ? d(Number.isNaN(w.startedAt) ? w.receivedAt : w.startedAt, w.doneAt) : null,
      /** the reply made and posted */
      reply: w ? d(w.doneAt, w.repliedAt) : null,
      /** the reply crossing, the main thread's task under way */
      toMain: w ? d(w.repliedAt, receivedAt) : null,
      total: d(entered, receivedAt),
    },
  };
}

/** The `read.trace` event's fields: the times, and each hop in ms. */
export function readTraceRecord(
  stream: string,
  method: string,
  worker: number,
  calledAt: number,
  w: ReadHops | undefined,
  receivedAt: number,
) {
  const d = (a: number, b: number) => round2(b - a);
  return {
    stream,
    method,
    worker,
    calledAt,
    receivedAt,
    inWorker: w ?? null,
    hops: {
      /** the call posted to the worker's handler: the slice or save under way, a core */
      toWorker: w ? d(calledAt, w.receivedAt) : null,
      /** the answer made (the forecast computed) */
      compute: w ? d(w.receivedAt, w.doneAt) : null,
      /** the reply made and posted */
      reply: w ? d(w.doneAt, w.repliedAt) : null,
      /** the reply crossing, the main thread's task under way */
      toMain: w ? d(w.repliedAt, receivedAt) : null,
      total: d(calledAt, receivedAt),
    },
  };
}
