/**
 * The module a shard worker runs (`new Worker(new URL("./shard_worker.ts",
 * import.meta.url))`): one Service over the streams of its shard, with its
 * own handle on the daemon's Deno KV. It takes the batches and calls of the
 * main thread (src/shard/shard_protocol.ts) and sends back the replies, the
 * alert events of its streams (the main thread stores and fans them out)
 * and its counters.
 *
 * Each worker saves its own streams' checkpoints through its own KV handle:
 * checkpoints are made and written where the models are, in parallel,
 * without copying their bytes to the main thread; the crash-loss bound
 * stays a local check per stream. See docs/scaling.md.
 */
/// <reference lib="deno.worker" />
import { createLogger } from "../log.ts";
import { Service, ServiceError } from "../service/service.ts";
import { Store } from "../store/store.ts";
import type { FromShard, ShardError, ShardInit, ShardStats, ToShard } from "./shard_protocol.ts";
import { decodeReadings } from "./reading_batch.ts";
import { shardOf } from "./shard_of.ts";
import { retryLocked } from "./locked_kv_retry.ts";
import { useKernels } from "../model/kernels.ts";
import { useTurns, useTurnSignal } from "../async/next_turn.ts";
import { HorizonColumnsWriter } from "./horizon_columns.ts";
import { lowerThreadPriority } from "./lower_thread_priority.ts";
import { type PackedStats, StatsPacker } from "./packed_stats.ts";
import { IdleClock } from "./idle_clock.ts";
import { type ReadHops, wallMs, type WorkerHops } from "./reading_trace.ts";
import { ForecastKeeper } from "./kept_forecasts.ts";
import type { StreamForecast } from "../service/service.ts";

let service: Service | null = null;
let kv: Deno.Kv | null = null;
let statsTimer: ReturnType<typeof setInterval> | undefined;
/** ShardInit.waitingCalls, and this worker's slot of it. */
let waitingCalls: Int32Array | null = null;
let index = 0;

const post = (m: FromShard) => self.postMessage(m);

/** The streams whose forecast the main thread keeps (src/shard/kept_forecasts.ts). */
const keeper = new ForecastKeeper();

/** Sends kept stream `id`'s forecast as it is now (null, and no longer kept: it has none). */
function sendKept(s: Service, id: string): void {
  let value: StreamForecast | null = null;
  try {
    value = s.forecast(id);
  } catch {
    value = null; // deleted, or no reading yet
  }
  if (value === null) keeper.drop(id);
  else keeper.sent(id, value.model.version);
  post({ type: "forecast", id, value });
}

/** Sends the forecasts of the kept streams among `ids` (a batch's): before its reply. */
function sendKeptOf(s: Service, ids: readonly string[]): void {
  if (keeper.size === 0) return;
  for (let k = 0; k < ids.length; k++) if (keeper.has(ids[k])) sendKept(s, ids[k]);
}

function errorOf(e: unknown): ShardError {
  if (e instanceof ServiceError) {
    return { name: e.name, message: e.message, kind: e.kind, reason: e.reason };
  }
  return e instanceof Error ? { name: e.name, message: e.message } : {
    name: "Error",
    message: String(e),
  };
}

const packer = new StatsPacker();
/** The worker's time with no ingest batch under way (ShardStats.idleMs), from when it is ready. */
let idle: IdleClock | null = null;

/** The service's counters, packed to cross (src/shard/packed_stats.ts). */
function stats(s: Service): PackedStats {
  return packer.pack(unpacked(s));
}

function unpacked(s: Service): ShardStats {
  const c = s.counters;
  return {
    counters: {
      readings: { ...c.readings },
      checkpoints: c.checkpoints,
      checkpointFailures: c.checkpointFailures,
      checkpointCommits: c.checkpointCommits,
      readingsBeyondLossBound: c.readingsBeyondLossBound,
      trainingShed: c.trainingShed,
      trainingCaughtUp: c.trainingCaughtUp,
      checkpointedAt: s.oldestUnsaved(),
    },
    unsavedStreams: s.unsavedStreams,
    rejects: s.rejects(),
    learning: { ...s.learning },
    queued: s.queued,
    idleMs: idle?.ms(performance.now()) ?? 0,
  };
}

