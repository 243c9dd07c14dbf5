/**
 * The engine: every stream of a daemon (or of one replay), the scratch they
 * share, and the counters the metrics endpoint reports. No I/O.
 */
import { Workspace } from "../model/network.ts";
import { type Observation, ReadingError, StreamModel, type StreamOptions } from "./stream.ts";
import type { AlertEvent } from "../domain/alert.ts";
import { lstmShape } from "./lstm_expert.ts";
import { DOUBLE_ZERO } from "../model/floats.ts";

/** How to create a stream in the engine: a stream's options but its id and the scratch the engine shares. */
export type CreateStreamOptions = Omit<StreamOptions, "id" | "workspace">;

/** Counters since start. */
export interface EngineCounters {
  readings: number;
  /** Rejected readings by reason. */
  rejects: Record<string, number>;
  /** Readings the models learned from. */
  learned: number;
  /** Time spent in observe(), seconds. */
  observeSeconds: number;
  alerts: number;
  /** Parts of models the divergence guard re-initialised (see divergence_guard.ts). */
  recoveries: number;
}

/** Holds the streams. */
export class Engine {
  readonly streams = new Map<string, StreamModel>();
  readonly counters: EngineCounters = {
    readings: 0,
    rejects: {},
    learned: 0,
    observeSeconds: DOUBLE_ZERO, // a double from the start: see DOUBLE_ZERO
    alerts: 0,
    recoveries: 0,
  };
  readonly #workspaces = new Map<string, Workspace<Float32Array>>();
  readonly #listeners = new Set<(e: AlertEvent) => void>();

  /** Creates a stream (throws if the id is taken). */
  create(id: string, opts: CreateStreamOptions): StreamModel {
    if (this.streams.has(id)) {
      throw new RangeError(`Cannot create stream: id must be new: "${id}" exists`);
    }
    const p = opts.preset;
    const { window, ...shape } = lstmShape(opts.columns.length, p);
    const key = `${shape.inputs}/${shape.hidden}/${shape.layers}/${shape.outputs}/${window}`;
    let ws = this.#workspaces.get(key);
    if (!ws && p.model.enabled) {
      ws = new Workspace<Float32Array>(shape, window, Float32Array);
      this.#workspaces.set(key, ws);
    }
    const stream = new StreamModel({ id, ...opts, workspace: ws });
    this.streams.set(id, stream);
    return stream;
  }

  get(id: string): StreamModel | undefined {
    return this.streams.get(id);
  }

  delete(id: string): boolean {
    return this.streams.delete(id);
  }

  /** Calls `fn` with every alert event. Returns a function that unsubscribes. */
  onAlert(fn: (e: AlertEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Feeds one reading to a stream. Rejections are counted by reason and
   * rethrown as {@link ReadingError}; nothing else changes.
   */
  observe(id: string, ts: number, values: ArrayLike<number>): Observation {
    const stream = this.streams.get(id);
    if (!stream) {
      this.#reject("unknown_stream");
      throw new ReadingError(
        "missing_value",
        `Cannot ingest reading: stream must exist: "${id}" is unknown`,
      );
    }
    const t0 = performance.now();
    try {
      const obs = stream.observe(ts, values);
      this.counters.readings++;
      if (obs.learned) this.counters.learned++;
      if (obs.recovered) this.counters.recoveries += obs.recovered.length;
      if (obs.event) {
        this.counters.alerts++;
        for (const fn of this.#listeners) fn(obs.event);
      }
      return obs;
    } catch (e) {
      if (e instanceof ReadingError) this.#reject(e.reason);
      throw e;
    } finally {
      this.counters.observeSeconds += (performance.now() - t0) / 1000;
    }
  }

  /**
   * Restarts a stream's time line, keeping what it learned (see
   * {@link StreamModel.rewind}): a replay feeds its warm-up rows again after
   * it. The counters are kept.
   */
  rewind(id: string): void {
    const stream = this.streams.get(id);
    if (!stream) {
      throw new RangeError(`Cannot rewind stream: stream must exist: "${id}" is unknown`);
    }
    stream.rewind();
  }

  #reject(reason: string): void {
    this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + 1;
  }
}
