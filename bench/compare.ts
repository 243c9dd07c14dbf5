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
 * --H=32,64 (default 32), --rounds=30 (default 30).
 */
import type { FloatsCtor } from "../src/model/floats.ts";
import type { Network } from "../src/model/network.ts";
import type { OnlineTrainer } from "../src/model/tbptt.ts";
import { assertSeries, makeSeries } from "./series.ts";
import { median } from "./stats.ts";
import { HORIZON, LR, N1, W } from "./workloads.ts";

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

function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const arg of argv) {
    const m = /^--([^=]+)=(.*)$/.exec(arg);
    if (!m) {
      throw new RangeError(
        `Cannot parse comparison flags: each must look like --name=value: current value is "${arg}"`,
      );
    }
    flags[m[1]] = m[2];
  }
  if (!flags.before) {
    throw new RangeError(
      "Cannot compare: --before=DIR must name a source tree: current value is none",
    );
  }
  return flags;
}

async function contender(
  name: string,
  root: URL,
  H: number,
  x: Float64Array,
  dtype: FloatsCtor,
): Promise<Contender> {
  const { Network: Net } = await import(new URL("src/model/network.ts", root).href);
  const { OnlineTrainer: Trainer } = await import(new URL("src/model/tbptt.ts", root).href);
  const net: Network<Float32Array> = new Net({
    inputs: 1,
    hidden: H,
    layers: 1,
    outputs: 1,
    window: W,
    seed: 1,
    dtype,
  });
  const trainer: OnlineTrainer<Float32Array> = new Trainer(net, {
    k1: 1,
    k2: W,
    carryState: false,
    minSteps: W,
    lr: LR,
  });
  const xs = new dtype(x), xIn = new dtype(1), yIn = new dtype(1), y = new dtype(1);
  const out = new dtype(HORIZON);
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
    forecast: () => {
      out[0] = y[0];
      net.rollout(out, HORIZON);
    },
  };
}

const flags = parseFlags(Deno.args);
const rounds = Number(flags.rounds ?? 30);
const sizes = (flags.H ?? "32").split(",").map(Number);
const here = new URL("../", import.meta.url);
const toDir = (p: string) => new URL(p.endsWith("/") ? p : p + "/", `file://${Deno.cwd()}/`);
const roots = { before: toDir(flags.before), after: flags.after ? toDir(flags.after) : here };
const x = makeSeries();
assertSeries(x);

for (const H of sizes) {
  const pair = [
    await contender("before", roots.before, H, x, Float32Array),
    await contender("after", roots.after, H, x, Float32Array),
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
        times.set(k, [...(times.get(k) ?? []), us]);
      }
    }
  }
  for (const a of ACTIONS) {
    // the first rounds are warm-up (JIT)
    const med = (name: string) => median(times.get(`${name} ${a.key}`)!.slice(3));
    const before = med("before"), after = med("after");
    console.log(
      "RESULT " + JSON.stringify({
        peer: "forecastd",
        H,
        workload: `compare-${a.key}`,
        unit: a.unit,
        before,
        after,
        speedup: before / after,
        rounds: rounds - 3,
        roots: { before: roots.before.pathname, after: roots.after.pathname },
      }),
    );
    console.error(
      `[compare] H=${H} ${a.unit}: before ${before.toFixed(2)}, after ${after.toFixed(2)},`,
      `speedup ${(before / after).toFixed(2)}x (medians of ${rounds - 3} interleaved blocks)`,
    );
  }
}
