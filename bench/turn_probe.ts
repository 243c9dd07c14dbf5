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
 * The CPU time is `/proc/thread-self/schedstat`'s (Linux; Deno reads /proc
 * only with --allow-all), read at every turn (about 0.1 ms a read): a gap's
 * CPU time is what it would take on a core of its own; under load the wall
 * time adds the thread's waits for a core.
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

/** This thread's CPU time, ms. */
export function threadCpuMs(): number {
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
}

/** Starts the probe; `stop()` ends it and gives the gaps. */
export function probeTurns(saving: () => boolean): { stop(): Promise<TurnGaps> } {
  const gaps: TurnGaps = { wall: { store: [], rest: [] }, cpu: { store: [], rest: [] } };
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

/** The longest five of `gaps` (longest first, 0.1 ms) and how many are over each of `over` ms. */
export function longest(gaps: number[], over: number[]): Record<string, number | number[]> {
  const s = [...gaps].sort((a, b) => a - b);
  const out: Record<string, number | number[]> = {
    n: s.length,
    longest: s.slice(-5).reverse().map((v) => Math.round(v * 10) / 10),
  };
  for (const ms of over) out[`over${ms}`] = s.filter((x) => x > ms).length;
  return out;
}
