/**
 * Fills {@link RecentReadings} by looking at every stream's model a few
 * times a second: a stream whose reading count moved gets its newest
 * reading kept, with the forecast the previous look saw made for it.
 *
 * Why a sampler: the service has no hook that hands each reading to a
 * listener (the engine has one for alerts only), and the dashboard may not
 * change the service. The look is cheap (a map walk comparing counters; the
 * forecast is read only for streams that moved), but a stream faster than
 * the sampling period is sampled: the readings that came between two looks
 * are counted (`missed`), not kept. Once the service calls a listener per
 * reading, the recorder can be fed from it and this timer dropped.
 */
import type { RecentReadings, RecentTarget } from "./recent_readings.ts";

/** A forecast from a stream's newest reading (as the stream model gives it). */
export interface SampledForecast {
  targets: Record<string, { point: number[]; lower: (number | null)[]; upper: (number | null)[] }>;
}

/** One stream's model as the sampler reads it. */
export interface SampledStream {
  readonly targets: readonly string[];
  /** Readings taken: one more per reading; fewer after its model was rebuilt. */
  readonly readings: number;
  /** Time of the newest reading, ms (NaN before the first). */
  readonly lastTs: number;
  /** The newest value of `target` (NaN before the first reading). */
  latest(target: string): number;
  /** The forecast from the newest reading, or null before the first. */
  forecast(): SampledForecast | null;
}

/** Where the sampler finds the streams: the engine of the service. */
export interface SampleSource {
  readonly streams: ReadonlyMap<string, SampledStream>;
}

/** Options of startReadingSampler; every optional field has the default it names. */
export interface ReadingSamplerOptions {
  /**
   * Gets a look that failed; the sampler goes on. Called once per run of
   * failures with the same message, not at every look.
   */
  onError: (error: unknown) => void;
  /** How often every stream is looked at, ms. Default 250. */
  everyMs?: number;
  /**
   * Stops the sampler when aborted (daemon shutdown). Default: runs until
   * stop(); its timer never keeps the process alive.
   */
  signal?: AbortSignal;
}

/** What the sampler saw of a stream at its last look. */
interface Seen {
  readings: number;
  forecast: SampledForecast | null;
}

/** Looks at the streams and keeps their new readings. */
export class ReadingSampler {
  readonly #source: SampleSource;
  readonly #recent: RecentReadings;
  readonly #seen = new Map<string, Seen>();

  constructor(source: SampleSource, recent: RecentReadings) {
    this.#source = source;
    this.#recent = recent;
  }

  /** One look at every stream. */
  sample(): void {
    const streams = this.#source.streams;
    for (const id of this.#seen.keys()) {
      if (!streams.has(id)) {
        this.#seen.delete(id);
        this.#recent.forget(id);
      }
    }
    for (const [id, s] of streams) {
      let before = this.#seen.get(id);
      if (before && s.readings === before.readings) continue;
      if (before && s.readings < before.readings) {
        // a rebuilt model starts again; so does its history
        this.#recent.forget(id);
        before = undefined;
      }
      if (s.readings === 0 || !Number.isFinite(s.lastTs)) continue;
      const forecast = s.forecast();
      // the first look at a stream cannot say what came before
      const steps = before ? s.readings - before.readings : 1;
      const targets: Record<string, RecentTarget> = {};
      for (const t of s.targets) {
        const made = before?.forecast?.targets[t];
        const k = steps - 1; // step k + 1 of the earlier forecast is this reading
        targets[t] = {
          value: s.latest(t),
          point: made && k < made.point.length ? made.point[k] : null,
          lower: made && k < made.lower.length ? made.lower[k] : null,
          upper: made && k < made.upper.length ? made.upper[k] : null,
        };
      }
      this.#recent.record(id, s.targets, { ts: s.lastTs, missed: steps - 1, targets });
      this.#seen.set(id, { readings: s.readings, forecast });
    }
  }
}

/** A running sampler. */
export interface RunningSampler {
  /** Stops the timer. Idempotent. */
  stop(): void;
}

/** Samples `source` into `recent` now and every `everyMs` until stopped or `signal` aborts. */
export function startReadingSampler(
  source: SampleSource,
  recent: RecentReadings,
  options: ReadingSamplerOptions,
): RunningSampler {
  const everyMs = options.everyMs ?? 250;
  if (!(everyMs > 0)) {
    throw new RangeError(
      `Cannot start the reading sampler: everyMs must be above 0: current value is ${everyMs}`,
    );
  }
  const sampler = new ReadingSampler(source, recent);
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    options.signal?.removeEventListener("abort", stop);
  };
  if (options.signal?.aborted) return { stop };
  let lastError = "";
  const look = () => {
    try {
      sampler.sample();
      lastError = "";
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (message !== lastError) options.onError(e);
      lastError = message;
    }
  };
  look();
  const t = setInterval(look, everyMs);
  Deno.unrefTimer(t);
  timer = t;
  options.signal?.addEventListener("abort", stop, { once: true });
  return { stop };
}
