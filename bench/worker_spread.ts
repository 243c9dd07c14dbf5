/**
 * Why one shard worker costs 74 µs a reading in one run and 114 in another
 * (not part of the test suite): runs `runs` child processes in turn, each one
 * Service over a `:memory:` KV as a daemon's shard worker runs it (its
 * warm-up capped at `warm-up-ms`, as the daemon's 1 s), then bench/scale.ts's
 * capacity window for `streams` streams (`per-message` readings a batch
 * through ingest(), the streams' accuracy read every 40 readings a stream as
 * a worker's stats timer does, the checkpoints the crash-loss bound makes),
 * timed in `blocks` blocks of equal readings. For each block: the thread's
 * CPU µs a reading (`/proc/thread-self/schedstat`, ns), and how fast the core
 * was at its end (the fastest of 3 timings of a chain of dependent
 * multiply-adds, bench/cpu_probe.ts's `aluChain`, ns a step: the core's
 * clock, whatever the load).
 *
 * The point is the split of the spread: a cost that differs between
 * processes but holds within each (the blocks of a run agree, the runs do
 * not) belongs to the process (what V8 compiled, where the buffers lie); one
 * that differs block to block in every run, with the core's speed, belongs to
 * the machine. `between` gives the runs' medians (blocks after the first
 * `skip`), their range and spread (max / min); `within` each run's blocks'
 * spread; `fastCoreCorrelation` Pearson's r of a block's µs against its
 * core's ns a step over all blocks, `memoryCorrelation` against its strided
 * reads' ns (the cache and memory bandwidth other threads and processes
 * leave it).
 *
 *   deno run --allow-run --allow-read --allow-write=/tmp bench/worker_spread.ts \
 *     [--runs=6] [--streams=50] [--per-stream=2000] [--per-message=10] [--blocks=10] \
 *     [--skip=2] [--warm-up-ms=1000] [--warm-up-readings=N] [--checkpoint-every=500] \
 *     [--v8-flags=--flag,...] [--root=.]
 *
 * With `--v8-flags=--trace-opt,--trace-deopt` each run also gives its
 * TurboFan compilations and deopts by block (`byBlock`) and, after the
 * first `skip` blocks, which functions (`late`).
 * `--warm-up-readings` (default the Service's own, 4,000) with a large
 * `--warm-up-ms` fixes the warm-up whatever the load.
 * `--checkpoint-every=N` (the daemon's 500: a stream saved after 250 of
 * its readings) moves the checkpoint saves; a large N leaves the window
 * none (the 60 s cadence aside).
 * `--root=DIR` runs another checkout's Service (an export of an older
 * revision) with this bench. One `RESULT {json}` line on stdout, a line a run
 * on stderr.
 */
import { memoryScratchStore } from "../tests/service/_memory_scratch_store.ts";
import { feedFirst, feedStep } from "./service_feed.ts";
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult, median } from "./stats.ts";
import { aluChain, strideReads } from "./cpu_probe.ts";
import { loadavg } from "./proc_stats.ts";
import { runChild } from "./run_child.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    runs: integer(6),
    streams: integer(50),
    "per-stream": integer(2000),
    "per-message": integer(10),
    blocks: integer(10),
    skip: integer(2, 0),
    "warm-up-ms": integer(1000, 0),
    "warm-up-readings": integer(-1, -1),
    "checkpoint-every": integer(500),
    "v8-flags": text("V8 flags of the child", "", true),
    root: text("a checkout's directory", "."),
    child: text("true in the child", "", true),
  }, "Cannot parse worker_spread flags")
);

/** The child's line: its blocks. */
const BLOCKS = "=== blocks ===";
/** The child's line at each block's end (V8's traces between them are that block's). */
const BLOCK_END = "=== block end";

/**
 * One block of the window: its thread's µs a reading, the core's ns a step
 * at its end, and how the scheduler moved it.
 */
interface Block {
  us: number;
  aluNs: number;
  memNs: number;
  /** The thread's moves between CPUs in the block. */
  migrations: number;
  /** The times the scheduler took its CPU from it in the block. */
  involuntary: number;
}

