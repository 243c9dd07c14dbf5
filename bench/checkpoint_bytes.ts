/**
 * A stream's checkpoint over its life (not part of the test suite): replays
 * each NAB file given (its values, 5 minutes apart) through a stream of
 * `preset`, takes its checkpoint (`toBytes()`) every `every` readings once
 * `skip` readings are in, and prints the checkpoint's bytes (mean, least,
 * most; packed, as stored since FCDS version 4, and `meanStateBytes`, the
 * version 3 state inside), how many of those checkpoints held an entry in the scorer's onset
 * rings (an onset or a fresh reading within the refractory period: what the
 * dense layout wrote as far as that entry's slot), and the CPU µs of one
 * `toBytes()` (`repeat` calls of each stream at its end): on this thread,
 * and in the whole process (V8's helper threads collect its garbage).
 * Run at two revisions (the same file copied in) to compare layouts.
 *
 * With `--parts=true` it also prints what each part of the checkpoint costs,
 * as the mean over the checkpoints taken of the bytes the checkpoint loses
 * without that part (re-encoded unpacked, version 3: each array's entry with its header and its
 * alignment to 8 bytes, each top-level scalar with its key, and the
 * budget's `held`, the fifth entry of the `budget` scalars, on its own):
 * `parts`, by name, arrays first, in the checkpoint's order.
 *
 *   deno run --allow-read --allow-env --allow-run=sh,cat --allow-sys=loadavg bench/checkpoint_bytes.ts \
 *     [--preset=default] [--every=50] [--skip=1000] [--repeat=2000] [--parts=false] \
 *     [--files=realKnownCause/machine_temperature_system_failure.csv,...] [--data=../shared/data/nab]
 *
 * One `RESULT {json}` line on stdout.
 */
import { exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { loadavg, threadCpu } from "./proc_stats.ts";
import { readCsv } from "../src/replay/csv.ts";
import { getPreset } from "../src/stream/preset.ts";
import { StreamModel } from "../src/stream/stream.ts";
import { encodeState, PACKED_VERSION, readState } from "../src/stream/state.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    preset: text("a preset name", "default"),
    every: integer(50),
    skip: integer(1000, 0),
    repeat: integer(2000),
    parts: oneOf(["true", "false"], "false"),
    files: text(
      "NAB files, comma-separated",
      "realKnownCause/machine_temperature_system_failure.csv,realKnownCause/ambient_temperature_system_failure.csv,artificialWithAnomaly/art_daily_jumpsup.csv",
    ),
    data: text("a directory", "../shared/data/nab"),
  }, "Cannot parse checkpoint_bytes flags")
);

const T0 = Date.UTC(2026, 0, 5);
const preset = getPreset(f.preset);
const sizes: number[] = [];
/** The checkpoints' states unpacked (FCDS version 3: what the parts are measured on). */
const stateSizes: number[] = [];

/** The length of the version 3 state a checkpoint holds (packed: the length in its header). */
function stateLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint16(4, true) === PACKED_VERSION ? view.getUint32(7, true) : bytes.byteLength;
}
const streams: StreamModel[] = [];
let withEntry = 0;
/** The bytes each part's absence takes off, summed over the checkpoints. */
const parts = new Map<string, number>();

/** Adds what each part of checkpoint `bytes` costs to {@link parts}. */
function measureParts(bytes: Uint8Array): void {
  const { scalars, arrays } = readState(bytes);
  const s = scalars as Record<string, unknown>;
  const size = (sc: unknown, ar: typeof arrays) => encodeState(sc, ar).byteLength;
  if (size(s, arrays) !== stateLength(bytes)) {
    throw new Error("Cannot measure the checkpoint's parts: it does not re-encode to its own size");
  }
  const add = (name: string, without: number) =>
    parts.set(name, (parts.get(name) ?? 0) + bytes.byteLength - without);
  for (const name of Object.keys(arrays)) {
    const { [name]: _, ...rest } = arrays;
    add(name, size(s, rest));
  }
  for (const key of Object.keys(s)) {
    const { [key]: _, ...rest } = s;
    add(`scalar ${key}`, size(rest, arrays));
  }
  const budget = s.budget;
  if (Array.isArray(budget) && budget.length === 5) {
    add("scalar budget[4] (held)", size({ ...s, budget: budget.slice(0, 4) }, arrays));
  }
}

for (const file of f.files.split(",")) {
  const table = await readCsv(`${f.data}/${file}`, { columns: ["value"] });
  const m = new StreamModel({ id: file, preset, columns: ["value"] });
  streams.push(m);
  for (let r = 0; r < table.rows; r++) {
    m.observe(T0 + r * 300_000, [table.values[r]]);
    if (r < f.skip || (r - f.skip) % f.every !== 0) continue;
    const bytes = m.toBytes();
    sizes.push(bytes.byteLength);
    stateSizes.push(stateLength(bytes));
    if (f.parts === "true") measureParts(bytes);
    if (m.scorer.onsets.value > 0 || m.scorer.peaks.value > 0) withEntry++;
  }
}
const c0 = threadCpu(Deno.pid);
for (const m of streams) for (let i = 0; i < f.repeat; i++) m.toBytes();
const c1 = threadCpu(Deno.pid);
const us = (s: number) => Math.round(s / (f.repeat * streams.length) * 1e7) / 10;
const all = (c: typeof c0) => c.main + c.workers + c.other;
emitResult({
  bench: "checkpoint_bytes",
  preset: f.preset,
  files: f.files.split(",").length,
  checkpoints: sizes.length,
  withRingEntry: withEntry,
  meanBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
  leastBytes: Math.min(...sizes),
  mostBytes: Math.max(...sizes),
  meanStateBytes: Math.round(stateSizes.reduce((a, b) => a + b, 0) / stateSizes.length),
  toBytesUs: us(c1.main - c0.main),
  toBytesProcessUs: us(all(c1) - all(c0)),
  ...(f.parts === "true"
    ? {
      parts: Object.fromEntries(
        [...parts].map(([name, sum]) => [name, Math.round((sum / sizes.length) * 10) / 10]),
      ),
    }
    : {}),
  loadavg1: loadavg(),
});
