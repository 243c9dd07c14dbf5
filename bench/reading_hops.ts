/**
 * The hops of the MQTT and WebSocket readers' readings (bench/scale.ts
 * `--part=healthz --trace=true`): the daemon logs each traced batch's times
 * (`reading.trace`, src/shard/reading_trace.ts); this puts them beside the
 * reader's own send and answer times and beside each thread's CPU time and
 * time queued for a core (bench/wait_readers.ts's ThreadSampler), so that a
 * slow wait shows which hop it spent in and what each thread did meanwhile.
 *
 * The hops of one reading, ms (the daemon's names, with the reader's two):
 * `send` the publisher's send to the source's hand-in (the socket, the
 * broker or the WebSocket, the main thread's turns), `outbox`, `toWorker`,
 * `queue`, `take`, `reply`, `toMain` (src/shard/reading_trace.ts), `answer`
 * the main thread's receipt of the reply to the reader's receipt of the
 * PUBACK or the WebSocket's reply.
 *
 * The forecast reader's reads the same way (`readHops`, from the daemon's
 * `read.trace`): `send` the reader's GET to the service's call on the main
 * thread (the socket, the main thread's tasks before it, the request's
 * routing and checks), `toWorker`, `compute`, `reply`, `toMain`
 * (src/shard/reading_trace.ts readTraceRecord), `answer` the main thread's
 * receipt of the worker's answer to the reader's receipt of the response
 * (the JSON, its write).
 *
 * ```ts
 * const out = readingHops(traces, sends, sampler, [main, worker0, worker1]);
 * ```
 */
import { median } from "./stats.ts";
import type { ThreadSampler } from "./wait_readers.ts";

/** The hops in order. */
export const HOPS = [
  "send",
  "outbox",
  "toWorker",
  "queue",
  "take",
  "reply",
  "toMain",
  "answer",
] as const;
export type Hop = typeof HOPS[number];

/** A `reading.trace` log entry's fields that this reads. */
export interface TraceEntry {
  worker: number;
  readings: number;
  traced: { stream: string; ts: number; enteredAt: number }[];
  sentAt: number;
  ahead: { batches: number; pieces: number; readings: number; held: number };
  receivedAt: number;
  inWorker: {
    receivedAt: number;
    queued: number;
    startedAt: number | null;
    doneAt: number;
    repliedAt: number;
    costMs: number | null;
    checkpoints: number;
  } | null;
}

/** A reader's send of one reading: its stream, its time, when it went and when it was answered. */
export interface Send {
  reader: string;
  stream: string;
  ts: number;
  /** Wall-clock ms. */
  sentAt: number;
  answeredAt: number;
}

