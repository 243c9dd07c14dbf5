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
 */
import type { Logger } from "../log.ts";
import {
  MAX_NAME_LENGTH,
  MAX_VALUES_DEFAULT,
  MAX_VALUES_LIMIT,
  nameProblem,
  type Reading,
  valueCountProblem,
} from "../domain/reading.ts";
import type { AlertRecord, Store } from "../store/store.ts";
import { Engine } from "../stream/engine.ts";
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
import { showValue } from "../domain/show_value.ts";
import { getPreset, type Preset } from "../stream/preset.ts";
import { VALUE_BOUNDS_DEFAULTS } from "../stream/value_bounds.ts";
import { AlertHub } from "./alert_hub.ts";
import { RecentRejects, type RejectEntry } from "./recent_rejects.ts";
import {
  keepRecent,
  RECENT_CAPACITY,
  type RecentQuery,
  type RecentReading,
  RecentReadings,
} from "./recent_readings.ts";
import { AlertWriter } from "./alert_writer.ts";
import { CheckpointScheduler } from "./checkpoint_scheduler.ts";
import { IngestQueue, QueueFullError } from "./ingest_queue.ts";
import { TrainingShedder } from "./training_shedder.ts";
import {
  type Crossing,
  streamCrossing,
  type StreamForecast,
  streamForecast,
  type StreamSummary,
  streamSummary,
} from "./stream_views.ts";

export type { Crossing, HorizonAccuracy, StreamForecast, StreamSummary } from "./stream_views.ts";

/**
 * How far after now a stream's newest reading may lie in a checkpoint: as
 * far as the sources take a reading's time (a day, src/ingest/timestamp.ts).
 */
export const MAX_FUTURE_MS = 86_400_000;

/** What a stream is, as stored in KV and shown by the API. */
export interface StreamRecord {
  id: string;
  preset: string;
  columns: string[];
  targets: string[];
  /** Sampling period in ms, or null: the interval between the first two readings. */
  periodMs: number | null;
  frozen: boolean;
  createdAt: number;
  /** Time of the last reading the model learned from, ms (null before). */
  updatedAt: number | null;
}

/** How a stream may be created or changed through the API. */
export interface StreamSpec {
  preset?: string;
  columns?: string[];
  targets?: string[];
  periodMs?: number | null;
  frozen?: boolean;
}

export type { IngestResult, Refusal, RejectEntry, Rejection, Source };

/**
 * What kind of request a ServiceError refuses: `invalid` (the request itself
 * is wrong), `not_found` (it names a stream or alert that does not exist),
 * `conflict` (it cannot be done in the present state: a limit reached, no
 * reading yet), `unavailable` (not now: the queue is full, or forecastd is
 * shutting down; the caller may retry later). The API maps each kind to its
 * HTTP status.
 */
export type ServiceErrorKind = "invalid" | "not_found" | "conflict" | "unavailable";

/**
 * A request the caller can fix, what kind of failure it is and, for a
 * reading it refuses, the reason the reading is counted under (default
 * `too_many_streams` for a conflict, `bad_stream` otherwise).
 */
export class ServiceError extends Error {
  readonly kind: ServiceErrorKind;
  readonly reason: string | undefined;
  constructor(kind: ServiceErrorKind, message: string, reason?: string) {
    super(message);
    this.name = "ServiceError";
    this.kind = kind;
    this.reason = reason;
  }
}

/** Counters for /metrics. */
export interface ServiceCounters {
  readings: Record<Source, number>;
  rejects: Record<string, number>;
  /** Stream checkpoints saved. */
  checkpoints: number;
  /** Saves (or stream snapshots) that failed; each is retried. */
  checkpointFailures: number;
  /** Deno KV commits made by checkpoint saves. */
  checkpointCommits: number;
  /** Readings taken while their stream already had `checkpointEvery` unsaved (saves failing). */
  readingsBeyondLossBound: number;
  alertsStored: number;
  alertFailures: number;
  /** Readings taken without learning from them, because of overload. */
  trainingShed: number;
  /** LSTM updates made up in idle time for shed readings. */
  trainingCaughtUp: number;
  /** Rejected promises nobody handled (counted by the daemon's guard, not the service). */
  unhandledRejections: number;
  /**
   * Every change made before this time (ms, the service's clock) is saved:
   * when the oldest change not yet in a saved checkpoint was made, or now
   * when every change is saved.
   */
  readonly checkpointedAt: number;
}

