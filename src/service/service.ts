/**
 * The daemon's core, between the sources and the API: streams created on
 * their first reading or through the API, every reading through one queue
 * into the engine, alerts stored in batches then fanned out, checkpoints
 * batched into Deno KV. No sockets here: sources and the HTTP API call it,
 * main.ts wires them.
 *
 * - Readings: `ingest()` hands a batch to the IngestQueue, which works in
 *   slices of `sliceMs` and yields to the event loop between them, so
 *   readers are answered whatever comes in. It resolves once every reading
 *   is taken: an acknowledgement (HTTP 200, MQTT PUBACK) means the reading
 *   is in its model, and the final checkpoint at shutdown holds it.
 * - Overload: when batches have waited more than `shedAfterMs`, readings are
 *   still scored, forecast from and alerted on at once, but their learning
 *   is shed (counted); once the queue is empty again, idle time pays the
 *   LSTM updates a stream owes (at most one window of them).
 * - Checkpoints: see CheckpointScheduler (the crash-loss bound of
 *   `checkpointEvery` readings per stream, retries with back-off, one save
 *   of many streams in few commits). A save never rejects and never stops
 *   the daemon.
 * - New streams: a stream's record is stored soon after it is created, many
 *   per commit (RecordWriter), and a batch that created a stream is answered
 *   once its record is in KV: a stream acknowledged once comes back after
 *   any stop, empty if it was never checkpointed.
 *
 * Longer than 500 lines: each concern above lives in its own file (queue,
 * shedder, scheduler, record writer, alert writer, registry); what is left
 * here is their wiring, in the order a reading, a stream's life and the
 * shutdown go through them, which reads best in one place.
 */
import { createLogger, type Logger } from "../log.ts";
import type { Reading } from "../domain/reading.ts";
import type { Store } from "../store/store.ts";
import { Engine, type EngineCounters } from "../stream/engine.ts";
import type { Application, StreamHorizonStats } from "./application.ts";
import { ReadingError, type StreamModel } from "../stream/stream.ts";
import type { AlertEvent, StoredAlert } from "../domain/alert.ts";
import type { AlertFilter, AlertSource, AlertSubscriber } from "../alerts/alert_source.ts";
import type {
  IngestResult,
  IngestSink,
  Refusal,
  Rejection,
  Source,
} from "../ingest/ingest_sink.ts";
import { AlertHub } from "./alert_hub.ts";
import { AlertHistory, storedAlert } from "./alert_history.ts";
import type { ScratchStore, ServiceDeps } from "./service_deps.ts";
import { RecentRejects, type RejectEntry } from "./recent_rejects.ts";
import { type RecentQuery, RecentReadings } from "./recent_readings.ts";
import { readOneStep } from "../stream/read_models.ts";
import { AlertWriter } from "./alert_writer.ts";
import { CheckpointScheduler } from "./checkpoint_scheduler.ts";
import { RecordWriter } from "./record_writer.ts";
import { IngestQueue, type PushOptions, QueueFullError } from "./ingest_queue.ts";
import { TrainingShedder } from "./training_shedder.ts";
import { ReadingRows } from "./reading_rows.ts";
import { newCounters, type ServiceCounters } from "./service_counters.ts";
import { ServiceError } from "./service_error.ts";
import { resolveServiceOptions, type ServiceOptions } from "./service_options.ts";
import type { StreamRecent, StreamRecord, StreamSpec } from "./stream_record.ts";
import { StreamRegistry } from "./stream_registry.ts";
import type { Crossing, StreamForecast, StreamSummary } from "./stream_views.ts";
import { logObservation } from "./observation_log.ts";
import {
  SERVICE_WARM_UP_CLOSE_MS,
  SERVICE_WARM_UP_DEFAULTS,
  SERVICE_WARM_UP_MIN_MS,
  WARM_UP_COPIES,
  warmUp,
  warmUpService,
} from "./warm_up.ts";

