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

/** The median of `values` (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new RangeError("Cannot take median: values must not be empty: current length is 0");
  }
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
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

/** Peak resident set size of this process in MB. */
export function peakRssMB(): number {
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
