/**
 * What a shard worker's thread holds a message for, watched from inside
 * its code run in this process: `takeTurns()` sets how this thread's slices
 * yield (as a worker does), `watchSaves()` marks the time a Store spends in
 * `saveCheckpoints()`, and `probeTurns()` takes a `setImmediate` turn after
 * another and records each gap between two of its turns, in wall time and
 * in this thread's CPU time, split by whether a save's store part was under
 * way (`store`) or not (`rest`).
 *
 * ```ts
 * takeTurns("immediate");
 * const saving = watchSaves(store);
 * const probe = probeTurns(saving);
 * // ... the work ...
 * const gaps = await probe.stop(); // gaps.wall.store, gaps.cpu.rest, ...
 * ```
 *
 * The CPU time is clock_gettime(CLOCK_THREAD_CPUTIME_ID)'s through FFI
 * (Linux, --allow-all; else `/proc/thread-self/schedstat`'s, to a
 * scheduler tick: see threadCpuMs), read at every turn: a gap's CPU time is
 * what it would take on a core of its own; under load the wall time adds
 * the thread's waits for a core.
 */
import type { Store } from "../src/store/store.ts";
import * as turns from "../src/async/next_turn.ts";

/**
 * Sets how this thread's slices yield (src/async/next_turn.ts); a tree
 * without `useTurns` has timer turns only, and refuses `immediate`.
 */
export function takeTurns(kind: "immediate" | "timer"): void {
  const useTurns = (turns as { useTurns?: (k: string) => void }).useTurns;
  if (useTurns) useTurns(kind);
  else if (kind !== "timer") throw new Error("Cannot take immediate turns: this tree has none");
}

/** clock_gettime(CLOCK_THREAD_CPUTIME_ID) through libc (Linux; --allow-ffi), or null. */
const clock = (() => {
  try {
    const lib = Deno.dlopen("libc.so.6", {
      clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    });
    const ts = new BigInt64Array(2);
    const bytes = new Uint8Array(ts.buffer);
    return () => {
      lib.symbols.clock_gettime(3, bytes); // CLOCK_THREAD_CPUTIME_ID
      return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
    };
  } catch {
    return null;
  }
})();

/**
 * This thread's CPU time, ms: clock_gettime's (exact, 5 µs a read) where
 * FFI is allowed, else /proc/thread-self/schedstat's, which a running thread
 * sees updated only at the scheduler's ticks (4 ms apart: a gap's CPU time
 * then reads up to a tick more or less than it was, even more than its wall
 * time).
 */
export function threadCpuMs(): number {
  if (clock) return clock();
  return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
}

/** Wraps `store.saveCheckpoints`; the function returned says whether one is under way. */
export function watchSaves(store: Store): () => boolean {
  let under = 0;
  const save = store.saveCheckpoints.bind(store);
  store.saveCheckpoints = async (entries) => {
    under++;
    try {
      return await save(entries);
    } finally {
      under--;
    }
  };
  return () => under > 0;
}

/** The gaps between two turns of the probe, ms, by part. */
export interface TurnGaps {
  wall: { store: number[]; rest: number[] };
  cpu: { store: number[]; rest: number[] };
  /** The gaps of more than `keepMs` (wall or CPU): when each began (performance.now()), ms. */
  kept: { at: number; wall: number; cpu: number; part: "store" | "rest" }[];
}

/** Starts the probe; `stop()` ends it and gives the gaps (and when those over `keepMs` began). */
export function probeTurns(
  saving: () => boolean,
  keepMs = Infinity,
): { stop(): Promise<TurnGaps> } {
  const gaps: TurnGaps = { wall: { store: [], rest: [] }, cpu: { store: [], rest: [] }, kept: [] };
  let on = true;
  const running = (async () => {
    let last = performance.now();
    let lastCpu = threadCpuMs();
    while (on) {
      await new Promise((r) => setImmediate(r));
      const now = performance.now();
      const cpu = threadCpuMs();
      const part = saving() ? "store" : "rest";
      gaps.wall[part].push(now - last);
      gaps.cpu[part].push(cpu - lastCpu);
      if (now - last > keepMs || cpu - lastCpu > keepMs) {
        gaps.kept.push({ at: last, wall: now - last, cpu: cpu - lastCpu, part });
      }
      last = now;
      lastCpu = cpu;
    }
  })();
  return {
    async stop() {
      on = false;
      await running;
      return gaps;
    },
  };
}

/** The longest five of `gaps` (longest first, 0.1 ms), their 99th percentile, and how many are over each of `over` ms. */
export function longest(gaps: number[], over: number[]): Record<string, number | number[]> {
  const s = [...gaps].sort((a, b) => a - b);
  const out: Record<string, number | number[]> = {
    n: s.length,
    longest: s.slice(-5).reverse().map((v) => Math.round(v * 10) / 10),
    p99: s.length === 0 ? NaN : Math.round(s[Math.floor(0.99 * (s.length - 1))] * 100) / 100,
  };
  for (const ms of over) out[`over${ms}`] = s.filter((x) => x > ms).length;
  return out;
}
