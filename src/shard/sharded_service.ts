/**
 * The application with its streams spread over shard workers (Deno
 * Workers, one per core by default): a stream lives on worker
 * `shardOf(id, workers)` (src/shard/shard_of.ts), so its readings are taken
 * in order by one thread. The main thread keeps the sources, the API, the
 * alert history and fan-out, and a copy of every stream's record; it splits
 * each batch of readings by worker and sends each part as typed arrays
 * (src/shard/reading_batch.ts), and asks a stream's worker for anything
 * that reads its model (summary, forecast, crossing, recent readings) or
 * changes it (put, delete). Each worker saves its own streams' checkpoints
 * to the same Deno KV. See docs/scaling.md for why, and the figures.
 *
 * - Order and overload: each worker runs the service's ingest queue, with
 *   its slices, shedding and catch-up (src/service/ingest_queue.ts,
 *   training_shedder.ts), so the overload rules hold per worker. An HTTP or
 *   WebSocket batch is refused (queue_full) when any worker it needs has
 *   `maxQueuedReadings` readings in flight already, before any part is sent.
 * - maxStreams holds across workers: they count their streams in one
 *   shared counter (a SharedArrayBuffer, taken with Atomics).
 * - A worker that dies is logged (`shard.crashed`), shown by /healthz and
 *   restarted from its streams' last checkpoints; requests it had in
 *   flight are refused as unavailable (retry), later ones wait for it.
 * - close() closes every worker's service (each refuses the HTTP and
 *   WebSocket batches still waiting, takes the rest and saves every stream),
 *   then stores the last alerts.
 *
 * Longer than 500 lines: one class meets every port of the application
 * (ingest, reads, alerts, counters, close) over all the workers; the parts
 * that stand alone are files of their own (shard_host.ts, ingest_outbox.ts,
 * reading_batch.ts, horizon_columns.ts).
 */
import { type KernelKind, kernelKind } from "../model/kernels.ts";
import type { LogFormat, Logger, LogLevel } from "../log.ts";
import type { StoredAlert } from "../domain/alert.ts";
import type { Reading } from "../domain/reading.ts";
import type { AlertFilter, AlertSubscriber } from "../alerts/alert_source.ts";
import {
  type IngestResult,
  type Refusal,
  type Rejection,
  type Source,
  SOURCES,
} from "../ingest/ingest_sink.ts";
import type { Store } from "../store/store.ts";
import { AlertHub } from "../service/alert_hub.ts";
import { AlertHistory } from "../service/alert_history.ts";
import { AlertWriter } from "../service/alert_writer.ts";
import type { Application, StreamHorizonStats } from "../service/application.ts";
import { QueueFullError } from "../service/ingest_queue.ts";
import type { RecentQuery } from "../service/recent_readings.ts";
import { RecentRejects, type RejectEntry } from "../service/recent_rejects.ts";
// the service's parts, not service.ts: the main thread of a sharded daemon holds no engine
import type {
  Crossing,
  ServiceCounters,
  StreamForecast,
  StreamRecent,
  StreamRecord,
  StreamSpec,
  StreamSummary,
} from "../service/service.ts";
import { ServiceError } from "../service/service_error.ts";
import { resolveServiceOptions, type ServiceOptions } from "../service/service_options.ts";
import { storedAlert } from "../service/alert_history.ts";
import { ReadingBatchBuilder } from "./reading_batch.ts";
import { type Gather, IngestOutbox } from "./ingest_outbox.ts";
import { ReadingTracer, wallMs } from "./reading_trace.ts";
import { ShardHost, type WorkerHealth } from "./shard_host.ts";
import { KeptForecasts } from "./kept_forecasts.ts";
import { type HorizonColumns, mergeHorizonColumns } from "./horizon_columns.ts";

export type { WorkerHealth };
import { shardOf } from "./shard_of.ts";
import type { ShardMethod, ShardStats } from "./shard_protocol.ts";

/** The one index of a one-reading batch. */
const ONE: readonly number[] = Object.freeze([0]);

/** `[0, 1, …, n - 1]` for n up to INDICES_KEPT, made once each (the indices of a whole batch). */
const INDICES: (readonly number[])[] = [];
const INDICES_KEPT = 256;

/** The indices of every reading of an n-reading batch, in order. */
function indices(n: number): readonly number[] {
  const kept = INDICES[n];
  if (kept !== undefined) return kept;
  const at = Object.freeze(Array.from({ length: n }, (_, i) => i));
  if (n <= INDICES_KEPT) INDICES[n] = at;
  return at;
}

