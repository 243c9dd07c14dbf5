/**
 * Workloads W1–W3 of WORKLOADS.md on forecastd's real code: a 1-layer LSTM
 * (I = 1, O = 1) with a dense head, trained online by the OnlineTrainer
 * (stateless sliding window of W = 32 readings, loss at the last step, one
 * Adam step per reading), then streamed with Network.step() and rolled out
 * with Network.rollout(), the method a stream's LSTM expert forecasts with
 * (there its feed builds the next input from the forecast level, change and
 * calendar; here, with I = O = 1, it feeds the output back).
 *
 * Series indices: readings 0…N1-1 feed W1, readings N1…N-1 feed W2.
 */
import type { Floats, FloatsCtor } from "../src/model/floats.ts";
import { Network, type RolloutFeed } from "../src/model/network.ts";
import { OnlineTrainer } from "../src/model/tbptt.ts";
import { BlockRates, summarize, type Summary } from "./stats.ts";

/** W: the training window (TBPTT length). */
export const W = 32;
/** N1: readings used by W1. */
export const N1 = 2000;
/** Adam's learning rate. */
export const LR = 1e-3;
/** Steps of the W3 forecast. */
export const HORIZON = 24;

/** Block sizes and warm-up blocks, as WORKLOADS.md fixes them. */
export const SCHEDULE = {
  /** W1: steps per block, warm-up blocks. */
  block1: 100,
  warm1: 2,
  /** W2: readings per block, warm-up blocks. */
  block2: 200,
  warm2: 1,
  /** W3: blocks, trajectories per block, warm-up blocks. */
  reps3: 11,
  block3: 20,
  warm3: 1,
} as const;

/** A network and its trainer, set up as W1 defines. */
export interface Model {
  net: Network<Floats>;
  trainer: OnlineTrainer<Floats>;
}

/** The seed of the network's initial weights. */
export const MODEL_SEED = 1;

/**
 * The classes a model is built from: this tree's by default; bench/compare.ts
 * passes another source tree's (same constructor API) to time it the same way.
 */
export interface ModelClasses {
  Network: typeof Network;
  OnlineTrainer: typeof OnlineTrainer;
}

/**
 * Builds the W1 model: a Network (seed MODEL_SEED) and its OnlineTrainer,
 * Adam lr 1e-3, no clipping, from `classes`.
 */
export function makeModel(
  H: number,
  dtype: FloatsCtor,
  classes: ModelClasses = { Network, OnlineTrainer },
): Model {
  const net = new classes.Network<Floats>({
    inputs: 1,
    hidden: H,
    layers: 1,
    outputs: 1,
    window: W,
    seed: MODEL_SEED,
    dtype,
  });
  const trainer = new classes.OnlineTrainer<Floats>(net, {
    k1: 1,
    k2: W,
    carryState: false,
    minSteps: W,
    lr: LR,
  });
  return { net, trainer };
}

/** A timed workload's figures: per wall second, per CPU-second, warm-up blocks. */
export interface Timed extends Summary {
  cpu: Summary;
  /** Units of work per block. */
  blockSize: number;
  warmupBlocks: number[];
}

function timed(rates: BlockRates, blockSize: number, warm: number): Timed {
  return {
    ...summarize(rates.wall.slice(warm)),
    cpu: summarize(rates.cpu.slice(warm)),
    blockSize,
    warmupBlocks: rates.wall.slice(0, warm),
  };
}

/** W1's figures. */
export interface W1Result extends Timed {
  steps: number;
  /** Steps after the last full block: run (the MSE needs them) but not in the statistics. */
  tailSteps: number;
  mseFirst500: number;
  mseLast500: number;
  naivePersistenceMseLast500: number;
}

/**
 * W1: for t = W … N1-1 push (x_{t-1}, x_t) into the trainer; with k1 = 1 and
 * k2 = W each push runs forward over x[t-W … t-1] from a zero state, the loss
 * at the last step, backward and one Adam step, and returns the loss (the
 * prequential, test-then-train error of forecasting x_t).
 */
export function runW1(model: Model, x: Float64Array): W1Result {
  const { trainer, net } = model;
  const xIn = new net.dtype(1), yIn = new net.dtype(1);
  const push = (t: number) => {
    xIn[0] = x[t - 1];
    yIn[0] = x[t];
    return trainer.push(xIn, yIn);
  };
  // fill the window: pairs t = 1 … W-1 make no update
  for (let t = 1; t < W; t++) {
    if (!Number.isNaN(push(t))) {
      throw new Error(
        `Cannot run W1: the trainer must not update before ${W} steps: current value is an update at t=${t}`,
      );
    }
  }
  const loss = new Float64Array(N1);
  const rates = new BlockRates();
  const B = SCHEDULE.block1;
  let t = W;
  for (; t + B <= N1; t += B) {
    rates.start();
    for (let s = t; s < t + B; s++) loss[s] = push(s);
    rates.stop(B);
  }
  const tailSteps = N1 - t;
  for (; t < N1; t++) loss[t] = push(t);
  if (trainer.updates !== N1 - W) {
    throw new Error(
      `Cannot run W1: the trainer must update once per step (${
        N1 - W
      }): current value is ${trainer.updates}`,
    );
  }
  const mean = (from: number, to: number, f: (t: number) => number) => {
    let s = 0;
    for (let t = from; t < to; t++) s += f(t);
    return s / (to - from);
  };
  const mseLast500 = mean(N1 - 500, N1, (t) => loss[t]);
  if (!Number.isFinite(mseLast500)) {
    throw new Error(`Cannot run W1: the loss must stay finite: current value is ${mseLast500}`);
  }
  return {
    ...timed(rates, B, SCHEDULE.warm1),
    steps: N1 - W,
    tailSteps,
    mseFirst500: mean(W, W + 500, (t) => loss[t]),
    mseLast500,
    naivePersistenceMseLast500: mean(N1 - 500, N1, (t) => (x[t] - x[t - 1]) ** 2),
  };
}

