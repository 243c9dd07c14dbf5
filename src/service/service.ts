/**
 * The daemon's core, between the sources and the API: streams created on
 * their first reading or through the API, every reading through one path into
 * the engine, alerts stored then fanned out, checkpoints batched into Deno KV
 * every N updates or T seconds and at shutdown. No sockets here: sources and
 * the HTTP API call it, main.ts wires them.
 */
import type { Logger } from "../log.ts";
import type { Reading } from "../domain/reading.ts";
import type { AlertRecord, Store } from "../store/store.ts";
import { Engine } from "../stream/engine.ts";
import { ReadingError, type StreamModel } from "../stream/stream.ts";
import type { AlertEvent, StoredAlert } from "../domain/alert.ts";
import type { AlertListFilter, AlertSource, AlertSubscriber } from "../alerts/alert_source.ts";
import type {
  IngestResult,
  IngestSink,
  Refusal,
  Rejection,
  Source,
} from "../ingest/ingest_sink.ts";
import { showValue } from "../domain/show_value.ts";
import { getPreset, type Preset } from "../stream/preset.ts";
import { AlertHub } from "./alert_hub.ts";
import { RecentRejects, type RejectEntry } from "./recent_rejects.ts";
import {
  keepRecent,
  RECENT_CAPACITY,
  type RecentQuery,
  type RecentReading,
  RecentReadings,
} from "./recent_readings.ts";
import {
  type Crossing,
  streamCrossing,
  type StreamForecast,
  streamForecast,
  type StreamSummary,
  streamSummary,
} from "./stream_views.ts";

export type { Crossing, HorizonAccuracy, StreamForecast, StreamSummary } from "./stream_views.ts";

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
 * reading yet). The API maps each kind to its HTTP status.
 */
export type ServiceErrorKind = "invalid" | "not_found" | "conflict";

/** A request the caller can fix, and what kind of failure it is. */
export class ServiceError extends Error {
  readonly kind: ServiceErrorKind;
  constructor(kind: ServiceErrorKind, message: string) {
    super(message);
    this.name = "ServiceError";
    this.kind = kind;
  }
}

/** Counters for /metrics. */
export interface ServiceCounters {
  readings: Record<Source, number>;
  rejects: Record<string, number>;
  checkpoints: number;
  checkpointFailures: number;
  checkpointCommits: number;
  alertsStored: number;
  alertFailures: number;
}

/** The service's settings; every field has the default it names. */
export interface ServiceOptions {
  /** Most streams at once: a new stream beyond it is refused. Default 1000. */
  maxStreams?: number;
  /** Preset of a stream created without one. Default "default". */
  defaultPreset?: string;
  /** A stream with this many updates since its last checkpoint is saved. Default 500. */
  checkpointEvery?: number;
  /** Every changed stream is saved this often, seconds. Default 60. */
  checkpointSeconds?: number;
  /**
   * Readings kept in memory per stream, each with the forecast made for it,
   * for `recent()` (the dashboard's chart); 0 keeps none. Default 288 (a day
   * of 5-minute readings).
   */
  recentReadings?: number;
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
  checkpointEvery: 500,
  checkpointSeconds: 60,
  recentReadings: RECENT_CAPACITY,
});

