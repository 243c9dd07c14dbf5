/**
 * What a reader of the daemon waits for while it is loaded (bench/scale.ts
 * --part=healthz): each reader repeats one request at a fixed rate, until
 * stopped:
 *
 * - `healthz`: GET /healthz;
 * - `forecast` (the API): GET a stream's forecast;
 * - `mqtt` (an MQTT source): one reading published with QoS 1 by a device of
 *   its own, until its PUBACK (the embedded broker acknowledges a message
 *   once the daemon took its readings);
 * - `ws` (a WebSocket source): one reading sent over a socket of its own,
 *   until the daemon's reply.
 *
 * The rate: a reader asks at its start and then every `everyMs` (10 ms)
 * after it, on a schedule that does not depend on the answers
 * (`nextSlot()`): an answer that comes late does not move the next
 * requests, and a slot that comes while the last request is unanswered is
 * skipped (`skipped`), so a reader has one request outstanding at most, as a
 * client that polls does. A faster daemon is asked as often as a slower one
 * (until the reader's request is slower than `everyMs`), so the worst waits
 * of two trees are over the same number of requests. (Before the
 * twenty-second round a reader asked again 5 ms after each answer: a faster
 * daemon was asked more often, and its worst wait was over more requests.)
 *
 * Each reader's first request (`firstMs`: often the first the daemon gets of
 * its kind) is given apart from the worst of the others (`maxAfterFirstMs`),
 * both beside the number of requests (`requests`).
 *
 * A wait above `slowMs` is listed (`slow`) with the daemon's main thread's
 * CPU time during it and the time it was ready to run but waited for a core
 * (`ThreadSampler`: its `/proc/<pid>/task/<pid>/schedstat` every 2 ms, so
 * both cover the wait and up to 2 ms either side), so that what made it is
 * visible:
 * the main thread busy (a long task or a collection of its heap: `cpuMs`
 * near the wait) or the thread without a core (`queuedMs`).
 *
 * ```ts
 * const sampler = new ThreadSampler(pid);
 * const r = startReader("healthz", { t0: performance.now() }, () => fetchHealthz());
 * // ... load the daemon ...
 * const waits = await r.stop(sampler);
 * await sampler.stop();
 * ```
 */
import { quantile } from "./stats.ts";

/** The readers (see the module comment). */
export const READERS = ["healthz", "forecast", "mqtt", "ws"] as const;
export type ReaderKind = typeof READERS[number];

/** One wait above `slowMs`. */
export interface SlowWait {
  /** When it began, ms after t0. */
  atMs: number;
  ms: number;
  /** The main thread's CPU time during it, ms. */
  cpuMs: number;
  /** The time the main thread was ready but waited for a core during it, ms. */
  queuedMs: number;
}

/** A reader's waits. */
export interface Waits {
  reader: ReaderKind;
  /** The time between two requests' slots, ms. */
  everyMs: number;
  /** Requests made (each answered). */
  requests: number;
  /** Slots that came while the request before was unanswered (no request made). */
  skipped: number;
  /** The wait of the reader's first request, ms. */
  firstMs: number;
  /** The worst wait of the requests after the first, ms (NaN with one request). */
  maxAfterFirstMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Waits over 50 ms (the issue's bound). */
  over50: number;
  /** Every wait above slowMs, in order. */
  slow: SlowWait[];
}

/** A running reader. */
export interface Reader {
  /**
   * Ends the loop after the wait in progress; resolves with the waits, the
   * slow ones with the main thread's CPU and queue time from `sampler`.
   */
  stop(sampler?: ThreadSampler): Promise<Waits>;
}

/** Where the reader's thread is, and when the run began. */
export interface ReaderOptions {
  /** performance.now() at the start of the measured run. */
  t0: number;
  /**
   * The time between two requests' slots, ms: the reader asks at its start
   * and every `everyMs` after it, whatever its answers (see the module
   * comment). Default 10 (100 requests a second while answers take less).
   */
  everyMs?: number;
  /** Waits above this are listed with the main thread's CPU and queue time. Default 30. */
  slowMs?: number;
  /** The clock and the sleep until a time on it, ms (tests); default performance.now(), setTimeout. */
  clock?: ReaderClock;
}

/** A reader's time: `now()` in ms, and a sleep until `now()` reaches `at`. */
export interface ReaderClock {
  now(): number;
  sleepUntil(at: number): Promise<void>;
}

const realClock: ReaderClock = {
  now: () => performance.now(),
  sleepUntil: (at) => new Promise((r) => setTimeout(r, Math.max(0, at - performance.now()))),
};

/**
 * The slot of the next request of a reader that started at `startMs`, asks
 * every `everyMs`, made its last request at slot `last` and had its answer
 * at `answeredMs`: the first slot after `last` that is not already past.
 * Slots are `startMs + k * everyMs`; the result is k.
 */
export function nextSlot(
  startMs: number,
  everyMs: number,
  last: number,
  answeredMs: number,
): number {
  return Math.max(last + 1, Math.ceil((answeredMs - startMs) / everyMs));
}

/**
 * Samples threads' `/proc/<pid>/task/<tid>/schedstat` every `everyMs`
 * (2 ms) from a python3 process of its own (Deno reads `/proc/<pid>/` only
 * with --allow-all, and a `cat` a sample would load the machine): each
 * thread's CPU time and time queued for a core so far, by wall-clock time.
 * `tids` (default: the main thread, `pid`) are sampled together, one line a
 * sample; `between(from, to, k)` is of the k-th.
 */
export class ThreadSampler {
  readonly #child: Deno.ChildProcess;
  /** Wall-clock ms of each sample, in order; CPU ns and queued ns of each thread at each. */
  readonly #at: number[] = [];
  readonly #cpu: number[][];
  readonly #queued: number[][];
  readonly #reading: Promise<void>;
  #first: (() => void) | null = null;
  /** Resolves once the first sample came (python3 takes a while to start on a loaded machine). */
  readonly ready: Promise<void> = new Promise((resolve) => (this.#first = resolve));

  constructor(pid: number, tids: number | readonly number[] = pid, everyMs = 2) {
    const list = typeof tids === "number" ? [tids] : [...tids];
    const cpu: number[][] = this.#cpu = list.map(() => []);
    const queued: number[][] = this.#queued = list.map(() => []);
    const script = [
      "import sys, time",
      `ps = [${list.map((t) => `"/proc/${pid}/task/${t}/schedstat"`).join(", ")}]`,
      "while True:",
      "    out = [str(time.time_ns())]",
      "    try:",
      "        for p in ps:",
      "            with open(p) as f: s = f.read().split()",
      "            out += [s[0], s[1]]",
      "    except OSError: break",
      "    sys.stdout.write(' '.join(out) + '\\n'); sys.stdout.flush()",
      `    time.sleep(${everyMs / 1000})`,
    ].join("\n");
    const child = new Deno.Command("python3", {
      args: ["-c", script],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#child = child;
    this.#reading = (async () => {
      let buf = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const x = buf.slice(0, nl).split(" ").map(Number);
          buf = buf.slice(nl + 1);
          this.#at.push(x[0] / 1e6);
          for (let k = 0; k < list.length; k++) {
            cpu[k].push(x[1 + 2 * k]);
            queued[k].push(x[2 + 2 * k]);
          }
          this.#first?.();
        }
      }
    })();
  }