/** W2's figures. */
export interface W2Result extends Timed {
  readings: number;
  streamMse: number;
  statefulVsStatelessAbsDiff: number;
  /** ŷ₁: the forecast of the reading after the last one streamed. */
  lastForecast: number;
}

/**
 * W2: check that stepping through the last W1 training window
 * x[N1-1-W … N1-2] from a zero state gives the windowed forward()'s last
 * output (both with the trained weights), then reset the state and stream
 * readings N1 … N-1 with net.step(), one cell step + head each, reading every
 * forecast of x_{s+1} back.
 */
export function runW2(model: Model, x: Float64Array): W2Result {
  const { net } = model;
  const N = x.length;
  const xs = new net.dtype(x); // inputs in the network's float type
  const y = new net.dtype(1);
  const { layers: L, hidden: H } = net.shape;
  // stateful vs stateless on the last training window (the one that forecast x_{N1-1})
  const first = N1 - 1 - W;
  const zeros = new net.dtype(L * H);
  net.forward(xs, first, W, zeros, zeros);
  const windowed = net.ws.y[W - 1];
  net.resetState();
  for (let s = first; s < first + W; s++) net.step(xs, s, y, 0);
  const statefulVsStatelessAbsDiff = Math.abs(y[0] - windowed);

  net.resetState();
  const rates = new BlockRates();
  const B = SCHEDULE.block2;
  let sq = 0, count = 0, forecast = NaN;
  for (let s0 = N1; s0 < N; s0 += B) {
    const end = Math.min(s0 + B, N);
    rates.start();
    for (let s = s0; s < end; s++) {
      net.step(xs, s, y, 0);
      forecast = y[0]; // the forecast of x_{s+1}, read back
      if (s - N1 >= W && s + 1 < N) {
        sq += (forecast - x[s + 1]) ** 2;
        count++;
      }
    }
    rates.stop(end - s0);
  }
  return {
    ...timed(rates, B, SCHEDULE.warm2),
    readings: N - N1,
    streamMse: sq / count,
    statefulVsStatelessAbsDiff,
    lastForecast: forecast,
  };
}

/** W3's figures. */
export interface W3Result extends Timed {
  horizon: number;
  repeatMaxAbsDev: number;
  /** max |state after − state before| over h and c: rollout must leave it untouched. */
  stateDisturbedMaxAbs: number;
  forecastHead: number[];
}

/**
 * The W3 feed: keeps ŷ_k in out[k - 1] and feeds it back as the next input.
 * Made once per run, so the timed loop allocates nothing.
 */
export function feedBack(out: Floats): RolloutFeed<Floats> {
  return (k, y, x) => {
    out[k - 1] = y[0];
    x[0] = y[0];
  };
}

/**
 * W3: from the live state after W2 and its forecast ŷ₁, net.rollout() feeds
 * each forecast back for 23 more cell steps (24 outputs); every trajectory is
 * read back and compared with the first.
 */
export function runW3(model: Model, lastForecast: number): W3Result {
  const { net } = model;
  const out = new net.dtype(HORIZON);
  const y = new net.dtype(1), x = new net.dtype(1);
  const feed = feedBack(out);
  const hBefore = Float64Array.from(net.h), cBefore = Float64Array.from(net.c);
  y[0] = lastForecast;
  net.rollout(HORIZON, y, x, feed);
  const ref = Float64Array.from(out);
  let maxDev = 0;
  const rates = new BlockRates();
  for (let r = 0; r < SCHEDULE.reps3; r++) {
    rates.start();
    for (let j = 0; j < SCHEDULE.block3; j++) {
      y[0] = lastForecast;
      net.rollout(HORIZON, y, x, feed);
      for (let k = 0; k < HORIZON; k++) {
        const d = Math.abs(out[k] - ref[k]);
        if (d > maxDev) maxDev = d;
      }
    }
    rates.stop(SCHEDULE.block3);
  }
  let disturbed = 0;
  for (let i = 0; i < hBefore.length; i++) {
    disturbed = Math.max(
      disturbed,
      Math.abs(net.h[i] - hBefore[i]),
      Math.abs(net.c[i] - cBefore[i]),
    );
  }
  return {
    ...timed(rates, SCHEDULE.block3, SCHEDULE.warm3),
    horizon: HORIZON,
    repeatMaxAbsDev: maxDev,
    stateDisturbedMaxAbs: disturbed,
    forecastHead: Array.from(ref.subarray(0, 4), (v) => +v.toFixed(4)),
  };
}