/**
 * This process's main thread's CPU ns so far (the first field of its
 * schedstat) and its moves between CPUs and preemptions (its sched; Deno
 * reads /proc/self only with --allow-all, so through `cat`).
 */
function threadNow(): { ns: number; migrations: number; involuntary: number } {
  const task = `/proc/${Deno.pid}/task/${Deno.pid}`;
  const out = new Deno.Command("cat", { args: [`${task}/schedstat`, `${task}/sched`] })
    .outputSync();
  const text = new TextDecoder().decode(out.stdout);
  const field = (name: string) =>
    Number(text.match(new RegExp(`^${name}\\s*:\\s*(\\d+)`, "m"))?.[1]);
  return {
    ns: Number(text.split(" ")[0]),
    migrations: field("se\\.nr_migrations"),
    involuntary: field("nr_involuntary_switches"),
  };
}

/** The probe's 8 MiB array (bench/cpu_probe.ts's memory loop). */
const PROBE_ARRAY = new Float64Array(1 << 20).map((_, i) => i % 7);

/**
 * The core's speed now: the fastest of 3 timings of 50,000 dependent steps
 * (its clock), and of 50,000 strided reads of 8 MiB (the cache and memory
 * it shares), ns a step.
 */
function coreNs(): { ns: number; memNs: number; sink: number } {
  let best = Infinity;
  let mem = Infinity;
  let sink = 0;
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    sink += aluChain(50_000);
    best = Math.min(best, performance.now() - t);
    t = performance.now();
    sink += strideReads(PROBE_ARRAY, 50_000);
    mem = Math.min(mem, performance.now() - t);
  }
  return { ns: (best * 1e6) / 50_000, memNs: (mem * 1e6) / 50_000, sink };
}

/** Pearson's r of xs against ys. */
export function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

if (f.child === "true") {
  const root = new URL(`file://${Deno.realPathSync(f.root)}/`);
  const { Service } = await import(new URL("src/service/service.ts", root).href);
  const { Store } = await import(new URL("src/store/store.ts", root).href);
  const { captureLog } = await import(new URL("src/log.ts", root).href);
  for (let i = 0; i < 20; i++) {
    aluChain(50_000);
    strideReads(PROBE_ARRAY, 50_000);
  }
  const kv = await Deno.openKv(":memory:");
  const s = new Service({
    options: {
      warmUpNew: true,
      warmUpMs: f["warm-up-ms"],
      ...(f["warm-up-readings"] >= 0 ? { warmUpReadings: f["warm-up-readings"] } : {}),
      shedAfterMs: 3_600_000,
      checkpointEvery: f["checkpoint-every"],
    },
    store: new Store(kv),
    log: captureLog().log,
    raise: () => {},
    // as a shard worker's (src/shard/shard_worker.ts): a scratch store in memory
    scratchStore: memoryScratchStore,
  });
  await s.load();
  s.start();
  const ids = Array.from({ length: f.streams }, (_, k) => `s${k}`);
  await feedFirst(s, ids);
  const last = 1 + f["per-stream"];
  const perBlock = Math.ceil(f["per-stream"] / f.blocks);
  const blocks: Block[] = [];
  let sink = 0;
  let t0 = threadNow();
  let n0 = 1;
  for (let n = 1; n < last; n += f["per-message"]) {
    await feedStep(s, ids, n, f["per-message"], last);
    if ((n - 1) % 40 === 0) [...s.horizonStats()];
    const next = Math.min(n + f["per-message"], last);
    if (next - n0 >= perBlock || next === last) {
      const t1 = threadNow();
      const readings = (next - n0) * f.streams;
      const core = coreNs();
      sink += core.sink;
      blocks.push({
        us: Math.round((t1.ns - t0.ns) / readings / 10) / 100,
        aluNs: Math.round(core.ns * 1000) / 1000,
        memNs: Math.round(core.memNs * 1000) / 1000,
        migrations: t1.migrations - t0.migrations,
        involuntary: t1.involuntary - t0.involuntary,
      });
      n0 = next;
      console.log(`${BLOCK_END} ${blocks.length} ===`);
      t0 = threadNow();
    }
  }
  await s.close();
  kv.close();
  console.log(`${BLOCKS} ${JSON.stringify({ blocks, warmUpReadings: s.warmUpReadings, sink })}`);
  Deno.exit(0);
}

