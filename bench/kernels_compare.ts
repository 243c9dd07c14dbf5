/**
 * The TypeScript kernels ("ts", before) against the WebAssembly SIMD kernels
 * ("wasm", after; src/model/kernels.ts) in one process, alternating so that
 * both see the same machine load:
 *
 * - workloads: W1, W2 and W3 of WORKLOADS.md in full (bench/workloads.ts,
 *   with their checks), once per kind per round, the kind that goes first
 *   alternating from round to round; per kind the median over rounds of each
 *   run's median rate (per wall second and per CPU-second) and the range of
 *   those run medians;
 * - engine: the engine of bench/engine_load.ts (100 streams of the default
 *   preset, round-robin readings 5 minutes apart), one engine per kind,
 *   warmed up with 100 readings per stream, then blocks of readings fed to
 *   each in turn; µs per reading per block (wall and CPU), median and range;
 * - rls: src/stream/rls.ts's Rls against WasmRls (src/model/wasm/wasm_rls.ts)
 *   at the default preset's size (d = 9 features, J = 1 output, 24 models,
 *   one per horizon, as a stream keeps them): one update and one prediction
 *   of each per reading, blocks of readings alternating; µs per reading.
 *
 *   deno run --allow-read bench/kernels_compare.ts [--H=32] [--rounds=5] \
 *     [--parts=workloads,engine,rls] [--streams=100] [--blocks=10] [--block=3000]
 *
 * One `RESULT {json}` line per part and H on stdout, a summary on stderr; a
 * bad or unknown flag ends the run with status 2.
 */
import { type KernelKind, useKernels, wasmKernelsAvailable } from "../src/model/kernels.ts";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { mulberry32 } from "../src/model/rng.ts";
import { Rls } from "../src/stream/rls.ts";
import { WasmRls } from "../src/model/wasm/wasm_rls.ts";
import { exitOnFlagError, HIDDEN_SIZES, integer, integerList, parseFlags, someOf } from "./args.ts";
import { assertSeries, makeSeries } from "./series.ts";
import { cpuSeconds, emitResult, median } from "./stats.ts";
import { makeModel, runW1, runW2, runW3 } from "./workloads.ts";

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    H: integerList([32], HIDDEN_SIZES.min, HIDDEN_SIZES.max),
    rounds: integer(5),
    parts: someOf(["workloads", "engine", "rls"] as const, ["workloads", "engine", "rls"]),
    streams: integer(100),
    blocks: integer(10),
    block: integer(3000),
  }, "Cannot parse kernels_compare flags")
);
if (!wasmKernelsAvailable()) {
  console.error("kernels_compare: this runtime cannot run the WebAssembly kernels");
  Deno.exit(1);
}
const KINDS: readonly KernelKind[] = ["ts", "wasm"];

/** Median and range of a list, and the list. */
function stats(values: number[]) {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    values: values.map((v) => +v.toPrecision(4)),
  };
}

