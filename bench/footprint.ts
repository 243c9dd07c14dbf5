/**
 * Where one stream's bytes go in the engine (not part of the test suite):
 * creates `streams` streams of one value in one process, feeds each
 * `readings` readings `period-ms` apart, and prints per stream the RSS, the
 * JS heap, the memory outside it (ArrayBuffers), the kernels' WebAssembly
 * memory, the checkpoint's bytes, and the state's typed arrays by part, with
 * the CPU µs per reading. The daemon's own figures (per stream over an empty
 * daemon, through its workers) come from `bench/scale.ts --part=footprint`.
 * The state's arrays count what a stream holds: the arrays held in part (a
 * long season's bucket means, the shape detector's memory: as far as they
 * are written) at their held length, the scorer's sparse onsets and peaks
 * at what they hold. `--period-ms=1000` gives the streams of that bench
 * (one reading a second: a daily season of 86,400 readings, in buckets).
 * `--steady=true`: the streams start in their steady state, each restored
 * from the checkpoint of one stream fed two days of readings (172,800 at
 * one reading a second; bench/steady_state.ts), its season profile and
 * shape memory whole; `readings` more follow. They restore as the daemon
 * restores its streams at start (`restoreNew`: no scratch stream, whose
 * model would otherwise hold a second set of the kernels' memory until the
 * garbage collector finalised it).
 *
 *   deno run --allow-read --allow-env --allow-run=cat --v8-flags=--expose-gc bench/footprint.ts \
 *     [--streams=1000] [--readings=20] [--period-ms=300000] [--preset=pi-small] [--kernels=wasm] \
 *     [--steady=false]
 *
 * One `RESULT {json}` line on stdout.
 */
import { boolean, exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { deviceValue, steadyCheckpoint } from "./steady_state.ts";
import { emitResult } from "./stats.ts";
import { loadavg, ownCpu } from "./proc_stats.ts";
import { KERNEL_KINDS, useKernels } from "../src/model/kernels.ts";
import { kernelHeap } from "../src/model/wasm/kernel_heap.ts";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { stateArrays } from "../src/stream/stream_state.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(1000),
    readings: integer(20),
    "period-ms": integer(300_000),
    preset: text("a preset name", "pi-small"),
    kernels: oneOf(KERNEL_KINDS, "wasm"),
    steady: boolean(false),
  }, "Cannot parse footprint flags")
);
useKernels(f.kernels);

/** The part of a stream each state array belongs to, by name. */
function part(name: string): string {
  if (/^(params|adamM|adamV|h|c|xs|ys|h0|c0|lastInput)$/.test(name)) return "lstm";
  if (/^rls/.test(name)) return "linear";
  if (/^season/.test(name) || name === "hist") return "history+season";
  if (/^shape|^budget/.test(name)) return "shape+budget";
  if (/^(recent|bins|onsets|peaks|unusual|rangeLo|rangeHi)$/.test(name)) return "anomaly";
  if (/^(origin|preds|comb|qUsed|active)/.test(name)) return "origins";
  return "blend+intervals+other";
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const snap = () => {
  gc();
  const m = Deno.memoryUsage();
  return { ...m, wasm: kernelHeap?.size ?? 0 };
};

const preset = getPreset(f.preset);
const t0 = Date.UTC(2026, 0, 5);
// (--steady: every stream restored from one stream's checkpoint of two days)
const steady = f.steady ? steadyCheckpoint(0, f.preset, t0, f["period-ms"]) : null;
const engine = new Engine();
const m0 = snap();
for (let k = 0; k < f.streams; k++) {
  const s = engine.create(`s${k}`, { preset, columns: ["v"], periodMs: f["period-ms"] });
  if (steady) s.restoreNew(steady);
}
const m1 = snap();
const c0 = ownCpu();
for (let r = 0; r < f.readings; r++) {
  for (let k = 0; k < f.streams; k++) {
    const x = steady ? deviceValue(0, r, f["period-ms"]) : 20 + Math.sin(r / 10 + k) + (k % 7) / 10;
    engine.observe(`s${k}`, t0 + r * f["period-ms"], [x]);
  }
}
const c1 = ownCpu();
const m2 = snap();
const s = engine.get("s0")!;
const parts: Record<string, number> = {};
const kinds: Record<string, number> = {};
for (const [name, a] of Object.entries(stateArrays(s))) {
  // the scorer's onsets and peaks are two numbers each (stateArrays gives them dense): no array
  const bytes = name === "onsets" || name === "peaks" ? 0 : a.byteLength;
  parts[part(name)] = (parts[part(name)] ?? 0) + bytes;
  kinds[a.constructor.name] = (kinds[a.constructor.name] ?? 0) + bytes;
}
const per = (a: number, b: number) => Math.round((a - b) / f.streams);
emitResult({
  part: "engine-footprint",
  streams: f.streams,
  readings: f.readings,
  periodMs: f["period-ms"],
  preset: f.preset,
  kernels: f.kernels,
  steady: f.steady,
  season: s.season,
  perStream: {
    rssBytes: per(m2.rss, m0.rss),
    heapTotalBytes: per(m2.heapTotal, m0.heapTotal),
    rssAtCreateBytes: per(m1.rss, m0.rss),
    jsHeapBytes: per(m2.heapUsed, m0.heapUsed),
    externalBytes: per(m2.external, m0.external),
    wasmMemoryBytes: per(m2.wasm, m0.wasm),
    stateArrayBytes: Object.values(parts).reduce((a, b) => a + b, 0),
    stateArrayBytesByPart: parts,
    stateArrayBytesByKind: kinds,
    checkpointBytes: s.toBytes().length,
  },
  cpuUsPerReading: Math.round((c1 - c0) / (f.streams * f.readings) * 1e7) / 10,
  loadavg1: loadavg(),
});
