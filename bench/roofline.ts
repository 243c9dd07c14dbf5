/**
 * The typed-array loop reference ("roofline"), measured in the benchmark's own
 * process: not a model, only the dense kernels one LSTM step of hidden size H
 * with input size 1 needs, on a 4H x (H+1) weight matrix ([h; x] -> 4 gates),
 * as plain loops. The kernels are those of the peers' roofline.mjs:
 *
 *   A  forward matvec       z = Wm·v          (2·4H·(H+1) flop)
 *   B  backward matvecᵀ     g = Wmᵀ·dz        (2·4H·(H+1) flop)
 *   C  weight-grad rank-1   dW += dz ⊗ v      (2·4H·(H+1) flop)
 *   D  Adam over all P = 4H(H+1) + 4H + H + 1 parameters
 *
 * A and B are timed both as simple loops and 4-row blocked loops; the faster
 * of each pair is used. Implied best cases (gate nonlinearities, head and
 * bookkeeping ignored, so no real model reaches them):
 *
 *   W1 train steps/s          1 / (W·(A + B + C) + D)
 *   W2 readings/s             1 / A
 *   W3 24-step forecasts/s    1 / (23·A)
 */
import type { FloatsCtor } from "../src/model/floats.ts";
import { cpuSeconds, summarize, type Summary } from "./stats.ts";

/** Kernels compiled for one (array type, H). Each returns a value to sink. */
interface Kernels {
  matvec: () => number;
  matvecT: () => number;
  rank1: () => number;
  adam: () => number;
  matvec4: () => number;
  matvecT4: () => number;
  /** flop of one matvec: 2·4H·(H+1). */
  flops: number;
  /** P: parameters Adam updates. */
  P: number;
}

/** Wall and CPU seconds per call, one entry per repetition. */
interface KernelTimes {
  wall: number[];
  cpu: number[];
}

// The kernels are compiled with `new Function` per (array type, H), so that
// each has its own V8 code and type feedback (monomorphic element access,
// sizes known to the compiler), as in a dedicated implementation. The source
// text must differ per (array type, H): V8 caches compiled code by source
// text, and identical `new Function` sources share their inner functions'
// type feedback. roofline.mjs compiles one text for every (type, H), so its
// later combinations run shared, slower code (BENCHMARKS.md); here H is a
// literal in the text and a comment names the array type.
const KERNEL_SRC = `
  const R = 4 * H, C = H + 1;
  const Wm = new Arr(R * C), dW = new Arr(R * C);
  const v = new Arr(C), z = new Arr(R), dz = new Arr(R), g = new Arr(C);
  for (let i = 0; i < Wm.length; i++) Wm[i] = Math.sin(i) * 0.1;
  for (let i = 0; i < C; i++) v[i] = Math.cos(i) * 0.5;
  for (let i = 0; i < R; i++) dz[i] = Math.sin(i * 0.3) * 0.01;
  const P = R * C + R + H + 1;
  const p = new Arr(P), gr = new Arr(P), m = new Arr(P), s = new Arr(P);
  for (let i = 0; i < P; i++) { p[i] = Math.sin(i) * 0.1; gr[i] = Math.cos(i) * 1e-3; }
  const matvec = () => {
    for (let r = 0; r < R; r++) {
      let acc = 0;
      const o = r * C;
      for (let c = 0; c < C; c++) acc += Wm[o + c] * v[c];
      z[r] = acc;
    }
    return z[R - 1];
  };
  const matvecT = () => {
    g.fill(0);
    for (let r = 0; r < R; r++) {
      const d = dz[r];
      const o = r * C;
      for (let c = 0; c < C; c++) g[c] += Wm[o + c] * d;
    }
    return g[C - 1];
  };
  const rank1 = () => {
    for (let r = 0; r < R; r++) {
      const d = dz[r];
      const o = r * C;
      for (let c = 0; c < C; c++) dW[o + c] += d * v[c];
    }
    return dW[0];
  };
  const matvec4 = () => {
    for (let r = 0; r < R; r += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      const o0 = r * C, o1 = o0 + C, o2 = o1 + C, o3 = o2 + C;
      for (let c = 0; c < C; c++) {
        const vc = v[c];
        a0 += Wm[o0 + c] * vc; a1 += Wm[o1 + c] * vc; a2 += Wm[o2 + c] * vc; a3 += Wm[o3 + c] * vc;
      }
      z[r] = a0; z[r + 1] = a1; z[r + 2] = a2; z[r + 3] = a3;
    }
    return z[R - 1];
  };
  const matvecT4 = () => {
    g.fill(0);
    for (let r = 0; r < R; r += 4) {
      const d0 = dz[r], d1 = dz[r + 1], d2 = dz[r + 2], d3 = dz[r + 3];
      const o0 = r * C, o1 = o0 + C, o2 = o1 + C, o3 = o2 + C;
      for (let c = 0; c < C; c++) g[c] += Wm[o0 + c] * d0 + Wm[o1 + c] * d1 + Wm[o2 + c] * d2 + Wm[o3 + c] * d3;
    }
    return g[C - 1];
  };
  let step = 0;
  const adam = () => {
    step++;
    const b1 = 0.9, b2 = 0.999, lr = 1e-3, eps = 1e-8;
    const c1 = 1 / (1 - Math.pow(b1, step)), c2 = 1 / (1 - Math.pow(b2, step));
    for (let i = 0; i < P; i++) {
      const gi = gr[i];
      const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
      const si = (s[i] = b2 * s[i] + (1 - b2) * gi * gi);
      p[i] -= (lr * mi * c1) / (Math.sqrt(si * c2) + eps);
    }
    return p[0];
  };
  return { matvec, matvecT, rank1, adam, matvec4, matvecT4, flops: 2 * R * C, P };
`;

