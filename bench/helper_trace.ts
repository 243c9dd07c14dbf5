/**
 * What V8's helper threads did, from the daemon's `--trace-opt` and
 * `--trace-gc-nvp` lines (not part of the test suite; tested in
 * tests/bench/helper_trace_test.ts). bench/scale.ts's capacity part reads
 * them over its measured window with `--helper-trace`.
 *
 * - Compilation: each `[completed compiling ...]` line gives three times,
 *   V8's prepare, execute and finalize phases; a concurrent job's execute
 *   phase runs on a helper thread (the other two on the isolate's own). Its
 *   milliseconds are that thread's wall time, the waits for a core included,
 *   so under load they add up to more than the helper threads' CPU: read
 *   them as shares. By tier (Maglev, TurboFan) and, for TurboFan, by function.
 * - Garbage collection: each `GC: {...}` line (one a collection, printed by
 *   the isolate's own thread, `[pid:isolate]` before it) gives the pause and
 *   the time spent on helper threads (`background.*` fields: the parallel
 *   scavenge's helpers, concurrent marking, sweeping, ...). By isolate: the
 *   scavenges (`gc` "s") and full collections ("mc"), their pauses, the
 *   helpers' ms, and the bytes that survived the scavenges (a scavenge copies
 *   them: its cost follows them, not the garbage).
 */

/** One isolate's collections over the lines read. */
export interface IsolateGc {
  /** The isolate's address as V8 prints it. */
  isolate: string;
  scavenges: number;
  scavengePauseMs: number;
  /** The `background.*` ms of its scavenges (the parallel scavenge's helpers). */
  scavengeHelperMs: number;
  /** Bytes that survived its scavenges, summed. */
  scavengeSurvivedBytes: number;
  fullCollections: number;
  fullPauseMs: number;
  /** The `background.*` ms of its full collections (concurrent marking, sweeping, ...). */
  fullHelperMs: number;
  /** Bytes allocated between its collections (V8's `allocated`), summed. */
  allocatedBytes: number;
}

/** One tier's compilations over the lines read. */
export interface TierTime {
  compiled: number;
  /** Execute phases, ms (a helper thread's wall time for a concurrent job). */
  executeMs: number;
}

export interface HelperTrace {
  maglev: TierTime;
  turbofan: TierTime;
  /** TurboFan's execute ms by function name, the largest first (at most `top`). */
  turbofanByFunction: Record<string, number>;
  /** TurboFan's compilations by function name, same keys. */
  turbofanCompiledByFunction: Record<string, number>;
  /** The isolates, the one that allocated the most first. */
  isolates: IsolateGc[];
}

const COMPLETED =
  /^\[completed compiling 0x[0-9a-f]+ <JSFunction ?(.*?) \(sfi = 0x[0-9a-f]+\)> \(target (\w+)\)(?: OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/;
const GC_LINE = /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+[\d.]+ ms: GC: (\{.*\})\s*$/;

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Reads the lines; `top` bounds the functions listed. */
export function readHelperTrace(lines: Iterable<string>, top = 10): HelperTrace {
  const tiers = { maglev: { compiled: 0, executeMs: 0 }, turbofan: { compiled: 0, executeMs: 0 } };
  const tfMs = new Map<string, number>();
  const tfCount = new Map<string, number>();
  const isolates = new Map<string, IsolateGc>();
  for (const line of lines) {
    const c = COMPLETED.exec(line);
    if (c !== null) {
      const tier = c[2] === "MAGLEV"
        ? tiers.maglev
        : c[2].startsWith("TURBOFAN")
        ? tiers.turbofan
        : null;
      if (tier === null) continue;
      const ms = Number(c[4]);
      tier.compiled++;
      tier.executeMs += ms;
      if (tier === tiers.turbofan) {
        const name = c[1].trim() === "" ? "(anonymous)" : c[1].trim();
        tfMs.set(name, (tfMs.get(name) ?? 0) + ms);
        tfCount.set(name, (tfCount.get(name) ?? 0) + 1);
      }
      continue;
    }
    const g = GC_LINE.exec(line);
    if (g === null) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(g[2]);
    } catch {
      continue;
    }
    const iso = isolates.get(g[1]) ?? {
      isolate: g[1],
      scavenges: 0,
      scavengePauseMs: 0,
      scavengeHelperMs: 0,
      scavengeSurvivedBytes: 0,
      fullCollections: 0,
      fullPauseMs: 0,
      fullHelperMs: 0,
      allocatedBytes: 0,
    };
    isolates.set(g[1], iso);
    let helper = 0;
    for (const [k, v] of Object.entries(e)) {
      if (k.startsWith("background.") && typeof v === "number") helper += v;
    }
    const pause = typeof e.pause === "number" ? e.pause : 0;
    iso.allocatedBytes += typeof e.allocated === "number" ? e.allocated : 0;
    if (e.gc === "s") {
      iso.scavenges++;
      iso.scavengePauseMs += pause;
      iso.scavengeHelperMs += helper;
      iso.scavengeSurvivedBytes += typeof e.new_space_survived === "number"
        ? e.new_space_survived
        : 0;
    } else if (e.gc === "mc") {
      iso.fullCollections++;
      iso.fullPauseMs += pause;
      iso.fullHelperMs += helper;
    }
  }
  const byMs = [...tfMs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top);
  return {
    maglev: { compiled: tiers.maglev.compiled, executeMs: round1(tiers.maglev.executeMs) },
    turbofan: { compiled: tiers.turbofan.compiled, executeMs: round1(tiers.turbofan.executeMs) },
    turbofanByFunction: Object.fromEntries(byMs.map(([n, ms]) => [n, round1(ms)])),
    turbofanCompiledByFunction: Object.fromEntries(byMs.map(([n]) => [n, tfCount.get(n)!])),
    isolates: [...isolates.values()].sort((a, b) => b.allocatedBytes - a.allocatedBytes).map((
      i,
    ) => ({
      ...i,
      scavengePauseMs: round1(i.scavengePauseMs),
      scavengeHelperMs: round1(i.scavengeHelperMs),
      fullPauseMs: round1(i.fullPauseMs),
      fullHelperMs: round1(i.fullHelperMs),
    })),
  };
}