/** Applies the defaults and checks every option; throws naming the first bad one. */
export function resolveServiceOptions(options: ServiceOptions = {}): Required<ServiceOptions> {
  const o: Required<ServiceOptions> = { ...SERVICE_DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  }
  for (const k of ["maxStreams", "checkpointEvery"] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] < 1) {
      throw new RangeError(
        `Cannot create service: ${k} must be a positive integer: current value is ${
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
  if (typeof o.checkpointSeconds !== "number" || !(o.checkpointSeconds > 0)) {
    throw new RangeError(
      `Cannot create service: checkpointSeconds must be a positive number: current value is ${
        showValue(o.checkpointSeconds)
      }`,
    );
  }
  return o;
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

/** The daemon's core: the ingest sink of the sources, the alert source of the channels. */
export class Service implements AlertSource, IngestSink {
  readonly engine = new Engine();
  readonly hub = new AlertHub();
  readonly records = new Map<string, StreamRecord>();
  readonly counters: ServiceCounters = {
    readings: { mqtt: 0, ws: 0, http: 0, demo: 0 },
    rejects: {},
    checkpoints: 0,
    checkpointFailures: 0,
    checkpointCommits: 0,
    alertsStored: 0,
    alertFailures: 0,
  };
  readonly #options: Required<ServiceOptions>;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Streams changed since their last checkpoint, with their updates since. */
  readonly #dirty = new Map<string, number>();
  /** A reading's values in column order, one buffer per stream model. */
  readonly #rows = new WeakMap<StreamModel, Float64Array>();
  /** The last refusals of each source, for GET /v1/rejects. */
  readonly #refusals = new RecentRejects();
  /** The last readings of each stream with the forecasts made for them; null when none are kept. */
  readonly #recent: RecentReadings | null;
  #saving: Promise<void> = Promise.resolve();
  /** A save of every changed stream is queued and has not started yet. */
  #savePending = false;
  #alerts: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(deps: ServiceDeps) {
    this.#options = resolveServiceOptions(deps.options);
    this.#recent = this.#options.recentReadings > 0
      ? new RecentReadings({ capacity: this.#options.recentReadings })
      : null;
    this.#store = deps.store;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.engine.onAlert((e) => this.#storeAlert(e));
  }

  /** Restores every stream from the store; call once before serving. */
  async load(): Promise<void> {
    for (const id of await this.#store.listStreams()) {
      const rec = await this.#store.getConfig<StreamRecord>(id);
      if (!rec) continue;
      try {
        const stream = this.#build(rec);
        const bytes = await this.#store.loadCheckpoint(id);
        if (bytes) stream.restore(bytes);
        this.records.set(id, rec);
      } catch (e) {
        this.engine.delete(id);
        this.#log.error("stream.restore_failed", { stream: id, error: e });
      }
    }
    this.#log.info("streams.loaded", { streams: this.records.size });
  }

  /** Starts the periodic checkpoint timer. */
  start(): void {
    this.#timer = setInterval(
      () => void this.checkpoint(),
      this.#options.checkpointSeconds * 1000,
    );
  }

  #preset(name: string): Preset {
    try {
      return getPreset(name);
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
    });
    stream.frozen = rec.frozen;
    return stream;
  }

  #create(id: string, spec: StreamSpec & { columns: string[] }): StreamModel {
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
    let stream: StreamModel;
    try {
      stream = this.#build(rec);
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      throw new ServiceError("invalid", (e as Error).message);
    }
    this.records.set(id, rec);
    this.#dirty.set(id, 0);
    this.#log.info("stream.created", { stream: id, preset: rec.preset, columns: rec.columns });
    return stream;
  }

  /**
   * Feeds readings to their streams, creating a stream on its first reading
   * (its value names become its columns). A reading that cannot be taken is
   * counted by reason and reported; the others go on.
   */
  ingest(readings: readonly Reading[], source: Source): IngestResult {
    const rejected: Rejection[] = [];
    let accepted = 0;
    readings.forEach((r, index) => {
      try {
        let stream = this.engine.get(r.stream);
        if (!stream) stream = this.#create(r.stream, { columns: Object.keys(r.values) });
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
        const obs = this.engine.observe(r.stream, r.ts, row);
        if (this.#recent) keepRecent(this.#recent, stream, r.ts, row, made, obs.gap);
        if (obs.learned) {
          const rec = this.records.get(r.stream)!;
          rec.updatedAt = r.ts;
        }
        const updates = (this.#dirty.get(r.stream) ?? 0) + 1;
        this.#dirty.set(r.stream, updates);
        // one queued save covers every stream changed by the time it starts
        if (updates >= this.#options.checkpointEvery && !this.#savePending) void this.checkpoint();
        this.counters.readings[source]++;
        accepted++;
      } catch (e) {
        const reason = e instanceof ReadingError
          ? e.reason
          : e instanceof ServiceError
          ? (e.kind === "conflict" ? "too_many_streams" : "bad_stream")
          : "error";
        if (!(e instanceof ReadingError)) {
          // the engine counts its own rejects; count the service's here
          this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + 1;
        }
        if (reason === "error") this.#log.error("ingest.failed", { stream: r.stream, error: e });
        const message = (e as Error).message;
        this.#refusals.record({ time: this.#now(), source, stream: r.stream, reason, message });
        rejected.push({ index, stream: r.stream, reason, message });
      }
    });
    return { accepted, rejected };
  }

  /**
   * Counts a message a source refused; with `refusal`, keeps it among the
   * last refusals of its source (see {@link lastRejects}).
   */
  reject(reason: string, refusal?: Refusal): void {
    this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + 1;
    if (refusal) this.#refusals.record({ time: this.#now(), reason, ...refusal });
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

  #storeAlert(e: AlertEvent): void {
    // stored in order, then fanned out with the id the store gave it
    this.#alerts = this.#alerts.then(async () => {
      try {
        const stored = storedAlert(
          await this.#store.appendAlert({
            ...e,
            time: e.ts,
            state: e.type === "opened" ? "open" : "resolved",
          }),
        );
        this.counters.alertsStored++;
        this.hub.publish(
          stored,
          (err) => this.#log.warn("alert.subscriber_failed", { error: err }),
        );
      } catch (err) {
        this.counters.alertFailures++;
        this.#log.error("alert.store_failed", { stream: e.stream, error: err });
      }
    });
  }

  /** Resolves when every alert raised so far is stored and fanned out. */
  async flushAlerts(): Promise<void> {
    await this.#alerts;
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
      const next: StreamRecord = {
        ...rec,
        preset: spec.preset ?? rec.preset,
        columns: spec.columns ?? rec.columns,
        targets: spec.targets ?? (spec.columns ?? rec.targets),
        periodMs: spec.periodMs === undefined ? rec.periodMs : spec.periodMs,
        frozen: spec.frozen ?? rec.frozen,
      };
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
        this.#log.info("stream.rebuilt", { stream: id, preset: next.preset });
      } else {
        this.engine.get(id)!.frozen = next.frozen;
      }
      this.records.set(id, next);
      this.#dirty.set(id, this.#dirty.get(id) ?? 0);
    }
    await this.checkpoint([id]);
    return this.summary(id);
  }

  /** Deletes a stream and everything stored of it (its alert history stays). */
  async delete(id: string): Promise<boolean> {
    if (!this.records.has(id)) return false;
    this.records.delete(id);
    this.engine.delete(id);
    this.#recent?.forget(id);
    this.#dirty.delete(id);
    await this.#saving;
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

  /**
   * Saves the changed streams (or those of `only`) in as few KV commits as
   * the limits allow. Saves run one after another. A stream reaching
   * `checkpointEvery` updates, the `checkpointSeconds` timer and shutdown all
   * save every changed stream: one batch costs about one commit.
   */
  checkpoint(only?: string[]): Promise<void> {
    if (!only) this.#savePending = true;
    this.#saving = this.#saving.then(async () => {
      if (!only) this.#savePending = false;
      const ids = (only ?? [...this.#dirty.keys()]).filter((id) => this.#dirty.has(id));
      if (ids.length === 0) return;
      const entries: { id: string; bytes: Uint8Array }[] = [];
      for (const id of ids) {
        const s = this.engine.get(id);
        const rec = this.records.get(id);
        if (!s || !rec) continue;
        await this.#store.setConfig(id, rec);
        entries.push({ id, bytes: s.toBytes() });
        this.#dirty.delete(id);
      }
      try {
        const r = await this.#store.saveCheckpoints(entries);
        this.counters.checkpoints += entries.length;
        this.counters.checkpointCommits += r.commits;
        this.#log.debug("checkpoint.saved", { streams: entries.length, commits: r.commits });
      } catch (e) {
        this.counters.checkpointFailures++;
        for (const { id } of entries) this.#dirty.set(id, this.#dirty.get(id) ?? 1);
        this.#log.error("checkpoint.failed", { streams: entries.length, error: e });
      }
    });
    return this.#saving;
  }

  /** Stops the timer and saves every changed stream; the store may be closed after. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#alerts;
    await this.checkpoint();
  }

  // ---- alerts -------------------------------------------------------------

  /** Stored alerts matching `filter`, in id order (see {@link AlertSource}). */
  async listAlerts(filter: AlertListFilter): Promise<StoredAlert[]> {
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