/**
 * How the outboxes keep a batch until it goes: encoded as its readings come
 * (ReadingBatchBuilder), so that a waiting reading's objects are garbage at
 * once instead of living, and being copied by the collector, until its batch
 * is sent (docs/scaling.md, "the main thread's CPU a reading, nineteenth round").
 */
const COLUMNS: Gather<ReadingBatchBuilder> = {
  start: () => new ReadingBatchBuilder(),
  add: (batch, reading) => batch.add(reading),
};

/** The worker module, embedded by `deno compile --include src/shard/shard_worker.ts`. */
export const SHARD_WORKER_URL = new URL("./shard_worker.ts", import.meta.url);

/** Everything the sharded service needs. */
export interface ShardedServiceDeps {
  /** The main thread's store: the alert history. */
  store: Store;
  log: Logger;
  /** The daemon's Deno KV: a file path (or a KV Connect URL) every worker opens itself. */
  kvPath: string;
  /** How many workers (at least 1). */
  workers: number;
  options?: ServiceOptions;
  /** The level of the workers' log. Default "info". */
  logLevel?: LogLevel;
  /** How the workers write their log lines. Default "json". */
  logFormat?: LogFormat;
  /** The kernels the workers' networks run on. Default: the main thread's (kernelKind()). */
  kernels?: KernelKind;
  /**
   * How many nice levels below the main thread the workers' threads run
   * (Linux; src/shard/lower_thread_priority.ts). Default 0: the same.
   */
  workerNice?: number;
  /** The clock, ms since the epoch (acknowledgements, refusals). Default Date.now. */
  now?: () => number;
  /**
   * A bigger part of a batch than a piece goes to its worker in pieces, each
   * sent when the one before is taken, so that the batches of other streams
   * on that worker are taken between pieces (what their sources wait for).
   * A piece is about `pieceMs` of the worker's work (default 5), from what a
   * reading cost it lately; `piece` readings until it has measured (default
   * 64). See src/shard/ingest_outbox.ts.
   */
  piece?: number;
  /**
   * Streams whose readings' hops to their worker and back are logged
   * (`reading.trace`, src/shard/reading_trace.ts). Default none.
   */
  traceStreams?: readonly string[];
  /** See `piece`. Default 5. */
  pieceMs?: number;
  /** Most readings of small parts (at most `piece`) gathered in one batch. Default 256. */
  batch?: number;
  /**
   * Most batches of small parts (at most `piece` readings: an MQTT or a
   * WebSocket message) in flight to one worker; the parts that come
   * meanwhile gather (src/shard/ingest_outbox.ts). Default 2.
   */
  inflight?: number;
}

/** The sharded application; see the module comment. */
export class ShardedService implements Application {
  readonly hub = new AlertHub();
  /** Every stream's record, as the workers last told (the main thread's copy). */
  readonly records = new Map<string, StreamRecord>();
  readonly counters: ServiceCounters;
  readonly #hosts: ShardHost[] = [];
  readonly #options: Required<ServiceOptions>;
  readonly #history: AlertHistory;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #alerts: AlertWriter;
  readonly #refusals = new RecentRejects();
  readonly #count: Int32Array;
  /**
   * The time of each stream's newest reading (ms), as the workers last told:
   * a box per stream, set in place (a number put in a Map is a new heap
   * number each time, a reading's garbage).
   */
  readonly #last = new Map<string, { ms: number }>();
  readonly #shardCache = new Map<string, number>();
  /** Per worker: how its parts are sent (small ones together, big ones in pieces). */
  readonly #outboxes: IngestOutbox<ReadingBatchBuilder>[];
  #closing = false;
  /** With `traceStreams`: the trace of their readings' hops; else null. */
  readonly #tracer: ReadingTracer | null;
  /** The streams' forecasts answered without their worker (src/shard/kept_forecasts.ts). */
  readonly #kept = new KeptForecasts();

