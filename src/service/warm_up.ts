/**
 * The per-reading code made ready before a shard worker takes its first
 * reading: streams in scratch engines of their own are fed readings so
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
 * - What is fed: one stream of each kind of restored stream (preset, values
 *   and targets: the shapes the compiled code meets), at most `kinds` of
 *   them, its twin restored from the stream's checkpoint bytes and fed the
 *   rows its history holds again, oldest first, one period apart after its
 *   newest reading. With no restored stream to warm (a new daemon) and
 *   `newStream` given: a new stream fed the made-up sensor of
 *   src/model/room_temperature.ts, five minutes apart.
 * - Each kind is fed as WARM_UP_COPIES copies, each in a scratch engine of
 *   its own, the readings in turn: V8 learns a field's type from the
 *   objects of the first network of a shape it meets, and the second
 *   engine's (its workspace, its tensors) widened those types in the
 *   window, throwing away the LSTM kernels' optimised code (`forward`,
 *   `backward`, `stepFrom`, found by bench/opt_churn.ts); with two copies
 *   it is widened here. The second copy begins once the first has taken
 *   SECOND_AFTER readings: a stream's first readings then run again once V8
 *   keeps type feedback for the code they take.
 * - What a stream meets besides its usual readings: every copy's readings
 *   are shifted by twice the range of its rows (the sensor: 10 °C) for a
 *   few readings twice (ANOMALIES), so that an alert opens and is resolved
 *   (the fusion, the onset rule, the pairs' record), the second time once a
 *   five-minute stream's record is long enough for the false-alert budget
 *   to set the threshold (src/stream/budget.ts). After its first reading,
 *   after its first alert and after its last, each copy is read as a served
 *   stream is (`read`: its forecast and summary as the API gives them, its
 *   accuracy by horizon, its checkpoint encoded, never stored). The service's own part of a reading (the
 *   forecast kept beside it in the recent ring) goes to rings of the
 *   scratch's own.
 * - Enough readings for V8's optimising compiler: a function is compiled
 *   by TurboFan after some 3,000 calls (V8's --invocation-count-for-turbofan),
 *   so the 1,000 readings fed before took the per-reading code to Maglev
 *   only, and TurboFan compiled it again in each worker with the first
 *   readings (docs/scaling.md, "eighteenth round (jitwarm)").
 * - Nothing of a fed stream reaches the service: not its alerts (the
 *   scratch engines have no listener), counters, records or checkpoints; a
 *   restored stream is only read (its bytes), so what it forecasts and
 *   alerts is what it would have without the warm-up.
 * - Each kind gets `readings` readings, all of them together at most
 *   `maxMs` of wall time: on a loaded machine, where a nice shard worker
 *   gets little of a core, the start is not held up by more than about that.
 * - The service's own path, which the scratch engines do not take (the
 *   ingest queue's turns, the service's take of a reading, the checkpoint
 *   scheduler's `changed`, the store's keys and a commit's cost at a first
 *   checkpoint): warmUpService, on a scratch service over a store of its
 *   own in memory, in what the engines leave of load()'s `warmUpMs` (at
 *   least SERVICE_WARM_UP_MIN_MS, at most 250 ms; a shard worker's: the
 *   store is ServiceDeps.scratchStore). Without it the first checkpoint
 *   after ready deopted the store's `keyBytes` in every worker
 *   (docs/scaling.md, "nineteenth round (jit2)").
 *
 * ```ts
 * const scratch = [new Engine(), new Engine()]; // WARM_UP_COPIES
 * const fed = warmUp(engine.streams.values(), {
 *   twin: (s, copy) => registry.twin(s, scratch[copy]),
 *   newStream: (copy) => registry.scratchStream(scratch[copy]),
 *   observe: (s, ts, row, copy) => scratch[copy].observe(s.id, ts, row),
 *   read: (s) => registry.readScratch(s),
 * }, { readings: 4000, maxMs: 1000 });
 * ```
 */
import { roomTemperature } from "../model/room_temperature.ts";
import type { StreamModel } from "../stream/stream.ts";
import type { Reading } from "../domain/reading.ts";

