/**
 * The messages between the main thread and a shard worker. The main thread
 * sends `init` once, then `ingest` batches and `call`s, each with an id that
 * its `reply` repeats; the worker also sends, unasked, the alert events its
 * streams raise (`alert`), every change of a stream's record (`record`) and
 * its counters once a second, with its streams' accuracy every 5 s
 * (`stats`). Messages on one channel arrive in the order sent: an alert or
 * a record change sent while a batch was taken arrives before that batch's
 * reply. A worker also sends its counters after each batch of a checkpoint
 * save is in KV, so the main thread knows how far a final save got.
 */
import type { AlertEvent } from "../domain/alert.ts";
import type { LogFormat, LogLevel } from "../log.ts";
import type { IngestResult, Source } from "../ingest/ingest_sink.ts";
import type { HorizonColumns } from "./horizon_columns.ts";
import type {
  ServiceErrorKind,
  ServiceOptions,
  StreamForecast,
  StreamRecord,
} from "../service/service.ts";
import type { EngineCounters } from "../stream/engine.ts";
import type { ReadingBatch } from "./reading_batch.ts";
import type { KernelKind } from "../model/kernels.ts";
import type { PackedStats } from "./packed_stats.ts";
import type { ReadHops, WorkerHops } from "./reading_trace.ts";

/** The service methods a `call` may name. */
export type ShardMethod =
  | "summary"
  | "put"
  | "delete"
  | "forecast"
  | "crossing"
  | "recent"
  | "checkpoint"
  | "close";

/** What a worker needs to start. */
export interface ShardInit {
  type: "init";
  /** This worker's shard, and how many there are. */
  index: number;
  count: number;
  /** The Deno KV file (or KV Connect URL) every worker opens. */
  kvPath: string;
  options: ServiceOptions;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** The kernels this worker's networks run on: the main thread's choice. */
  kernels: KernelKind;
  /**
   * How many nice levels below the main thread the worker's thread runs
   * (src/shard/lower_thread_priority.ts); 0 leaves it as it is.
   */
  nice: number;
  /**
   * The daemon's stream count, shared: [0] all streams, [1 + i] those of
   * worker i (so a worker that dies can be taken out of the total).
   */
  streamCount: SharedArrayBuffer;
  /**
   * Calls posted to each worker and not yet taken, shared ([i]: worker i's; Int32): the main
   * thread adds one before it posts a call (or a small batch while pieces of a big part are in
   * flight to the worker: an ingest's `counted`), the worker takes it off as its handler runs;
   * while it is above 0 the worker's slices end after the item under way (src/async/next_turn.ts
   * turnWanted), so a read or a source's small batch waits for that item, not for the rest of a
   * slice (its batch then goes before the pieces in the worker's queue).
   */
  waitingCalls: SharedArrayBuffer;
}

/** Main thread to worker. */
export type ToShard =
  | ShardInit
  /**
   * `piece`: a piece of a big part, which later batches of other streams may go before
   * (src/service/ingest_queue.ts PushOptions.yields); `counted`: counted in
   * ShardInit.waitingCalls (a batch that is not a piece, posted while pieces are in flight to
   * the worker), which the worker takes off as its handler runs; `trace`: the worker replies
   * with the batch's hops (src/shard/reading_trace.ts).
   */
  | {
    type: "ingest";
    id: number;
    source: Source;
    batch: ReadingBatch;
    piece?: true;
    counted?: true;
    trace?: true;
  }
  /**
   * `trace`: the worker replies with the call's hops (a traced stream's read: reading_trace.ts).
   * `keep` (a forecast call): the main thread keeps the stream's forecast; the worker sends it
   * (`forecast`) at once and after every change, before the reply that follows the change,
   * until KEEP_MS go by without such a call (src/shard/kept_forecasts.ts).
   */
  | { type: "call"; id: number; method: ShardMethod; args: unknown[]; trace?: true; keep?: true }
  /** Fault injection for the tests: the worker throws out of its event loop. */
  | { type: "crash" };

/** A worker's counters (they cross packed: src/shard/packed_stats.ts). */
export interface ShardStats {
  counters: {
    readings: Record<Source, number>;
    checkpoints: number;
    checkpointFailures: number;
    checkpointCommits: number;
    readingsBeyondLossBound: number;
    trainingShed: number;
    trainingCaughtUp: number;
    /**
     * When the oldest change not yet in a saved checkpoint was made (ms), or
     * null when every change is saved (the main thread then reads its own
     * now: a time of the worker's, up to a second old, would read as age).
     */
    checkpointedAt: number | null;
  };
  /** Streams with changes not yet in a saved checkpoint. */
  unsavedStreams: number;
  /** Refused readings by reason, the service's and the engine's. */
  rejects: Record<string, number>;
  learning: Omit<EngineCounters, "rejects">;
  queued: number;
  /**
   * How long the worker has had no batch of readings to take since it
   * started, ms (a wait under way counted up to when the counters were
   * packed): its idle time, whatever the main thread had for it.
   */
  idleMs: number;
}

/** A refusal as it crosses (a ServiceError loses its class in a structured clone). */
export interface ShardError {
  name: string;
  message: string;
  kind?: ServiceErrorKind;
  reason?: string;
}

/** Worker to main thread. */
export type FromShard =
  | {
    type: "ready";
    records: StreamRecord[];
    /** The time of each stream's newest reading, ms (absent: none yet). */
    last: Record<string, number>;
    stats: PackedStats;
  }
  | {
    type: "reply";
    id: number;
    value?: unknown;
    error?: ShardError;
    /**
     * For an ingest: the newest reading time (ms) of each stream of the
     * batch, in the order of its `streams`; NaN: none.
     */
    last?: Float64Array;
    /**
     * For an ingest: what taking a reading cost the worker lately, ms (its
     * Service's msPerReading; NaN before any): what pieces are sized by.
     */
    cost?: number;
    /** For a traced ingest or call: its hops in the worker (src/shard/reading_trace.ts). */
    trace?: WorkerHops | ReadHops;
    stats: PackedStats;
  }
  | { type: "alert"; event: AlertEvent }
  | { type: "record"; id: string; record: StreamRecord | null }
  /**
   * A kept stream's forecast (every step of its horizon) as it is now, or null: no longer kept
   * (or no forecast to keep: no reading yet, the stream deleted). See src/shard/kept_forecasts.ts.
   */
  | { type: "forecast"; id: string; value: StreamForecast | null }
  /** `horizons`: every stream's accuracy, in columns, every 5th time (null the others). */
  | { type: "stats"; stats: PackedStats; horizons: HorizonColumns | null }
  | { type: "failed"; error: ShardError };

/** The result of an ingest, as the reply's value. */
export type ShardIngestResult = IngestResult;
