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
    if (sampler) {
      one.threads = {};
      threads.forEach((name, k) => {
        const b = sampler.between(s.sentAt, s.answeredAt, k);
        one.threads![name] = { cpuMs: r1(b.cpuMs), queuedMs: r1(b.queuedMs) };
      });
    }
    out.push(one);
  }
  return out;
}

/** Each hop's median over `rs`, ms. */
export function hopMedians(rs: readonly ReadingHops[]): Record<Hop, number> {
  const out = {} as Record<Hop, number>;
  for (const h of HOPS) out[h] = rs.length === 0 ? NaN : r1(median(rs.map((r) => r.hops[h])));
  return out;
}

/** The hop with the most time of a reading. */
export function longestHop(r: ReadingHops): Hop {
  let best: Hop = HOPS[0];
  for (const h of HOPS) if (r.hops[h] > r.hops[best]) best = h;
  return best;
}

/**
 * A reader's summary: how many traced, each hop's median over all and over
 * the waits above `slowMs`, which hop was the longest in each slow wait
 * (counts), and the `worst` slowest waits in full.
 */
export function hopSummary(rs: readonly ReadingHops[], slowMs = 30, worst = 5) {
  const slow = rs.filter((r) => r.waitMs > slowMs);
  const longest: Partial<Record<Hop, number>> = {};
  for (const r of slow) {
    const h = longestHop(r);
    longest[h] = (longest[h] ?? 0) + 1;
  }
  return {
    traced: rs.length,
    medians: hopMedians(rs),
    slow: slow.length,
    slowMedians: hopMedians(slow),
    slowLongest: longest,
    worst: [...rs].sort((a, b) => b.waitMs - a.waitMs).slice(0, worst),
  };
}