/** The service's settings; every field has the default it names. */
export interface ServiceOptions {
  /** Most streams at once: a new stream beyond it is refused. Default 1000. */
  maxStreams?: number;
  /** Preset of a stream created without one. Default "default". */
  defaultPreset?: string;
  /**
   * The false-alarm budget of every stream (false alerts per stream per
   * week, 0: none, alerts at the preset's fixed threshold), in place of its
   * preset's `anomaly.falseAlertsPerWeek`; null keeps the preset's. Default null.
   */
  falseAlertsPerWeek?: number | null;
  /**
   * The crash-loss bound: at most this many readings of a stream are not in
   * its saved checkpoint (a save starts at half of it). Default 500.
   */
  checkpointEvery?: number;
  /** Every changed stream is saved this often, seconds. Default 60. */
  checkpointSeconds?: number;
  /** First retry of a failed save or alert write after this, doubling up to 60 s; ms. Default 1000. */
  retryMs?: number;
  /** Most readings waiting in the queue; an HTTP or WebSocket batch beyond it is refused. Default 50,000. */
  maxQueuedReadings?: number;
  /** Readings waiting longer than this, ms, are taken without learning (overload). Default 250. */
  shedAfterMs?: number;
  /** Longest run of work before the service yields to the event loop, ms. Default 10. */
  sliceMs?: number;
  /**
   * Readings kept in memory per stream, each with the forecast made for it,
   * for `recent()` (the dashboard's chart); 0 keeps none. Default 288 (a day
   * of 5-minute readings).
   */
  recentReadings?: number;
  /**
   * Most values one stream may have (1 … 256): a stream of more is refused,
   * created by a reading (reason `too_many_values`) or by `put`. Default 64.
   */
  maxValuesPerStream?: number;
  /**
   * Longest stream id or value name of a new stream (1 … 128 characters;
   * the alphabet is src/domain/reading.ts's): a longer one is refused
   * (reason `bad_name`). Default 128.
   */
  maxNameLength?: number;
  /** Largest |value| a reading may hold; a larger one is refused (`out_of_range`). Default 1e15. */
  maxAbsValue?: number;
  /**
   * How far beyond the range of a value's past values a new one may lie, in
   * widths of that range; a farther one is refused (`out_of_range`) unless
   * it persists (see src/stream/value_bounds.ts). Default 1e6.
   */
  maxValueSpreads?: number;
}

/** A stream's last readings, as {@link Service.recent} gives them. */
export interface StreamRecent {
  /** The stream's targets, in order. */
  targets: string[];
  /** Readings kept per stream at most (0: none are kept). */
  capacity: number;
  /** Oldest first. */
  readings: RecentReading[];
}

/** The defaults of ServiceOptions. */
export const SERVICE_DEFAULTS: Readonly<Required<ServiceOptions>> = Object.freeze({
  maxStreams: 1000,
  defaultPreset: "default",
  falseAlertsPerWeek: null,
  checkpointEvery: 500,
  checkpointSeconds: 60,
  retryMs: 1000,
  maxQueuedReadings: 50_000,
  shedAfterMs: 250,
  sliceMs: 10,
  recentReadings: RECENT_CAPACITY,
  maxValuesPerStream: MAX_VALUES_DEFAULT,
  maxNameLength: MAX_NAME_LENGTH,
  maxAbsValue: VALUE_BOUNDS_DEFAULTS.maxAbs,
  maxValueSpreads: VALUE_BOUNDS_DEFAULTS.maxSpreads,
});