async function init(m: ShardInit): Promise<void> {
  useKernels(m.kernels); // before any network is built, as the main thread did
  // slices yield without the timer's 4 ms clamp: a worker serves no socket (src/async/next_turn.ts)
  useTurns("immediate");
  // the main thread's calls waiting for this worker end its slices early (next_turn.ts)
  waitingCalls = new Int32Array(m.waitingCalls);
  index = m.index;
  useTurnSignal(waitingCalls, index);
  const log = createLogger({ level: m.logLevel, format: m.logFormat, fields: { worker: m.index } });
  // first of all: the work of loading the streams already yields to the main thread
  if (m.nice > 0) {
    try {
      log.debug("shard.nice", { nice: lowerThreadPriority(m.nice) });
    } catch (e) {
      // the main thread checked the system and the permission: this is unexpected, not fatal
      log.warn("shard.nice_failed", { steps: m.nice, error: e, action: "none: runs as it is" });
    }
  }
  const count = new Int32Array(m.streamCount);
  const max = m.options.maxStreams ?? 1000;
  const mine = 1 + m.index;
  kv = await Deno.openKv(m.kvPath);
  const s = service = new Service({
    store: new Store(retryLocked(kv)),
    log,
    // each worker's isolate compiles the per-reading code anew: before its first readings
    options: { ...m.options, warmUpNew: m.options.warmUpNew ?? true },
    // the warm-up's scratch service saves to a KV of its own, in memory (src/service/warm_up.ts),
    // wrapped as the real one is: the store's code meets one kind of KV object
    scratchStore: async () => {
      const scratch = await Deno.openKv(":memory:");
      return { store: new Store(retryLocked(scratch)), close: () => scratch.close() };
    },
    raise: (event) => post({ type: "alert", event }),
    watch: (id, record) => post({ type: "record", id, record }),
    // how far a save got, at once: the main thread's hard-exit timer logs it
    saved: () => post({ type: "stats", stats: stats(s), horizons: null }),
    room: () => {
      const before = Atomics.add(count, 0, 1);
      if (before >= max) {
        Atomics.sub(count, 0, 1);
        return before;
      }
      Atomics.add(count, mine, 1);
      return null;
    },
    release: () => {
      Atomics.sub(count, 0, 1);
      Atomics.sub(count, mine, 1);
    },
  });
  await s.load((id) => shardOf(id, m.count) === m.index);
  Atomics.add(count, 0, s.records.size);
  Atomics.add(count, mine, s.records.size);
  s.start();
  const last: Record<string, number> = {};
  for (const id of s.records.keys()) {
    const t = s.lastReading(id);
    if (t !== null) last[id] = t;
  }
  idle = new IdleClock(performance.now());
  post({ type: "ready", records: [...s.records.values()], last, stats: stats(s) });
  // the counters every second; the accuracy of every stream (larger) every 5 s
  // (from the streams' state, a quarter of them each second between two: horizon_columns.ts)
  const writer = new HorizonColumnsWriter();
  let tick = 0;
  statsTimer = setInterval(() => {
    // the kept forecasts whose keep ran out, and those whose learning went on (kept_forecasts.ts)
    if (keeper.size > 0) {
      const { expired, changed } = keeper.tick(
        performance.now(),
        (id) => s.engine.get(id)?.learnedReadings ?? NaN,
      );
      for (const id of expired) post({ type: "forecast", id, value: null });
      for (const id of changed) sendKept(s, id);
    }
    const horizons = tick++ % 5 === 0 ? writer.take(s.engine.streams) : null;
    if (horizons === null) writer.step(s.engine.streams, 4);
    post({ type: "stats", stats: stats(s), horizons });
  }, 1000);
}

