/**
 * Block statistics and clocks for the benchmark: wall time from
 * performance.now(), process CPU time (user + system, all threads) from
 * process.cpuUsage(). The machine is shared, so every rate is reported per
 * wall second and per CPU-second; the second is much less disturbed by other
 * processes competing for the cores.
 */
import process from "node:process";

/** Median, smallest, largest and count of a list of rates. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/**
 * Printed once per measurement on stdout: `RESULT ` and the record as one
 * line of JSON (the peers' output contract). Summaries go to stderr.
 */
export function emitResult(record: Record<string, unknown>): void {
  console.log("RESULT " + JSON.stringify(record));
}

// Two definitions of "the middle" are in use and both are published, so
// neither may change: `median` interpolates (the mean of the two middle
// values for an even count; the workload and comparison figures), `quantile`
// takes the nearest rank (always one of the values; the daemon's latency
// percentiles). For an even count, quantile(s, 0.5) is the lower middle
// value, not median's mean of the two.

/** The median of `values`, interpolated: the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new RangeError("Cannot take median: values must not be empty: current length is 0");
  }
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The q-quantile of `sorted` (ascending) by nearest rank: the smallest value
 * with at least q·n of the n values at or below it, i.e. sorted[ceil(q·n) - 1]
 * with the index clamped to 0 … n-1 (so q = 0 gives the smallest value); no
 * interpolation. NaN for an empty list.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/** Summarises a list of rates. */
export function summarize(values: readonly number[]): Summary {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
}

/** Process CPU seconds used so far (user + system). */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * The longest run without a turn of the event loop while it runs: a 0 ms
 * timer's longest wait, in wall time and in CPU time (this process's user +
 * system time between two beats: what the run costs, however many other
 * jobs share the cores), ms. `stop()` ends it and gives both.
 */
export class StallWatch {
  #wall = 0;
  #cpu = 0;
  #last = performance.now();
  #lastCpu = cpuSeconds() * 1000;
  #beat = setInterval(() => this.#mark(), 0);

  #mark(): void {
    const now = performance.now(), nowCpu = cpuSeconds() * 1000;
    this.#wall = Math.max(this.#wall, now - this.#last);
    this.#cpu = Math.max(this.#cpu, nowCpu - this.#lastCpu);
    this.#last = now;
    this.#lastCpu = nowCpu;
  }

  stop(): { wallMs: number; cpuMs: number } {
    this.#mark();
    clearInterval(this.#beat);
    return { wallMs: this.#wall, cpuMs: this.#cpu };
  }
}

/** Peak resident set size of this process in MiB (`maxRSS` is in KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Rates of timed blocks: per wall second and per CPU-second. */
export class BlockRates {
  readonly wall: number[] = [];
  readonly cpu: number[] = [];
  #wall0 = 0;
  #cpu0 = 0;

  /** Starts timing a block. */
  start(): void {
    this.#wall0 = performance.now();
    this.#cpu0 = cpuSeconds();
  }

  /** Ends the block started last, which did `units` units of work. */
  stop(units: number): void {
    const wall = (performance.now() - this.#wall0) / 1000;
    const cpu = cpuSeconds() - this.#cpu0;
    this.wall.push(units / wall);
    this.cpu.push(units / cpu);
  }
}