/** Options of warmUp; every field has the default it names. */
export interface WarmUpOptions {
  /** Readings fed to each kind of stream warmed, in turn to its copies. Default 4000. */
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
  readings: 4000,
  kinds: 4,
  maxMs: 1000,
  clock: () => performance.now(),
});

/** Copies fed of each kind of stream, each in a scratch engine of its own. */
export const WARM_UP_COPIES = 2;

/** The streams a warm-up feeds, made in scratch engines, and how a reading reaches them. */
export interface WarmUpScratch {
  /**
   * Copy `copy` (0 to WARM_UP_COPIES - 1) of restored stream `s`: restored
   * from its bytes, in scratch engine `copy`.
   */
  twin(s: StreamModel, copy: number): StreamModel;
  /**
   * Copy `copy` of a new stream with one value, in scratch engine `copy`;
   * null: none is fed when no twin is.
   */
  newStream: ((copy: number) => StreamModel) | null;
  /** Feeds stream `s` of scratch engine `copy` one reading. */
  observe(s: StreamModel, ts: number, row: Float64Array, copy: number): void;
  /**
   * Reads scratch stream `s` as a served stream is read (its forecast, its
   * accuracy, its checkpoint's bytes), once its readings are fed; it must
   * keep and store nothing. Default: none.
   */
  read?: ((s: StreamModel) => void) | null;
}

/** A stream to warm and its readings, made one at a time. */
interface Feed {
  stream: StreamModel;
  /** The scratch engine it is in. */
  copy: number;
  /** Readings fed to it so far. */
  fed: number;
  /** The values of the reading next() made. */
  row: Float64Array;
  /** Makes the next reading: its values into `row`; returns its timestamp, ms. */
  next(): number;
}

/**
 * The made-up anomalies of every copy, by its own readings: from reading
 * `at`, `length` readings shifted. The first early (a loaded start feeds
 * few readings), the second after 1,500 (at five minutes apart, the
 * false-alert budget's record holds half a week: it sets the threshold).
 */
const ANOMALIES: readonly { at: number; length: number }[] = [
  { at: 300, length: 6 },
  { at: 1500, length: 12 },
];
/** An anomaly's shift: this many times the range of the rows fed (the sensor's: 5 °C). */
const ANOMALY_RANGES = 2;
/**
 * A copy's readings after which it is read (`read`), besides after its
 * last: its first (a young stream's reads: no forecast scored yet), and
 * once its first alert is resolved (a loaded start may not get to the end).
 */
const READ_AFTER: readonly number[] = [1, 320];
/**
 * Readings the first copy of a kind takes before the second begins: what a
 * stream does in its first readings (its period found, its windows sized)
 * ran before V8 kept type feedback for the code (from a function's 8th call,
 * V8's --invocation-count-for-feedback-allocation), and the code compiled
 * without it left its optimised code there in the window (`#clock`'s
 * `setPeriod`); the second copy's first readings come with feedback kept.
 */
const SECOND_AFTER = 16;

/** Whether a copy's reading `n` is inside one of the ANOMALIES. */
function anomalous(n: number): boolean {
  for (const a of ANOMALIES) if (n >= a.at && n < a.at + a.length) return true;
  return false;
}

/** Step of the new stream's readings: five minutes, roomTemperature's. */
const NEW_STEP_MS = 300_000;
/** Time of the new stream's first reading. */
const NEW_START_MS = Date.UTC(2025, 0, 1);

/** The shapes a stream's code meets: its preset, value names' count and targets' count. */
function kindOf(s: StreamModel): string {
  return `${s.preset.name}/${s.I}/${s.J}`;
}

/**
 * Twin `t`'s history again and again, oldest row first, one period apart
 * after its newest reading; shifted by ANOMALY_RANGES times the range of
 * each column's rows inside the ANOMALIES.
 */