const fmt = (v: number) => v >= 100 ? v.toFixed(0) : v.toPrecision(3);
const range = (s: { median: number; min: number; max: number }) =>
  `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

/** W1–W3 per kind, alternating; rates per wall second and per CPU-second. */
function workloads(H: number): void {
  const x = makeSeries();
  assertSeries(x);
  const keys = ["W1", "W2", "W3"] as const;
  const runs = new Map(KINDS.map((k) => [k, { wall: [[], [], []], cpu: [[], [], []] }])) as Map<
    KernelKind,
    { wall: number[][]; cpu: number[][] }
  >;
  const checks = new Map<KernelKind, Record<string, number>>();
  for (let r = 0; r < flags.rounds; r++) {
    const order = r % 2 === 0 ? KINDS : [...KINDS].reverse();
    for (const kind of order) {
      useKernels(kind);
      const model = makeModel(H, Float32Array);
      const w1 = runW1(model, x);
      const w2 = runW2(model, x);
      const w3 = runW3(model, w2.lastForecast);
      const run = runs.get(kind)!;
      [w1, w2, w3].forEach((w, i) => {
        run.wall[i].push(w.median);
        run.cpu[i].push(w.cpu.median);
      });
      checks.set(kind, {
        mseLast500: w1.mseLast500,
        streamMse: w2.streamMse,
        statefulVsStatelessAbsDiff: w2.statefulVsStatelessAbsDiff,
        repeatMaxAbsDev: w3.repeatMaxAbsDev,
        stateDisturbedMaxAbs: w3.stateDisturbedMaxAbs,
      });
    }
  }
  const record: Record<string, unknown> = { bench: "kernels_compare", part: "workloads", H };
  keys.forEach((key, i) => {
    const per = Object.fromEntries(KINDS.map((k) => {
      const run = runs.get(k)!;
      return [k, { wall: stats(run.wall[i]), cpu: stats(run.cpu[i]) }];
    }));
    const speedup = {
      wall: per.wasm.wall.median / per.ts.wall.median,
      cpu: per.wasm.cpu.median / per.ts.cpu.median,
    };
    record[key] = { ...per, speedup };
    console.error(
      `[kernels] H=${H} ${key}: ts ${range(per.ts.wall)} [cpu ${fmt(per.ts.cpu.median)}], ` +
        `wasm ${range(per.wasm.wall)} [cpu ${fmt(per.wasm.cpu.median)}] per s: ` +
        `${speedup.wall.toFixed(2)}x (cpu ${speedup.cpu.toFixed(2)}x)`,
    );
  });
  record.checks = Object.fromEntries(checks);
  console.error(`[kernels] H=${H} checks ${JSON.stringify(record.checks)}`);
  record.rounds = flags.rounds;
  record.when = new Date().toISOString();
  emitResult(record);
}

/** The engine of bench/engine_load.ts, one per kind, fed in alternating blocks. */
function engine(): void {
  const preset = getPreset("default");
  const { streams, blocks, block } = flags;
  const T0 = Date.UTC(2026, 0, 1), FIVE_MIN = 300_000;
  const contenders = KINDS.map((kind) => {
    useKernels(kind);
    const e = new Engine();
    for (let k = 0; k < streams; k++) e.create(`s${k}`, { preset, columns: ["v"] });
    return { kind, e, uniform: mulberry32(1), row: new Float64Array(1), next: 0 };
  });
  /** Feeds n readings, round-robin, continuing where the last call stopped. */
  const feed = (c: (typeof contenders)[number], n: number) => {
    for (let r = 0; r < n; r++, c.next++) {
      const k = c.next % streams, step = Math.floor(c.next / streams);
      c.row[0] = 20 + 3 * Math.sin((2 * Math.PI * step) / 288 + k) + Math.sin(step / 1000) +
        0.3 * (c.uniform() - 0.5);
      c.e.observe(`s${k}`, T0 + step * FIVE_MIN, c.row);
    }
  };
  for (const c of contenders) feed(c, 100 * streams);
  const us = new Map(KINDS.map((k) => [k, { wall: [] as number[], cpu: [] as number[] }]));
  const learned0 = contenders.map((c) => c.e.counters.learned);
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const w0 = performance.now(), c0 = cpuSeconds();
      feed(c, block);
      const m = us.get(c.kind)!;
      m.wall.push(((performance.now() - w0) * 1000) / block);
      m.cpu.push(((cpuSeconds() - c0) * 1e6) / block);
    }
  }
  const per = Object.fromEntries(KINDS.map((k) => {
    const m = us.get(k)!;
    return [k, { wall: stats(m.wall), cpu: stats(m.cpu) }];
  }));
  const ratio = {
    wall: per.wasm.wall.median / per.ts.wall.median,
    cpu: per.wasm.cpu.median / per.ts.cpu.median,
  };
  const learned = Object.fromEntries(
    contenders.map((c, i) => [c.kind, c.e.counters.learned - learned0[i]]),
  );
  console.error(
    `[kernels] engine, default preset, ${streams} streams: µs per reading ts ${
      range(per.ts.wall)
    } [cpu ${fmt(per.ts.cpu.median)}], wasm ${range(per.wasm.wall)} [cpu ${
      fmt(per.wasm.cpu.median)
    }]: wasm/ts ${ratio.wall.toFixed(2)} (cpu ${ratio.cpu.toFixed(2)}); learned ${
      JSON.stringify(learned)
    }`,
  );
  emitResult({
    bench: "kernels_compare",
    part: "engine",
    preset: preset.name,
    streams,
    blocks,
    block,
    usPerReading: per,
    wasmOverTs: ratio,
    learned,
    when: new Date().toISOString(),
  });
}

/** Rls and WasmRls at the default preset's size, fed the same features in alternating blocks. */
function rls(): void {
  const d = 9, J = 1, horizons = 24, readings = 2000;
  const contenders = [
    { kind: "ts", models: Array.from({ length: horizons }, () => new Rls(d, J, 0.999, 1)) },
    { kind: "wasm", models: Array.from({ length: horizons }, () => new WasmRls(d, J, 0.999, 1)) },
  ] as const;
  const rng = mulberry32(3);
  const phi = Float64Array.from(
    { length: readings * d },
    (_, i) => i % d === d - 1 ? 1 : 2 * rng() - 1,
  );
  const y = Float64Array.from({ length: readings }, () => rng());
  const out = new Float64Array(J);
  let sink = 0;
  const run = (models: readonly (Rls | WasmRls)[]) => {
    for (let r = 0; r < readings; r++) {
      for (let h = 0; h < horizons; h++) {
        models[h].update(phi, ((r + h) % readings) * d, y, r);
        models[h].predict(phi, r * d, out, 0);
        sink += out[0];
      }
    }
  };
  for (const c of contenders) run(c.models); // warm-up
  const us = new Map(contenders.map((c) => [c.kind, [] as number[]]));
  for (let b = 0; b < flags.blocks; b++) {
    const order = b % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const c0 = cpuSeconds();
      run(c.models);
      us.get(c.kind)!.push(((cpuSeconds() - c0) * 1e6) / readings);
    }
  }
  const per = Object.fromEntries([...us].map(([k, v]) => [k, stats(v)]));
  const ratio = per.wasm.median / per.ts.median;
  console.error(
    `[kernels] rls d=${d} J=${J}, ${horizons} models, update + predict each per reading: ` +
      `CPU µs per reading ts ${range(per.ts)}, wasm ${range(per.wasm)}: wasm/ts ${
        ratio.toFixed(2)
      }` +
      ` (checksum ${Number.isFinite(sink) ? "finite" : "NOT FINITE"})`,
  );
  emitResult({
    bench: "kernels_compare",
    part: "rls",
    d,
    J,
    horizons,
    cpuUsPerReading: per,
    wasmOverTs: ratio,
    when: new Date().toISOString(),
  });
}

if (flags.parts.has("workloads")) { for (const H of flags.H) workloads(H); }
if (flags.parts.has("engine")) engine();
if (flags.parts.has("rls")) rls();