/** Applies the defaults and checks every option; throws naming the first bad one. */
export function resolveServiceOptions(options: ServiceOptions = {}): Required<ServiceOptions> {
  const o: Required<ServiceOptions> = { ...SERVICE_DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  }
  for (const k of ["maxStreams", "checkpointEvery", "maxQueuedReadings"] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] < 1) {
      throw new RangeError(
        `Cannot create service: ${k} must be a positive integer: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  for (const k of ["checkpointSeconds", "retryMs", "sliceMs"] as const) {
    if (typeof o[k] !== "number" || !(o[k] > 0) || o[k] === Infinity) {
      throw new RangeError(
        `Cannot create service: ${k} must be a positive number: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  if (!Number.isSafeInteger(o.recentReadings) || o.recentReadings < 0) {
    throw new RangeError(
      `Cannot create service: recentReadings must be an integer of at least 0: current value is ${
        showValue(o.recentReadings)
      }`,
    );
  }
  for (
    const [k, max] of [
      ["maxValuesPerStream", MAX_VALUES_LIMIT],
      ["maxNameLength", MAX_NAME_LENGTH],
    ] as const
  ) {
    if (!Number.isInteger(o[k]) || o[k] < 1 || o[k] > max) {
      throw new RangeError(
        `Cannot create service: ${k} must be an integer from 1 to ${max}: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  for (const k of ["maxAbsValue", "maxValueSpreads"] as const) {
    if (typeof o[k] !== "number" || !(o[k] > 0 && o[k] <= 1e30)) {
      throw new RangeError(
        `Cannot create service: ${k} must be a positive number of at most 1e+30: current value is ${
          showValue(o[k])
        }`,
      );
    }
  }
  const budget = o.falseAlertsPerWeek;
  if (budget !== null && (typeof budget !== "number" || !(budget >= 0 && budget <= 10_000))) {
    throw new RangeError(
      `Cannot create service: falseAlertsPerWeek must be null or a number from 0 to 10000: current value is ${
        showValue(budget)
      }`,
    );
  }
  if (typeof o.shedAfterMs !== "number" || !(o.shedAfterMs >= 0)) {
    throw new RangeError(
      `Cannot create service: shedAfterMs must be a number >= 0 (Infinity: never shed): current value is ${
        showValue(o.shedAfterMs)
      }`,
    );
  }
  return o;
}

/** Counters at zero; `checkpointedAt` asks `checkpointedAt()`. */
function newCounters(checkpointedAt: () => number): ServiceCounters {
  return {
    readings: { mqtt: 0, ws: 0, http: 0, demo: 0 },
    rejects: {},
    checkpoints: 0,
    checkpointFailures: 0,
    checkpointCommits: 0,
    readingsBeyondLossBound: 0,
    alertsStored: 0,
    alertFailures: 0,
    trainingShed: 0,
    trainingCaughtUp: 0,
    unhandledRejections: 0,
    get checkpointedAt(): number {
      return checkpointedAt();
    },
  };
}

/** Everything the service needs. */
export interface ServiceDeps {
  store: Store;
  log: Logger;
  /** Its settings (see ServiceOptions for the defaults). */
  options?: ServiceOptions;
  /** The clock, ms since the epoch: a new stream's createdAt, acknowledgements. Default Date.now. */
  now?: () => number;
}

/** How one batch of readings went, as the queue works through it. */
interface BatchResult extends IngestResult {
  source: Source;
}

/** The daemon's core: the ingest sink of the sources, the alert source of the channels. */
export class Service implements AlertSource, IngestSink {
  readonly engine = new Engine();
  readonly hub = new AlertHub();
  readonly records = new Map<string, StreamRecord>();
  /** See {@link ServiceCounters.checkpointedAt}; set in the constructor. */
  readonly #checkpointedAt = () => this.#checkpoints.oldestUnsaved() ?? this.#now();
  readonly counters: ServiceCounters = newCounters(() => this.#checkpointedAt());
  readonly #options: Required<ServiceOptions>;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #checkpoints: CheckpointScheduler;
  readonly #queue: IngestQueue<Reading, BatchResult>;
  readonly #alerts: AlertWriter;
  /** A reading's values in column order, one buffer per stream model. */
  readonly #rows = new WeakMap<StreamModel, Float64Array>();
  /** The last refusals of each source, for GET /v1/rejects. */
  readonly #refusals = new RecentRejects();
  /** The last readings of each stream with the forecasts made for them; null when none are kept. */
  readonly #recent: RecentReadings | null;
  readonly #shedder: TrainingShedder;
  #closing = false;

  constructor(deps: ServiceDeps) {
    this.#options = resolveServiceOptions(deps.options);
    this.#recent = this.#options.recentReadings > 0
      ? new RecentReadings({ capacity: this.#options.recentReadings })
      : null;
    this.#store = deps.store;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    const o = this.#options;
    const retry = { minMs: o.retryMs, maxMs: Math.max(o.retryMs, 60_000) };
    this.#checkpoints = new CheckpointScheduler({
      store: deps.store,
      source: { snapshot: (id) => this.#snapshot(id) },
      log: deps.log,
      counters: this.counters,
      now: this.#now,
    }, { every: o.checkpointEvery, seconds: o.checkpointSeconds, retry, sliceMs: o.sliceMs });
    this.#shedder = new TrainingShedder(this.counters, o.shedAfterMs);
    this.#queue = new IngestQueue<Reading, BatchResult>({
      apply: (r, index, result) => this.#take(r, index, result),
      gate: (r) => this.#checkpoints.full(r.stream) ? this.#checkpoints.room(r.stream) : null,
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
    this.engine.onAlert((e) => this.#alerts.push(this.#alertOf(e)));
  }

  /**
   * Restores every stream from the store; call once before serving. A
   * checkpoint that cannot be restored (damaged, of another shape, or
   * holding values a healthy stream cannot: src/stream/restore_check.ts) is
   * refused with its reason (`stream.restore_failed`) and its stream starts
   * fresh under its record, rather than dead; it is saved anew at the next
   * checkpoint. A stream whose record cannot be built is left out.
   */
  async load(): Promise<void> {
    for (const id of await this.#store.listStreams()) {
      let stream: StreamModel;
      let rec: StreamRecord | null;
      try {
        rec = await this.#store.getConfig<StreamRecord>(id);
        if (!rec) continue;
        stream = this.#build(rec);
      } catch (e) {
        this.engine.delete(id);
        this.#log.error("stream.restore_failed", { stream: id, error: e, action: "left out" });
        continue;
      }
      this.records.set(id, rec);
      try {
        const bytes = await this.#store.loadCheckpoint(id);
        // a newest reading later than any reading may be would refuse every reading
        if (bytes) stream.restore(bytes, { latestTs: this.#now() + MAX_FUTURE_MS });
      } catch (e) {
        this.#log.error("stream.restore_failed", {
          stream: id,
          error: e,
          action: "the stream starts fresh",
        });
        this.engine.delete(id);
        this.#build(rec);
        rec.updatedAt = null;
        this.#checkpoints.changed(id);
      }
    }
    this.#log.info("streams.loaded", { streams: this.records.size });
  }

  /** Starts the periodic checkpoint timer. */
  start(): void {
    this.#checkpoints.start();
  }

  #preset(name: string): Preset {
    try {
      const p = getPreset(name);
      const budget = this.#options.falseAlertsPerWeek;
      return budget === null ? p : { ...p, anomaly: { ...p.anomaly, falseAlertsPerWeek: budget } };
    } catch (e) {
      throw new ServiceError("invalid", (e as Error).message);
    }
  }

  #build(rec: StreamRecord): StreamModel {
    const stream = this.engine.create(rec.id, {
      preset: this.#preset(rec.preset),
      columns: rec.columns,
      targets: rec.targets,
      periodMs: rec.periodMs ?? undefined,
      bounds: { maxAbs: this.#options.maxAbsValue, maxSpreads: this.#options.maxValueSpreads },
    });
    stream.frozen = rec.frozen;
    return stream;
  }

  /** Throws an invalid ServiceError unless `rec` fits one KV value (the store's limit). */
  #checkSize(rec: StreamRecord, action: string): void {
    const size = this.#store.configBytes(rec);
    const max = this.#store.options.commitLimits.maxValueBytes;
    if (size > max) {
      throw new ServiceError(
        "invalid",
        `Cannot ${action} "${rec.id}": its configuration must serialise to at most ${max} bytes: current size is ${size} (use fewer or shorter value names)`,
      );
    }
  }

  /**
   * Throws a ServiceError (invalid, with the reason a refused reading is
   * counted under) unless the id, the columns and the targets keep the
   * daemon's limits: `maxNameLength`, `maxValuesPerStream`.
   */
  #checkLimits(action: string, id: string | null, columns: string[], targets?: string[]): void {
    const { maxNameLength, maxValuesPerStream } = this.#options;
    const refuse = (reason: string, what: string, problem: string, value: string) => {
      const limit = problem.startsWith("must be at most") ? " (maxNameLength)" : "";
      throw new ServiceError(
        "invalid",
        `Cannot ${action}: ${what} ${problem}${limit}: current value is ${showValue(value)}`,
        reason,
      );
    };
    if (id !== null) {
      const problem = nameProblem(id, maxNameLength);
      if (problem) refuse("bad_name", "its id", problem, id);
    }
    for (const name of [...columns, ...(targets ?? [])]) {
      const problem = nameProblem(name, maxNameLength);
      if (problem) refuse("bad_name", "value name", problem, name);
    }
    const count = valueCountProblem(columns.length, maxValuesPerStream);
    if (count) {
      throw new ServiceError(
        "invalid",
        `Cannot ${action}: ${id === null ? "'columns'" : "its values"} ${count}` +
          `${columns.length > maxValuesPerStream ? " (maxValuesPerStream)" : ""}: ` +
          `current count is ${columns.length}`,
        "too_many_values",
      );
    }
  }

  #create(id: string, spec: StreamSpec & { columns: string[] }, fromReading = false): StreamModel {
    const action = `create stream ${JSON.stringify(id)}`;
    if (fromReading) this.#checkLimits(action, id, spec.columns);
    else this.#checkLimits(action, id, spec.columns, spec.targets);
    if (this.records.size >= this.#options.maxStreams) {
      throw new ServiceError(
        "conflict",
        `Cannot create stream "${id}": at most ${this.#options.maxStreams} streams are allowed (maxStreams): current count is ${this.records.size}`,
      );
    }
    const rec: StreamRecord = {
      id,
      preset: spec.preset ?? this.#options.defaultPreset,
      columns: spec.columns,
      targets: spec.targets ?? spec.columns,
      periodMs: spec.periodMs ?? null,
      frozen: spec.frozen ?? false,
      createdAt: this.#now(),
      updatedAt: null,
    };
    this.#checkSize(rec, "create stream");
    let stream: StreamModel;
    try {
      stream = this.#build(rec);
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      throw new ServiceError("invalid", (e as Error).message);
    }
    this.records.set(id, rec);
    this.#checkpoints.changed(id);
    this.#log.info("stream.created", { stream: id, preset: rec.preset, columns: rec.columns });
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
   */
  async ingest(readings: readonly Reading[], source: Source): Promise<IngestResult> {
    if (this.#closing) {
      this.#count("shutting_down", readings.length);
      throw new ServiceError(
        "unavailable",
        `Cannot ingest readings: forecastd must be running: it is shutting down (current count is ${readings.length} readings refused)`,
      );
    }
    const result: BatchResult = { source, accepted: 0, rejected: [] };
    try {
      await this.#queue.push(readings, result, source === "mqtt" || source === "demo");
    } catch (e) {
      if (!(e instanceof QueueFullError)) throw e;
      this.#count("queue_full", readings.length);
      throw new ServiceError("unavailable", e.message);
    }
    return { accepted: result.accepted, rejected: result.rejected };
  }

  /** Readings waiting in the queue now. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Takes one reading of a batch (the queue calls it, in order). */
  #take(r: Reading, index: number, result: BatchResult): void {
    try {
      let stream = this.engine.get(r.stream);
      if (!stream) stream = this.#create(r.stream, { columns: Object.keys(r.values) }, true);
      const cols = stream.columns;
      // the values in column order, into a buffer kept per stream (no allocation per reading)
      let row = this.#rows.get(stream);
      if (!row) this.#rows.set(stream, row = new Float64Array(cols.length));
      let given = 0;
      for (const k in r.values) if (Object.hasOwn(r.values, k)) given++;
      let fits = given === cols.length;
      for (let i = 0; fits && i < cols.length; i++) {
        const v = r.values[cols[i]];
        if (v === undefined) fits = false;
        // a typed array would take null as 0 and true as 1: anything but a
        // number goes in as NaN, which the engine rejects as not_finite
        else row[i] = typeof v === "number" ? v : NaN;
      }
      if (!fits) {
        this.reject("missing_value"); // the engine counts only what reaches it
        throw new ReadingError(
          "missing_value",
          `Cannot ingest reading for "${r.stream}": its values must be exactly ${
            JSON.stringify(cols)
          } (the stream's columns): current values are ${
            JSON.stringify(Object.keys(r.values))
          }; send all of a stream's values in one message, or use one stream per value`,
        );
      }
      // the forecast made for this reading, kept beside it for recent()
      const made = this.#recent ? stream.forecast(1) : null;
      // overload (batches have waited too long): score now, learn later, or not
      const obs = this.#shedder.take(
        r.stream,
        stream,
        this.#queue.backlogMs(),
        () => this.engine.observe(r.stream, r.ts, row),
      );
      if (this.#shedder.owes(r.stream, stream)) this.#queue.wake();
      if (this.#recent) keepRecent(this.#recent, stream, r.ts, row, made, obs.gap);
      if (obs.periodWarning) {
        const w = obs.periodWarning;
        this.#log.warn("stream.gaps", {
          stream: r.stream,
          message: `${Math.round(w.gapShare * 100)}% of the recent readings of "${r.stream}" ` +
            `came after a gap: its ${w.source} period is ${w.periodMs} ms, its readings come ` +
            `every ${w.observedMs} ms (the median of the recent intervals)` +
            (w.source === "configured" ? "; set periodMs to null to estimate it" : ""),
          periodMs: w.periodMs,
          periodSource: w.source,
          observedPeriodMs: w.observedMs,
          gapShare: w.gapShare,
        });
      }
      if (obs.recovered) {
        // the divergence guard re-initialised part of the model (src/stream/divergence_guard.ts)
        this.#log.warn("stream.recovered", { stream: r.stream, parts: obs.recovered });
      }
      if (obs.learned) this.records.get(r.stream)!.updatedAt = r.ts;
      this.#checkpoints.changed(r.stream, 1);
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
    const rec = this.records.get(id);
    const s = this.engine.get(id);
    if (!rec || !s) {
      throw new ServiceError("not_found", `Cannot find stream: id must exist: "${id}" is unknown`);
    }
    return streamSummary(rec, s);
  }

  /** Every stream's summary, by id. */
  list(): StreamSummary[] {
    return [...this.records.keys()].sort().map((id) => this.summary(id));
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
      const rebuild = (spec.preset !== undefined && spec.preset !== rec.preset) ||
        (spec.columns !== undefined &&
          JSON.stringify(spec.columns) !== JSON.stringify(rec.columns)) ||
        (spec.targets !== undefined &&
          JSON.stringify(spec.targets) !== JSON.stringify(rec.targets)) ||
        (spec.periodMs !== undefined && spec.periodMs !== rec.periodMs);
      if (spec.columns !== undefined || spec.targets !== undefined) {
        this.#checkLimits(
          `change stream ${JSON.stringify(id)}`,
          null,
          spec.columns ?? rec.columns,
          spec.targets,
        );
      }
      const next: StreamRecord = {
        ...rec,
        preset: spec.preset ?? rec.preset,
        columns: spec.columns ?? rec.columns,
        targets: spec.targets ?? (spec.columns ?? rec.targets),
        periodMs: spec.periodMs === undefined ? rec.periodMs : spec.periodMs,
        frozen: spec.frozen ?? rec.frozen,
      };
      this.#checkSize(next, "change stream");
      if (rebuild) {
        const old = this.engine.get(id)!;
        this.engine.delete(id);
        try {
          this.#build(next);
        } catch (e) {
          this.engine.streams.set(id, old);
          if (e instanceof ServiceError) throw e;
          throw new ServiceError("invalid", (e as Error).message);
        }
        next.updatedAt = null;
        this.#recent?.forget(id);
        this.#shedder.forget(id);
        this.#log.info("stream.rebuilt", { stream: id, preset: next.preset });
      } else {
        this.engine.get(id)!.frozen = next.frozen;
      }
      this.records.set(id, next);
      this.#checkpoints.changed(id);
    }
    // answered once saved (or once the save failed: it is retried, and the stream is in memory)
    await this.#checkpoints.save();
    return this.summary(id);
  }

  /** Deletes a stream and everything stored of it (its alert history stays). */
  async delete(id: string): Promise<boolean> {
    if (!this.records.has(id)) return false;
    this.records.delete(id);
    this.engine.delete(id);
    this.#recent?.forget(id);
    this.#checkpoints.forget(id);
    this.#shedder.forget(id);
    // a save under way may hold its snapshot: the delete comes after it
    await this.#checkpoints.currentSave();
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
    const s = this.engine.get(id);
    if (!s) {
      throw new ServiceError("not_found", `Cannot forecast: stream must exist: "${id}" is unknown`);
    }
    const f = s.forecast(horizon ?? s.Hm);
    if (!f) {
      throw new ServiceError(
        "conflict",
        `Cannot forecast "${id}": the stream must have a reading first: current count is 0`,
      );
    }
    return streamForecast(this.records.get(id)!, s, f);
  }

  /** When the forecast of `target` is expected to cross `x` (above or below). */
  crossing(id: string, target: string, x: number, direction: "above" | "below"): Crossing {
    const s = this.engine.get(id);
    if (!s) {
      throw new ServiceError("not_found", `Cannot forecast: stream must exist: "${id}" is unknown`);
    }
    if (!s.targets.includes(target)) {
      throw new ServiceError(
        "invalid",
        `Cannot compute crossing: 'target' must be one of ${
          JSON.stringify(s.targets)
        }: current value is "${target}"`,
      );
    }
    const f = s.forecast();
    if (!f) {
      throw new ServiceError(
        "conflict",
        `Cannot forecast "${id}": the stream must have a reading first: current count is 0`,
      );
    }
    return streamCrossing(s, f, target, x, direction);
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
    await this.#alerts.flush();
    await this.#checkpoints.stop();
    let saved = await this.#checkpoints.save();
    for (let attempt = 2; !saved && attempt <= 3; attempt++) {
      await new Promise((r) => setTimeout(r, this.#options.retryMs * 2 ** (attempt - 2)));
      saved = await this.#checkpoints.save();
    }
    if (!saved) this.#log.error("checkpoint.final_failed", { streams: this.records.size });
    await this.#alerts.flush();
    this.#alerts.stop();
    return saved;
  }

  // ---- alerts -------------------------------------------------------------

  /** Stored alerts matching `filter`, in id order (see {@link AlertSource}). */
  async listAlerts(filter: AlertFilter): Promise<StoredAlert[]> {
    return (await this.#store.listAlerts(filter)).map(storedAlert);
  }

  /** The stored alert `id` (16 digits); a ServiceError (not_found) when there is none. */
  async alert(id: string): Promise<StoredAlert> {
    const record = await this.#store.getAlert(id);
    if (!record) {
      throw new ServiceError("not_found", `Cannot get alert: id must exist: "${id}" is unknown`);
    }
    return storedAlert(record);
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
  async acknowledge(id: string): Promise<StoredAlert> {
    const record = await this.#store.acknowledgeAlert(id, this.#now());
    const a = record && storedAlert(record);
    if (!a) {
      throw new ServiceError(
        "not_found",
        `Cannot acknowledge alert: id must exist: "${id}" is unknown`,
      );
    }
    return a;
  }
}

/**
 * An alert as the store holds it, as the alert it is: the store keeps the
 * events this service appended (an {@link AlertEvent} with `time` and
 * `state`) and gives them back with their id.
 */
function storedAlert(record: AlertRecord): StoredAlert {
  return record as unknown as StoredAlert;
}