const runs: {
  load: number;
  warmUpReadings: number;
  blocks: Block[];
  medianUs: number;
  byBlock: { turbofan: number; deopts: number }[];
  late: { turbofan: string[]; deopts: string[] };
}[] = [];
for (let r = 0; r < f.runs; r++) {
  const load = loadavg();
  const text = await runChild(
    import.meta.url,
    [f["v8-flags"]],
    ["--allow-run=cat"],
    "the worker's window",
  );
  const at = text.indexOf(BLOCKS);
  if (at < 0) throw new Error(`Cannot find the blocks in the child's output: "${BLOCKS}"`);
  const { blocks, warmUpReadings } = JSON.parse(
    text.slice(at + BLOCKS.length, text.indexOf("\n", at)),
  );
  // with --v8-flags=--trace-opt,--trace-deopt: TurboFan's compilations and the deopts in each
  // block (the first also holds the warm-up), and the functions of those after the first `skip`
  // blocks
  const pieces = text.slice(0, at).split(new RegExp(`(?<!#)${BLOCK_END} \\d+ ===`));
  const late = { turbofan: [] as string[], deopts: [] as string[] };
  const byBlock = pieces.slice(0, blocks.length).map((piece, i) => {
    const tf = [...piece.matchAll(/\[completed compiling \S+ <JSFunction (\S*) [^\n]*TURBOFAN/g)];
    const de = [...piece.matchAll(/\[bailout \(kind: ([\w-]+)[^\n]*?<JSFunction (\S*) /g)];
    if (i >= f.skip) {
      late.turbofan.push(...tf.map((m) => m[1]));
      late.deopts.push(...de.map((m) => `${m[2]} (${m[1]})`));
    }
    return { turbofan: tf.length, deopts: de.length };
  });
  const kept = (blocks as Block[]).slice(f.skip);
  const medianUs = median(kept.map((b) => b.us));
  runs.push({ load, warmUpReadings, blocks, medianUs, byBlock, late });
  console.error(
    `run ${r + 1}: load ${load}, warm-up ${warmUpReadings} readings, µs a reading by block ${
      blocks.map((b: Block) => b.us.toFixed(0)).join(" ")
    } (median ${medianUs}), core ns a step ${
      blocks.map((b: Block) => b.aluNs.toFixed(2)).join(" ")
    }, TurboFan / deopts by block ${byBlock.map((b) => `${b.turbofan}/${b.deopts}`).join(" ")}${
      late.turbofan.length + late.deopts.length > 0
        ? `; late: TurboFan ${late.turbofan.join(",")}, deopts ${late.deopts.join(",")}`
        : ""
    }`,
  );
}
const medians = runs.map((r) => r.medianUs);
const kept = runs.flatMap((r) => r.blocks.slice(f.skip));
emitResult({
  bench: "worker_spread",
  v8Flags: f["v8-flags"],
  root: f.root,
  streams: f.streams,
  perStream: f["per-stream"],
  runs,
  between: {
    medians,
    min: Math.min(...medians),
    max: Math.max(...medians),
    spread: Math.round(Math.max(...medians) / Math.min(...medians) * 100) / 100,
  },
  // each run's blocks (after skip): max / min
  within: runs.map((r) => {
    const us = r.blocks.slice(f.skip).map((b) => b.us);
    return Math.round(Math.max(...us) / Math.min(...us) * 100) / 100;
  }),
  fastCoreCorrelation: Math.round(pearson(kept.map((b) => b.us), kept.map((b) => b.aluNs)) * 100) /
    100,
  memoryCorrelation: Math.round(pearson(kept.map((b) => b.us), kept.map((b) => b.memNs)) * 100) /
    100,
});
