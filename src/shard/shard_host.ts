/**
 * The main thread's handle on one shard worker: starts it, sends it batches
 * and calls and matches their replies, keeps its last counters, and when
 * the worker dies (an error thrown out of its event loop) refuses what was
 * in flight, logs it and starts a new worker that restores the shard's
 * streams from their last checkpoints. Work handed in while the new worker
 * loads waits for it.
 */
import type { Logger } from "../log.ts";
import type { Source } from "../ingest/ingest_sink.ts";
import type { HorizonColumns } from "./horizon_columns.ts";
import type { IngestResult, StreamForecast, StreamRecord } from "../service/service.ts";
import { ServiceError } from "../service/service_error.ts";
import type {
  FromShard,
  ShardError,
  ShardInit,
  ShardMethod,
  ShardStats,
  ToShard,
} from "./shard_protocol.ts";
import type { ReadingBatch } from "./reading_batch.ts";
import { StatsUnpacker } from "./packed_stats.ts";
import { IdleClock } from "./idle_clock.ts";
import { type ReadHops, wallMs, type WorkerHops } from "./reading_trace.ts";
import type { WorkerIngest } from "../domain/worker_ingest.ts";

/** A worker's state, as /healthz shows it. */
export interface WorkerHealth {
  worker: number;
  alive: boolean;
  restarts: number;
  streams: number;
  lastCrash: { at: number; message: string } | null;
  /** Where its time went while readings came. */
  ingest: WorkerIngest;
}

/** What the host tells its owner. */
export interface ShardEvents {
  /** An alert event a stream raised. */
  alert(event: import("../domain/alert.ts").AlertEvent): void;
  /** A stream's record changed (null: deleted). */
  record(id: string, record: StreamRecord | null): void;
  /** A kept stream's forecast as it is now, or null: no longer kept (kept_forecasts.ts). */
  forecast(id: string, value: StreamForecast | null): void;
  /** The worker (re)started with these streams. */
  ready(records: StreamRecord[], last: Record<string, number>): void;
  /** The newest reading time of the streams a batch touched (ms, NaN: none), in order. */
  last(streams: readonly string[], times: Float64Array): void;
  /** The worker died; it is being restarted. */
  crashed(index: number, message: string): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(e: unknown): void;
  readings: number;
  /** A piece of a big part (counted in #piecesOut until answered). */
  piece: boolean;
  /** An ingest's streams, in its batch's order (what its reply's `last` is of). */
  streams: readonly string[] | null;
  /** A traced ingest or call: what takes the worker's hops as its reply is taken. */
  traced: Traced | null;
}

/** Who takes a traced ingest's hops (WorkerHops), or a traced call's (ReadHops). */
type Traced =
  | { of: "ingest"; take: (hops: WorkerHops | undefined, receivedAt: number) => void }
  | { of: "call"; take: (hops: ReadHops | undefined, receivedAt: number) => void };

/** Hands a traced reply's hops to `traced`, of the kind it takes (none: undefined). */
function takeHops(traced: Traced, hops: WorkerHops | ReadHops | undefined, at: number): void {
  // a batch's hops have the time its queue came to it; a call's do not
  const ofIngest = hops !== undefined && "startedAt" in hops;
  if (traced.of === "ingest") traced.take(ofIngest ? hops : undefined, at);
  else traced.take(hops !== undefined && !ofIngest ? hops : undefined, at);
}

