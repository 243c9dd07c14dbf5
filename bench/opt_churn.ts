/**
 * The engine's optimising-compiler churn in one isolate (not part of the
 * test suite): runs bench/engine_load.ts in a child with V8's
 * `--trace-opt --trace-deopt-verbose` and counts the trace's lines
 * (bench/opt_trace.ts): Maglev and TurboFan compilations, re-compilations
 * of a function a tier had compiled before, deopts by reason and by source
 * position (in the TypeScript, through the source maps in Deno's cache of
 * emitted files), and invalidated optimised code by reason. Counts of lines, not
 * timings: a shared machine's load does not change them much (V8 compiles
 * on helper threads, so which call deopts first can vary a little).
 *
 *   deno run --allow-run --allow-read bench/opt_churn.ts [--readings=40000] \
 *     [--streams=100] [--preset=default] [--sites=25] [--trace=FILE]
 *
 * `--trace=FILE` reads a saved trace instead of running the engine. One
 * `RESULT {json}` line on stdout (the counts and engine_load's own
 * figures), tables on stderr.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { countOptTrace } from "./opt_trace.ts";
import { SourcePositions } from "./source_positions.ts";

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    readings: integer(40000),
    streams: integer(100),
    preset: text("a preset name or a preset JSON file", "default"),
    sites: integer(25),
    trace: text("a saved trace to count instead of running the engine", ""),
  }, "Cannot parse opt_churn flags")
);

const ROOT = new URL("../", import.meta.url).pathname;
let trace: string;
if (flags.trace !== "") {
  trace = Deno.readTextFileSync(flags.trace);
} else {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--trace-opt,--trace-deopt-verbose",
      "--allow-read",
      new URL("engine_load.ts", import.meta.url).pathname,
      `--readings=${flags.readings}`,
      `--streams=${flags.streams}`,
      `--preset=${flags.preset}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`Cannot run engine_load: exit code ${out.code}`);
  trace = new TextDecoder().decode(out.stdout);
}
// V8 and Deno write stdout apart: the RESULT line may sit inside a trace line
const load = trace.match(/RESULT (\{[^\n]*?\})(?=\[|\n|$)/);
const engine = load ? JSON.parse(load[1]) : null;
// deopt positions back to the TypeScript, through the source maps Deno keeps with its emitted files
const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
  .output();
const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
const positions = new SourcePositions(`${denoDir}/gen`);
const counts = countOptTrace(trace, ROOT, (url, line, column) => positions.map(url, line, column));
const top = (r: Record<string, number>, n: number) =>
  Object.entries(r).slice(0, n).map(([k, v]) => `  ${String(v).padStart(4)}  ${k}`).join("\n");
console.error(
  [
    `compilations: maglev ${counts.maglev.compiled} (${counts.maglev.osr} OSR, ${counts.maglev.again} again), ` +
    `turbofan ${counts.turbofan.compiled} (${counts.turbofan.osr} OSR, ${counts.turbofan.again} again)`,
    `deopts: ${counts.deopts}; invalidations: ${counts.invalidations}`,
    "deopts by reason:",
    top(counts.deoptsByReason, 100),
    `deopts by site (first ${flags.sites}):`,
    top(counts.deoptsBySite, flags.sites),
    "invalidations by reason:",
    top(counts.invalidationsByReason, 100),
    "compiled more than once:",
    top(counts.recompiled, 100),
  ].join("\n"),
);
emitResult({
  bench: "opt_churn",
  readings: flags.readings,
  streams: flags.streams,
  preset: flags.preset,
  ...counts,
  engine: engine && {
    usPerReading: engine.usPerReading,
    cpuUsPerReading: engine.cpuUsPerReading,
    allocatedBytesPerReading: engine.allocatedBytesPerReading,
  },
});
