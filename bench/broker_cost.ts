/**
 * What the daemon's MQTT side costs a message (not part of the test suite):
 * in a child process on 127.0.0.1, `--part=broker`: src/ingest/broker.ts
 * alone, whose `onMessage` takes each message and does nothing else;
 * `--part=source`: the daemon's MQTT side (src/ingest/mqtt.ts `startMqtt`:
 * the embedded broker, or with `--via=mosquitto` an MQTT.js client
 * subscribed to a Mosquitto the bench starts), each message parsed into its
 * reading and handed to a sink that takes it at once (no workers, no model).
 * The lean publishers of bench/raw_mqtt.ts send QoS 1 messages of one
 * reading of some 40 bytes, `sensors/s{k}/v`, as bench/scale.ts sends them
 * (`--per-message=K`: a JSON array of a stream's next K readings, as
 * bench/scale.ts's option; `mainUsPerReading`, `mainBytesPerReading`).
 * After `warm` rounds of one message per stream, `rounds` more are measured:
 * the child's CPU per message by thread (`main`: aedes or MQTT.js,
 * mqtt-packet, the sockets, the parsing; `V8 DefaultWorke`: its garbage
 * collection and compiler), Mosquitto's, and the publishers' (this process),
 * and the bytes the child's isolate allocated a message over the same rounds
 * (`mainBytesPerMessage`: node:v8's total_allocated_bytes, garbage included).
 *
 *   deno run --allow-read --allow-write=/tmp --allow-net=127.0.0.1 --allow-env --allow-run \
 *     --allow-sys bench/broker_cost.ts [--part=broker|source] [--via=embedded|mosquitto] \
 *     [--streams=3000] [--warm=10] [--rounds=30] [--connections=8] [--root=.] [--per-message=1] \
 *     [--v8-flags=--optimize-for-size] [--inflight=N]
 *
 * `--inflight=N` gives the source a window of N messages (`--mqtt-inflight`;
 * 0, the default: the code's own default), and Mosquitto the same
 * `max_inflight_messages` (bench/mosquitto_config.ts).
 * `--root=DIR` runs the code of another checkout (a worktree of an older
 * revision): A/B runs with one bench. One `RESULT {json}` line.
 */
import { exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { byNamePer, loadavg, ownCpu, processCpu, threadCpu } from "./proc_stats.ts";
import { RawPublisher } from "./raw_mqtt.ts";
import type { Mosquitto } from "../tests/e2e/_daemon.ts";
import { mosquittoConfig } from "./mosquitto_config.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    part: oneOf(["broker", "source"] as const, "broker"),
    via: oneOf(["embedded", "mosquitto"] as const, "embedded"),
    streams: integer(3000),
    warm: integer(10),
    rounds: integer(30),
    connections: integer(8),
    "per-message": integer(1),
    inflight: integer(0, 0),
    root: text("a checkout's directory", "."),
    "v8-flags": text("V8 flags of the broker's process", "--optimize-for-size", true),
    serve: text("(internal) the checkout whose broker to serve", "", true),
    url: text("(internal) the broker the child's source subscribes to", "", true),
  }, "Cannot parse broker_cost flags")
);

