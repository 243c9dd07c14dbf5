/**
 * The capacity part's sustained rate from the publishers' acknowledgements
 * alone (bench/scale.ts), so that measuring it costs the daemon nothing: no
 * read of /metrics or /healthz while it is fed.
 *
 * A QoS 1 PUBACK of the embedded broker says its readings are in the model:
 * src/ingest/broker.ts `hand` acknowledges a PUBLISH once the promise of
 * `onMessage` settles; src/ingest/mqtt_readings.ts `take` returns
 * `sink.ingest(...)`, which (src/shard/sharded_service.ts `ingest`, through
 * src/shard/ingest_outbox.ts) settles on the shard worker's reply;
 * src/shard/shard_worker.ts replies once `Service.ingest` returned, after
 * its queue (src/service/ingest_queue.ts) applied every reading of the
 * batch: `Service.#take` calls `engine.observe`, which trains at once unless
 * learning is shed (the capacity part runs with `--shed-after-ms 3600000`:
 * never). Through an external broker a PUBACK says only that the broker has
 * the message.
 *
 * The publishers log, at each read of their sockets that held PUBACKs, the
 * time (performance.now(), ms) and the readings those PUBACKs acknowledged
 * ({@link AckLog}). The sustained rate is taken over the steady part of the
 * run: from the moment a quarter of the run's readings were acknowledged
 * (the shard workers' JIT warm-up after ready, and the first reads of the
 * connections, left out) to the moment the last one was (the split's
 * imbalance at the end is the daemon's: a worker done early is a core
 * unused), the readings acknowledged after the first moment over the time
 * between the two. The same window as `steadyReadingsPerSecond`, which
 * polls the daemon's counters for it.
 *
 * ```ts
 * const acks = new AckLog();
 * const t0 = performance.now();
 * // ... publishers call acks.add(readings) as PUBACKs come
 * const { readingsPerSecond, fromMs, toMs } = sustainedRate(acks, total, t0);
 * ```
 */

/** Acknowledgements in the order they came: when (ms), and how many readings each time. */
export class AckLog {
  /** performance.now() at each read that held PUBACKs, ms. */
  readonly at: number[] = [];
  /** The readings acknowledged at that read. */
  readonly readings: number[] = [];

  /** `readings` acknowledged now. */
  add(readings: number): void {
    this.at.push(performance.now());
    this.readings.push(readings);
  }

  /** Forgets every acknowledgement (those of the warm-up). */
  clear(): void {
    this.at.length = 0;
    this.readings.length = 0;
  }
}

/** The sustained rate of a run, and the window it was taken over. */
export interface SustainedRate {
  /** Readings acknowledged in the window, per second; null when the window is empty. */
  readingsPerSecond: number | null;
  /** Start of the window: when `fromShare` of the readings were acknowledged, ms after t0. */
  fromMs: number;
  /** End of the window: the last acknowledgement, ms after t0. */
  toMs: number;
  /** Readings acknowledged after `fromMs`, up to `toMs`. */
  readings: number;
}

/** Indices of `at` in time order (the log of one thread is in order already: no sort then). */
function inOrder(at: readonly number[]): number[] {
  const order = at.map((_, i) => i);
  for (let i = 1; i < at.length; i++) {
    if (at[i] < at[i - 1]) return order.sort((a, b) => at[a] - at[b]);
  }
  return order;
}

/**
 * The rate over the steady part of a run of `total` readings started at
 * `t0` (performance.now(), ms): readings acknowledged after the moment
 * `fromShare` of `total` were (the acknowledgements at that very moment
 * count before it) up to the last acknowledgement, over the time between.
 * Throws when the log does not count `total` readings (a reading
 * acknowledged twice, or not at all, would bias the rate).
 */
export function sustainedRate(
  log: { readonly at: readonly number[]; readonly readings: readonly number[] },
  total: number,
  t0: number,
  fromShare = 0.25,
): SustainedRate {
  if (!(fromShare >= 0 && fromShare < 1)) {
    throw new RangeError(
      `Cannot take the sustained rate: fromShare must be at least 0 and below 1: current value is ${fromShare}`,
    );
  }
  if (log.at.length !== log.readings.length) {
    throw new RangeError(
      `Cannot take the sustained rate: the log must have a count for each time: current lengths are ${log.at.length} and ${log.readings.length}`,
    );
  }
  let acked = 0;
  for (const n of log.readings) acked += n;
  if (acked !== total || total <= 0) {
    throw new RangeError(
      `Cannot take the sustained rate: the acknowledgements must count each of the ${total} readings once: current count is ${acked}`,
    );
  }
  const order = inOrder(log.at);
  // the first moment at which fromShare of the readings were acknowledged, with all acknowledged then
  let before = 0, k = 0;
  while (before < fromShare * total || before === 0) before += log.readings[order[k++]];
  const from = log.at[order[k - 1]];
  while (k < order.length && log.at[order[k]] === from) before += log.readings[order[k++]];
  const to = log.at[order[order.length - 1]];
  const readings = total - before;
  return {
    readingsPerSecond: to > from ? Math.round(readings / ((to - from) / 1000)) : null,
    fromMs: Math.round((from - t0) * 10) / 10,
    toMs: Math.round((to - t0) * 10) / 10,
    readings,
  };
}

/**
 * Readings acknowledged after `fromMs` up to `toMs` (ms after `t0`), per
 * second: the rate the acknowledgements give over a window chosen
 * elsewhere (the one `steadyReadingsPerSecond` polled, to compare the two).
 */
export function ackedRate(
  log: { readonly at: readonly number[]; readonly readings: readonly number[] },
  t0: number,
  fromMs: number,
  toMs: number,
): number | null {
  if (!(toMs > fromMs)) return null;
  let n = 0;
  for (let i = 0; i < log.at.length; i++) {
    const t = log.at[i] - t0;
    if (t > fromMs && t <= toMs) n += log.readings[i];
  }
  return Math.round(n / ((toMs - fromMs) / 1000));
}

/** Readings acknowledged in each whole second after `t0` (the last second may be partial). */
export function ackedEverySecond(
  log: { readonly at: readonly number[]; readonly readings: readonly number[] },
  t0: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < log.at.length; i++) {
    const s = Math.max(0, Math.floor((log.at[i] - t0) / 1000));
    while (out.length <= s) out.push(0);
    out[s] += log.readings[i];
  }
  return out;
}
