/**
 * What one shard worker's isolate still compiles after its warm-up (not
 * part of the test suite): a child runs one Service over a `:memory:` KV
 * as a new daemon's worker does (`warmUpNew`), its load() with the
 * warm-up (src/service/warm_up.ts), then the capacity part's window of
 * bench/scale.ts for one worker's half of the streams: `streams` streams,
 * one reading each (the streams made before the window), then `per-stream`
 * readings each, `per-message` a batch through ingest(), the streams'
 * accuracy read after every 40 readings a stream (as a worker's stats
 * timer does), a checkpoint at the end. V8's `--trace-opt
 * --trace-deopt-verbose` output after the warm-up is counted as
 * bench/opt_churn.ts counts it: compilations by tier, deopts by site,
 * invalidations, the compile ms by function (the execute phase V8 prints,
 * a helper thread's part) and by quarter of the window, and each thread's
 * CPU µs a reading over the window (`threadUsPerReading`, from /proc: the
 * compile ms above are wall time, which the load stretches). No broker, no
 * socket, no other isolate: the counts are the worker's alone, and (with
 * the default `--warm-up-ms`, no cap) do not depend on the machine's load.
 *
 *   deno run --allow-run --allow-read --allow-write=/tmp bench/warm_window.ts \
 *     [--warm-up-readings=N] [--warm-up-ms=600000] [--streams=50] [--per-stream=400] \
 *     [--per-message=10] [--sites=25] [--functions=25] [--v8-flags=--flag,...] \
 *     [--scratch-service=true]
 *
 * `--scratch-service=false`: the warm-up without its scratch service (no
 * `scratchStore`, as a Service on the main thread: the scratch engines only).
 *
 * `--v8-flags` are V8 flags of the child besides the trace's (e.g. a
 * tier's threshold: `--invocation-count-for-turbofan=1500`).
 * `--warm-up-readings` defaults to the service's own default. One
 * `RESULT {json}` line on stdout, the tables on stderr.
 */
import { feedFirst, feedStep } from "./service_feed.ts";
import { boolean, exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { countOptTrace } from "./opt_trace.ts";
import { SourcePositions } from "./source_positions.ts";
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { captureLog } from "../src/log.ts";
import { memoryScratchStore } from "../tests/service/_memory_scratch_store.ts";
import { byNamePer, threadCpu } from "./proc_stats.ts";
import { runChild } from "./run_child.ts";

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    "warm-up-readings": integer(-1, -1),
    "warm-up-ms": integer(600_000, 0),
    streams: integer(50),
    "per-stream": integer(400),
    "per-message": integer(10),
    sites: integer(25),
    functions: integer(25),
    "v8-flags": text("V8 flags of the child besides the trace's", "", true),
    "scratch-service": boolean(true),
    child: text("true in the traced child", "", true),
  }, "Cannot parse warm_window flags")
);

const MARK = "=== the window ===";
/** Printed before each thread's CPU µs a reading over the window, as JSON. */
const CPU = "=== cpu ===";
/** Printed as each quarter of the window's readings ends: `${QUARTER} q`. */
const QUARTER = "=== quarter";

