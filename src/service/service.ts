/**
 * The daemon's core, between the sources and the API: streams created on
 * their first reading or through the API, every reading through one path into
 * the engine, alerts stored then fanned out, checkpoints batched into Deno KV
 * every N updates or T seconds and at shutdown. No sockets here: sources and
 * the HTTP API call it, main.ts wires them.
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log.ts";
import type { Reading } from "../domain/reading.ts";
import type { AlertRecord, Store } from "../store/store.ts";
import { Engine } from "../stream/engine.ts";
import { ReadingError, type StreamModel } from "../stream/stream.ts";
import type { AlertEvent, StoredAlert } from "../domain/alert.ts";
import type { AlertListFilter, AlertSource, AlertSubscriber } from "../alerts/alert_source.ts";
import { getPreset, type Preset } from "../stream/preset.ts";
import { AlertHub } from "./alert_hub.ts";
import { firstCrossing } from "./crossing.ts";

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

/** One rejected reading of a batch. */
export interface Rejection {
  index: number;
  stream: string;
  reason: string;
  message: string;
}

/** What an ingest call did. */
export interface IngestResult {
  accepted: number;
  rejected: Rejection[];
}

/** The sources readings come from, for the counters. */
export type Source = "mqtt" | "ws" | "http" | "demo";

/** A request the caller can fix: carries the HTTP status the API answers with. */
export class ServiceError extends Error {
  readonly status: 400 | 404 | 409 | 422;
  constructor(status: ServiceError["status"], message: string) {
    super(message);
    this.name = "ServiceError";
    this.status = status;
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

/** Everything the service needs. */
export interface ServiceDeps {
  config: Config;
  store: Store;
  log: Logger;
  now?: () => number;
}

/** The daemon's core. */
export class Service implements AlertSource {
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
  readonly #config: Config;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Streams changed since their last checkpoint, with their updates since. */
  readonly #dirty = new Map<string, number>();
  /** A reading's values in column order, one buffer per stream model. */
  readonly #rows = new WeakMap<StreamModel, Float64Array>();
  #saving: Promise<void> = Promise.resolve();
  /** A save of every changed stream is queued and has not started yet. */
  #savePending = false;
  #alerts: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(deps: ServiceDeps) {
    this.#config = deps.config;
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
      this.#config.checkpointSeconds * 1000,
    );
  }

  #preset(name: string): Preset {
    try {
      return getPreset(name);
    } catch (e) {
      throw new ServiceError(400, (e as Error).message);
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
    if (this.records.size >= this.#config.maxStreams) {
      throw new ServiceError(
        409,
        `Cannot create stream "${id}": at most ${this.#config.maxStreams} streams are allowed (maxStreams): current count is ${this.records.size}`,
      );
    }
    const rec: StreamRecord = {
      id,
      preset: spec.preset ?? this.#config.defaultPreset,
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
      throw new ServiceError(400, (e as Error).message);
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
        const obs = this.engine.observe(r.stream, r.ts, row);
        if (obs.learned) {
          const rec = this.records.get(r.stream)!;
          rec.updatedAt = r.ts;
        }
        const updates = (this.#dirty.get(r.stream) ?? 0) + 1;
        this.#dirty.set(r.stream, updates);
        // one queued save covers every stream changed by the time it starts
        if (updates >= this.#config.checkpointEvery && !this.#savePending) void this.checkpoint();
        this.counters.readings[source]++;
        accepted++;
      } catch (e) {
        const reason = e instanceof ReadingError
          ? e.reason
          : e instanceof ServiceError
          ? (e.status === 409 ? "too_many_streams" : "bad_stream")
          : "error";
        if (!(e instanceof ReadingError)) {
          // the engine counts its own rejects; count the service's here
          this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + 1;
        }
        if (reason === "error") this.#log.error("ingest.failed", { stream: r.stream, error: e });
        rejected.push({ index, stream: r.stream, reason, message: (e as Error).message });
      }
    });
    return { accepted, rejected };
  }

