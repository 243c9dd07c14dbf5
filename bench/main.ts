/**
 * forecastd's benchmark: workloads W1–W3 of WORKLOADS.md at each H, the
 * typed-array loop reference of the same size measured in the same process,
 * and the bytes one stream keeps. Prints one `RESULT {json}` line per
 * workload and H on stdout (the peers' output contract) and a readable
 * summary on stderr.
 *
 *   deno task bench                      # H = 32, 64, 128 in Float32Array
 *   deno task bench --H=32               # one size
 *   deno task bench --dtype=f64          # Float64Array, in its own process
 *   deno task bench --loops=false        # skip the loop reference
 *   deno task bench --kernels=ts         # the TypeScript kernels (default: wasm)
 */
import os from "node:os";
import type { FloatsCtor } from "../src/model/floats.ts";
import { exitOnFlagError, parseBenchArgs } from "./args.ts";
import { useKernels } from "../src/model/kernels.ts";
import { streamMemory } from "./memory.ts";
import { type LoopRate, measureLoops } from "./roofline.ts";
import { assertSeries, makeSeries, seriesChecksum } from "./series.ts";
import { emitResult, peakRssMiB, type Summary } from "./stats.ts";
import { HORIZON, LR, makeModel, runW1, runW2, runW3, type Timed, W } from "./workloads.ts";

/**
 * A stream's bytes must stay below this at H = 32 in the default Float32Array;
 * a Float64Array run reports whether it would (it does not: about 104 KiB).
 */
const STREAM_BYTES_LIMIT = 100 * 1024;

function log(...parts: unknown[]): void {
  console.error("[bench]", ...parts);
}

const fmt = (v: number) => v >= 100 ? v.toFixed(0) : v.toPrecision(3);
const range = (s: Summary) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

/** forecastd's medians as fractions of the loops' implied best case. */
function fraction(model: Timed, loops: LoopRate) {
  return { median: model.median / loops.median, cpu: model.cpu.median / loops.cpu.median };
}

/** The loop reference's figures and forecastd's fraction of them, for a RESULT line. */
function versusLoops(model: Timed, loops: LoopRate | undefined) {
  if (!loops) return {};
  const { median, min, max, n, cpu } = loops;
  return {
    loops: { median, min, max, n, cpu: cpu.median },
    fractionOfLoops: fraction(model, loops),
  };
}

/** "; loops 4711 → 68% (cpu 66%)" for the stderr summary. */
function versusLoopsText(model: Timed, loops: LoopRate | undefined): string {
  if (!loops) return "";
  const f = fraction(model, loops);
  return `; loops ${fmt(loops.median)} → ${(100 * f.median).toFixed(0)}% (cpu ${
    (100 * f.cpu).toFixed(0)
  }%)`;
}

const config = exitOnFlagError(() => parseBenchArgs(Deno.args));
const dtype: FloatsCtor = config.dtype === "f64" ? Float64Array : Float32Array;
useKernels(config.kernels);
const x = makeSeries();
assertSeries(x);
const checks = seriesChecksum(x);
const cpus = os.cpus();
const runtime = {
  W,
  runtime: "deno",
  runtimeVersion: Deno.version.deno,
  v8: Deno.version.v8,
};
const setup = {
  // the WebAssembly kernels run Float32Array networks only
  backend: config.dtype === "f32" && config.kernels === "wasm" ? "wasm" : "js",
  dtype: dtype.name,
  lr: LR,
  optimizer: "Adam (no clipping)",
  loss: "MSE at the last step",
  machine: { cpu: cpus[0]?.model ?? "unknown", cores: cpus.length },
  series: checks,
};
log(
  `series checks pass: x0..x2 = ${checks.x0} ${checks.x1} ${checks.x2},`,
  `Σ(t+1)x_t = ${checks.weightedSum.toFixed(6)}, Σx_t² = ${checks.sumSquares.toFixed(6)}`,
);
log(`forecastd ${dtype.name}, H = ${config.hidden.join(", ")}, ${cpus.length} cores`);

for (const H of config.hidden) {
  const model = makeModel(H, dtype);
  const memory = streamMemory(model.trainer);
  const w1 = runW1(model, x);
  const w2 = runW2(model, x);
  const w3 = runW3(model, w2.lastForecast);
  const loops = config.loops ? measureLoops(dtype, H, W, HORIZON) : undefined;
  const head = (workload: string, unit: string) => ({
    peer: "forecastd",
    H,
    ...runtime,
    workload,
    unit,
  });
  emitResult({ ...head("W1", "train steps/s"), ...w1, ...versusLoops(w1, loops?.W1), ...setup });
  emitResult({ ...head("W2", "readings/s"), ...w2, ...versusLoops(w2, loops?.W2), ...setup });
  emitResult({
    ...head("W3", "24-step forecasts/s"),
    ...w3,
    ...versusLoops(w3, loops?.W3),
    ...setup,
  });
  if (loops) {
    emitResult({
      ...head("loops", "best-case rates of plain typed-array loops (bench/roofline.ts)"),
      peer: `loops-${dtype.name}`,
      ...loops,
      ...setup,
    });
  }
  // the per-stream limit applies at H = 32 only
  const limit = H === 32
    ? {
      perStreamLimit: STREAM_BYTES_LIMIT,
      withinLimit: memory.perStreamTotal < STREAM_BYTES_LIMIT,
    }
    : undefined;
  emitResult({
    ...head("memory", "bytes"),
    ...memory,
    ...limit,
    peakRssMiB: peakRssMiB(),
    ...setup,
  });

  log(
    `H=${H} W1 ${range(w1)} train steps/s, cpu ${fmt(w1.cpu.median)}${
      versusLoopsText(w1, loops?.W1)
    };`,
    `mseLast500 ${w1.mseLast500.toFixed(4)} (persistence ${
      w1.naivePersistenceMseLast500.toFixed(4)
    })`,
  );
  log(
    `H=${H} W2 ${range(w2)} readings/s, cpu ${fmt(w2.cpu.median)}${
      versusLoopsText(w2, loops?.W2)
    };`,
    `streamMse ${w2.streamMse.toFixed(4)}, stateful vs stateless ${w2.statefulVsStatelessAbsDiff}`,
  );
  log(
    `H=${H} W3 ${range(w3)} forecasts/s, cpu ${fmt(w3.cpu.median)}${
      versusLoopsText(w3, loops?.W3)
    };`,
    `repeatMaxAbsDev ${w3.repeatMaxAbsDev}, state disturbed ${w3.stateDisturbedMaxAbs}`,
  );
  log(
    `H=${H} memory ${memory.perStreamTotal} B per stream`,
    JSON.stringify(memory.perStream),
    `+ ${memory.workspaceShared} B shared workspace`,
  );
  if (limit && !limit.withinLimit) {
    const message =
      `a stream at H=32 must keep under ${STREAM_BYTES_LIMIT} bytes: current value is ${memory.perStreamTotal}`;
    if (dtype === Float32Array) throw new Error(`Cannot accept memory use: ${message}`);
    log(`H=${H} memory over the limit in ${dtype.name}: ${message}`);
  }
}