function historyFeed(t: StreamModel, copy: number): Feed {
  const { history } = t;
  const held = history.length;
  // the rows held, oldest first, copied before the twin's readings push more
  const rows: Float64Array[] = [];
  for (let k = held - 1; k >= 0; k--) {
    const row = new Float64Array(t.I);
    for (let i = 0; i < t.I; i++) row[i] = history.back(k, i);
    rows.push(row);
  }
  const shift = new Float64Array(t.I);
  for (let i = 0; i < t.I; i++) {
    let lo = Infinity, hi = -Infinity;
    for (const row of rows) lo = Math.min(lo, row[i]), hi = Math.max(hi, row[i]);
    shift[i] = ANOMALY_RANGES * (hi > lo ? hi - lo : 1);
  }
  const shifted = new Float64Array(t.I);
  const period = Number.isFinite(t.periodMs) && t.periodMs > 0 ? t.periodMs : 1000;
  let n = 0, ts = t.lastTs;
  const feed: Feed = {
    stream: t,
    copy,
    fed: 0,
    row: rows[0],
    next() {
      const row = rows[n % held];
      if (anomalous(n++)) {
        for (let i = 0; i < t.I; i++) shifted[i] = row[i] + shift[i];
        feed.row = shifted;
      } else feed.row = row;
      return ts += period;
    },
  };
  return feed;
}

/** New stream `s` fed roomTemperature(1), five minutes apart, shifted inside the ANOMALIES. */
function sensorFeed(s: StreamModel, copy: number): Feed {
  const sensor = roomTemperature(1);
  const row = new Float64Array(1);
  // the sensor's range: its daily cycle (± 2 °C) and ventilation (± 0.6 °C)
  const shift = ANOMALY_RANGES * 5;
  let n = 0;
  return {
    stream: s,
    copy,
    fed: 0,
    row,
    next: () => {
      row[0] = sensor(n) + (anomalous(n) ? shift : 0);
      return NEW_START_MS + NEW_STEP_MS * n++;
    },
  };
}

/**
 * Warms the per-reading code on scratch streams (see the module's comment):
 * WARM_UP_COPIES copies of a twin of one stream of each kind in `streams`
 * (those with readings in their history), or, when there is none, of
 * `scratch.newStream`; each kind fed `readings` readings through
 * `scratch.observe`, in turn to its copies (the first alone for its first
 * SECOND_AFTER), each copy read through `scratch.read` after READ_AFTER of
 * its readings and after the kind's last, until `maxMs` have passed.
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
  // a kind's copies, each made when its first reading is due (a loaded start may end before)
  type Copies = (copy: number) => Feed;
  const copies = (make: (copy: number) => Feed): Copies => {
    const feeds: Feed[] = [];
    return (copy) => feeds[copy] ??= make(copy);
  };
  // each kind's copies, begun once the clock said there is time for them
  function* kindsFed(): Generator<Copies> {
    const seen = new Set<string>();
    for (const s of streams) {
      if (seen.size >= kinds) break;
      const kind = kindOf(s);
      if (seen.has(kind) || s.history.length === 0 || !Number.isFinite(s.lastTs)) continue;
      seen.add(kind);
      if (over()) return;
      yield copies((copy) => historyFeed(scratch.twin(s, copy), copy));
    }
    const newStream = scratch.newStream;
    if (seen.size === 0 && newStream && !over()) {
      yield copies((copy) => sensorFeed(newStream(copy), copy));
    }
  }
  if (readings === 0) return 0;
  let fed = 0;
  for (const feeds of kindsFed()) {
    let made = 0;
    for (let n = 0; n < readings; n++) {
      if (over()) return fed;
      // the first copy alone for its first SECOND_AFTER readings, then the copies in turn
      const copy = n < SECOND_AFTER ? 0 : (n - SECOND_AFTER) % WARM_UP_COPIES;
      const feed = feeds(copy);
      made = Math.max(made, copy + 1);
      const ts = feed.next();
      scratch.observe(feed.stream, ts, feed.row, feed.copy);
      fed++;
      if (READ_AFTER.includes(++feed.fed) && !over()) scratch.read?.(feed.stream);
    }
    for (let copy = 0; copy < made; copy++) if (!over()) scratch.read?.(feeds(copy).stream);
  }
  return fed;
}

/** Options of warmUpService; every field has the default it names. */
export interface ServiceWarmUpOptions {
  /** Readings fed in all (whole rounds of the streams), `perMessage` a batch. Default 1200. */
  readings?: number;
  /** New streams fed. Default 8. */
  streams?: number;
  /** Readings of one stream in a batch (bench/scale.ts's capacity part: 10). Default 10. */
  perMessage?: number;
  /** Wall time, ms, after which no more batches are fed. Default 250. */
  maxMs?: number;
  /** The clock, ms. Default performance.now. */
  clock?: () => number;
}

