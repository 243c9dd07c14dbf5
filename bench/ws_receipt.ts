/**
 * Where the task that receives a big WebSocket message spends the main
 * thread's CPU (not part of the test suite): the ingest WebSocket route on
 * the daemon's server (src/api/http_server.ts: node:http and `ws`) with a
 * sink that takes everything at once, a client in a Worker of its own
 * sending `messages` text messages of 1 MiB (tests/e2e/_big_batches.ts,
 * as bench/intake_cost.ts) one after another, each once the last is
 * answered.
 *
 *   deno run --allow-all bench/ws_receipt.ts [--messages=8] [--root=.]
 *
 * Functions of `ws`'s frame reader (lib/receiver.js: `_write` a socket
 * chunk, `consume` buffered bytes, joined when they span chunks,
 * `getData` a frame's payload, unmasked there, `dataMessage` the whole
 * message: UTF-8 check, then the `message` event), `Buffer#toString`,
 * `Uint8Array#set` (the joins' copies) and, where the tree has it,
 * `FrameUnmasker#take` (src/api/frame_unmasker.ts) are wrapped to add
 * this thread's CPU time (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)` by FFI)
 * to their name. A 0 ms timer cuts the thread's time into tasks (each gap
 * between two beats: a task or a run of them); per message, the task in
 * which `dataMessage` ran (the receipt's last one) with the CPU of each
 * function within it (inclusive: `_write` holds the others), and the CPU
 * of all `_write` and `take` calls over the message. The first message is
 * the process's first (cold); the medians are of the others. `--root=DIR`
 * measures another checkout's src/ under this bench. One `RESULT {json}`
 * line.
 */
import { Buffer } from "node:buffer";
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult, median } from "./stats.ts";
import { loadavg } from "./proc_stats.ts";
import { bytesBatch } from "../tests/e2e/_big_batches.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    messages: integer(8, 2),
    root: text("a checkout's directory", "."),
  }, "Cannot parse ws_receipt flags")
);

const root = new URL(`${f.root.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
const src = (path: string) => import(new URL(path, root).href);
const { ingestRoutes } = await src("src/api/ingest.ts") as typeof import("../src/api/ingest.ts");
const { createRouter } = await src("src/api/router.ts") as typeof import("../src/api/router.ts");
const { startHttpServer } = await src(
  "src/api/http_server.ts",
) as typeof import("../src/api/http_server.ts");
const { captureLog } = await src("src/log.ts") as typeof import("../src/log.ts");
const unmasker = await src("src/api/frame_unmasker.ts").catch(() => null) as
  | typeof import("../src/api/frame_unmasker.ts")
  | null;
// (the same module instance as the server's: one import map)
const { Receiver } = await import("ws") as unknown as {
  Receiver: { prototype: Record<string, unknown> };
};

const libc = Deno.dlopen("libc.so.6", {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
});
const timespec = new BigInt64Array(2);
function threadCpuMs(): number {
  libc.symbols.clock_gettime(3, timespec); // CLOCK_THREAD_CPUTIME_ID
  return Number(timespec[0]) * 1e3 + Number(timespec[1]) / 1e6;
}

/** Each wrapped call: its name, and when it began and ended (thread CPU ms). */
const calls: { name: string; from: number; to: number }[] = [];
function wrap(target: Record<string, unknown>, key: string, name: string): void {
  const fn = target[key] as (...a: unknown[]) => unknown;
  target[key] = function (this: unknown, ...a: unknown[]) {
    const from = threadCpuMs();
    try {
      return fn.apply(this, a);
    } finally {
      calls.push({ name, from, to: threadCpuMs() });
    }
  };
}
for (const m of ["_write", "consume", "getData", "dataMessage"]) wrap(Receiver.prototype, m, m);
wrap(Buffer.prototype as unknown as Record<string, unknown>, "toString", "Buffer#toString");
wrap(Uint8Array.prototype as unknown as Record<string, unknown>, "set", "Uint8Array#set");
if (unmasker !== null) {
  wrap(unmasker.FrameUnmasker.prototype as unknown as Record<string, unknown>, "take", "take");
}

const CLIENT = `
self.onmessage = async (ev) => {
  const { url, body, n } = ev.data;
  const ws = new WebSocket(url);
  await new Promise((resolve) => { ws.onopen = resolve; });
  for (let i = 0; i < n; i++) {
    const reply = new Promise((resolve) => { ws.onmessage = (e) => resolve(String(e.data)); });
    ws.send(body);
    self.postMessage(await reply);
  }
  ws.close();
};
`;

const log = captureLog().log;
const app = createRouter();
const sink = {
  ingest: (readings: readonly unknown[]) =>
    Promise.resolve({ accepted: readings.length, rejected: [] }),
  exists: () => true,
  reject: () => {},
};
app.route("/v1", ingestRoutes({ sink, log, now: Date.now }));
const server = await startHttpServer((req, env) => app.fetch(req, env), {
  hostname: "127.0.0.1",
  port: 0,
  log,
});
const client = new Worker(
  URL.createObjectURL(new Blob([CLIENT], { type: "application/javascript" })),
  { type: "module" },
);
const body = JSON.stringify(bytesBatch(1024 * 1024, ["r0", "r1", "r2", "r3"]));

/** The tasks: gaps between the beats of a 0 ms timer (thread CPU ms). */
const gaps: { from: number; to: number }[] = [];
let beatAt = threadCpuMs();
const beat = setInterval(() => {
  const now = threadCpuMs();
  gaps.push({ from: beatAt, to: now });
  beatAt = threadCpuMs();
}, 0);
let answered = 0;
await new Promise<void>((resolve, reject) => {
  client.onmessage = (ev) => {
    if (!String(ev.data).includes('"ok":true')) reject(new Error(`reply: ${ev.data}`));
    if (++answered === f.messages) resolve();
  };
  client.postMessage({
    url: `ws://127.0.0.1:${server.addr.port}/v1/ingest/ws`,
    body,
    n: f.messages,
  });
});
clearInterval(beat);
client.terminate();
await server.shutdown();

const round = (x: number) => Math.round(x * 100) / 100;
// a message's calls: from the end of the last one's `dataMessage` to the end of its own (the
// client's reply may reach this thread after the next message's first chunks)
const last = calls.flatMap((c, i) => c.name === "dataMessage" ? [i] : []);
const runs = last.map((end, k) => {
  const mine = calls.slice(k === 0 ? 0 : last[k - 1] + 1, end + 1);
  const data = mine.at(-1)!;
  const task = gaps.find((g) => g.from <= data.from && data.to <= g.to) ??
    { from: data.from, to: data.to };
  const inTask: Record<string, number> = {};
  for (const c of mine) {
    if (c.from >= task.from && c.to <= task.to) {
      inTask[c.name] = round((inTask[c.name] ?? 0) + c.to - c.from);
    }
  }
  const total = (name: string) =>
    round(mine.filter((c) => c.name === name).reduce((s, c) => s + c.to - c.from, 0));
  return {
    taskCpuMs: round(task.to - task.from),
    inTask,
    writeCpuMs: total("_write"),
    takeCpuMs: total("take"),
  };
});
const warm = runs.slice(1);
emitResult({
  part: "ws_receipt",
  root: f.root,
  bytes: body.length,
  loadavg1: loadavg(),
  median: {
    taskCpuMs: round(median(warm.map((r) => r.taskCpuMs))),
    writeCpuMs: round(median(warm.map((r) => r.writeCpuMs))),
    takeCpuMs: round(median(warm.map((r) => r.takeCpuMs))),
  },
  runs,
});
