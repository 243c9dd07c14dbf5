/**
 * The main thread's intake of one big batch, from the request's first byte
 * to the last piece posted to a shard worker (not part of the test suite):
 * a ShardedService of `workers` workers over a real KV file in /tmp, the
 * ingest routes (src/api/ingest.ts) served by the daemon's server
 * (src/api/http_server.ts: node:http and `ws`) on 127.0.0.1 port 0, and a
 * client in a Worker of its own (its sending is not this thread's CPU).
 *
 *   deno run --allow-all bench/intake_cost.ts [--via=http,ws] [--batch=10000] \
 *     [--rounds=4] [--workers=2] [--root=.] [--v8-flags=--trace-gc]
 *
 * Bodies: bench/scale.ts's healthz part's (tests/e2e/_big_batches.ts): an
 * HTTP body of `batch` readings over 4 streams, a 1 MiB WebSocket message
 * (over a socket opened before the watch begins).
 * Each round sends one of each (new streams each round, their first
 * readings made by a small batch before) and watches this thread with a
 * 0 ms timer: each gap between two of its beats is a task (or a run of
 * them) of the event loop, in wall time and in this thread's CPU time
 * (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)` by FFI: what it would take on a
 * core of its own, however loaded the machine). Per round and body:
 * `longestCpuMs` / `longestWallMs` (the longest task between the first
 * byte sent and the answer), the five longest (`topCpuMs`), `mainCpuMs`
 * (the whole intake), `tasks` (gaps over 1 ms of CPU) and `answerMs`.
 *
 * Then each stage alone, in-process, on the same body (CPU ms of this
 * thread, the median of `rounds`): the body read as Hono reads it
 * (`Request.arrayBuffer()` of a stream in 64 KiB chunks: what the node
 * adapter hands it), `parseHttpBodyAsync` (its turns and its longest
 * slice), and the readings' hand-off (ingestLimited: the stream creation
 * limit, the split by worker, the outboxes' first pieces encoded and
 * posted) up to its first await. With `--v8-flags=--trace-gc` V8 prints
 * each collection of every isolate (the main thread's are those between
 * the `round` lines this bench prints).
 *
 * `--root=DIR` measures the src/ of another checkout (a worktree of main):
 * A/B runs with one bench. One `RESULT {json}` line per body.
 */
import { exitOnFlagError, integer, parseFlags, someOf, text } from "./args.ts";
import { emitResult, median } from "./stats.ts";
import { loadavg } from "./proc_stats.ts";
import { withShardedService } from "../tests/shard/_with_sharded_service.ts";
import { bytesBatch, httpBatch } from "../tests/e2e/_big_batches.ts";
import { START, STEP } from "../tests/e2e/_daemon.ts";
import type { Reading } from "../src/domain/reading.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    via: someOf(["http", "ws"] as const, ["http", "ws"]),
    batch: integer(10_000),
    rounds: integer(4),
    workers: integer(2),
    root: text("a checkout's directory", "."),
  }, "Cannot parse intake_cost flags")
);

