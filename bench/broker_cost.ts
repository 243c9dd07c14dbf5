/**
 * What the embedded broker costs a message (not part of the test suite):
 * src/ingest/broker.ts alone in a child process on 127.0.0.1, whose
 * `onMessage` takes each message and does nothing else (no parsing, no
 * hand-off, no model), fed by the lean publishers of bench/raw_mqtt.ts (QoS 1,
 * one reading of some 40 bytes a message, `sensors/s{k}/v`, as
 * bench/scale.ts sends them). After `warm` rounds of one message per stream,
 * `rounds` more are measured: the child's CPU per message by thread (`main`:
 * aedes, mqtt-packet and the sockets; `V8 DefaultWorke`: its garbage
 * collection and compiler), and the publishers' (this process).
 *
 *   deno run --allow-read --allow-net=127.0.0.1 --allow-env --allow-run --allow-sys \
 *     bench/broker_cost.ts [--streams=3000] [--warm=10] [--rounds=30] [--connections=8] \
 *     [--root=.] [--v8-flags=--optimize-for-size]
 *
 * `--root=DIR` runs the broker of another checkout (a worktree of an older
 * revision): A/B runs with one bench. One `RESULT {json}` line.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { byNamePer, loadavg, ownCpu, threadCpu } from "./proc_stats.ts";
import { RawPublisher } from "./raw_mqtt.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(3000),
    warm: integer(10),
    rounds: integer(30),
    connections: integer(8),
    root: text("a checkout's directory", "."),
    "v8-flags": text("V8 flags of the broker's process", "--optimize-for-size", true),
    serve: text("(internal) the checkout whose broker to serve", "", true),
  }, "Cannot parse broker_cost flags")
);

if (f.serve !== "") {
  // the child: the broker, its port on stdout, until stdin closes
  const root = new URL(`${f.serve.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
  const { startEmbeddedBroker } = await import(new URL("src/ingest/broker.ts", root).href);
  const { createLogger } = await import(new URL("src/log.ts", root).href);
  const log = createLogger({ level: "warn", sink: (line: string) => console.error(line) });
  let taken = 0;
  const broker = await startEmbeddedBroker({ port: 0, log, onMessage: () => void taken++ });
  console.log(broker.port);
  for await (const _ of Deno.stdin.readable) { /* until the parent closes it */ }
  await broker.close();
  console.error(`taken ${taken}`);
  Deno.exit(0);
}

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...(f["v8-flags"] === "" ? [] : [`--v8-flags=${f["v8-flags"]}`]),
    "--allow-read",
    "--allow-net=127.0.0.1",
    "--allow-env",
    new URL(import.meta.url).pathname,
    `--serve=${f.root}`,
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let first = "";
while (!first.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the broker exited before it listened");
  first += value;
}
const url = `mqtt://127.0.0.1:${first.trim()}`;
const cs = await Promise.all(
  Array.from({ length: f.connections }, (_, i) => RawPublisher.connect(url, `cost-${i}`)),
);
/** Round n: one message per stream, connection j carrying streams j, j + C, ... */
async function round(n: number): Promise<void> {
  await Promise.all(cs.map(async (c, j) => {
    let pending: { topic: string; payload: string }[] = [];
    for (let k = j; k < f.streams; k += cs.length) {
      const value = Math.round((20 + Math.sin(n / 10 + k)) * 1000) / 1000;
      pending.push({ topic: `sensors/s${k}/v`, payload: `{"value":${value},"ts":${n * 1000}}` });
      if (pending.length >= 2000) {
        await c.publish(pending);
        pending = [];
      }
    }
    await c.publish(pending);
  }));
}
try {
  for (let n = 0; n < f.warm; n++) await round(n);
  const c0 = threadCpu(child.pid);
  const self0 = ownCpu();
  const t0 = performance.now();
  for (let n = f.warm; n < f.warm + f.rounds; n++) await round(n);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = threadCpu(child.pid);
  const self1 = ownCpu();
  const n = f.streams * f.rounds;
  const us = (s: number) => Math.round(s / n * 1e7) / 10;
  emitResult({
    bench: "broker_cost",
    root: f.root,
    v8Flags: f["v8-flags"],
    streams: f.streams,
    connections: f.connections,
    messages: n,
    messagesPerSecond: Math.round(n / seconds),
    brokerUsPerMessage: us(c1.main + c1.workers + c1.other - c0.main - c0.workers - c0.other),
    threadUsPerMessage: Object.fromEntries(
      Object.entries(byNamePer(c0, c1, n)).map(([k]) => [
        k,
        us((c1.byName[k] ?? 0) - (c0.byName[k] ?? 0)),
      ]),
    ),
    publisherUsPerMessage: us(self1 - self0),
    loadavg1: loadavg(),
  });
} finally {
  await Promise.all(cs.map((c) => c.close()));
  await child.stdin.close();
  await child.status;
  await reader.cancel();
}