/** The defaults of ServiceWarmUpOptions. */
export const SERVICE_WARM_UP_DEFAULTS: Readonly<Required<ServiceWarmUpOptions>> = Object.freeze({
  readings: 1200,
  streams: 8,
  perMessage: 10,
  maxMs: 250,
  clock: () => performance.now(),
});

/**
 * The least of a load()'s `warmUpMs` left after the scratch engines for
 * which warmUpService begins: under load its first batch, its save and its
 * close take some tens of ms however short its `maxMs`.
 */
export const SERVICE_WARM_UP_MIN_MS = 100;
/**
 * What load() keeps of `warmUpMs` for the scratch service's close after its
 * `maxMs` (a save of its streams, its KV closed), so that the warm-up as a
 * whole stays within `warmUpMs`.
 */
export const SERVICE_WARM_UP_CLOSE_MS = 50;

/** A scratch service the service's own path is warmed on: its ingest and its checkpoint. */
export interface ServiceWarmUpScratch {
  /** Takes a batch as a source's message is taken (the queue, each reading's take). */
  ingest(readings: Reading[]): Promise<unknown>;
  /** Saves every changed stream, as the checkpoint timer does. */
  checkpoint(): Promise<unknown>;
}

/** Id of the scratch service's stream `k`. */
export const warmUpStreamId = (k: number): string => `warm-up-${k}`;

/**
 * Warms the service's own path, which warmUp's scratch engines do not take:
 * `streams` new streams of a scratch service (its own store, in memory) fed
 * roomTemperature(1 + k)'s readings (stream k) five minutes apart,
 * `perMessage` a batch, the
 * streams in turn, through `scratch.ingest` (the ingest queue's turns, the
 * service's take of each reading, the checkpoint scheduler's `changed`), and
 * saved through `scratch.checkpoint` after the first half of the readings
 * and after the last (a stream's first checkpoint and a later one: the
 * store's keys, a commit's cost), until `maxMs` have passed. Returns the
 * readings fed.
 */
export async function warmUpService(
  scratch: ServiceWarmUpScratch,
  options: ServiceWarmUpOptions = {},
): Promise<number> {
  const o = { ...SERVICE_WARM_UP_DEFAULTS, ...options };
  const start = o.clock();
  const over = () => o.clock() - start >= o.maxMs;
  // each stream a sensor of its own (its noise's seed), as devices of one kind differ
  const sensors = Array.from({ length: o.streams }, (_, k) => roomTemperature(1 + k));
  const rounds = Math.ceil(o.readings / (o.streams * o.perMessage));
  let fed = 0, saved = false;
  for (let round = 0; round < rounds && o.streams > 0; round++) {
    for (let k = 0; k < o.streams; k++) {
      if (over()) return fed;
      const batch: Reading[] = [];
      for (let m = 0; m < o.perMessage; m++) {
        const n = round * o.perMessage + m;
        batch.push({
          stream: warmUpStreamId(k),
          ts: NEW_START_MS + NEW_STEP_MS * n,
          values: { value: sensors[k](n) },
        });
      }
      await scratch.ingest(batch);
      fed += batch.length;
    }
    if (!saved && 2 * (round + 1) >= rounds) {
      saved = true;
      if (over()) return fed;
      await scratch.checkpoint();
    }
  }
  if (fed > 0 && !over()) await scratch.checkpoint();
  return fed;
}