async function handle(m: ToShard): Promise<void> {
  if (m.type === "init") {
    try {
      await init(m);
    } catch (e) {
      post({ type: "failed", error: errorOf(e) });
    }
    return;
  }
  if (m.type === "crash") {
    setTimeout(() => {
      throw new Error("Crash asked for by the main thread (fault injection)");
    }, 0);
    return;
  }
  // a call (or a counted batch) is taken: it no longer waits (ShardInit.waitingCalls)
  if ((m.type === "call" || m.counted === true) && waitingCalls !== null) {
    Atomics.sub(waitingCalls, index, 1);
  }
  const s = service!;
  try {
    if (m.type === "ingest") {
      idle?.begin(performance.now());
      try {
        // a traced batch (--trace-stream): its hops in this worker (src/shard/reading_trace.ts)
        const hops: WorkerHops | undefined = m.trace
          ? {
            receivedAt: wallMs(),
            queued: s.queued,
            startedAt: NaN,
            doneAt: NaN,
            repliedAt: NaN,
            costMs: s.msPerReading,
            checkpoints: s.counters.checkpoints,
          }
          : undefined;
        const readings = decodeReadings(m.batch);
        const value = await s.ingest(readings, m.source, {
          yields: m.piece === true,
          started: hops && (() => hops.startedAt = wallMs()),
        });
        const ids = m.batch.streams;
        const last = new Float64Array(ids.length);
        for (let i = 0; i < ids.length; i++) last[i] = s.lastReading(ids[i]) ?? NaN;
        // the kept forecasts it changed reach the main thread before its acknowledgement
        sendKeptOf(s, ids);
        if (hops) {
          hops.doneAt = wallMs();
          hops.checkpoints = s.counters.checkpoints - hops.checkpoints;
          const packed = stats(s);
          hops.repliedAt = wallMs();
          post({
            type: "reply",
            id: m.id,
            value,
            last,
            cost: s.msPerReading,
            trace: hops,
            stats: packed,
          });
          return;
        }
        // copied, not transferred: a transfer costs a message more than copying a batch's times
        post({ type: "reply", id: m.id, value, last, cost: s.msPerReading, stats: stats(s) });
        return;
      } finally {
        idle?.end(performance.now());
      }
    }
    // a traced read (--trace-stream): its hops in this worker (src/shard/reading_trace.ts)
    const hops: ReadHops | undefined = m.trace
      ? { receivedAt: wallMs(), queued: s.queued, doneAt: NaN, repliedAt: NaN }
      : undefined;
    const f = s[m.method] as (...args: unknown[]) => unknown;
    const value = await f.apply(s, m.args);
    if (m.method === "close") {
      clearInterval(statsTimer);
      kv?.close();
      kv = null;
    }
    // a forecast the main thread keeps from now on; a kept stream changed or deleted: before
    // the reply, as after a batch (src/shard/kept_forecasts.ts)
    const stream = m.args[0] as string;
    if (m.keep === true && m.method === "forecast") {
      if (keeper.keep(stream, performance.now())) sendKept(s, stream);
    } else if ((m.method === "put" || m.method === "delete") && keeper.has(stream)) {
      sendKept(s, stream);
    }
    if (hops) hops.doneAt = wallMs();
    const packed = stats(s);
    if (hops) hops.repliedAt = wallMs();
    post({ type: "reply", id: m.id, value, trace: hops, stats: packed });
  } catch (e) {
    // a batch that failed part-way, a put or a delete that failed: what the kept forecasts are now
    if (m.type === "ingest") sendKeptOf(s, m.batch.streams);
    else if (keeper.has(m.args[0] as string)) sendKept(s, m.args[0] as string);
    post({ type: "reply", id: m.id, error: errorOf(e), stats: stats(s) });
  }
}

self.onmessage = (e: MessageEvent<ToShard>) => {
  handle(e.data);
};
