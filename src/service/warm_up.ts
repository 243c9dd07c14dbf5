/**
 * The per-reading code made ready before a shard worker takes its first
 * reading: streams in a scratch engine of their own are fed readings so
 * that V8 compiles the paths every stream's next reading takes while the
 * daemon is still loading (before it is ready), not while the first second
 * of readings waits.
 *
 * - Without it, each shard worker met its first readings with cold code:
 *   the interpreter, then V8 compiling on its helper threads (which take
 *   the cores the nice shard workers wait for), so that the first readings
 *   after a restart cost about twice the next ones and learning was shed in
 *   the first seconds (docs/scaling.md, "fifteenth round (startup)"), and
 *   each worker's isolate compiled the code anew while the other worker
 *   waited for the core ("sixteenth round (v8helpers)").
 * - What is fed: a twin of one restored stream of each kind (preset, values
 *   and targets: the shapes the compiled code meets), at most `kinds` of
 *   them, restored from the stream's checkpoint bytes and fed the rows its
 *   history holds again, oldest first, one period apart after its newest
 *   reading. With no restored stream to warm (a new daemon) and `newStream`
 *   given: a new stream fed the made-up sensor of src/model/room_temperature.ts,
 *   five minutes apart.
 * - Nothing of a fed stream reaches the service: not its alerts (the
 *   scratch engine has no listener), counters, records or checkpoints; a
 *   restored stream is only read (its bytes), so what it forecasts and
 *   alerts is what it would have without the warm-up.
 * - Each stream fed gets `readings` readings, all of them together at most
 *   `maxMs` of wall time: on a loaded machine, where a nice shard worker
 *   gets little of a core, the start is not held up by more than about that.
 *
 * ```ts
 * const scratch = new Engine();
 * const fed = warmUp(engine.streams.values(), {
 *   twin: (s) => registry.twin(s, scratch),
 *   newStream: () => registry.scratchStream(scratch),
 *   observe: (s, ts, row) => scratch.observe(s.id, ts, row),
 * }, { readings: 1000, maxMs: 1000 });
 * ```
 */
import { roomTemperature } from "../model/room_temperature.ts";
import type { StreamModel } from "../stream/stream.ts";

/** Options of warmUp; every field has the default it names. */
export interface WarmUpOptions {
  /** Readings fed to each stream warmed. Default 1000. */
  readings?: number;
  /** Most twins (kinds of stream) warmed. Default 4. */
  kinds?: number;
  /**
   * Wall time, ms, after which no more readings are fed, whichever stream is
   * fed (the clock is looked at before each stream and each reading: about
   * a µs, against 30 to 300 µs a reading). Default 1000.
   */
  maxMs?: number;
  /** The clock, ms. Default performance.now. */
  clock?: () => number;
}

/** The defaults of WarmUpOptions. */
export const WARM_UP_DEFAULTS: Readonly<Required<WarmUpOptions>> = Object.freeze({
  readings: 1000,
  kinds: 4,
  maxMs: 1000,
  clock: () => performance.now(),
});

/** The streams a warm-up feeds, made in a scratch engine, and how a reading reaches them. */
export interface WarmUpScratch {
  /** A twin of restored stream `s`: a copy restored from its bytes, in the scratch engine. */
  twin(s: StreamModel): StreamModel;
  /** A new stream with one value, in the scratch engine; null: none is fed when no twin is. */
  newStream: (() => StreamModel) | null;
  /** Feeds a stream of the scratch engine one reading. */
  observe(s: StreamModel, ts: number, row: Float64Array): void;
}

/** A stream to warm and its readings, made one at a time. */
interface Feed {
  stream: StreamModel;
  /** The values of the reading next() made. */
  row: Float64Array;
  /** Makes the next reading: its values into `row`; returns its timestamp, ms. */
  next(): number;
}

/** Step of the new stream's readings: five minutes, roomTemperature's. */
const NEW_STEP_MS = 300_000;
/** Time of the new stream's first reading. */
const NEW_START_MS = Date.UTC(2025, 0, 1);

/** The shapes a stream's code meets: its preset, value names' count and targets' count. */
function kindOf(s: StreamModel): string {
  return `${s.preset.name}/${s.I}/${s.J}`;
}

/** Twin `t`'s history again and again, oldest row first, one period apart after its newest reading. */
function historyFeed(t: StreamModel): Feed {
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
  let n = 0, ts = t.lastTs;
  const feed: Feed = {
    stream: t,
    row: rows[0],
    next() {
      feed.row = rows[n++ % held];
      return ts += period;
    },
  };
  return feed;
}

/** New stream `s` fed roomTemperature(1), five minutes apart. */
function sensorFeed(s: StreamModel): Feed {
  const sensor = roomTemperature(1);
  const row = new Float64Array(1);
  let n = 0;
  return {
    stream: s,
    row,
    next: () => {
      row[0] = sensor(n);
      return NEW_START_MS + NEW_STEP_MS * n++;
    },
  };
}

/**
 * Warms the per-reading code on scratch streams (see the module's comment):
 * a twin of one stream of each kind in `streams` (those with readings in
 * their history), or, when there is none, `scratch.newStream()`; each fed
 * `readings` readings through `scratch.observe`, until `maxMs` have passed.
 * Returns the readings fed.
 */
export function warmUp(
  streams: Iterable<StreamModel>,
  scratch: WarmUpScratch,
  options: WarmUpOptions = {},
): number {
  const readings = options.readings ?? WARM_UP_DEFAULTS.readings;
  const kinds = options.kinds ?? WARM_UP_DEFAULTS.kinds;
  const maxMs = options.maxMs ?? WARM_UP_DEFAULTS.maxMs;
  const clock = options.clock ?? WARM_UP_DEFAULTS.clock;
  const start = clock();
  const over = () => clock() - start >= maxMs;
  // the streams fed, each made once the clock said there is time for it
  function* feeds(): Generator<Feed> {
    const seen = new Set<string>();
    for (const s of streams) {
      if (seen.size >= kinds) break;
      const kind = kindOf(s);
      if (seen.has(kind) || s.history.length === 0 || !Number.isFinite(s.lastTs)) continue;
      seen.add(kind);
      if (over()) return;
      yield historyFeed(scratch.twin(s));
    }
    if (seen.size === 0 && scratch.newStream && !over()) yield sensorFeed(scratch.newStream());
  }
  if (readings === 0) return 0;
  let fed = 0;
  for (const feed of feeds()) {
    for (let n = 0; n < readings; n++) {
      if (over()) return fed;
      const ts = feed.next();
      scratch.observe(feed.stream, ts, feed.row);
      fed++;
    }
  }
  return fed;
}
