/**
 * How a worker's slices should yield: a worker runs `--loops` pieces of work
 * at once (an ingest queue, a checkpoint save, ...), each `--slices` slices
 * of `--slice-ms` of spinning with a yield after each, while this thread
 * posts it a ping every `--ping-ms` and the worker answers at once; a KV
 * commit loop runs beside the slices in the worker. Each yield kind in turn:
 *
 * - `timer`: `setTimeout(0)` (clamped to 4 ms once nested);
 * - `immediate`: `setImmediate`, one for each piece of work;
 * - `message`: a message over a MessageChannel;
 * - `turns`: src/async/next_turn.ts under `useTurns("immediate")` (one
 *   `setImmediate` turn at a time, first come first, a timer turn at least
 *   every 25 ms): what a shard worker takes.
 *
 *   deno run --allow-read --allow-write=/tmp bench/turn_kinds.ts \
 *     [--kinds=timer,immediate,message,turns] [--loops=2] [--slices=60] [--slice-ms=5] \
 *     [--ping-ms=3] [--rounds=2]
 *
 * One `RESULT {json}` line a kind and round: how long the slices took in all
 * (their spinning alone is loops x slices x slice-ms), the pings answered
 * while they ran and their wait (p50, p90, worst: what a forecast request
 * waits for behind the worker), and the KV commits made meanwhile with
 * their worst time.
 */
import { exitOnFlagError, integer, parseFlags, someOf } from "./args.ts";
import { emitResult } from "./stats.ts";

const KINDS = ["timer", "immediate", "message", "turns"] as const;
const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    kinds: someOf(KINDS, [...KINDS]),
    loops: integer(2),
    slices: integer(60),
    "slice-ms": integer(5),
    "ping-ms": integer(3),
    rounds: integer(2),
  }, "Cannot parse turn_kinds flags")
);

const nextTurnUrl = new URL("../src/async/next_turn.ts", import.meta.url).href;
const workerCode = `
import { nextTurn, useTurns } from ${JSON.stringify(nextTurnUrl)};
const ch = new MessageChannel();
const waiting = [];
ch.port1.onmessage = () => waiting.shift()();
const yields = {
  timer: () => new Promise((r) => setTimeout(r, 0)),
  immediate: () => new Promise((r) => setImmediate(r)),
  message: () => new Promise((r) => { waiting.push(r); ch.port2.postMessage(0); }),
  turns: () => nextTurn(),
};
function spin(ms) { const end = performance.now() + ms; while (performance.now() < end) {} }
self.onmessage = async (e) => {
  const d = e.data;
  if (d.type === "ping") { self.postMessage({ type: "pong", sent: d.sent }); return; }
  if (d.kind === "turns") useTurns("immediate");
  const y = yields[d.kind];
  const kv = await Deno.openKv(d.kvPath);
  let stop = false;
  const commits = [];
  const writer = (async () => {
    for (let n = 0; !stop; n++) {
      const t = performance.now();
      await kv.set(["n"], n);
      commits.push(performance.now() - t);
    }
  })();
  const t0 = performance.now();
  const loop = async () => { for (let i = 0; i < d.slices; i++) { await y(); spin(d.sliceMs); } };
  await Promise.all(Array.from({ length: d.loops }, loop));
  const ms = performance.now() - t0;
  stop = true;
  await writer;
  kv.close();
  self.postMessage({ type: "done", ms, commits });
};
`;
const workerUrl = URL.createObjectURL(new Blob([workerCode], { type: "text/javascript" }));

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
const r1 = (x: number) => Math.round(x * 10) / 10;

for (let round = 1; round <= f.rounds; round++) {
  for (const kind of f.kinds) {
    const dir = await Deno.makeTempDir({ prefix: "forecastd-turn-kinds-" });
    const w = new Worker(workerUrl, { type: "module" });
    const waits: number[] = [];
    let posted = 0;
    const done = await new Promise<{ ms: number; commits: number[] }>((resolve) => {
      const pinger = setInterval(() => {
        posted++;
        w.postMessage({ type: "ping", sent: performance.now() });
      }, f["ping-ms"]);
      w.onmessage = (e) => {
        if (e.data.type === "pong") waits.push(performance.now() - e.data.sent);
        else {
          clearInterval(pinger);
          resolve(e.data);
        }
      };
      w.postMessage({
        kind,
        loops: f.loops,
        slices: f.slices,
        sliceMs: f["slice-ms"],
        kvPath: `${dir}/kv.sqlite3`,
      });
    });
    w.terminate();
    await Deno.remove(dir, { recursive: true });
    waits.sort((a, b) => a - b);
    const commits = done.commits.sort((a, b) => a - b);
    emitResult({
      round,
      kind,
      slicesMs: Math.round(done.ms),
      spinMs: f.loops * f.slices * f["slice-ms"],
      pingsPosted: posted,
      pingsAnswered: waits.length,
      pingP50: r1(q(waits, 0.5)),
      pingP90: r1(q(waits, 0.9)),
      pingMax: r1(waits.at(-1) ?? NaN),
      kvCommits: commits.length,
      kvCommitMax: r1(commits.at(-1) ?? NaN),
    });
  }
}
