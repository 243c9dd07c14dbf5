/**
 * The application as the adapters and the wiring use it, met by both of its
 * forms: `Service` (every stream on the calling thread) and the sharded
 * service of src/shard/ (streams spread over workers). A read of one stream
 * may answer at once or later (`Awaitable`): a sharded one asks the stream's
 * worker. What the main thread keeps itself (the stream records, the
 * counters) is read at once in both.
 */
import type { AlertSource } from "../alerts/alert_source.ts";
import type { StoredAlert } from "../domain/alert.ts";
import type { IngestSink } from "../ingest/ingest_sink.ts";
import type { EngineCounters } from "../stream/engine.ts";
import type { HorizonStats } from "../stream/stream.ts";
import type { RecentQuery } from "./recent_readings.ts";
import type { RejectEntry } from "./recent_rejects.ts";
import type { ServiceCounters } from "./service_counters.ts";
import type { StreamRecent, StreamRecord, StreamSpec } from "./stream_record.ts";
import type { Crossing, StreamForecast, StreamSummary } from "./stream_views.ts";

/** A value now, or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** One stream's accuracy by horizon, for the metrics. */
export interface StreamHorizonStats {
  stream: string;
  horizons: readonly HorizonStats[];
}

/**
 * Every stream's accuracy by horizon in columns, the blend's numbers only:
 * what /metrics exports of {@link StreamHorizonStats} without an object per
 * stream and horizon (a shard worker sends its streams so, in id order:
 * src/shard/horizon_columns.ts).
 */
export interface HorizonColumns {
  streams: string[];
  /** Horizons of each stream, in stream order. */
  counts: Int32Array;
  /** (Σ counts, 5): horizon, scored, blend MSE, blend skill, coverage. */
  values: Float64Array;
}

/** The application's face; see the module comment. */
export interface Application extends AlertSource, IngestSink {
  /** The streams' records, by id. */
  readonly records: ReadonlyMap<string, StreamRecord>;
  /** Counters for /metrics. */
  readonly counters: ServiceCounters;
  /** What the models did (readings scored and learned from, time spent, recoveries). */
  readonly learning: Readonly<Omit<EngineCounters, "rejects">>;
  /** Readings waiting to be taken. */
  readonly queued: number;
  /** Streams with changes not yet in a saved checkpoint (a stop now would lose of these). */
  readonly unsavedStreams: number;
  /** Restores every stream from the store; once, before serving. */
  load(): Promise<void>;
  /** Starts the timers (periodic checkpoints). */
  start(): void;
  /** Refuses new readings, takes what may still be taken, saves every stream; see Service.close. */
  close(): Promise<boolean>;
  /** Saves every changed stream now; resolves with whether all were saved. */
  checkpoint(): Promise<boolean>;
  summary(id: string): Awaitable<StreamSummary>;
  put(id: string, spec: StreamSpec): Promise<StreamSummary>;
  delete(id: string): Promise<boolean>;
  forecast(id: string, horizon?: number): Awaitable<StreamForecast>;
  crossing(
    id: string,
    target: string,
    x: number,
    direction: "above" | "below",
  ): Awaitable<Crossing>;
  recent(id: string, query?: RecentQuery): Awaitable<StreamRecent>;
  /** The time of stream `id`'s newest reading (ms), or null: unknown stream, or no reading yet. */
  lastReading(id: string): number | null;
  /** Rejected readings by reason, from the sources, the service and the engine. */
  rejects(): Record<string, number>;
  /** The last refusals of each source, newest first. */
  lastRejects(): { capacity: number; sources: Record<string, RejectEntry[]> };
  /** Every stream's accuracy by horizon, in id order (the order of /metrics). */
  horizonStats(): Iterable<StreamHorizonStats>;
  /**
   * The same as columns, each list in id order and the lists' streams
   * disjoint (a sharded service's: one list a worker, as last sent), or
   * undefined where there are none (a Service reads its streams as a scrape
   * reaches them).
   */
  horizonColumns?(): readonly HorizonColumns[];
  alert(id: string): Promise<StoredAlert>;
  acknowledge(id: string): Promise<StoredAlert>;
  /** Resolves when every alert raised so far is stored and fanned out. */
  flushAlerts(): Promise<void>;
}
