/**
 * The per-reading code made ready before a restarted daemon takes its first
 * reading: a twin of a restored stream, in an engine of its own, is fed
 * readings so that V8 compiles the paths every stream's next reading takes,
 * while the daemon is still loading (before it is ready), not while the
 * first second of readings waits.
 *
 * - Without it, each shard worker met its restored streams' first readings
 *   with cold code: the interpreter, then V8 compiling on its helper threads
 *   (which take the cores the nice shard workers wait for), so that the
 *   first readings after a restart cost about twice the next ones and
 *   learning was shed in the first seconds (docs/scaling.md, "fifteenth
 *   round (startup)").
 * - The twin is restored from the stream's checkpoint bytes into a scratch
 *   engine and fed the rows its history holds again, oldest first, one
 *   period apart after its newest reading, round after round until
 *   `readings`. Nothing of the twin reaches the service: not its alerts
 *   (the scratch engine has no listener), counters, records or checkpoints;
 *   the restored stream itself is only read (its bytes), so what it
 *   forecasts and alerts is what it would have without the warm-up.
 * - One twin per kind of stream (preset, values and targets: the shapes the
 *   compiled code meets), at most `kinds` of them.
 * - A shard worker with no stream to warm (a new daemon) feeds a new stream
 *   of the default preset made-up readings instead (`warmUpNew`): each
 *   worker's isolate compiles the code anew, and on 2 cores that
 *   compilation took the core the other worker needed (docs/scaling.md,
 *   "sixteenth round (v8helpers)").
 *
 * ```ts
 * const scratch = new Engine();
 * const fed = warmUp(
 *   engine.streams.values(),
 *   (s) => registry.twin(s, scratch),
 *   (twin, ts, row) => scratch.observe(twin.id, ts, row),
 *   { readings: 1000 },
 * );
 * ```
 */
import type { StreamModel } from "../stream/stream.ts";

/** Options of warmUp; every field has the default it names. */
export interface WarmUpOptions {
  /** Readings fed to each twin. Default 1000. */
  readings?: number;
  /** Most twins (kinds of stream) warmed. Default 4. */
  kinds?: number;
}

/** The defaults of WarmUpOptions. */
export const WARM_UP_DEFAULTS: Readonly<Required<WarmUpOptions>> = Object.freeze({
  readings: 1000,
  kinds: 4,
});

/** The shapes a stream's code meets: its preset, value names' count and targets' count. */
function kindOf(s: StreamModel): string {
  return `${s.preset.name}/${s.I}/${s.J}`;
}

/**
 * Feeds a twin of one stream of each kind in `streams` (those with readings
 * in their history) `readings` readings; `twin` makes a stream's twin (a
 * copy restored from its bytes, in a scratch engine) and `observe` feeds the
 * twin one reading. Returns the readings fed to twins.
 */
export function warmUp(
  streams: Iterable<StreamModel>,
  twin: (s: StreamModel) => StreamModel,
  observe: (twin: StreamModel, ts: number, row: Float64Array) => void,
  options: WarmUpOptions = {},
): number {
  const readings = options.readings ?? WARM_UP_DEFAULTS.readings;
  const kinds = options.kinds ?? WARM_UP_DEFAULTS.kinds;
  const seen = new Set<string>();
  let fed = 0;
  for (const s of streams) {
    if (seen.size >= kinds) break;
    const kind = kindOf(s);
    if (seen.has(kind) || s.history.length === 0 || !Number.isFinite(s.lastTs)) continue;
    seen.add(kind);
    const t = twin(s);
    const { history } = t;
    const held = history.length;
    // the rows held, oldest first, copied before the twin's readings push more
    const rows: Float64Array[] = [];
    for (let k = held - 1; k >= 0; k--) {
      const row = new Float64Array(t.I);
      for (let i = 0; i < t.I; i++) row[i] = history.back(k, i);
      rows.push(row);
    }
    const period = Number.isFinite(t.periodMs) && t.periodMs > 0 ? t.periodMs : 1000;
    let ts = t.lastTs;
    for (let n = 0; n < readings; n++) {
      ts += period;
      observe(t, ts, rows[n % held]);
      fed++;
    }
  }
  return fed;
}

/** Step of the readings warmUpNew feeds: five minutes, the most common sensor period. */
const NEW_STEP_MS = 300_000;
/** Readings a day at that step: the season of warmUpNew's readings. */
const NEW_DAY = 288;
/** warmUpNew looks at the clock once every this many readings. */
const NEW_CLOCK_EVERY = 50;

/** Options of warmUpNew; every field has the default it names. */
export interface WarmUpNewOptions {
  /** Readings fed at most. Default 1000 (WARM_UP_DEFAULTS.readings). */
  readings?: number;
  /**
   * Wall time, ms, after which no more readings are fed (looked at every 50
   * readings): on a loaded machine, where a nice shard worker gets little of
   * a core, the start is not held up by more than about this. Default 1000.
   */
  maxMs?: number;
  /** The clock, ms. Default performance.now. */
  clock?: () => number;
}

/**
 * Feeds `stream` (a new stream with one value, in a scratch engine) readings
 * of a sensor of no particular kind: a daily cycle, a slow drift and a
 * deterministic noise, five minutes apart. For a daemon with no stream to
 * restore, whose first streams come with its first readings: the code of
 * every phase of a new stream's life up to `readings` readings is compiled
 * before it takes one. Returns the readings fed.
 */
export function warmUpNew(
  stream: StreamModel,
  observe: (s: StreamModel, ts: number, row: Float64Array) => void,
  options: WarmUpNewOptions = {},
): number {
  const readings = options.readings ?? WARM_UP_DEFAULTS.readings;
  const maxMs = options.maxMs ?? 1000;
  const clock = options.clock ?? (() => performance.now());
  const until = clock() + maxMs;
  const row = new Float64Array(1);
  let seed = 0x9e3779b9;
  let ts = Date.UTC(2025, 0, 1);
  for (let n = 0; n < readings; n++) {
    if (n > 0 && n % NEW_CLOCK_EVERY === 0 && clock() > until) return n;
    // xorshift32: a noise in [-0.5, 0.5) that needs no Math.random
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const noise = (seed >>> 0) / 2 ** 32 - 0.5;
    row[0] = 50 + 10 * Math.sin((2 * Math.PI * n) / NEW_DAY) + 0.002 * n + 2 * noise;
    observe(stream, ts, row);
    ts += NEW_STEP_MS;
  }
  return readings;
}
