/**
 * The streams a service holds: each stream's record beside its model in the
 * engine, the daemon's limits checked when one is created or changed, and
 * the restore of every stream from the store at start, and what the
 * service tells of a stream (its summary, its forecast, a crossing).
 */
import type { Logger } from "../log.ts";
import { nameProblem, valueCountProblem } from "../domain/reading.ts";
import { showValue } from "../domain/show_value.ts";
import type { Store } from "../store/store.ts";
import { Engine } from "../stream/engine.ts";
import { getPreset, type Preset } from "../stream/preset.ts";
import type { StreamModel } from "../stream/stream.ts";
import type { ValueBoundsOptions } from "../stream/value_bounds.ts";
import { ServiceError } from "./service_error.ts";
import type { ServiceOptions } from "./service_options.ts";
import { MAX_FUTURE_MS, type StreamRecord, type StreamSpec } from "./stream_record.ts";
import {
  type Crossing,
  streamCrossing,
  type StreamForecast,
  streamForecast,
  type StreamSummary,
  streamSummary,
} from "./stream_views.ts";

/** What the registry needs. */
export interface StreamRegistryDeps {
  store: Store;
  log: Logger;
  /** The service's resolved settings. */
  options: Required<ServiceOptions>;
  /** The clock, ms since the epoch: a new stream's createdAt. */
  now: () => number;
  /**
   * Whether a stream may be created now (the daemon's stream count is
   * below maxStreams): the count of streams to name in the refusal when it
   * may not, null when it may. Default: this registry's count against
   * maxStreams.
   */
  room?: (id: string) => number | null;
  /** Gives back the place `room(id)` took. Default: nothing to do. */
  release?: (id: string) => void;
}

/** Streams whose KV reads run ahead of the one being restored, at start. */
const LOAD_AHEAD = 32;

/** Every stream's record and model. */
export class StreamRegistry {
  readonly engine = new Engine();
  readonly records = new Map<string, StreamRecord>();
  readonly #deps: StreamRegistryDeps;
  /** The value bounds of every stream, one object (a stream's model keeps it). */
  readonly #bounds: ValueBoundsOptions;

  constructor(deps: StreamRegistryDeps) {
    this.#deps = deps;
    const o = deps.options;
    this.#bounds = { maxAbs: o.maxAbsValue, maxSpreads: o.maxValueSpreads };
  }