export type { Crossing, HorizonAccuracy, StreamForecast, StreamSummary } from "./stream_views.ts";
export { MAX_FUTURE_MS } from "./stream_record.ts";
export type { StreamRecent, StreamRecord, StreamSpec } from "./stream_record.ts";
export { ServiceError, type ServiceErrorKind } from "./service_error.ts";
export type { ServiceCounters } from "./service_counters.ts";
export { resolveServiceOptions, SERVICE_DEFAULTS, type ServiceOptions } from "./service_options.ts";
export type { ServiceDeps } from "./service_deps.ts";
export { storedAlert } from "./alert_history.ts";

export type { IngestResult, Refusal, RejectEntry, Rejection, Source };

/** How one batch of readings went, as the queue works through it. */
interface BatchResult extends IngestResult {
  source: Source;
  /** Whether a reading went to a stream whose record is not yet in KV. */
  unstored: boolean;
}

/** The daemon's core: the ingest sink of the sources, the alert source of the channels. */
export class Service implements Application, AlertSource, IngestSink {
  readonly hub = new AlertHub();
  /** The models, one per stream. */
  readonly engine: Engine;
  /** The streams' records, by id. */
  readonly records: Map<string, StreamRecord>;
  /** See {@link ServiceCounters.checkpointedAt}; set in the constructor. */
  readonly #checkpointedAt = () => this.#checkpoints.oldestUnsaved() ?? this.#now();
  readonly counters: ServiceCounters = newCounters(() => this.#checkpointedAt());
  readonly #options: Required<ServiceOptions>;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #checkpoints: CheckpointScheduler;
  readonly #newRecords: RecordWriter;
  readonly #queue: IngestQueue<Reading, BatchResult>;
  readonly #alerts: AlertWriter;
  readonly #registry: StreamRegistry;
  readonly #rows = new ReadingRows();
  /** The last refusals of each source, for GET /v1/rejects. */
  readonly #refusals = new RecentRejects();
  /** The last readings of each stream with the forecasts made for them; null when none are kept. */
  readonly #recent: RecentReadings | null;
  /** The one-step forecast made for the reading being taken (readOneStep), 3 per target. */
  #oneStep = new Float64Array(3);
  readonly #shedder: TrainingShedder;
  readonly #history: AlertHistory;
  readonly #watch: (id: string, record: StreamRecord | null) => void;
  /** Opens the warm-up's scratch service's store (ServiceDeps.scratchStore), or null. */
  readonly #scratchStore: (() => Promise<ScratchStore>) | null;
  #closing = false;
  /** Readings the last load()'s warm-up fed to scratch streams (src/service/warm_up.ts). */
  warmUpReadings = 0;
  /**
   * Readings the last load()'s warm-up fed through a scratch service's own
   * path (warmUpService in src/service/warm_up.ts).
   */
  warmUpServiceReadings = 0;

  constructor(deps: ServiceDeps) {
    this.#options = resolveServiceOptions(deps.options);
    this.#recent = this.#options.recentReadings > 0
      ? new RecentReadings({ capacity: this.#options.recentReadings })
      : null;
    this.#store = deps.store;
    this.#history = new AlertHistory(deps.store, deps.now ?? Date.now);
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    const o = this.#options;
    this.#registry = new StreamRegistry({
      store: deps.store,
      log: deps.log,
      options: o,
      now: this.#now,
      room: deps.room,
      release: deps.release,
    });
    this.#watch = deps.watch ?? (() => {});
    this.#scratchStore = deps.scratchStore ?? null;
    this.engine = this.#registry.engine;
    this.records = this.#registry.records;
    const retry = { minMs: o.retryMs, maxMs: Math.max(o.retryMs, 60_000) };
    this.#checkpoints = new CheckpointScheduler({
      store: deps.store,
      source: { snapshot: (id) => this.#snapshot(id) },
      log: deps.log,
      counters: this.counters,
      now: this.#now,
      saved: deps.saved,
    }, { every: o.checkpointEvery, seconds: o.checkpointSeconds, retry, sliceMs: o.sliceMs });
    this.#newRecords = new RecordWriter({
      store: deps.store,
      log: deps.log,
      record: (id) => {
        const rec = this.records.get(id);
        return rec ? { ...rec } : null;
      },
    }, { retry });
    this.#shedder = new TrainingShedder(this.counters, o.shedAfterMs);
    this.#queue = new IngestQueue<Reading, BatchResult>({
      apply: (r, index, result) => this.#take(r, index, result),
      gate: (r) => this.#checkpoints.full(r.stream) ? this.#checkpoints.room(r.stream) : null,
      // a stream at its checkpoint bound holds back its own readings, not the other streams'
      key: (r) => r.stream,
      idle: (deadline) =>
        !this.#closing && this.#shedder.catchUp(
          deadline,
          (id) => this.engine.get(id),
          (id) => this.#checkpoints.changed(id),
        ),
    }, { sliceMs: o.sliceMs, maxQueued: o.maxQueuedReadings });
    this.#alerts = new AlertWriter({
      store: deps.store,
      log: deps.log,
      counters: this.counters,
      publish: (record) =>
        this.hub.publish(
          storedAlert(record),
          (err) => this.#log.warn("alert.subscriber_failed", { error: err }),
        ),
    }, { retry });
    const raise = deps.raise ?? ((e: AlertEvent) => this.#alerts.push(e));
    this.engine.onAlert((e) => raise(this.#alertOf(e)));
  }

  /**
   * Restores every stream from the store whose id `owns` picks (default:
   * all; a shard worker picks its own); call once before serving (see
   * StreamRegistry.load: a checkpoint that cannot be restored starts its
   * stream fresh, saved anew at the next checkpoint).
   */
  async load(owns?: (id: string) => boolean): Promise<void> {
    // a stream that starts afresh has no checkpoint that restores: it goes first in the saves
    await this.#registry.load((id) => this.#checkpoints.created(id), owns);
    // each restored stream's recent-readings ring now, not in the first second of readings
    // after the restart (docs/scaling.md, "tenth round (startlate)")
    if (this.#recent) {
      for (const id of this.records.keys()) {
        const stream = this.engine.get(id);
        if (stream) this.#recent.reserve(id, stream.targets);
      }
    }
    // the per-reading code compiled now, on scratch streams, not in the first second of
    // readings (src/service/warm_up.ts); a warm-up that fails costs that, never the start
    const scratch = Array.from({ length: WARM_UP_COPIES }, () => new Engine());
    const o = this.#options;
    // #take's own part of a reading: the forecast kept beside it, in rings of the scratch's own
    const recent = scratch.map(() =>
      this.#recent ? new RecentReadings({ capacity: this.#recent.capacity }) : null
    );
    const started = performance.now();
    try {
      this.warmUpReadings = warmUp(this.engine.streams.values(), {
        twin: (s, copy) => this.#registry.twin(s, scratch[copy]),
        // a new daemon's workers: a new stream of the default preset
        newStream: o.warmUpNew ? (copy) => this.#registry.scratchStream(scratch[copy]) : null,
        observe: (s, ts, row, copy) => {
          try {
            if (recent[copy]) readOneStep(s, this.#made(s.J));
            const obs = scratch[copy].observe(s.id, ts, row);
            recent[copy]?.keep(s, ts, row, this.#oneStep, obs.gap);
          } catch (e) {
            if (!(e instanceof ReadingError)) throw e; // a refused reading: the next one goes on
          }
        },
        read: (s) => this.#registry.readScratch(s),
      }, { readings: o.warmUpReadings, maxMs: o.warmUpMs });
      // the service's own path (the queue, each reading's take, a checkpoint's save) on a
      // scratch service, in what is left of warmUpMs, when the scratch engines took readings;
      // its close (a save, the KV's close) after its maxMs, within the cap
      const left = Math.min(
        SERVICE_WARM_UP_DEFAULTS.maxMs + SERVICE_WARM_UP_CLOSE_MS,
        o.warmUpMs - (performance.now() - started),
      );
      if (this.#scratchStore && this.warmUpReadings > 0 && left >= SERVICE_WARM_UP_MIN_MS) {
        this.warmUpServiceReadings = await this.#warmUpService(
          this.#scratchStore,
          left - SERVICE_WARM_UP_CLOSE_MS,
        );
      }
    } catch (e) {
      this.#log.warn("streams.warm_up_failed", {
        error: e,
        action: "none: the first readings compile the code",
      });
    }
    this.#log.info("streams.loaded", {
      streams: this.records.size,
      warmUpReadings: this.warmUpReadings,
      warmUpServiceReadings: this.warmUpServiceReadings,
      warmUpMs: Math.round(performance.now() - started),
    });
  }

  /**
   * warmUpService (src/service/warm_up.ts) on a scratch Service of this one's
   * options over the store `open` opens (ServiceDeps.scratchStore), its log's lines and its
   * alerts dropped, closed after; at most `maxMs`. Returns the readings fed.
   */
  async #warmUpService(open: () => Promise<ScratchStore>, maxMs: number): Promise<number> {
    const opened = await open();
    try {
      const scratch = new Service({
        store: opened.store,
        log: createLogger({ level: this.#log.level, sink: () => {} }),
        options: { ...this.#options, warmUpReadings: 0, warmUpNew: false },
        raise: () => {},
      });
      try {
        return await warmUpService({
          ingest: (batch) => scratch.ingest(batch, "mqtt"),
          checkpoint: () => scratch.checkpoint(),
        }, { maxMs });
      } finally {
        await scratch.close();
      }
    } finally {
      opened.close();
    }
  }

  /**
   * Streams holding a ring of recent readings: those with readings kept, and
   * those restored by load(), whose rings it takes before their first reading.
   */
  get recentRings(): number {
    return this.#recent?.size ?? 0;
  }

  /** Starts the periodic checkpoint timer. */
  start(): void {
    this.#checkpoints.start();
  }

  #create(id: string, spec: StreamSpec & { columns: string[] }, fromReading = false): StreamModel {
    const stream = this.#registry.create(id, spec, fromReading);
    this.#checkpoints.created(id);
    this.#newRecords.add(id);
    this.#watch(id, this.records.get(id)!);
    return stream;
  }

  /**
   * Feeds readings to their streams, creating a stream on its first reading
   * (its value names become its columns), through the one queue of the
   * daemon. Resolves once every reading was taken or refused: a reading that
   * cannot be taken is counted by reason and reported; the others go on.
   * Rejects with an `unavailable` ServiceError when forecastd is shutting
   * down, or when an HTTP or WebSocket batch finds the queue full (MQTT and
   * the demo wait for each answer before they send more, so they are let in).
   * `how` (a shard worker's): whether later batches of other streams may go
   * before it (a piece of a big part), and a trace's callback as the queue
   * comes to its first reading (src/service/ingest_queue.ts PushOptions).
   */
  async ingest(
    readings: readonly Reading[],
    source: Source,
    how?: PushOptions,
  ): Promise<IngestResult> {
    if (this.#closing) {
      this.#count("shutting_down", readings.length);
      throw new ServiceError(
        "unavailable",
        `Cannot ingest readings: forecastd must be running: it is shutting down (current count is ${readings.length} readings refused)`,
      );
    }
    const result: BatchResult = { source, accepted: 0, rejected: [], unstored: false };
    try {
      await this.#queue.push(readings, result, source === "mqtt" || source === "demo", how);
    } catch (e) {
      if (!(e instanceof QueueFullError)) throw e;
      this.#count("queue_full", readings.length);
      throw new ServiceError("unavailable", e.message);
    }
    // a stream acknowledged is a stream that comes back after any stop: its record is in KV
    if (result.unstored) await this.#newRecords.stored();
    return { accepted: result.accepted, rejected: result.rejected };
  }

  /** Readings waiting in the queue now. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * What taking a reading cost lately, ms of wall time (the lower quartile
   * of the queue's last 16 slices' means; NaN before any): what a shard's
   * pieces are sized by (src/shard/ingest_outbox.ts).
   */
  get msPerReading(): number {
    return this.#queue.msPerItem;
  }

  /** #oneStep, with room for `targets` targets. */
  #made(targets: number): Float64Array {
    if (this.#oneStep.length < 3 * targets) this.#oneStep = new Float64Array(3 * targets);
    return this.#oneStep;
  }

  /** Takes one reading of a batch (the queue calls it, in order). */
  #take(r: Reading, index: number, result: BatchResult): void {
    try {
      let stream = this.engine.get(r.stream);
      if (!stream) stream = this.#create(r.stream, { columns: Object.keys(r.values) }, true);
      let row: Float64Array;
      try {
        row = this.#rows.of(stream, r);
      } catch (e) {
        this.reject("missing_value"); // the engine counts only what reaches it
        throw e;
      }
      // the forecast made for this reading, kept beside it for recent()
      if (this.#recent) readOneStep(stream, this.#made(stream.J));
      // overload (batches have waited too long): score now, learn later, or not; the closure
      // only then, not per reading
      const backlogMs = this.#queue.backlogMs();
      const obs = this.#shedder.sheds(stream, backlogMs)
        ? this.#shedder.take(
          r.stream,
          stream,
          backlogMs,
          () => this.engine.observe(r.stream, r.ts, row),
        )
        : this.engine.observe(r.stream, r.ts, row);
      if (this.#shedder.owes(r.stream, stream)) this.#queue.wake();
      this.#recent?.keep(stream, r.ts, row, this.#oneStep, obs.gap);
      logObservation(this.#log, r.stream, obs);
      if (obs.learned) this.records.get(r.stream)!.updatedAt = r.ts;
      this.#checkpoints.changed(r.stream, 1);
      if (this.#newRecords.unstored(r.stream)) result.unstored = true;
      this.counters.readings[result.source]++;
      result.accepted++;
    } catch (e) {
      const reason = e instanceof ReadingError
        ? e.reason
        : e instanceof ServiceError
        ? (e.reason ?? (e.kind === "conflict" ? "too_many_streams" : "bad_stream"))
        : "error";
      if (!(e instanceof ReadingError)) {
        // the engine counts its own rejects; count the service's here
        this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + 1;
      }
      if (reason === "error" || reason === "engine_error") {
        this.#log.error("ingest.failed", { stream: r.stream, error: e });
      }
      const message = (e as Error).message;
      this.#refusals.record({
        time: this.#now(),
        source: result.source,
        stream: r.stream,
        reason,
        message,
      });
      result.rejected.push({ index, stream: r.stream, reason, message });
    }
  }

  /**
   * Counts a message a source refused; with `refusal`, keeps it among the
   * last refusals of its source (see {@link lastRejects}).
   */
  reject(reason: string, refusal?: Refusal): void {
    this.#count(reason);
    if (refusal) this.#refusals.record({ time: this.#now(), reason, ...refusal });
  }

  /** Counts `count` messages or readings the service could not take, by reason. */
  #count(reason: string, count = 1): void {
    this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + count;
  }

  /**
   * The last refusals of each source that refused something (sources
   * sorted, newest first), and how many each source keeps at most.
   */
  lastRejects(): { capacity: number; sources: Record<string, RejectEntry[]> } {
    const sources: Record<string, RejectEntry[]> = {};
    for (const source of this.#refusals.sources()) sources[source] = this.#refusals.list(source);
    return { capacity: this.#refusals.capacity, sources };
  }

  /** The time of stream `id`'s newest reading (ms), or null: unknown stream, or no reading yet. */
  lastReading(id: string): number | null {
    const s = this.records.has(id) ? this.engine.get(id) : undefined;
    return s && Number.isFinite(s.lastTs) ? s.lastTs : null;
  }

  /** What the models did: readings scored and learned from, time spent, recoveries. */
  get learning(): Readonly<Omit<EngineCounters, "rejects">> {
    return this.engine.counters;
  }

  /**
   * Every stream's accuracy by horizon, in id order (the order of /metrics),
   * the list of streams taken at the call. A shard worker sends the same
   * numbers without the objects (src/shard/horizon_columns.ts,
   * HorizonColumnsWriter).
   */
  *horizonStats(): Iterable<StreamHorizonStats> {
    const streams = this.engine.streams;
    for (const id of [...streams.keys()].sort()) {
      const stream = streams.get(id);
      if (stream) yield { stream: id, horizons: stream.stats() };
    }
  }

  /** Rejected readings by reason, from the sources, the service and the engine. */
  rejects(): Record<string, number> {
    const out = { ...this.counters.rejects };
    for (const [k, v] of Object.entries(this.engine.counters.rejects)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** An engine's alert event as stored: taken with its learning shed, it learns as it would have. */
  #alertOf(e: AlertEvent): AlertEvent {
    if (this.#shedder.shedding !== e.stream || e.type === "opened") return e;
    return { ...e, learning: !(this.records.get(e.stream)?.frozen ?? false) };
  }

  /** Resolves when every alert raised so far is stored and fanned out (or its write failed). */
  async flushAlerts(): Promise<void> {
    await this.#alerts.flush();
  }

  // ---- streams ------------------------------------------------------------

  /** A stream's record and model summary. */
  summary(id: string): StreamSummary {
    return this.#registry.summary(id);
  }

  /** Every stream's summary, by id. */
  list(): StreamSummary[] {
    return this.#registry.list();
  }

  /** Creates a stream, or changes one (preset, targets or period rebuild its model). */
  async put(id: string, spec: StreamSpec): Promise<StreamSummary> {
    const rec = this.records.get(id);
    if (!rec) {
      if (!spec.columns) {
        throw new ServiceError(
          "invalid",
          `Cannot create stream "${id}": 'columns' must list its value names: current value is undefined`,
        );
      }
      this.#create(id, { ...spec, columns: spec.columns });
    } else {
      const { next, rebuilt } = this.#registry.change(rec, spec);
      if (rebuilt) {
        this.#recent?.forget(id);
        this.#shedder.forget(id);
      }
      this.#watch(id, next);
      if (rebuilt) this.#checkpoints.created(id);
      else this.#checkpoints.changed(id);
    }
    // answered once saved (or once the save failed: it is retried, and the stream is in memory)
    await this.#checkpoints.save();
    return this.summary(id);
  }

  /** Deletes a stream and everything stored of it (its alert history stays). */
  async delete(id: string): Promise<boolean> {
    if (!this.records.has(id)) return false;
    this.#registry.forget(id);
    this.#watch(id, null);
    this.#recent?.forget(id);
    this.#checkpoints.forget(id);
    this.#newRecords.forget(id);
    this.#shedder.forget(id);
    // a save or a record write under way may hold its snapshot: the delete comes after it
    await this.#checkpoints.currentSave();
    await this.#newRecords.currentWrite();
    await this.#store.deleteStream(id);
    this.#log.info("stream.deleted", { stream: id });
    return true;
  }

  /**
   * The last readings of a stream (oldest first), each with the one-step
   * forecast that was made for it: up to `recentReadings` per stream since
   * the daemon started.
   */
  recent(id: string, query: RecentQuery = {}): StreamRecent {
    const s = this.engine.get(id);
    if (!s) {
      throw new ServiceError(
        "not_found",
        `Cannot list recent readings: stream must exist: "${id}" is unknown`,
      );
    }
    return {
      targets: s.targets,
      capacity: this.#recent?.capacity ?? 0,
      readings: this.#recent?.list(id, query) ?? [],
    };
  }

  /** The forecast from the newest reading, up to `horizon` steps. */
  forecast(id: string, horizon?: number): StreamForecast {
    return this.#registry.forecast(id, horizon);
  }

  /** When the forecast of `target` is expected to cross `x` (above or below). */
  crossing(id: string, target: string, x: number, direction: "above" | "below"): Crossing {
    return this.#registry.crossing(id, target, x, direction);
  }

  // ---- checkpoints --------------------------------------------------------

  /** Stream `id`'s checkpoint bytes and config now (a copy), or null if it is gone. */
  #snapshot(id: string): { bytes: Uint8Array; config: StreamRecord } | null {
    const s = this.engine.get(id);
    const rec = this.records.get(id);
    if (!s || !rec) return null;
    return { bytes: s.toBytes(), config: { ...rec } };
  }

  /**
   * Saves every changed stream now, each checkpoint with its config, in as
   * few KV commits as the limits allow. Resolves with whether all were
   * saved; never rejects (a failure is logged, counted and retried).
   */
  checkpoint(): Promise<boolean> {
    return this.#checkpoints.save();
  }

  /** Readings of stream `id` not yet in a saved checkpoint. */
  unsaved(id: string): number {
    return this.#checkpoints.unsaved(id);
  }

  /**
   * When the oldest change not yet in a saved checkpoint was made (ms of the
   * service's clock), or null when every change is saved.
   */
  oldestUnsaved(): number | null {
    return this.#checkpoints.oldestUnsaved();
  }

  /** Streams with changes not yet in a saved checkpoint: what a stop now would lose of. */
  get unsavedStreams(): number {
    return this.#checkpoints.unsavedStreams;
  }

  /**
   * Shuts the service down: refuses new readings and the HTTP and WebSocket
   * batches still waiting in the queue (nothing of them was taken, nor
   * acknowledged), takes the rest, stores the alerts, stops the timers and
   * saves every changed stream (three tries). So every reading that was
   * acknowledged is in the final checkpoint. The store may be closed after.
   * Resolves with whether the final save worked.
   */
  async close(): Promise<boolean> {
    this.#closing = true;
    // HTTP and WebSocket batches not yet started are refused (answered 503: the client
    // sends them again); MQTT messages may have been acknowledged by the embedded broker,
    // and wait one a connection at most: they are taken
    const refused = this.#queue.refuseWaiting(
      new ServiceError(
        "unavailable",
        "Cannot ingest readings: forecastd must be running: it is shutting down",
      ),
      (batch) => batch.source === "http" || batch.source === "ws",
    );
    if (refused > 0) this.#count("shutting_down", refused);
    await this.#queue.drain();
    this.#queue.close();
    // the records of the streams just created first: small, and they keep every stream
    await this.#newRecords.stored();
    this.#newRecords.stop();
    await this.#alerts.flush();
    // the final save: the save under way (if any) ends, then every stream still changed
    const t0 = performance.now();
    const before = this.counters.checkpoints;
    this.#log.info("checkpoint.final_started", { streams: this.#checkpoints.unsavedStreams });
    await this.#checkpoints.stop();
    let saved = await this.#checkpoints.save();
    for (let attempt = 2; !saved && attempt <= 3; attempt++) {
      await new Promise((r) => setTimeout(r, this.#options.retryMs * 2 ** (attempt - 2)));
      saved = await this.#checkpoints.save();
    }
    const done = {
      streams: this.counters.checkpoints - before,
      unsaved: this.#checkpoints.unsavedStreams,
      ms: Math.round(performance.now() - t0),
    };
    if (saved) this.#log.info("checkpoint.final_saved", done);
    else this.#log.error("checkpoint.final_failed", done);
    await this.#alerts.flush();
    this.#alerts.stop();
    return saved;
  }

  // ---- alerts -------------------------------------------------------------

  /** Stored alerts matching `filter`, in id order (see {@link AlertSource}). */
  listAlerts(filter: AlertFilter): Promise<StoredAlert[]> {
    return this.#history.list(filter);
  }

  /** The stored alert `id` (16 digits); a ServiceError (not_found) when there is none. */
  alert(id: string): Promise<StoredAlert> {
    return this.#history.get(id);
  }

  /** Adds a live alert subscriber (see {@link AlertSource}). */
  subscribe(sub: AlertSubscriber): () => void {
    return this.hub.subscribe(sub);
  }

  /** Live alert subscribers now. */
  get subscribers(): number {
    return this.hub.size;
  }

  /** Acknowledges the stored alert `id` once (a second time keeps the first `acknowledgedAt`). */
  acknowledge(id: string): Promise<StoredAlert> {
    return this.#history.acknowledge(id);
  }
}