if (flags.child === "true") {
  const kv = await Deno.openKv(":memory:");
  const readings = flags["warm-up-readings"];
  const s = new Service({
    options: {
      warmUpNew: true,
      warmUpMs: flags["warm-up-ms"],
      ...(readings >= 0 ? { warmUpReadings: readings } : {}),
      shedAfterMs: 3_600_000,
    },
    store: new Store(kv),
    log: captureLog().log,
    raise: () => {},
    // as a shard worker's (src/shard/shard_worker.ts): a scratch store in memory
    ...(flags["scratch-service"] ? { scratchStore: memoryScratchStore } : {}),
  });
  await s.load();
  s.start();
  const ids = Array.from({ length: flags.streams }, (_, k) => `dev-${k}`);
  await feedFirst(s, ids);
  console.log(
    `${MARK} ${
      JSON.stringify({
        warmUpReadings: s.warmUpReadings,
        warmUpServiceReadings: s.warmUpServiceReadings,
      })
    }`,
  );
  const before = threadCpu(Deno.pid);
  const last = 1 + flags["per-stream"];
  let quarter = 1;
  for (let n = 1; n < last; n += flags["per-message"]) {
    if (n - 1 >= (quarter * flags["per-stream"]) / 4) console.log(`${QUARTER} ${quarter++} ===`);
    await feedStep(s, ids, n, flags["per-message"], last);
    if ((n - 1) % 40 === 0) [...s.horizonStats()];
  }
  console.log(`${QUARTER} ${quarter} ===`);
  await s.checkpoint();
  const cpu = byNamePer(before, threadCpu(Deno.pid), flags.streams * flags["per-stream"]);
  console.log(`${CPU} ${JSON.stringify(cpu)}`);
  await s.close();
  kv.close();
  Deno.exit(0);
}

const trace = await runChild(
  import.meta.url,
  ["--trace-opt", "--trace-deopt-verbose", flags["v8-flags"]],
  ["--allow-run=sh"],
  "the warm-up's window",
);
const at = trace.indexOf(MARK);
if (at < 0) throw new Error(`Cannot find the window in the trace: "${MARK}" must be printed`);
const { warmUpReadings: fed, warmUpServiceReadings: fedService } = JSON.parse(
  trace.slice(at + MARK.length, trace.indexOf("\n", at)),
);
const cpuAt = trace.search(new RegExp(`(?<!#)${CPU}`));
const threadUsPerReading = cpuAt < 0
  ? null
  : JSON.parse(trace.slice(cpuAt + CPU.length, trace.indexOf("\n", cpuAt)));
const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
  .output();
const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
const positions = new SourcePositions(`${denoDir}/gen`);
const root = new URL("../", import.meta.url).pathname;
const counts = countOptTrace(
  trace.slice(at),
  root,
  (url, line, column) => positions.map(url, line, column),
);
// compile ms in each quarter of the window's readings (the last also holds the checkpoint)
// (not V8's copies of the string in a deopt's frame, `#=== quarter 1 ===`)
const quarters = trace.slice(at).split(new RegExp(`(?<!#)${QUARTER} \\d ===`)).map((piece) => {
  const c = countOptTrace(piece);
  return { maglevMs: c.maglev.ms, turbofanMs: c.turbofan.ms };
});
const top = (r: Record<string, number>, n: number) =>
  Object.entries(r).slice(0, n).map(([k, v]) => `  ${String(v).padStart(4)}  ${k}`).join("\n");
console.error(
  [
    `warm-up: ${fed} readings, ${fedService} through the service; CPU µs a reading in the window: ${
      JSON.stringify(threadUsPerReading)
    }`,
    `compilations: maglev ${counts.maglev.compiled} (${counts.maglev.again} again), ` +
    `turbofan ${counts.turbofan.compiled} (${counts.turbofan.again} again)`,
    `compile ms (execute phase): maglev ${counts.maglev.ms}, turbofan ${counts.turbofan.ms}; ` +
    `by quarter of the window, maglev + turbofan: ${
      quarters.map((q) => `${q.maglevMs} + ${q.turbofanMs}`).join(", ")
    }`,
    `compile ms by function (first ${flags.functions}):`,
    top(counts.msByFunction, flags.functions),
    `deopts: ${counts.deopts}; invalidations: ${counts.invalidations}`,
    `deopts by site (first ${flags.sites}):`,
    top(counts.deoptsBySite, flags.sites),
    "invalidations by reason:",
    top(counts.invalidationsByReason, 100),
  ].join("\n"),
);
emitResult({
  bench: "warm_window",
  v8Flags: flags["v8-flags"],
  warmUpReadings: fed,
  warmUpServiceReadings: fedService,
  threadUsPerReading,
  ...counts,
  quarters,
});