  /**
   * Restores every stream from the store whose id `owns` picks (default:
   * all). A checkpoint that cannot be restored (damaged, of another shape,
   * or holding values a healthy stream cannot: src/stream/restore_check.ts)
   * is refused with its reason (`stream.restore_failed`) and its stream
   * starts fresh under its record, rather than dead; `fresh(id)` is told,
   * so that it is saved anew. A stream whose record cannot be built is left
   * out.
   */
  async load(fresh: (id: string) => void, owns: (id: string) => boolean = () => true) {
    const { store, log, now } = this.#deps;
    const ids = (await store.listStreams()).filter(owns);
    // the KV reads of the next streams run while one restores (decoding and
    // checking a checkpoint is CPU work): a window of LOAD_AHEAD reads in
    // flight, the streams restored in the order listed
    const read = (id: string) => {
      const config = store.getConfig<StreamRecord>(id);
      const bytes = store.loadCheckpoint(id);
      // a rejection is taken where the stream is restored, in order
      config.catch(() => {});
      bytes.catch(() => {});
      return { config, bytes };
    };
    const ahead = ids.slice(0, LOAD_AHEAD).map(read);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      const next = ahead.shift()!;
      if (k + LOAD_AHEAD < ids.length) ahead.push(read(ids[k + LOAD_AHEAD]));
      let stream: StreamModel | null = null;
      let rec: StreamRecord | null;
      try {
        rec = await next.config;
        if (rec) stream = this.build(rec);
      } catch (e) {
        this.engine.delete(id);
        log.error("stream.restore_failed", { stream: id, error: e, action: "left out" });
        rec = null;
      }
      if (!rec || !stream) {
        // its checkpoint's read ends here, not after load() has returned
        await next.bytes.catch(() => null);
        continue;
      }
      this.records.set(id, rec);
      try {
        const bytes = await next.bytes;
        // a newest reading later than any reading may be would refuse every reading
        // (a stream refused is dropped below and built afresh)
        if (bytes) stream.restoreNew(bytes, { latestTs: now() + MAX_FUTURE_MS });
      } catch (e) {
        log.error("stream.restore_failed", {
          stream: id,
          error: e,
          action: "the stream starts fresh",
        });
        this.engine.delete(id);
        this.build(rec);
        rec.updatedAt = null;
        fresh(id);
      }
    }
  }

  /**
   * Changes stream `rec.id` as `spec` asks, keeping the limits: a new
   * preset, columns, targets or period rebuild its model (it starts fresh,
   * `rebuilt`); `frozen` alone does not. Throws a ServiceError, leaving the
   * stream as it was, when the change is refused.
   */
  change(rec: StreamRecord, spec: StreamSpec): { next: StreamRecord; rebuilt: boolean } {
    const id = rec.id;
    const rebuild = (spec.preset !== undefined && spec.preset !== rec.preset) ||
      (spec.columns !== undefined &&
        JSON.stringify(spec.columns) !== JSON.stringify(rec.columns)) ||
      (spec.targets !== undefined &&
        JSON.stringify(spec.targets) !== JSON.stringify(rec.targets)) ||
      (spec.periodMs !== undefined && spec.periodMs !== rec.periodMs);
    if (spec.columns !== undefined || spec.targets !== undefined) {
      this.checkLimits(
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
    this.checkSize(next, "change stream");
    if (rebuild) {
      const old = this.engine.get(id)!;
      this.engine.delete(id);
      try {
        this.build(next);
      } catch (e) {
        this.engine.streams.set(id, old);
        if (e instanceof ServiceError) throw e;
        throw new ServiceError("invalid", (e as Error).message);
      }
      next.updatedAt = null;
      this.#deps.log.info("stream.rebuilt", { stream: id, preset: next.preset });
    } else {
      this.engine.get(id)!.frozen = next.frozen;
    }
    this.records.set(id, next);
    return { next, rebuilt: rebuild };
  }

  /** Drops stream `id`'s record and model, and gives its place back. */
  forget(id: string): void {
    if (!this.records.delete(id)) return;
    this.engine.delete(id);
    this.#deps.release?.(id);
  }

  #preset(name: string): Preset {
    try {
      const p = getPreset(name);
      const budget = this.#deps.options.falseAlertsPerWeek;
      return budget === null ? p : { ...p, anomaly: { ...p.anomaly, falseAlertsPerWeek: budget } };
    } catch (e) {
      throw new ServiceError("invalid", (e as Error).message);
    }
  }

  /** Makes the model of `rec` in the engine (replacing one of its id). */
  build(rec: StreamRecord): StreamModel {
    const stream = this.engine.create(rec.id, {
      preset: this.#preset(rec.preset),
      columns: rec.columns,
      targets: rec.targets,
      periodMs: rec.periodMs ?? undefined,
      bounds: this.#bounds,
    });
    stream.frozen = rec.frozen;
    return stream;
  }

  /**
   * A new stream of the default preset with one value in `engine` (a scratch
   * engine, not the registry's): the start-up's warm-up of a daemon with no
   * stream to restore feeds it (src/service/warm_up.ts).
   */
  scratchStream(engine: Engine): StreamModel {
    return engine.create("warm-up", {
      preset: this.#preset(this.#deps.options.defaultPreset),
      columns: ["value"],
      targets: ["value"],
      bounds: this.#bounds,
    });
  }

  /**
   * Reads scratch stream `s` (the start-up's warm-up's, not the registry's)
   * as the API, the metrics and the checkpoints read a served stream: its
   * forecast and summary as answered (under a record made up for it), its
   * accuracy by horizon, its checkpoint's bytes. Keeps and stores nothing.
   */
  readScratch(s: StreamModel): void {
    const rec: StreamRecord = {
      id: s.id,
      preset: s.preset.name,
      columns: s.columns,
      targets: s.targets,
      periodMs: null,
      frozen: false,
      createdAt: 0,
      updatedAt: null,
    };
    const f = s.forecast(s.Hm);
    if (f) streamForecast(rec, s, f);
    streamSummary(rec, s);
    s.stats();
    s.toBytes();
  }

  /**
   * A copy of stream `s` in `engine` (a scratch engine, not the registry's),
   * built as `s` was and restored from its checkpoint bytes: the start-up's
   * warm-up feeds it (src/service/warm_up.ts); `s` is only read.
   */
  twin(s: StreamModel, engine: Engine): StreamModel {
    const rec = this.records.get(s.id);
    if (!rec) throw new RangeError(`Cannot make a twin: stream must be loaded: "${s.id}" is not`);
    const twin = engine.create(s.id, {
      preset: s.preset,
      columns: rec.columns,
      targets: rec.targets,
      periodMs: rec.periodMs ?? undefined,
      bounds: this.#bounds,
    });
    twin.restoreNew(s.toBytes());
    return twin;
  }

  /** Throws an invalid ServiceError unless `rec` fits one KV value (the store's limit). */
  checkSize(rec: StreamRecord, action: string): void {
    const store = this.#deps.store;
    const size = store.configBytes(rec);
    const max = store.options.commitLimits.maxValueBytes;
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
  checkLimits(action: string, id: string | null, columns: string[], targets?: string[]): void {
    const { maxNameLength, maxValuesPerStream } = this.#deps.options;
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

  /**
   * Creates stream `id` (a reading's value names as its columns when
   * `fromReading`); throws a ServiceError when a limit refuses it.
   */
  create(id: string, spec: StreamSpec & { columns: string[] }, fromReading = false): StreamModel {
    const { options, now, log } = this.#deps;
    const action = `create stream ${JSON.stringify(id)}`;
    if (fromReading) this.checkLimits(action, id, spec.columns);
    else this.checkLimits(action, id, spec.columns, spec.targets);
    const count = this.#deps.room
      ? this.#deps.room(id)
      : this.records.size >= options.maxStreams
      ? this.records.size
      : null;
    if (count !== null) {
      throw new ServiceError(
        "conflict",
        `Cannot create stream "${id}": at most ${options.maxStreams} streams are allowed (maxStreams): current count is ${count}`,
      );
    }
    const rec: StreamRecord = {
      id,
      preset: spec.preset ?? options.defaultPreset,
      columns: spec.columns,
      targets: spec.targets ?? spec.columns,
      periodMs: spec.periodMs ?? null,
      frozen: spec.frozen ?? false,
      createdAt: now(),
      updatedAt: null,
    };
    let stream: StreamModel;
    try {
      this.checkSize(rec, "create stream");
      stream = this.build(rec);
    } catch (e) {
      this.#deps.release?.(id);
      if (e instanceof ServiceError) throw e;
      throw new ServiceError("invalid", (e as Error).message);
    }
    this.records.set(id, rec);
    log.info("stream.created", { stream: id, preset: rec.preset, columns: rec.columns });
    return stream;
  }

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
}
