/**
 * Where a script allocates (not part of the test suite): runs
 * `deno run --allow-read SCRIPT ARGS...` with `--inspect-wait` on 127.0.0.1,
 * lets it run `--skip-ms` (its warm-up), then samples its allocations
 * through V8's sampling heap profiler for `--sample-ms`, counting what was
 * collected since as well (every allocation, not what is still alive), and
 * prints the functions that allocated the most, by share of the bytes
 * sampled. The script is ended after the sampling. Line numbers are those
 * of the JavaScript Deno runs (types stripped), not of the TypeScript.
 * The profiler names the outermost function of an optimised frame: what a
 * callee inlined into it allocates counts as the caller's. `--v8-flags=`
 * passes V8's flags to the script, e.g. `--no-turbo-inlining,--no-maglev-inlining`
 * to charge each function with its own allocations (at the cost of the calls).
 *
 *   deno run --allow-net=127.0.0.1 --allow-run bench/heap_sample.ts [--skip-ms=4000] \
 *     [--sample-ms=6000] [--top=25] [--v8-flags=] -- bench/engine_load.ts --streams=100 --readings=200000
 *
 * One `RESULT {json}` line on stdout.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const split = Deno.args.indexOf("--");
const f = exitOnFlagError(() =>
  parseFlags(Deno.args.slice(0, split < 0 ? Deno.args.length : split), {
    "skip-ms": integer(4000),
    "sample-ms": integer(6000),
    top: integer(25),
    "v8-flags": text("V8 flags of the script", ""),
  }, "Cannot parse flags")
);
const [script, ...args] = split < 0 ? [] : Deno.args.slice(split + 1);
if (script === undefined) {
  console.error("Cannot sample allocations: a script must follow --: current value is none");
  Deno.exit(2);
}

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const port = (l.addr as Deno.NetAddr).port;
l.close();
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    `--inspect-wait=127.0.0.1:${port}`,
    ...(f["v8-flags"] ? [`--v8-flags=${f["v8-flags"]}`] : []),
    "--allow-read",
    script,
    ...args,
  ],
  stdout: "null",
  stderr: "null",
}).spawn();
// the inspector may answer before it lists the script's target: ask again until it does
let targets: { webSocketDebuggerUrl: string }[] = [];
while (targets.length === 0) {
  try {
    targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  } catch {
    // not listening yet
  }
  if (targets.length === 0) await new Promise((r) => setTimeout(r, 200));
}
const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((r) => ws.onopen = r);
let id = 0;
const pending = new Map<number, (r: unknown) => void>();
ws.onmessage = (e) => {
  const m = JSON.parse(String(e.data));
  if (m.id !== undefined) pending.get(m.id)?.(m.result);
};
const call = (method: string, params: Record<string, unknown> = {}) =>
  new Promise<unknown>((resolve) => {
    pending.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
await call("HeapProfiler.enable");
await call("Runtime.runIfWaitingForDebugger");
await new Promise((r) => setTimeout(r, f["skip-ms"]));
await call("HeapProfiler.startSampling", {
  samplingInterval: 2048,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await new Promise((r) => setTimeout(r, f["sample-ms"]));
const { profile } = await call("HeapProfiler.stopSampling") as { profile: { head: Node } };
child.kill("SIGKILL");
await child.status;
ws.close();

const bytes = new Map<string, number>();
const walk = (n: Node) => {
  const c = n.callFrame;
  const file = c.url.replace(/^.*\/(src|bench)\//, "$1/");
  const name = `${c.functionName || "(anonymous)"}${file ? ` (${file}:${c.lineNumber + 1})` : ""}`;
  if (n.selfSize > 0) bytes.set(name, (bytes.get(name) ?? 0) + n.selfSize);
  for (const k of n.children) walk(k);
};
walk(profile.head);
const total = [...bytes.values()].reduce((a, b) => a + b, 0);
emitResult({
  part: "heap-sample",
  script,
  sampledMB: Math.round(total / 1e5) / 10,
  top: [...bytes].sort((a, b) => b[1] - a[1]).slice(0, f.top).map(([name, b]) =>
    `${(b / total * 100).toFixed(1)}% ${name}`
  ),
});
