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
 * invalidations. No broker, no socket, no other isolate: the counts are
 * the worker's alone, and (with the default `--warm-up-ms`, no cap) do not
 * depend on the machine's load.
 *
 *   deno run --allow-run --allow-read --allow-write=/tmp bench/warm_window.ts \
 *     [--warm-up-readings=N] [--warm-up-ms=600000] [--streams=50] [--per-stream=400] \
 *     [--per-message=10] [--sites=25]
 *
 * `--warm-up-readings` defaults to the service's own default. One
 * `RESULT {json}` line on stdout, the tables on stderr.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { countOptTrace } from "./opt_trace.ts";
import { SourcePositions } from "./source_positions.ts";
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { captureLog } from "../src/log.ts";

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    "warm-up-readings": integer(-1, -1),
    "warm-up-ms": integer(600_000, 0),
    streams: integer(50),
    "per-stream": integer(400),
    "per-message": integer(10),
    sites: integer(25),
    child: text("true in the traced child", "", true),
  }, "Cannot parse warm_window flags")
);

const MARK = "=== the window ===";
const STEP = 300_000;
const START = Date.UTC(2025, 0, 1);

/** bench/scale.ts's device k's reading n (its default 5-minute step). */
function value(k: number, n: number): number {
  return Math.round((20 + 3 * Math.sin((2 * Math.PI * n) / 288) + k * 0.01) * 1000) / 1000;
}

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
  });
  await s.load();
  s.start();
  const ids = Array.from({ length: flags.streams }, (_, k) => `dev-${k}`);
  for (const [k, id] of ids.entries()) {
    await s.ingest([{ stream: id, ts: START, values: { value: value(k, 0) } }], "mqtt");
  }
  console.log(`${MARK} ${JSON.stringify({ warmUpReadings: s.warmUpReadings })}`);
  const last = 1 + flags["per-stream"];
  for (let n = 1; n < last; n += flags["per-message"]) {
    for (const [k, id] of ids.entries()) {
      const batch = [];
      for (let m = n; m < Math.min(n + flags["per-message"], last); m++) {
        batch.push({ stream: id, ts: START + m * STEP, values: { value: value(k, m) } });
      }
      await s.ingest(batch, "mqtt");
    }
    if ((n - 1) % 40 === 0) [...s.horizonStats()];
  }
  await s.checkpoint();
  await s.close();
  kv.close();
  Deno.exit(0);
}

const out = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--v8-flags=--trace-opt,--trace-deopt-verbose",
    "--allow-read",
    "--allow-write=/tmp",
    "--allow-env",
    "--unstable-kv",
    new URL(import.meta.url).pathname,
    ...Deno.args,
    "--child=true",
  ],
  stdout: "piped",
  stderr: "inherit",
}).output();
if (!out.success) throw new Error(`Cannot run the warm-up's window: exit code ${out.code}`);
const trace = new TextDecoder().decode(out.stdout);
const at = trace.indexOf(MARK);
if (at < 0) throw new Error(`Cannot find the window in the trace: "${MARK}" must be printed`);
const fed = JSON.parse(trace.slice(at + MARK.length, trace.indexOf("\n", at))).warmUpReadings;
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
const top = (r: Record<string, number>, n: number) =>
  Object.entries(r).slice(0, n).map(([k, v]) => `  ${String(v).padStart(4)}  ${k}`).join("\n");
console.error(
  [
    `warm-up: ${fed} readings`,
    `compilations: maglev ${counts.maglev.compiled} (${counts.maglev.again} again), ` +
    `turbofan ${counts.turbofan.compiled} (${counts.turbofan.again} again)`,
    `deopts: ${counts.deopts}; invalidations: ${counts.invalidations}`,
    `deopts by site (first ${flags.sites}):`,
    top(counts.deoptsBySite, flags.sites),
    "invalidations by reason:",
    top(counts.invalidationsByReason, 100),
  ].join("\n"),
);
emitResult({ bench: "warm_window", warmUpReadings: fed, ...counts });