  /** The CPU and queued ms of thread `k` between wall-clock times `from` and `to` (ms). */
  between(from: number, to: number, k = 0): { cpuMs: number; queuedMs: number } {
    const i = this.#before(from);
    const j = this.#after(to);
    if (i < 0 || j < 0) return { cpuMs: NaN, queuedMs: NaN };
    return {
      cpuMs: (this.#cpu[k][j] - this.#cpu[k][i]) / 1e6,
      queuedMs: (this.#queued[k][j] - this.#queued[k][i]) / 1e6,
    };
  }

  /** The last sample at or before `t`, or -1 (the samples are in time order). */
  #before(t: number): number {
    let lo = 0, hi = this.#at.length; // the first sample after t is in [lo, hi]
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#at[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The first sample at or after `t`, or -1. */
  #after(t: number): number {
    let lo = 0, hi = this.#at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#at[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.#at.length ? lo : -1;
  }

  /** Ends the sampler (by its pid) and waits for it. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#child.status;
    await this.#reading;
  }
}

/** Wall-clock ms now, with performance.now()'s fraction. */
export const wallMs = () => performance.timeOrigin + performance.now();

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Starts a reader that makes `once` (resolves when the answer came) at its
 * start and every `everyMs` after it, skipping the slots that come while a
 * request is unanswered, until stopped.
 */
export function startReader(
  reader: ReaderKind,
  opts: ReaderOptions,
  once: () => Promise<void>,
): Reader {
  const everyMs = opts.everyMs ?? 10;
  if (!(everyMs > 0)) {
    throw new Error(
      `Cannot start reader ${reader}: everyMs must be above 0: current value is ${everyMs}`,
    );
  }
  const slowMs = opts.slowMs ?? 30;
  const clock = opts.clock ?? realClock;
  let done = false;
  let skipped = 0;
  const waits: number[] = [];
  const slow: { atMs: number; ms: number }[] = [];
  const loop = (async () => {
    const start = clock.now();
    for (let k = 0; !done;) {
      const s = clock.now();
      await once();
      const answered = clock.now();
      const ms = answered - s;
      waits.push(ms);
      if (ms > slowMs) slow.push({ atMs: s - opts.t0, ms });
      const next = nextSlot(start, everyMs, k, answered);
      skipped += next - k - 1;
      k = next;
      if (!done) await clock.sleepUntil(start + k * everyMs);
    }
  })();
  return {
    async stop(sampler?: ThreadSampler) {
      done = true;
      await loop;
      // the main thread's CPU and queue time during each slow wait (after the sampler's last one)
      await new Promise((r) => setTimeout(r, 10));
      const origin = performance.timeOrigin + opts.t0;
      const slowOut = slow.map(({ atMs, ms }) => {
        const m = sampler?.between(origin + atMs, origin + atMs + ms);
        return {
          atMs: round1(atMs),
          ms: round1(ms),
          cpuMs: round1(m?.cpuMs ?? NaN),
          queuedMs: round1(m?.queuedMs ?? NaN),
        };
      });
      const sorted = [...waits].sort((a, b) => a - b);
      return {
        reader,
        everyMs,
        requests: waits.length,
        skipped,
        firstMs: round1(waits[0] ?? NaN),
        maxAfterFirstMs: round1(waits.length > 1 ? Math.max(...waits.slice(1)) : NaN),
        p50Ms: round1(quantile(sorted, 0.5)),
        p99Ms: round1(quantile(sorted, 0.99)),
        maxMs: round1(sorted.at(-1) ?? NaN),
        over50: waits.filter((w) => w > 50).length,
        slow: slowOut,
      };
    },
  };
}