/** One traced reading of a reader. */
export interface ReadingHops {
  reader: string;
  /** ms after the first send. */
  atMs: number;
  waitMs: number;
  worker: number;
  /** Readings of the batch it went in. */
  batch: number;
  hops: Record<Hop, number>;
  /** In flight to its worker as its batch was posted (src/shard/reading_trace.ts InFlight). */
  ahead: TraceEntry["ahead"];
  /** Readings waiting in its worker's queue as the batch came. */
  queued: number;
  costMs: number | null;
  checkpoints: number;
  /** Each thread's CPU and queued ms over the wait (with a sampler). */
  threads?: Record<string, { cpuMs: number; queuedMs: number }>;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Each send matched with its trace, by stream and reading time; the readings
 * with no trace (a batch without a traced stream: none) are left out.
 * `threads` names the sampler's threads in its order (e.g. main, worker0, worker1).
 */
export function readingHops(
  traces: readonly TraceEntry[],
  sends: readonly Send[],
  sampler?: ThreadSampler,
  threads: readonly string[] = [],
): ReadingHops[] {
  const byKey = new Map<string, { t: TraceEntry; enteredAt: number }>();
  for (const t of traces) {
    for (const x of t.traced) byKey.set(`${x.stream}@${x.ts}`, { t, enteredAt: x.enteredAt });
  }
  const t0 = Math.min(...sends.map((s) => s.sentAt));
  const out: ReadingHops[] = [];
  for (const s of sends) {
    const m = byKey.get(`${s.stream}@${s.ts}`);
    if (!m || m.t.inWorker === null) continue;
    const { t, enteredAt } = m;
    const w = t.inWorker!;
    const started = w.startedAt ?? w.receivedAt;
    const hops: Record<Hop, number> = {
      send: r1(enteredAt - s.sentAt),
      outbox: r1(t.sentAt - enteredAt),
      toWorker: r1(w.receivedAt - t.sentAt),
      queue: r1(started - w.receivedAt),
      take: r1(w.doneAt - started),
      reply: r1(w.repliedAt - w.doneAt),
      toMain: r1(t.receivedAt - w.repliedAt),
      answer: r1(s.answeredAt - t.receivedAt),
    };
    const one: ReadingHops = {
      reader: s.reader,
      atMs: r1(s.sentAt - t0),
      waitMs: r1(s.answeredAt - s.sentAt),
      worker: t.worker,
      batch: t.readings,
      hops,
      ahead: t.ahead,
      queued: w.queued,
      costMs: w.costMs === null ? null : Math.round(w.costMs * 1000) / 1000,
      checkpoints: w.checkpoints,
    };
    if (sampler) one.threads = threadsBetween(sampler, threads, s.sentAt, s.answeredAt);
    out.push(one);
  }
  return out;
}

/** The hops of a read through a worker (the forecast reader), in order. */
export const READ_HOPS = ["send", "toWorker", "compute", "reply", "toMain", "answer"] as const;
export type ReadHop = typeof READ_HOPS[number];

/** A `read.trace` log entry's fields that this reads. */
export interface ReadTraceEntry {
  stream: string;
  method: string;
  worker: number;
  calledAt: number;
  receivedAt: number;
  inWorker: { receivedAt: number; queued: number; doneAt: number; repliedAt: number } | null;
}

/** A reader's request: when it went and when it was answered (wall-clock ms). */
export interface ReaderRequest {
  sentAt: number;
  answeredAt: number;
}

/** One traced read of the forecast reader. */
export interface ReadHops {
  reader: string;
  /** ms after the first request. */
  atMs: number;
  waitMs: number;
  worker: number;
  hops: Record<ReadHop, number>;
  /** Readings waiting in its worker's queue as the call came (it does not wait for them). */
  queued: number;
  /** Each thread's CPU and queued ms over the wait (with a sampler). */
  threads?: Record<string, { cpuMs: number; queuedMs: number }>;
}

/**
 * Each request matched with the read its service call made (the one called while it was out);
 * requests with none (refused before the call) are left out.
 */
export function readHops(
  traces: readonly ReadTraceEntry[],
  requests: readonly ReaderRequest[],
  reader = "forecast",
  sampler?: ThreadSampler,
  threads: readonly string[] = [],
): ReadHops[] {
  const t0 = Math.min(...requests.map((s) => s.sentAt));
  const out: ReadHops[] = [];
  for (const q of requests) {
    const t = traces.find((x) => x.calledAt >= q.sentAt && x.calledAt <= q.answeredAt);
    if (!t || t.inWorker === null) continue;
    const w = t.inWorker;
    const one: ReadHops = {
      reader,
      atMs: r1(q.sentAt - t0),
      waitMs: r1(q.answeredAt - q.sentAt),
      worker: t.worker,
      hops: {
        send: r1(t.calledAt - q.sentAt),
        toWorker: r1(w.receivedAt - t.calledAt),
        compute: r1(w.doneAt - w.receivedAt),
        reply: r1(w.repliedAt - w.doneAt),
        toMain: r1(t.receivedAt - w.repliedAt),
        answer: r1(q.answeredAt - t.receivedAt),
      },
      queued: w.queued,
    };
    if (sampler) one.threads = threadsBetween(sampler, threads, q.sentAt, q.answeredAt);
    out.push(one);
  }
  return out;
}

/** Each hop's median over `rs`, ms (`hops`: their names, default a reading's). */
export function hopMedians<H extends string>(
  rs: readonly { hops: Record<H, number> }[],
  hops: readonly H[] = HOPS as unknown as H[],
): Record<H, number> {
  const out = {} as Record<H, number>;
  for (const h of hops) out[h] = rs.length === 0 ? NaN : r1(median(rs.map((r) => r.hops[h])));
  return out;
}

/** The hop with the most time of a reading (or a read, with its `hops`). */
export function longestHop<H extends string>(
  r: { hops: Record<H, number> },
  hops: readonly H[] = HOPS as unknown as H[],
): H {
  let best: H = hops[0];
  for (const h of hops) if (r.hops[h] > r.hops[best]) best = h;
  return best;
}

/**
 * A reader's summary: how many traced, each hop's median over all and over
 * the waits above `slowMs`, which hop was the longest in each slow wait
 * (counts), and the `worst` slowest waits in full. `hops`: their names,
 * default a reading's (READ_HOPS for the forecast reader's reads).
 */
export function hopSummary<H extends string, R extends { waitMs: number; hops: Record<H, number> }>(
  rs: readonly R[],
  slowMs = 30,
  worst = 5,
  hops: readonly H[] = HOPS as unknown as H[],
) {
  const slow = rs.filter((r) => r.waitMs > slowMs);
  const longest: Partial<Record<H, number>> = {};
  for (const r of slow) {
    const h = longestHop(r, hops);
    longest[h] = (longest[h] ?? 0) + 1;
  }
  // the waits above 40 ms: each one's longest hop and its ms (a breakdown across runs)
  const over40: Partial<Record<H, number[]>> = {};
  for (const r of rs) {
    if (!(r.waitMs > 40)) continue;
    const h = longestHop(r, hops);
    (over40[h] ??= []).push(r.hops[h]);
  }
  return {
    traced: rs.length,
    medians: hopMedians(rs, hops),
    slow: slow.length,
    slowMedians: hopMedians(slow, hops),
    slowLongest: longest,
    over40Longest: over40,
    worst: [...rs].sort((a, b) => b.waitMs - a.waitMs).slice(0, worst),
  };
}

/** Each of `threads`' (the sampler's, in its order) CPU and queued ms from `from` to `to`. */
function threadsBetween(
  sampler: ThreadSampler,
  threads: readonly string[],
  from: number,
  to: number,
): Record<string, { cpuMs: number; queuedMs: number }> {
  const out: Record<string, { cpuMs: number; queuedMs: number }> = {};
  threads.forEach((name, k) => {
    const b = sampler.between(from, to, k);
    out[name] = { cpuMs: r1(b.cpuMs), queuedMs: r1(b.queuedMs) };
  });
  return out;
}