// Calibrates the call count so one repetition takes about targetS, then times
// `reps` repetitions. A fresh copy (its own text) per kernel keeps the fn() call
// monomorphic.
const TIME_SRC = `
  let iters = 1, sink = 0;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) sink += fn();
    const dt = (performance.now() - t0) / 1000;
    if (dt > targetS / 4) { iters = Math.max(1, Math.round((iters * targetS) / dt)); break; }
    iters *= 4;
  }
  const wall = [], cpu = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(), c0 = cpuSeconds();
    for (let i = 0; i < iters; i++) sink += fn();
    wall.push((performance.now() - t0) / 1000 / iters);
    cpu.push((cpuSeconds() - c0) / iters);
  }
  if (!Number.isFinite(sink)) throw new Error("Cannot time loop: the kernel output must be finite: current value is " + sink);
  return { wall, cpu };
`;

function compileKernels(Arr: FloatsCtor, H: number): Kernels {
  const src = `// loop kernels for ${Arr.name}\n  const H = ${H};\n` + KERNEL_SRC;
  return new Function("Arr", src)(Arr) as Kernels;
}

let timerCount = 0;

function timeKernel(fn: () => number, targetS: number, reps: number): KernelTimes {
  const src = `// timer ${++timerCount}\n` + TIME_SRC;
  return new Function("fn", "targetS", "reps", "cpuSeconds", src)(
    fn,
    targetS,
    reps,
    cpuSeconds,
  ) as KernelTimes;
}

/** A best-case rate per wall second, and per CPU-second in `cpu`. */
export interface LoopRate extends Summary {
  cpu: Summary;
}

/** The loop reference for one H: best-case rates and the kernels' speeds. */
export interface LoopBounds {
  H: number;
  dtype: string;
  W1: LoopRate;
  W2: LoopRate;
  W3: LoopRate;
  /** GFLOP/s (median) of the kernels used. */
  gflops: { matvec: number; matvecT: number; rank1: number };
  adamNsPerParam: number;
  kernelChoice: { matvec: string; matvecT: string };
}

/** Seconds one timed repetition of a kernel lasts, about. */
const TARGET_S = 0.15;
/** Timed repetitions per kernel. */
const REPS = 11;

/**
 * Times the loop kernels for a 4H x (H+1) matrix in `Arr` and returns the
 * implied best-case rates for a window of W steps and a horizon of `horizon`:
 * REPS repetitions of about TARGET_S seconds per kernel.
 */
export function measureLoops(
  Arr: FloatsCtor,
  H: number,
  W: number,
  horizon: number,
): LoopBounds {
  const k = compileKernels(Arr, H);
  const time = (fn: () => number) => timeKernel(fn, TARGET_S, REPS);
  const faster = (a: KernelTimes, b: KernelTimes): [KernelTimes, string] =>
    summarize(a.wall).median <= summarize(b.wall).median ? [a, "simple"] : [b, "blocked4"];
  const [tA, choiceA] = faster(time(k.matvec), time(k.matvec4));
  const [tB, choiceB] = faster(time(k.matvecT), time(k.matvecT4));
  const tC = time(k.rank1), tD = time(k.adam);
  // per-repetition implied rates, repetitions paired by index as in roofline.mjs
  const rate = (f: (a: number, b: number, c: number, d: number) => number) => {
    const wall = tA.wall.map((_, i) => f(tA.wall[i], tB.wall[i], tC.wall[i], tD.wall[i]));
    const cpu = tA.cpu.map((_, i) => f(tA.cpu[i], tB.cpu[i], tC.cpu[i], tD.cpu[i]));
    return { ...summarize(wall), cpu: summarize(cpu) };
  };
  const gf = (t: KernelTimes) => summarize(t.wall.map((s) => k.flops / s / 1e9)).median;
  return {
    H,
    dtype: Arr.name,
    W1: rate((a, b, c, d) => 1 / (W * (a + b + c) + d)),
    W2: rate((a) => 1 / a),
    W3: rate((a) => 1 / ((horizon - 1) * a)),
    gflops: { matvec: gf(tA), matvecT: gf(tB), rank1: gf(tC) },
    adamNsPerParam: (summarize(tD.wall).median / k.P) * 1e9,
    kernelChoice: { matvec: choiceA, matvecT: choiceB },
  };
}
