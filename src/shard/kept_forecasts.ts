/**
 * Forecasts the main thread keeps, so that a stream's forecast is answered
 * without a turn of its worker: a read that needs the worker waits for the
 * worker's item under way and, with the worker's thread at a lower priority
 * (`--worker-nice`) on a busy machine, for a core (docs/scaling.md, "the
 * API's reads"). The first read of a stream's forecast goes to its worker as
 * before, as a call with `keep` (src/shard/shard_protocol.ts); from then on
 * the worker sends the stream's whole forecast (every step of its horizon)
 * whenever it changes, before the reply that follows the change (a batch of
 * the stream's readings taken, a put or a delete), and once a second while
 * its learning goes on (`model.version`, shed learning caught up). The main
 * thread answers the stream's forecasts from the last one it has, cut to the
 * horizon asked for.
 *
 * A read still sees every reading acknowledged before it: a worker's
 * messages arrive in the order sent, so the forecast a batch changed is on
 * the main thread before that batch's acknowledgement, and a stream that is
 * no longer kept is dropped (a null sent) before any batch the worker takes
 * without sending its forecast. A worker that dies or restarts drops its
 * streams' forecasts on the main thread (ShardedService).
 *
 * Bounded: a worker keeps at most {@link MAX_KEPT} streams' forecasts (the
 * reads of others go to it as before), each for {@link KEEP_MS} after the
 * last call with `keep`; the main thread calls again, in the background,
 * when {@link RENEW_MS} went by since the last, while the stream is read.
 */
import type { StreamForecast } from "../service/service.ts";

/** How long a worker keeps sending a stream's forecast after the last call with `keep`, ms. */
export const KEEP_MS = 30_000;
/** How often the main thread renews a kept forecast while it is read, ms. */
export const RENEW_MS = 5_000;
/** The most streams a worker keeps forecasts of. */
export const MAX_KEPT = 64;

/**
 * The forecast of the first `horizon` steps of `f` (every step of `f`: its
 * horizon), as the stream's own forecast(horizon) makes it: `horizon` is
 * taken within [1, steps of f]. A new object: the kept one is never handed out.
 */
export function cutForecast(f: StreamForecast, horizon?: number): StreamForecast {
  const H = Math.min(Math.max(1, horizon ?? f.timestamps.length), f.timestamps.length);
  const targets: StreamForecast["targets"] = {};
  for (const name in f.targets) {
    const t = f.targets[name];
    targets[name] = {
      point: t.point.slice(0, H),
      lower: t.lower.slice(0, H),
      upper: t.upper.slice(0, H),
      interval: t.interval.slice(0, H),
    };
  }
  return { ...f, timestamps: f.timestamps.slice(0, H), targets, model: { ...f.model } };
}

/** The main thread's kept forecasts (see the module comment). */
export class KeptForecasts {
  readonly #kept = new Map<string, { value: StreamForecast; renewedAt: number }>();

  /** How many streams' forecasts are kept. */
  get size(): number {
    return this.#kept.size;
  }

  /**
   * Stream `id`'s forecast of `horizon` steps from the kept one, or null when none is kept
   * (or `horizon` is not an integer: the worker answers, and refuses, as before).
   */
  get(id: string, horizon?: number): StreamForecast | null {
    if (horizon !== undefined && !Number.isInteger(horizon)) return null;
    const k = this.#kept.get(id);
    return k === undefined ? null : cutForecast(k.value, horizon);
  }

  /**
   * Whether stream `id`'s kept forecast is due a renewal at `now` (performance.now() ms):
   * RENEW_MS since the last; if so, it counts as renewed now.
   */
  renew(id: string, now: number): boolean {
    const k = this.#kept.get(id);
    if (k === undefined || now - k.renewedAt < RENEW_MS) return false;
    k.renewedAt = now;
    return true;
  }

  /** A worker's `forecast` message: keeps `value` (null: drops the stream's). */
  take(id: string, value: StreamForecast | null, now: number): void {
    if (value === null) {
      this.#kept.delete(id);
      return;
    }
    const k = this.#kept.get(id);
    if (k === undefined) this.#kept.set(id, { value, renewedAt: now });
    else k.value = value;
  }

  /** Drops the forecasts of the streams `which` picks (a worker's, when it dies). */
  drop(which: (id: string) => boolean): void {
    for (const id of [...this.#kept.keys()]) if (which(id)) this.#kept.delete(id);
  }
}

/** A worker's side: which streams' forecasts it sends, until when, and their last version. */
export class ForecastKeeper {
  /** Kept stream -> until when (performance.now() ms) and the version last sent. */
  readonly #kept = new Map<string, { until: number; version: number }>();

  /** How many streams are kept. */
  get size(): number {
    return this.#kept.size;
  }

  /** Whether stream `id` is kept. */
  has(id: string): boolean {
    return this.#kept.has(id);
  }

  /**
   * A call with `keep` for stream `id` at `now`: kept (again) for KEEP_MS, unless MAX_KEPT
   * others are; returns whether it is kept.
   */
  keep(id: string, now: number): boolean {
    const k = this.#kept.get(id);
    if (k !== undefined) k.until = now + KEEP_MS;
    else if (this.#kept.size >= MAX_KEPT) return false;
    else this.#kept.set(id, { until: now + KEEP_MS, version: NaN });
    return true;
  }

  /** Notes the version of stream `id`'s forecast as sent. */
  sent(id: string, version: number): void {
    const k = this.#kept.get(id);
    if (k !== undefined) k.version = version;
  }

  /** Drops stream `id` (no forecast to send: it is gone, or has no reading). */
  drop(id: string): void {
    this.#kept.delete(id);
  }

  /**
   * Once a second: the streams whose keep ran out at `now` (dropped here: send null for each)
   * and those still kept whose version is no longer the one sent (`version(id)`: send again).
   */
  tick(now: number, version: (id: string) => number): { expired: string[]; changed: string[] } {
    const expired: string[] = [], changed: string[] = [];
    for (const [id, k] of this.#kept) {
      if (k.until <= now) {
        this.#kept.delete(id);
        expired.push(id);
      } else if (version(id) !== k.version) changed.push(id);
    }
    return { expired, changed };
  }
}