const root = new URL(`${f.root.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
const src = (path: string) => import(new URL(path, root).href);
const { ingestRoutes, ingestLimited } = await src(
  "src/api/ingest.ts",
) as typeof import("../src/api/ingest.ts");
const { createRouter } = await src("src/api/router.ts") as typeof import("../src/api/router.ts");
const { startHttpServer } = await src(
  "src/api/http_server.ts",
) as typeof import("../src/api/http_server.ts");
const { servicePorts } = await src(
  "src/api/service_ports.ts",
) as typeof import("../src/api/service_ports.ts");
const { parseHttpBodyAsync } = await src(
  "src/ingest/parse.ts",
) as typeof import("../src/ingest/parse.ts");
const { StreamCreationLimit } = await src(
  "src/api/stream_creation_limit.ts",
) as typeof import("../src/api/stream_creation_limit.ts");
const { captureLog } = await src("src/log.ts") as typeof import("../src/log.ts");

/** The client: sends what it is given, answers with the reply's status or text. */
const CLIENT = `
self.onmessage = async (ev) => {
  const m = ev.data;
  if (m.type === "http") {
    const r = await fetch(m.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: m.body,
    });
    self.postMessage(r.status + " " + (await r.text()).slice(0, 200));
  } else if (m.type === "ws-open") {
    self.ws = new WebSocket(m.url);
    await new Promise((resolve, reject) => { self.ws.onopen = resolve; self.ws.onerror = reject; });
    self.postMessage("open");
  } else {
    const ws = self.ws;
    const reply = new Promise((resolve) => { ws.onmessage = (e) => resolve(String(e.data)); });
    ws.send(m.body);
    const text = await reply;
    ws.close();
    self.postMessage(text.slice(0, 200));
  }
};
`;

/** This thread's tasks while `fn` runs: gaps between the beats of a 0 ms timer. */
async function watched<T>(fn: () => Promise<T>) {
  const gaps: { cpu: number; wall: number; at: number }[] = [];
  let last = performance.now(), lastCpu = threadCpuMs();
  const mark = () => {
    const now = performance.now(), cpu = threadCpuMs();
    gaps.push({ cpu: cpu - lastCpu, wall: now - last, at: last });
    last = performance.now();
    lastCpu = threadCpuMs();
  };
  const beat = setInterval(mark, 0);
  const cpu0 = threadCpuMs(), t0 = performance.now();
  const value = await fn();
  mark();
  clearInterval(beat);

  const mainCpuMs = threadCpuMs() - cpu0;
  const byCpu = [...gaps].sort((a, b) => b.cpu - a.cpu);
  return {
    value,
    longestCpuMs: round(byCpu[0].cpu),
    longestWallMs: round(Math.max(...gaps.map((g) => g.wall))),
    topCpuMs: byCpu.slice(0, 5).map((g) => round(g.cpu)),
    /** When the three longest began (performance.now(), ms: V8's --trace-gc times are near). */
    topAtMs: byCpu.slice(0, 3).map((g) => Math.round(g.at)),

    tasks: gaps.filter((g) => g.cpu > 1).length,
    mainCpuMs: round(mainCpuMs),
    answerMs: round(performance.now() - t0),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * This thread's CPU time, ms: `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` by FFI (libc), to the
 * microsecond (`/proc/thread-self/schedstat` moves only at the scheduler's ticks).
 */
const libc = Deno.dlopen("libc.so.6", {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
});
const timespec = new BigInt64Array(2);
function threadCpuMs(): number {
  libc.symbols.clock_gettime(3, timespec); // CLOCK_THREAD_CPUTIME_ID
  return Number(timespec[0]) * 1e3 + Number(timespec[1]) / 1e6;
}

/** `bytes` as a stream of 64 KiB chunks, as the node adapter hands a request body to Hono. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at += 65_536));
    },
  });
}

/** CPU ms of this thread for `fn`, up to its first await. */
function cpuOf(fn: () => unknown): number {
  const t = threadCpuMs();
  fn();
  return threadCpuMs() - t;
}

await withShardedService({ workers: f.workers }, async (svc) => {
  const log = captureLog().log;
  const app = createRouter();
  app.route("/v1", ingestRoutes({ sink: servicePorts(svc).sink, log, now: Date.now }));
  const server = await startHttpServer((req, env) => app.fetch(req, env), {
    hostname: "127.0.0.1",
    port: 0,
    log,
  });
  const base = `127.0.0.1:${server.addr.port}`;
  const client = new Worker(
    URL.createObjectURL(new Blob([CLIENT], { type: "application/javascript" })),
    { type: "module" },
  );
  const send = (m: { type: string; url: string; body: string }) =>
    new Promise<string>((resolve) => {
      client.onmessage = (ev) => resolve(ev.data);
      client.postMessage(m);
    });
  const results: Record<string, Record<string, number | number[]>[]> = {};
  for (let r = 0; r < f.rounds; r++) {
    for (const via of f.via) {
      const streams = [0, 1, 2, 3].map((k) => `${via}${r}x${k}`);
      const batch = via === "http" ? httpBatch(f.batch, streams) : bytesBatch(1024 * 1024, streams);
      // the streams first (a daemon in service has them), then the big batch after their times
      const first = batch.slice(0, 4).map((x) => ({ ...(x as object), ts: START - STEP }));
      await send({
        type: "http",
        url: `http://${base}/v1/readings`,
        body: JSON.stringify(first),
      });
      const body = JSON.stringify(batch);
      // the socket opened before (its handshake is not the message's intake)
      if (via === "ws") await send({ type: "ws-open", url: `ws://${base}/v1/ingest/ws`, body: "" });
      console.log(`round ${r} ${via} start`);
      const w = await watched(() =>
        send({
          type: via,
          url: via === "http" ? `http://${base}/v1/readings` : `ws://${base}/v1/ingest/ws`,
          body,
        })
      );
      console.log(`round ${r} ${via} end`);
      const { value, ...rest } = w;
      if (!/^200 |"ok":true/.test(value)) throw new Error(`${via}: ${value}`);
      // each stage alone, on the same body (readings into fresh streams of the round)
      const bytes = new TextEncoder().encode(body.replaceAll(`"${via}${r}x`, `"${via}${r}y`));
      const t = threadCpuMs();
      await new Response(chunked(bytes)).arrayBuffer();
      const bodyReadCpuMs = threadCpuMs() - t;
      const p = await watched(() => parseHttpBodyAsync(bytes, { receivedAt: Date.now() }));
      const readings = (p.value as { readings: Reading[] }).readings;
      let taking: Promise<unknown> = Promise.resolve();
      const handOffCpuMs = cpuOf(() =>
        taking = ingestLimited(
          { sink: servicePorts(svc).sink, log, streamLimit: new StreamCreationLimit() },
          readings,
          via,
          "bench",
        )
      );
      await taking;
      (results[via] ??= []).push({
        ...rest,
        bodyReadCpuMs: round(bodyReadCpuMs),
        parseCpuMs: p.mainCpuMs,
        parseLongestCpuMs: p.longestCpuMs,
        parseTurns: p.tasks,
        handOffCpuMs: round(handOffCpuMs),
        loadavg1: loadavg(),
      });
    }
  }
  client.terminate();
  await server.shutdown();
  for (const via of f.via) {
    const runs = results[via];
    const med = (k: string) => round(median(runs.map((x) => x[k] as number)));
    emitResult({
      part: "intake_cost",
      via,
      root: f.root,
      workers: f.workers,
      median: Object.fromEntries(
        Object.keys(runs[0]).filter((k) => typeof runs[0][k] === "number").map((k) => [k, med(k)]),
      ),
      runs,
    });
  }
}, { root });