/** A shard worker's error as the error it was. */
export function errorFrom(e: ShardError): Error {
  if (e.kind) return new ServiceError(e.kind, e.message, e.reason);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** One shard worker; see the module comment. */
export class ShardHost {
  readonly index: number;
  /** Times the worker died and was started again. */
  restarts = 0;
  /** The last crash: when (ms since the epoch) and what, or null. */
  lastCrash: { at: number; message: string } | null = null;
  readonly #stats = new StatsUnpacker();
  /** Its streams' accuracy by horizon, as it last sent them (in columns), or null. */
  horizons: HorizonColumns | null = null;
  readonly #init: Omit<ShardInit, "type">;
  readonly #events: ShardEvents;
  readonly #log: Logger;
  readonly #url: URL;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | null = null;
  #ready: Promise<void> = Promise.resolve();
  #nextId = 1;
  /** Readings sent and not yet answered. */
  #inflight = 0;
  /** The time with no ingest sent and unanswered (see nothingSentMs). */
  #unsent = new IdleClock(performance.now());
  /** When the worker's last counters came (performance.now() ms). */
  #statsAt = 0;
  /** Calls posted to each worker and not yet taken (ShardInit.waitingCalls). */
  readonly #waitingCalls: Int32Array;
  /** Pieces of big parts sent and not yet answered. */
  #piecesOut = 0;
  #closed = false;

  constructor(init: Omit<ShardInit, "type">, events: ShardEvents, log: Logger, url: URL) {
    this.index = init.index;
    this.#init = init;
    this.#waitingCalls = new Int32Array(init.waitingCalls);
    this.#events = events;
    this.#log = log;
    this.#url = url;
  }

  /** The worker's counters as it last sent them, or null before any. */
  get stats(): ShardStats | null {
    return this.#stats.stats;
  }

  /** Readings sent to the worker and not yet answered: its queue, as the main thread sees it. */
  get inflight(): number {
    return this.#inflight;
  }

  /**
   * How long this worker has had no batch of readings sent to it and not
   * yet answered, ms, since the host was made: the time the main thread had
   * nothing out for it. Beside the worker's own idle time (`stats.idleMs`):
   * what the worker waited beyond this, it waited for the main thread (a
   * reply or a batch still crossing, the main thread busy with other work).
   */
  nothingSentMs(now = performance.now()): number {
    return this.#unsent.ms(now);
  }

  /**
   * The worker's idle time (its `stats.idleMs`: no ingest batch under way),
   * ms, brought up to `now`: with nothing sent to it since its last
   * counters, it has been idle since they were packed (about when they
   * came). 0 before its first counters.
   */
  idleMs(now = performance.now()): number {
    const s = this.stats;
    if (s === null) return 0;
    return s.idleMs + (this.#unsent.busy === 0 ? Math.max(0, now - this.#statsAt) : 0);
  }

  /** Readings the worker took since it (re)started, every source, as its last counters said. */
  get takenReadings(): number {
    const r = this.stats?.counters.readings;
    if (!r) return 0;
    let n = 0;
    for (const k in r) n += r[k as keyof typeof r] ?? 0;
    return n;
  }

  /** Whether the worker is up (not dead, not loading after a restart). */
  alive = false;

  /**
   * What taking a reading cost the worker lately, ms, as its last ingest
   * reply said (NaN: not known yet); src/shard/ingest_outbox.ts sizes its
   * pieces by it.
   */
  msPerReading = NaN;

  /** Starts the worker; resolves once it has loaded its streams (rejects if it cannot). */
  start(): Promise<void> {
    const worker = new Worker(this.#url, { type: "module", name: `shard-${this.index}` });
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromShard>) => this.#receive(e.data, resolve, reject);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        const loaded = this.alive;
        this.#crashed(worker, e.message, loaded);
        if (!loaded) {
          reject(new Error(`Cannot start shard worker ${this.index}: it died: ${e.message}`));
        }
      };
    });
    // a restart that fails is reported by #crashed; nobody else may await it
    this.#ready.catch(() => {});
    worker.postMessage({ type: "init", ...this.#init } satisfies ToShard);
    return this.#ready;
  }

  #receive(m: FromShard, ready: () => void, failed: (e: unknown) => void): void {
    if ("stats" in m) this.#statsAt = performance.now();
    switch (m.type) {
      case "ready":
        this.#stats.take(m.stats);
        this.alive = true;
        this.#events.ready(m.records, m.last);
        ready();
        return;
      case "failed":
        this.#worker?.terminate();
        this.#worker = null;
        failed(errorFrom(m.error));
        return;
      case "alert":
        this.#events.alert(m.event);
        return;
      case "record":
        this.#events.record(m.id, m.record);
        return;
      case "forecast":
        this.#events.forecast(m.id, m.value);
        return;
      case "stats":
        this.#stats.take(m.stats);
        if (m.horizons) this.horizons = m.horizons;
        return;
      case "reply": {
        this.#stats.take(m.stats);
        const p = this.#pending.get(m.id);
        if (!p) return;
        if (p.traced !== null) takeHops(p.traced, m.trace, wallMs());
        if (m.last && p.streams) this.#events.last(p.streams, m.last);
        if (m.cost !== undefined && m.cost > 0) this.msPerReading = m.cost;
        this.#pending.delete(m.id);
        this.#inflight -= p.readings;
        if (p.piece) this.#piecesOut--;
        if (p.streams !== null) this.#unsent.end(performance.now());
        if (m.error) p.reject(errorFrom(m.error));
        else p.resolve(m.value);
      }
    }
  }

  /**
   * The worker died: refuse what was in flight, log, and start a new one if
   * this one had loaded (one that dies while loading would die again).
   */
  #crashed(worker: Worker, message: string, loaded: boolean): void {
    if (worker !== this.#worker) return;
    worker.terminate();
    this.#worker = null;
    this.alive = false;
    this.restarts++;
    this.lastCrash = { at: Date.now(), message };
    this.#log.error("shard.crashed", {
      worker: this.index,
      error: message,
      inflight: this.#inflight,
      action: loaded ? "restarting it from its streams' last checkpoints" : "none: it died loading",
    });
    const refused = new ServiceError(
      "unavailable",
      `Cannot finish the request: shard worker ${this.index} must be running: it died ` +
        `(${message}) and restarts from its streams' last checkpoints; retry`,
    );
    const now = performance.now();
    for (const p of this.#pending.values()) {
      if (p.streams !== null) this.#unsent.end(now);
      p.reject(refused);
    }
    this.#pending.clear();
    this.#inflight = 0;
    this.#piecesOut = 0;
    // the calls it had not taken died with it (the new worker starts with none)
    Atomics.store(this.#waitingCalls, this.index, 0);
    this.#events.crashed(this.index, message);
    if (!this.#closed && loaded) {
      this.start().catch((e) =>
        this.#log.error("shard.restart_failed", { worker: this.index, error: e })
      );
    }
  }

  #send(
    m: ToShard,
    readings: number,
    streams: readonly string[] | null = null,
    traced: Pending["traced"] = null,
  ): Promise<unknown> {
    const down = (e: unknown) => {
      throw new ServiceError(
        "unavailable",
        `Cannot finish the request: shard worker ${this.index} must be running: it could not ` +
          `start (${(e as Error).message})`,
      );
    };
    return this.#ready.then(() => {
      const worker = this.#worker;
      if (!worker) {
        throw new ServiceError(
          "unavailable",
          `Cannot finish the request: shard worker ${this.index} must be running: it is stopped`,
        );
      }
      return new Promise((resolve, reject) => {
        const piece = m.type === "ingest" && m.piece === true;
        this.#pending.set(
          (m as { id: number }).id,
          { resolve, reject, readings, piece, streams, traced },
        );
        this.#inflight += readings;
        if (streams !== null) this.#unsent.begin(performance.now());
        // a call, or a batch that is not a piece while pieces are in flight (it goes before
        // them in the worker's queue): the worker's slice under way ends after its item
        // (ShardInit.waitingCalls); a worker taking small batches alone slices as before
        if (m.type === "ingest" && !piece && this.#piecesOut > 0) m.counted = true;
        if (m.type === "call" || (m.type === "ingest" && m.counted === true)) {
          Atomics.add(this.#waitingCalls, this.index, 1);
        }
        if (piece) this.#piecesOut++;
        worker.postMessage(m);
      });
    }, down);
  }

  /**
   * Hands a batch to the worker's service (copied: reading_batch.ts); resolves with how it went.
   * `piece`: a piece of a big part (later batches of other streams may go before it in the
   * worker's queue). `traced` (src/shard/reading_trace.ts): the worker times the batch's hops,
   * and `traced` gets them when the reply is taken, before the batch resolves.
   */
  ingest(
    batch: ReadingBatch,
    source: Source,
    piece = false,
    traced: ((hops: WorkerHops | undefined, receivedAt: number) => void) | null = null,
  ): Promise<IngestResult> {
    const id = this.#nextId++;
    const m: ToShard = { type: "ingest", id, source, batch };
    if (piece) m.piece = true;
    if (traced !== null) m.trace = true;
    return this.#send(
      m,
      batch.ts.length,
      batch.streams,
      traced === null ? null : { of: "ingest", take: traced },
    ) as Promise<IngestResult>;
  }

  /** Calls a method of the worker's service. */
  call<T>(method: ShardMethod, ...args: unknown[]): Promise<T> {
    const id = this.#nextId++;
    return this.#send({ type: "call", id, method, args }, 0) as Promise<T>;
  }

  /**
   * call(), traced (src/shard/reading_trace.ts): the worker times the call's hops, and
   * `traced` gets them when the reply is taken, before the call resolves.
   */
  callTraced<T>(
    traced: (hops: ReadHops | undefined, receivedAt: number) => void,
    method: ShardMethod,
    ...args: unknown[]
  ): Promise<T> {
    const id = this.#nextId++;
    return this.#send(
      { type: "call", id, method, args, trace: true },
      0,
      null,
      { of: "call", take: traced },
    ) as Promise<T>;
  }

  /**
   * The forecast of stream `id` (of `horizon` steps), which the main thread keeps from now on:
   * the worker sends it before its reply, and again whenever it changes
   * (src/shard/kept_forecasts.ts). `traced` as callTraced's, or null.
   */
  keepForecast(
    id: string,
    horizon: number | undefined,
    traced: ((hops: ReadHops | undefined, receivedAt: number) => void) | null = null,
  ): Promise<StreamForecast> {
    const m: ToShard = {
      type: "call",
      id: this.#nextId++,
      method: "forecast",
      args: [id, horizon],
    };
    m.keep = true;
    if (traced !== null) m.trace = true;
    const taker: Traced | null = traced === null ? null : { of: "call", take: traced };
    return this.#send(m, 0, null, taker) as Promise<StreamForecast>;
  }

  /** Fault injection for the tests: makes the worker die. */
  crash(): void {
    this.#worker?.postMessage({ type: "crash" } satisfies ToShard);
  }

  /** Closes the worker's service (its final checkpoint), then ends the worker. */
  async close(): Promise<boolean> {
    this.#closed = true;
    let saved = false;
    try {
      saved = await this.call<boolean>("close");
    } catch (e) {
      this.#log.error("shard.close_failed", { worker: this.index, error: e });
    }
    this.#worker?.terminate();
    this.#worker = null;
    this.alive = false;
    return saved;
  }
}