  constructor(deps: ShardedServiceDeps) {
    if (!Number.isSafeInteger(deps.workers) || deps.workers < 1) {
      throw new RangeError(
        `Cannot create sharded service: workers must be a positive integer: current value is ${deps.workers}`,
      );
    }
    if (deps.kvPath === ":memory:") {
      throw new RangeError(
        'Cannot create sharded service: kvPath must name a file or URL every worker can open: current value is ":memory:"',
      );
    }
    this.#options = resolveServiceOptions(deps.options);
    this.#history = new AlertHistory(deps.store, deps.now ?? Date.now);
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.counters = this.#newCounters();
    this.#tracer = (deps.traceStreams?.length ?? 0) > 0
      ? new ReadingTracer(deps.traceStreams!, deps.log)
      : null;
    this.#outboxes = Array.from(
      { length: deps.workers },
      (_, w) =>
        new IngestOutbox(
          (batch: ReadingBatchBuilder, source, piece) => this.#post(w, batch, source, piece),
          {
            gather: COLUMNS,
            piece: deps.piece,
            pieceMs: deps.pieceMs,
            batch: deps.batch,
            inflight: deps.inflight,
            cost: () => this.#hosts[w].msPerReading,
          },
        ),
    );
    const shared = new SharedArrayBuffer(4 * (1 + deps.workers));
    this.#count = new Int32Array(shared);
    const waitingCalls = new SharedArrayBuffer(4 * deps.workers);
    for (let i = 0; i < deps.workers; i++) {
      this.#hosts.push(
        new ShardHost(
          {
            index: i,
            count: deps.workers,
            kvPath: deps.kvPath,
            options: deps.options ?? {},
            logLevel: deps.logLevel ?? "info",
            logFormat: deps.logFormat ?? "json",
            kernels: deps.kernels ?? kernelKind(),
            nice: deps.workerNice ?? 0,
            streamCount: shared,
            waitingCalls,
          },
          {
            alert: (e) => this.#alerts.push(e),
            record: (id, rec) => {
              if (rec) this.records.set(id, rec);
              else {
                this.records.delete(id);
                this.#last.delete(id);
                this.#kept.take(id, null, 0);
              }
            },
            forecast: (id, value) => this.#kept.take(id, value, performance.now()),
            ready: (records, last) => this.#ready(i, records, last),
            last: (streams, times) => {
              for (let k = 0; k < streams.length; k++) {
                if (!Number.isNaN(times[k])) this.#setLast(streams[k], times[k]);
              }
            },
            crashed: (index) => {
              // (the new worker keeps none: the next read of each asks it again)
              this.#kept.drop((id) => this.#shard(id) === index);
              // its streams come back with the new worker, which counts them again
              Atomics.sub(this.#count, 0, Atomics.exchange(this.#count, 1 + index, 0));
            },
          },
          deps.log,
          SHARD_WORKER_URL,
        ),
      );
    }
    const o = this.#options;
    this.#alerts = new AlertWriter({
      store: deps.store,
      log: deps.log,
      counters: this.counters,
      publish: (record) =>
        this.hub.publish(
          storedAlert(record),
          (err) => this.#log.warn("alert.subscriber_failed", { error: err }),
        ),
    }, { retry: { minMs: o.retryMs, maxMs: Math.max(o.retryMs, 60_000) } });
  }

  /** Counters: the main thread's own, and the workers' summed as they last sent them. */
  #newCounters(): ServiceCounters {
    const hosts = this.#hosts;
    const now = this.#now;
    const sum = (f: (s: ShardStats) => number) => {
      let n = 0;
      for (const h of hosts) if (h.stats) n += f(h.stats);
      return n;
    };
    return {
      rejects: {},
      alertsStored: 0,
      alertFailures: 0,
      unhandledRejections: 0,
      get readings() {
        const out = { mqtt: 0, ws: 0, http: 0, demo: 0 } as Record<Source, number>;
        for (const s of SOURCES) out[s] = sum((st) => st.counters.readings[s] ?? 0);
        return out;
      },
      get checkpoints() {
        return sum((s) => s.counters.checkpoints);
      },
      get checkpointFailures() {
        return sum((s) => s.counters.checkpointFailures);
      },
      get checkpointCommits() {
        return sum((s) => s.counters.checkpointCommits);
      },
      get readingsBeyondLossBound() {
        return sum((s) => s.counters.readingsBeyondLossBound);
      },
      get trainingShed() {
        return sum((s) => s.counters.trainingShed);
      },
      get trainingCaughtUp() {
        return sum((s) => s.counters.trainingCaughtUp);
      },
      get checkpointedAt() {
        let at = now();
        for (const h of hosts) {
          const t = h.stats?.counters.checkpointedAt ?? null;
          if (t !== null) at = Math.min(at, t);
        }
        return at;
      },
    };
  }

  #ready(index: number, records: StreamRecord[], last: Record<string, number>): void {
    this.#kept.drop((id) => this.#shard(id) === index);
    // after a restart, what the worker restored is what there is of its shard
    for (const id of [...this.records.keys()]) {
      if (this.#shard(id) === index) {
        this.records.delete(id);
        this.#last.delete(id);
      }
    }
    for (const r of records) this.records.set(r.id, r);
    for (const id in last) this.#setLast(id, last[id]);
  }

  #setLast(id: string, ms: number): void {
    const box = this.#last.get(id);
    if (box === undefined) this.#last.set(id, { ms });
    else box.ms = ms;
  }

  #shard(id: string): number {
    let s = this.#shardCache.get(id);
    if (s === undefined) {
      if (this.#shardCache.size > 100_000) this.#shardCache.clear();
      this.#shardCache.set(id, s = shardOf(id, this.#hosts.length));
    }
    return s;
  }

  #host(id: string): ShardHost {
    return this.#hosts[this.#shard(id)];
  }

  /** Starts every worker, each restoring its shard's streams from the store. */
  async load(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.start()));
    this.#log.info("streams.loaded", { streams: this.records.size, workers: this.#hosts.length });
  }

  /** The workers start their checkpoint timers once loaded: nothing to do here. */
  start(): void {}

  /** The workers' state, for /healthz. */
  workers(): WorkerHealth[] {
    const streams = new Array(this.#hosts.length).fill(0);
    for (const id of this.records.keys()) streams[this.#shard(id)]++;
    const now = performance.now();
    return this.#hosts.map((h) => ({
      worker: h.index,
      alive: h.alive,
      restarts: h.restarts,
      streams: streams[h.index],
      lastCrash: h.lastCrash,
      ingest: {
        idleSeconds: h.idleMs(now) / 1000,
        nothingSentSeconds: h.nothingSentMs(now) / 1000,
        sentBehind: [...this.#outboxes[h.index].sentBehind],
        readings: h.takenReadings,
      },
    }));
  }

  /** Fault injection for the tests: makes worker `index` die (it is restarted). */
  crashWorker(index: number): void {
    this.#hosts[index].crash();
  }

  // ---- readings -----------------------------------------------------------

  /**
   * Feeds readings to their streams' workers through their outboxes (small
   * parts go together, big ones in pieces: src/shard/ingest_outbox.ts);
   * resolves once every worker took or refused its part (see
   * Service.ingest for what is refused).
   */
  ingest(readings: readonly Reading[], source: Source): Promise<IngestResult> {
    if (this.#tracer !== null) this.#tracer.entered(readings);
    if (this.#closing) {
      this.#countReject("shutting_down", readings.length);
      return Promise.reject(
        new ServiceError(
          "unavailable",
          `Cannot ingest readings: forecastd must be running: it is shutting down (current count is ${readings.length} readings refused)`,
        ),
      );
    }
    // one reading (an MQTT message's usual load): one outbox, no arrays of parts, and no async
    // function's frames and promises (the main thread's garbage, once a reading)
    if (readings.length === 1 && (source === "mqtt" || source === "demo")) {
      const outbox = this.#outboxes[this.#shard(readings[0].stream)];
      return outbox.add(readings, ONE, source).then(this.#took[source]);
    }
    // several readings of one worker's streams (a device's message of its own readings): the
    // same, their indices in the outbox's part are theirs in the call
    if (readings.length > 1 && (source === "mqtt" || source === "demo")) {
      const w = this.#onlyShard(readings);
      if (w >= 0) {
        return this.#outboxes[w].add(readings, indices(readings.length), source)
          .then(this.#took[source]);
      }
    }
    return this.#ingestMany(readings, source);
  }

  /**
   * Posts an outbox's batch (or a piece of a big part) to worker `w`, traced if it holds a
   * traced stream's reading.
   */
  #post(
    w: number,
    builder: ReadingBatchBuilder,
    source: Source,
    piece: boolean,
  ): Promise<IngestResult> {
    const batch = builder.finish();
    const host = this.#hosts[w];
    const tracer = this.#tracer;
    const start = tracer === null ? null : tracer.start(
      batch,
      w,
      source,
      () => ({ ...this.#outboxes[w].inFlight, readings: host.inflight }),
    );
    if (start === null) return host.ingest(batch, source, piece);
    return host.ingest(batch, source, piece, (hops, at) => tracer!.finish(start, hops, at));
  }

  /** The shard of every reading of `readings` if they have one, else -1. */
  #onlyShard(readings: readonly Reading[]): number {
    let id = readings[0].stream;
    const w = this.#shard(id);
    for (let i = 1; i < readings.length; i++) {
      const next = readings[i].stream;
      if (next !== id && this.#shard(id = next) !== w) return -1;
    }
    return w;
  }

  /** ingest() of several workers' readings, or of any from a source the queue limit holds back. */
  async #ingestMany(readings: readonly Reading[], source: Source): Promise<IngestResult> {
    const force = source === "mqtt" || source === "demo";
    const parts: number[][] = this.#hosts.map(() => []);
    for (let i = 0; i < readings.length; i++) parts[this.#shard(readings[i].stream)].push(i);
    for (let w = 0; w < parts.length; w++) {
      const waiting = this.#outboxes[w].length;
      const n = parts[w].length;
      if (!force && n > 0 && waiting > 0 && waiting + n > this.#options.maxQueuedReadings) {
        this.#countReject("queue_full", readings.length);
        throw new ServiceError(
          "unavailable",
          new QueueFullError(waiting, n, this.#options.maxQueuedReadings).message,
        );
      }
    }
    const sent = parts.map((at, w) =>
      at.length === 0 ? null : this.#outboxes[w].add(readings, at, source)
    );
    const settled = await Promise.allSettled(sent.map((p) => p ?? Promise.resolve(null)));
    let accepted = 0;
    const rejected: Rejection[] = [];
    let failure: unknown = null;
    settled.forEach((s, w) => {
      if (s.status === "rejected") {
        failure ??= s.reason;
        return;
      }
      if (!s.value) return;
      accepted += s.value.accepted;
      for (const r of s.value.rejected) rejected.push({ ...r, index: parts[w][r.index] });
    });
    rejected.sort((a, b) => a.index - b.index);
    this.#recordRefusals(rejected, source);
    if (failure !== null) throw failure;
    return { accepted, rejected };
  }

  /** What ingest() of one outbox's readings does once taken (a source no queue limit holds back). */
  readonly #took = {
    mqtt: (result: IngestResult) => this.#tookFrom(result, "mqtt"),
    demo: (result: IngestResult) => this.#tookFrom(result, "demo"),
  };

  #tookFrom(result: IngestResult, source: Source): IngestResult {
    if (result.rejected.length > 0) this.#recordRefusals(result.rejected, source);
    return result;
  }

  #recordRefusals(rejected: readonly Rejection[], source: Source): void {
    const time = this.#now();
    for (const r of rejected) {
      this.#refusals.record({
        time,
        source,
        stream: r.stream,
        reason: r.reason,
        message: r.message,
      });
    }
  }

  /** Counts a message a source refused; with `refusal`, keeps it among its source's last ones. */
  reject(reason: string, refusal?: Refusal): void {
    this.#countReject(reason);
    if (refusal) this.#refusals.record({ time: this.#now(), reason, ...refusal });
  }

  #countReject(reason: string, count = 1): void {
    this.counters.rejects[reason] = (this.counters.rejects[reason] ?? 0) + count;
  }

  /** Readings sent to the workers and not yet taken. */
  get queued(): number {
    let n = 0;
    for (const o of this.#outboxes) n += o.length;
    return n;
  }

  /** The time of stream `id`'s newest reading (ms), as its worker last told, or null. */
  lastReading(id: string): number | null {
    return this.records.has(id) ? this.#last.get(id)?.ms ?? null : null;
  }

  rejects(): Record<string, number> {
    const out = { ...this.counters.rejects };
    for (const h of this.#hosts) {
      for (const [k, v] of Object.entries(h.stats?.rejects ?? {})) out[k] = (out[k] ?? 0) + v;
    }
    return out;
  }

  lastRejects(): { capacity: number; sources: Record<string, RejectEntry[]> } {
    const sources: Record<string, RejectEntry[]> = {};
    for (const source of this.#refusals.sources()) sources[source] = this.#refusals.list(source);
    return { capacity: this.#refusals.capacity, sources };
  }

  get learning(): {
    readings: number;
    learned: number;
    observeSeconds: number;
    alerts: number;
    recoveries: number;
  } {
    const out = { readings: 0, learned: 0, observeSeconds: 0, alerts: 0, recoveries: 0 };
    for (const h of this.#hosts) {
      const l = h.stats?.learning;
      if (!l) continue;
      out.readings += l.readings;
      out.learned += l.learned;
      out.observeSeconds += l.observeSeconds;
      out.alerts += l.alerts;
      out.recoveries += l.recoveries;
    }
    return out;
  }

  /**
   * Every stream's accuracy by horizon as last sent (every 5 s) when this is
   * called, the blend's entries only, in id order (each worker's columns are).
   */
  horizonStats(): Iterable<StreamHorizonStats> {
    return mergeHorizonColumns(this.horizonColumns());
  }

  /** The workers' columns as last sent (every 5 s), each in id order: what /metrics writes. */
  horizonColumns(): HorizonColumns[] {
    return this.#hosts.flatMap((h) => h.horizons ? [h.horizons] : []);
  }

  // ---- streams, through their worker ---------------------------------------

  /** A read of stream `id` through its worker, traced when `id` is (read.trace). */
  #read<T>(method: ShardMethod, id: string, ...args: unknown[]): Promise<T> {
    const host = this.#host(id);
    const tracer = this.#tracer;
    if (tracer === null || !tracer.traces(id)) return host.call(method, id, ...args);
    const calledAt = wallMs();
    return host.callTraced(
      (hops, at) => tracer.read(id, method, host.index, calledAt, hops, at),
      method,
      id,
      ...args,
    );
  }

  summary(id: string): Promise<StreamSummary> {
    return this.#read("summary", id);
  }

  put(id: string, spec: StreamSpec): Promise<StreamSummary> {
    return this.#host(id).call("put", id, spec);
  }

  delete(id: string): Promise<boolean> {
    return this.#host(id).call("delete", id);
  }

  /**
   * A stream's forecast: from the one the main thread keeps once the stream was read (renewed
   * in the background while it is read), else from its worker, which keeps it from then on
   * (src/shard/kept_forecasts.ts).
   */
  forecast(id: string, horizon?: number): Promise<StreamForecast> {
    const kept = this.#kept.get(id, horizon);
    const host = this.#host(id);
    if (kept !== null) {
      if (this.#kept.renew(id, performance.now())) {
        host.keepForecast(id, undefined).catch(() => {}); // (the next read asks again)
      }
      return Promise.resolve(kept);
    }
    const tracer = this.#tracer;
    if (tracer === null || !tracer.traces(id)) return host.keepForecast(id, horizon);
    const calledAt = wallMs();
    return host.keepForecast(
      id,
      horizon,
      (hops, at) => tracer.read(id, "forecast", host.index, calledAt, hops, at),
    );
  }

  crossing(id: string, target: string, x: number, direction: "above" | "below"): Promise<Crossing> {
    return this.#read("crossing", id, target, x, direction);
  }

  recent(id: string, query: RecentQuery = {}): Promise<StreamRecent> {
    return this.#read("recent", id, query);
  }

  /** Streams with changes not yet in a saved checkpoint, as the workers last told. */
  get unsavedStreams(): number {
    let n = 0;
    for (const h of this.#hosts) n += h.stats?.unsavedStreams ?? 0;
    return n;
  }

  /** Saves every changed stream of every worker now; resolves with whether all were saved. */
  async checkpoint(): Promise<boolean> {
    const saved = await Promise.all(this.#hosts.map((h) => h.call<boolean>("checkpoint")));
    return saved.every(Boolean);
  }

  /**
   * Shuts down: every worker's service closes (refusing the HTTP and
   * WebSocket batches still waiting, taking the rest, saving every stream),
   * the workers end, then the last alerts are stored. Resolves with whether
   * every worker's final save worked.
   */
  async close(): Promise<boolean> {
    this.#closing = true;
    // what was handed in before goes first: a worker takes its messages in order
    for (const o of this.#outboxes) o.flush(true);
    const saved = await Promise.all(this.#hosts.map((h) => h.close()));
    await this.#alerts.flush();
    this.#alerts.stop();
    return saved.every(Boolean);
  }

  // ---- alerts -------------------------------------------------------------

  async flushAlerts(): Promise<void> {
    await this.#alerts.flush();
  }

  listAlerts(filter: AlertFilter): Promise<StoredAlert[]> {
    return this.#history.list(filter);
  }

  alert(id: string): Promise<StoredAlert> {
    return this.#history.get(id);
  }

  subscribe(sub: AlertSubscriber): () => void {
    return this.hub.subscribe(sub);
  }

  get subscribers(): number {
    return this.hub.size;
  }

  acknowledge(id: string): Promise<StoredAlert> {
    return this.#history.acknowledge(id);
  }
}