if (f.serve !== "") {
  // the child: the broker, its port on stdout, until stdin closes
  const root = new URL(`${f.serve.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
  const { startEmbeddedBroker } = await import(new URL("src/ingest/broker.ts", root).href);
  const { createLogger } = await import(new URL("src/log.ts", root).href);
  const log = createLogger({ level: "warn", sink: (line: string) => console.error(line) });
  let taken = 0;
  let close: () => Promise<void>;
  if (f.part === "broker") {
    const broker = await startEmbeddedBroker({ port: 0, log, onMessage: () => void taken++ });
    console.log(broker.url);
    close = () => broker.close();
  } else {
    const { startMqtt } = await import(new URL("src/ingest/mqtt.ts", root).href);
    const dataDir = await Deno.makeTempDir({ prefix: "forecastd-broker-cost-" });
    const mqtt = await startMqtt({
      sink: {
        ingest: (readings: readonly unknown[]) => {
          taken += readings.length;
          return Promise.resolve({ accepted: readings.length, rejected: [] });
        },
        reject: () => {},
      },
      log,
      dataDir,
      topics: ["sensors/{stream}/{value}", "sensors/{stream}"],
      url: f.url === "" ? null : f.url,
      brokerPort: 0,
      ignoreTopicPrefix: "forecastd/alerts",
      ...(f.inflight > 0 ? { inflight: f.inflight } : {}),
    });
    await mqtt.ready;
    console.log(mqtt.brokerUrl);
    close = async () => {
      await mqtt.close();
      await Deno.remove(dataDir, { recursive: true });
    };
  }
  // until the parent closes stdin; each byte it writes asks for the bytes this isolate has
  // allocated on its heap so far (node:v8's total_allocated_bytes: garbage included)
  const { getHeapStatistics } = await import("node:v8");
  for await (const chunk of Deno.stdin.readable) {
    for (let i = 0; i < chunk.length; i++) {
      const stats = getHeapStatistics() as { total_allocated_bytes?: number };
      console.log(`ALLOCATED ${stats.total_allocated_bytes ?? NaN}`);
    }
  }
  await close();
  console.error(`taken ${taken}`);
  Deno.exit(0);
}

let mosquitto: Mosquitto | null = null;
const mosquittoDir = await Deno.makeTempDir({ prefix: "forecastd-broker-cost-" });
if (f.via === "mosquitto") {
  if (f.part === "broker") throw new Error("--via=mosquitto measures --part=source");
  // not at the top: the child runs this file too, and its broker must be the first to load MQTT.js
  // and mqtt-packet, as in the daemon (src/ingest/quiet_debug.ts)
  const { findMosquitto, startMosquitto } = await import("../tests/e2e/_daemon.ts");
  const exe = await findMosquitto();
  if (exe === null) throw new Error("--via=mosquitto: mosquitto is not installed");
  mosquitto = await startMosquitto(exe, mosquittoDir, undefined, {
    extraConfig: mosquittoConfig(f.inflight),
  });
}

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...(f["v8-flags"] === "" ? [] : [`--v8-flags=${f["v8-flags"]}`]),
    "--allow-read",
    "--allow-write=/tmp",
    "--allow-net=127.0.0.1",
    "--allow-env",
    new URL(import.meta.url).pathname,
    `--serve=${f.root}`,
    `--part=${f.part}`,
    `--inflight=${f.inflight}`,
    ...(mosquitto ? [`--url=${mosquitto.url}`] : []),
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
const url = first.trim();
let lines = "";
const writer = child.stdin.getWriter();
/** The bytes the child's isolate allocated so far (it answers one line a byte written). */
async function allocated(): Promise<number> {
  await writer.write(new Uint8Array([10]));
  while (!lines.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the broker exited");
    lines += value;
  }
  const [line] = lines.split("\n", 1);
  lines = lines.slice(line.length + 1);
  return Number(/^ALLOCATED (\d+)$/.exec(line)?.[1] ?? NaN);
}
const cs = await Promise.all(
  Array.from({ length: f.connections }, (_, i) => RawPublisher.connect(url, `cost-${i}`)),
);
/** The first reading's time (readings must be of this century). */
const T0 = Date.UTC(2026, 0, 5);
/** Round n: one message per stream, connection j carrying streams j, j + C, ... */
async function round(n: number): Promise<void> {
  await Promise.all(cs.map(async (c, j) => {
    let pending: { topic: string; payload: string }[] = [];
    const per = f["per-message"];
    for (let k = j; k < f.streams; k += cs.length) {
      const parts: string[] = [];
      for (let i = n * per; i < (n + 1) * per; i++) {
        const value = Math.round((20 + Math.sin(i / 10 + k)) * 1000) / 1000;
        parts.push(`{"value":${value},"ts":${T0 + i * 1000}}`);
      }
      pending.push({
        topic: `sensors/s${k}/v`,
        payload: per === 1 ? parts[0] : `[${parts.join(",")}]`,
      });
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
  const a0 = await allocated();
  const c0 = threadCpu(child.pid);
  const m0 = mosquitto ? processCpu(mosquitto.pid) : 0;
  const self0 = ownCpu();
  const t0 = performance.now();
  for (let n = f.warm; n < f.warm + f.rounds; n++) await round(n);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = threadCpu(child.pid);
  const m1 = mosquitto ? processCpu(mosquitto.pid) : 0;
  const self1 = ownCpu();
  const a1 = await allocated();
  const n = f.streams * f.rounds;
  const us = (s: number) => Math.round(s / n * 1e7) / 10;
  emitResult({
    bench: "broker_cost",
    part: f.part,
    via: f.via,
    root: f.root,
    v8Flags: f["v8-flags"],
    streams: f.streams,
    connections: f.connections,
    messages: n,
    perMessage: f["per-message"],
    messagesPerSecond: Math.round(n / seconds),
    brokerUsPerMessage: us(c1.main + c1.workers + c1.other - c0.main - c0.workers - c0.other),
    threadUsPerMessage: Object.fromEntries(
      Object.entries(byNamePer(c0, c1, n)).map(([k]) => [
        k,
        us((c1.byName[k] ?? 0) - (c0.byName[k] ?? 0)),
      ]),
    ),
    ...(mosquitto ? { mosquittoUsPerMessage: us(m1 - m0) } : {}),
    publisherUsPerMessage: us(self1 - self0),
    mainBytesPerMessage: Math.round((a1 - a0) / n),
    // with --per-message K: the child's main thread and its bytes a reading
    mainUsPerReading: Math.round(us(c1.main - c0.main) / f["per-message"] * 100) / 100,
    mainBytesPerReading: Math.round((a1 - a0) / n / f["per-message"]),
    loadavg1: loadavg(),
  });
} finally {
  await Promise.all(cs.map((c) => c.close()));
  await writer.close();
  await child.status;
  await reader.cancel();
  await mosquitto?.stop();
  await Deno.remove(mosquittoDir, { recursive: true });
}
