/**
 * Before/after comparison of two source trees in one process: the W1 training
 * step, the W2 streaming step and the W3 24-step rollout of each tree, timed
 * in interleaved blocks so that both see the same machine load. On a shared,
 * noisy machine this resolves differences of a few percent that separate runs
 * of bench/main.ts cannot. Timing only: the W1 steps cycle over readings
 * 1…1999 without the workloads' checks.
 *
 *   git archive <commit> src | tar -x -C /tmp/before
 *   deno run --allow-read=/tmp/before bench/compare.ts --before=/tmp/before --H=32
 *
 * Flags: --before=DIR (required), --after=DIR (default: this repository),
 * --H=32,64 (default 32), --rounds=30 (default 30; at least 4: the first
 * WARMUP_ROUNDS = 3 are warm-up and not counted). A bad or unknown flag
 * ends the run with status 2. Both trees run in Float32Array. The W3 action
 * is Network.rollout() with the W3 feed (bench/workloads.ts); a tree from
 * before rollout() took a feed (commit 6086651 and earlier) runs its own
 * rollout(out, steps), the same 23 cell steps from ŷ₁.
 */
import { exitOnFlagError, HIDDEN_SIZES, integer, integerList, parseFlags, text } from "./args.ts";
import { assertSeries, makeSeries } from "./series.ts";
import { emitResult, median } from "./stats.ts";
import { feedBack, HORIZON, makeModel, type ModelClasses, N1, W } from "./workloads.ts";
import type { Floats } from "../src/model/floats.ts";

/** rollout() of a tree from before it took a feed (commit 6086651 and earlier): out[0] holds ŷ₁. */
type LegacyRollout = (out: Floats, steps: number) => void;

/** One tree's model and its three timed actions. */
interface Contender {
  name: string;
  /** One W1 training step (push + update). */
  train: () => void;
  /** One W2 streaming step. */
  stream: () => void;
  /** One W3 24-step forecast. */
  forecast: () => void;
}

/** The three timed actions, units per block, and what one unit is. */
const ACTIONS = [
  { key: "train", perBlock: 100, unit: "µs per W1 train step" },
  { key: "stream", perBlock: 200, unit: "µs per W2 reading" },
  { key: "forecast", perBlock: 20, unit: "µs per W3 24-step forecast" },
] as const;

/** Rounds at the start that only warm up (JIT) and are left out of the medians. */
const WARMUP_ROUNDS = 3;

/** The float type both trees run in: the daemon's and the benchmark's default. */
const DTYPE = Float32Array;

async function contender(name: string, root: URL, H: number, x: Float64Array): Promise<Contender> {
  const classes: ModelClasses = {
    Network: (await import(new URL("src/model/network.ts", root).href)).Network,
    OnlineTrainer: (await import(new URL("src/model/tbptt.ts", root).href)).OnlineTrainer,
  };
  const { net, trainer } = makeModel(H, DTYPE, classes);
  const xs = new DTYPE(x), xIn = new DTYPE(1), yIn = new DTYPE(1), y = new DTYPE(1);
  const out = new DTYPE(HORIZON), yRoll = new DTYPE(1), xRoll = new DTYPE(1);
  const feed = feedBack(out);
  // both trees roll out the same 23 cell steps from ŷ₁; an older tree fills out itself
  const legacy = net.rollout.length === 2;
  let t = 1, s = N1;
  const train = () => {
    xIn[0] = xs[t - 1];
    yIn[0] = xs[t];
    trainer.push(xIn, yIn);
    t = t + 1 < N1 ? t + 1 : 1;
  };
  for (let i = 0; i < W; i++) train(); // fill the window
  return {
    name,
    train,
    stream: () => {
      net.step(xs, s, y, 0);
      s = s + 1 < x.length ? s + 1 : N1;
    },
    forecast: legacy
      ? () => {
        out[0] = y[0];
        (net.rollout as unknown as LegacyRollout)(out, HORIZON);
      }
      : () => {
        yRoll[0] = y[0];
        net.rollout(HORIZON, yRoll, xRoll, feed);
      },
  };
}

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    before: text("a source tree directory", undefined),
    after: text("a source tree directory", ""),
    H: integerList([32], HIDDEN_SIZES.min, HIDDEN_SIZES.max),
    rounds: integer(30, WARMUP_ROUNDS + 1, `the first ${WARMUP_ROUNDS} are warm-up`),
  }, "Cannot parse comparison flags")
);
const { rounds, H: sizes } = flags;
const here = new URL("../", import.meta.url);
const toDir = (p: string) => new URL(p.endsWith("/") ? p : p + "/", `file://${Deno.cwd()}/`);
const roots = { before: toDir(flags.before), after: flags.after ? toDir(flags.after) : here };
const x = makeSeries();
assertSeries(x);

for (const H of sizes) {
  const pair = [
    await contender("before", roots.before, H, x),
    await contender("after", roots.after, H, x),
  ];
  const times = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const c of pair) {
      for (const a of ACTIONS) {
        const f = c[a.key];
        const t0 = performance.now();
        for (let i = 0; i < a.perBlock; i++) f();
        const us = ((performance.now() - t0) * 1000) / a.perBlock;
        const k = `${c.name} ${a.key}`;
        let list = times.get(k);
        if (!list) times.set(k, list = []);
        list.push(us);
      }
    }
  }
  for (const a of ACTIONS) {
    const med = (name: string) => median(times.get(`${name} ${a.key}`)!.slice(WARMUP_ROUNDS));
    const before = med("before"), after = med("after");
    emitResult({
      peer: "forecastd",
      H,
      workload: `compare-${a.key}`,
      unit: a.unit,
      before,
      after,
      speedup: before / after,
      rounds: rounds - WARMUP_ROUNDS,
      roots: { before: roots.before.pathname, after: roots.after.pathname },
    });
    console.error(
      `[compare] H=${H} ${a.unit}: before ${before.toFixed(2)}, after ${after.toFixed(2)},`,
      `speedup ${(before / after).toFixed(2)}x (medians of ${
        rounds - WARMUP_ROUNDS
      } interleaved blocks)`,
    );
  }
}