  /** Counts a message a source could not parse. */
  reject(reason: string): void {
    this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + 1;
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
  summary(id: string) {
    const rec = this.records.get(id);
    const s = this.engine.get(id);
    if (!rec || !s) {
      throw new ServiceError(404, `Cannot find stream: id must exist: "${id}" is unknown`);
    }
    const stats = s.stats();
    return {
      ...rec,
      state: s.state,
      readings: s.readings,
      learnedReadings: s.learnedReadings,
      lastReading: Number.isFinite(s.lastTs) ? s.lastTs : null,
      periodMs: Number.isFinite(s.periodMs) ? s.periodMs : rec.periodMs,
      gaps: s.gaps,
      model: {
        hidden: s.preset.model.hidden,
        layers: s.preset.model.layers,
        window: s.preset.model.window,
        horizons: s.Hm,
        experts: s.expertNames,
        bytes: s.bytes,
        updates: s.trainer?.updates ?? 0,
      },
      horizons: stats.map((h) => ({
        horizon: h.horizon,
        scored: h.scored,
        skill: finiteOrNull(h.skill.blend),
        skillByExpert: Object.fromEntries(
          Object.entries(h.skill).map(([k, v]) => [k, finiteOrNull(v)]),
        ),
        coverage: finiteOrNull(h.coverage),
      })),
    };
  }

  list() {
    return [...this.records.keys()].sort().map((id) => this.summary(id));
  }

  /** Creates a stream, or changes one (preset, targets or period rebuild its model). */
  async put(id: string, spec: StreamSpec): Promise<ReturnType<Service["summary"]>> {
    const rec = this.records.get(id);
    if (!rec) {
      if (!spec.columns) {
        throw new ServiceError(
          400,
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
          throw new ServiceError(400, (e as Error).message);
        }
        next.updatedAt = null;
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
    this.#dirty.delete(id);
    await this.#saving;
    await this.#store.deleteStream(id);
    this.#log.info("stream.deleted", { stream: id });
    return true;
  }

  /** The forecast from the newest reading, up to `horizon` steps. */
  forecast(id: string, horizon?: number) {
    const s = this.engine.get(id);
    if (!s) throw new ServiceError(404, `Cannot forecast: stream must exist: "${id}" is unknown`);
    const f = s.forecast(horizon ?? s.Hm);
    if (!f) {
      throw new ServiceError(
        409,
        `Cannot forecast "${id}": the stream must have a reading first: current count is 0`,
      );
    }
    const rec = this.records.get(id)!;
    return {
      stream: id,
      origin: new Date(f.origin).toISOString(),
      periodMs: Number.isFinite(s.periodMs) ? s.periodMs : null,
      timestamps: f.timestamps.map((t) => (Number.isFinite(t) ? new Date(t).toISOString() : null)),
      coverage: s.preset.intervals.coverage,
      targets: f.targets,
      model: {
        version: s.learnedReadings,
        updatedAt: rec.updatedAt === null ? null : new Date(rec.updatedAt).toISOString(),
        state: s.state,
      },
    };
  }

  /** When the forecast of `target` is expected to cross `x` (above or below). */
  crossing(id: string, target: string, x: number, direction: "above" | "below") {
    const s = this.engine.get(id);
    if (!s) throw new ServiceError(404, `Cannot forecast: stream must exist: "${id}" is unknown`);
    if (!s.targets.includes(target)) {
      throw new ServiceError(
        400,
        `Cannot compute crossing: 'target' must be one of ${
          JSON.stringify(s.targets)
        }: current value is "${target}"`,
      );
    }
    const f = s.forecast();
    if (!f) {
      throw new ServiceError(
        409,
        `Cannot forecast "${id}": the stream must have a reading first: current count is 0`,
      );
    }
    const t = f.targets[target];
    const now = s.latest(target);
    // the interval's earliest: the bound nearest the threshold; its latest: the farthest
    const near = direction === "above" ? t.upper : t.lower;
    const far = direction === "above" ? t.lower : t.upper;
    const iso = (v: number | null) => (v === null ? null : new Date(v).toISOString());
    const at = firstCrossing(f.origin, now, f.timestamps, t.point, x, direction);
    return {
      stream: id,
      target,
      threshold: x,
      direction,
      value: now,
      origin: new Date(f.origin).toISOString(),
      horizonEnd: iso(f.timestamps[f.timestamps.length - 1]),
      crossing: iso(at),
      earliest: iso(firstCrossing(f.origin, now, f.timestamps, near, x, direction)),
      latest: iso(firstCrossing(f.origin, now, f.timestamps, far, x, direction)),
      coverage: s.preset.intervals.coverage,
    };
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

  /** Adds a live alert subscriber (see {@link AlertSource}). */
  subscribe(sub: AlertSubscriber): () => void {
    return this.hub.subscribe(sub);
  }

  /** Live alert subscribers now. */
  get subscribers(): number {
    return this.hub.size;
  }

  async acknowledge(id: string): Promise<StoredAlert> {
    const record = await this.#store.acknowledgeAlert(id, this.#now());
    const a = record && storedAlert(record);
    if (!a) {
      throw new ServiceError(404, `Cannot acknowledge alert: id must exist: "${id}" is unknown`);
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

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
