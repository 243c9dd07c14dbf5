/**
 * The MQTT source's window of messages in flight (src/ingest/ack_window.ts)
 * on a real Mosquitto on 127.0.0.1, started by each test with no limit of
 * its own on the messages in flight, so the source's window is what holds
 * them: a burst taken in order with the window full and never more, the
 * PUBACKs on the wire in the order of the PUBLISHes, the keep-alive through a
 * full window, and a connection cut with messages taken but not yet
 * acknowledged. Skipped, saying why, when mosquitto is not installed.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { captureLog } from "../../src/log.ts";
import type { IngestResult, IngestSink, Refusal } from "../../src/ingest/ingest_sink.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { type MqttSource, startMqttSource } from "../../src/ingest/mqtt_source.ts";
import { ServiceError } from "../../src/service/service_error.ts";
import {
  eventually,
  findMosquitto,
  type Mosquitto,
  mqttClient,
  startMosquitto,
  withTempDir,
} from "../e2e/_daemon.ts";

const mosquitto = await findMosquitto();
if (mosquitto === null) {
  console.warn(
    "tests/ingest/mqtt_window_test.ts: skipped: mosquitto is not installed " +
      "(apt-get install -y mosquitto)",
  );
}
const ignore = mosquitto === null;

/** Mosquitto sends every queued message at once and drops none. */
const NO_BROKER_LIMIT = ["max_inflight_messages 0", "max_queued_messages 0"];
const T0 = Date.UTC(2026, 0, 1);
const TOPICS = ["sensors/{stream}/{value}"];

/**
 * A sink that takes each message when `taking` says (a promise, as a worker
 * answers), recording the values in the order they were handed over and how
 * many were being taken at once at most.
 */
class SlowSink implements IngestSink {
  /** The value of each message's reading, in the order ingest() got them. */
  readonly values: number[] = [];
  readonly rejects: string[] = [];
  pending = 0;
  maxPending = 0;

  constructor(readonly taking: (value: number) => Promise<void>) {}

  async ingest(readings: readonly Reading[]): Promise<IngestResult> {
    const value = Number(readings[0].values.v);
    this.values.push(value);
    this.pending++;
    this.maxPending = Math.max(this.maxPending, this.pending);
    try {
      await this.taking(value);
    } finally {
      this.pending--;
    }
    return { accepted: readings.length, rejected: [] };
  }
  reject(reason: string, _refusal?: Refusal): void {
    this.rejects.push(reason);
  }
  /** The distinct values taken, and whether any was taken twice. */
  once(): { distinct: number; twice: number[] } {
    const seen = new Set<number>();
    const twice = this.values.filter((v) => seen.has(v) || (seen.add(v), false));
    return { distinct: seen.size, twice };
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Publishes messages 0..n-1 at QoS 1, in order, on 50 streams: value i at T0 + i s. */
async function publish(device: mqtt.MqttClient, n: number): Promise<void> {
  await Promise.all(
    range(n).map((i) =>
      device.publishAsync(`sensors/s${i % 50}/v`, JSON.stringify({ value: i, ts: T0 + i * 1000 }), {
        qos: 1,
      })
    ),
  );
}

/**
 * The packet ids of the PUBLISHes the source's connection read and of the
 * PUBACKs it wrote, in order: the written bytes go through mqtt-packet's
 * parser as the broker would read them. `onPuback` is told of each PUBACK as
 * it is written.
 */
function watchWire(
  source: MqttSource,
  onPuback: (id: number) => void = () => {},
): { publishes: number[]; pubacks: number[] } {
  const wire = { publishes: [] as number[], pubacks: [] as number[] };
  source.client.on("packetreceive", (p) => {
    if (p.cmd === "publish" && p.qos === 1) wire.publishes.push(p.messageId!);
  });
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p) => {
    if (p.cmd !== "puback") return;
    onPuback(p.messageId!);
    wire.pubacks.push(p.messageId!);
  });
  const socket = source.client.stream as unknown as Record<string, (...a: unknown[]) => unknown>;
  const write = socket._write, writev = socket._writev;
  socket._write = (chunk, ...rest) => {
    parser.parse(chunk as Uint8Array as never);
    return write.call(socket, chunk, ...rest);
  };
  socket._writev = (chunks, ...rest) => {
    for (const c of chunks as { chunk: Uint8Array }[]) parser.parse(c.chunk as never);
    return writev.call(socket, chunks, ...rest);
  };
  return wire;
}

/**
 * Publishes messages 0..n-1 and waits for their n PUBACKs: each message
 * handed over once, in order, and the PUBACKs in the order of the PUBLISHes.
 */
async function burstInOrder(
  device: mqtt.MqttClient,
  wire: { publishes: number[]; pubacks: number[] },
  sink: SlowSink,
  n: number,
): Promise<void> {
  await publish(device, n);
  await eventually(
    () => wire.pubacks.length === n || undefined,
    `${n} PUBACKs (${wire.pubacks.length} written, ${sink.values.length} handed over)`,
  );
  assert.deepEqual(sink.values, range(n), "each message handed over once, in order");
  assert.deepEqual(wire.pubacks, wire.publishes, "PUBACKs in the order of the PUBLISHes");
}

/** Runs `fn` with a Mosquitto of no window of its own, a source on it and a device. */
async function withSource(
  source: { sink: SlowSink; inflight: number; keepaliveSeconds?: number },
  fn: (s: MqttSource, device: mqtt.MqttClient, broker: Mosquitto) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const broker = await startMosquitto(mosquitto!, dir, undefined, {
      extraConfig: NO_BROKER_LIMIT,
    });
    const s = startMqttSource({
      url: broker.url,
      clientId: "forecastd-window",
      topics: TOPICS,
      sink: source.sink,
      log: captureLog().log,
      inflight: source.inflight,
      reconnectMs: 100,
      closeTimeoutMs: 500,
      ...(source.keepaliveSeconds ? { keepaliveSeconds: source.keepaliveSeconds } : {}),
    });
    let device: mqtt.MqttClient | null = null;
    try {
      await s.ready;
      device = await mqttClient(broker.url);
      await fn(s, device, broker);
    } finally {
      await device?.endAsync();
      await s.close();
      await broker.stop();
    }
  });
}

Deno.test({
  name:
    "through Mosquitto a burst of 2,000 messages is taken in order, with the window full and never more, each PUBACK in the order of the PUBLISHes",
  ignore,
  fn: async () => {
    // each message taken 2 ms after it is handed over, as a worker answers
    const sink = new SlowSink(() => sleep(2));
    await withSource({ sink, inflight: 50 }, async (source, device) => {
      const wire = watchWire(source);
      const n = 2000;
      await burstInOrder(device, wire, sink, n);
      assert.equal(sink.maxPending, 50, "the window was full, never more");
      assert.equal(wire.publishes.length, n);
      assert.equal(source.stats.connects, 1);
      assert.equal(source.stats.duplicates, 0);
      assert.deepEqual(sink.rejects, []);
    });
  },
});

Deno.test({
  name:
    "through Mosquitto the keep-alive holds while the window stays full for several keep-alive periods",
  ignore,
  fn: async () => {
    // one worker taking a message every 100 ms: 40 messages keep a window of 5 full for 4 s,
    // over two keep-alive periods of 1 s and a half
    let queue = Promise.resolve();
    const sink = new SlowSink(() => queue = queue.then(() => sleep(100)));
    await withSource({ sink, inflight: 5, keepaliveSeconds: 1 }, async (source, device) => {
      const n = 40;
      await publish(device, n);
      await eventually(() => sink.values.length === n || undefined, `${n} messages`, 15_000);
      await queue;
      // and idle, the pings alone keep it
      await sleep(2500);
      assert.equal(source.stats.connects, 1, "one connection: no keep-alive timeout");
      assert.deepEqual(sink.values, range(n));
      assert.equal(sink.maxPending, 5);
      assert.ok(source.connected);
    });
  },
});

Deno.test({
  name:
    "through Mosquitto a connection cut with messages taken and not yet acknowledged loses none and takes none twice: the copies sent again are counted as duplicates",
  ignore,
  fn: async () => {
    // message 10 is taken only once `release` is called; the others at once
    let release!: () => void;
    const held = new Promise<void>((r) => release = r);
    let first10 = true;
    const sink = new SlowSink((v) => {
      if (v === 10 && first10) {
        first10 = false;
        return held;
      }
      return Promise.resolve();
    });
    await withSource({ sink, inflight: 20 }, async (source, device) => {
      const n = 100;
      await publish(device, n);
      // 10 being taken, 11..29 taken and waiting for it: the window is full
      await eventually(() => sink.values.length === 30 || undefined, "a full window");
      await sleep(100);
      assert.deepEqual(sink.values, range(30));
      source.client.stream.destroy(); // the network drops the connection
      await eventually(() => source.stats.connects === 2 || undefined, "the second connection");
      // Mosquitto sends 10..99 again: 10 waits for the first copy, 11..29 are not taken again
      await sleep(200);
      release();
      await eventually(
        () => sink.once().distinct === n || undefined,
        `${n} messages taken (${sink.once().distinct})`,
      );
      await eventually(() => source.stats.duplicates === 20 || undefined, "20 duplicates");
      await sleep(200);
      assert.deepEqual(sink.once().twice, [], "no message taken twice");
      assert.deepEqual(sink.values, range(n), "in order");
      assert.equal(source.stats.connects, 2);
      assert.deepEqual(sink.rejects, []);
    });
  },
});

Deno.test({
  name:
    "through Mosquitto a message the daemon cannot take is left unacknowledged, with the ones after it, and handed over again",
  ignore,
  fn: async () => {
    // the first time message 5 comes, the daemon cannot take it (a worker down)
    let first5 = true;
    const sink = new SlowSink((v) => {
      if (v === 5 && first5) {
        first5 = false;
        return Promise.reject(new ServiceError("unavailable", "a worker is down"));
      }
      return sleep(1);
    });
    await withSource({ sink, inflight: 20 }, async (source, device) => {
      const wire = watchWire(source);
      const n = 60;
      await publish(device, n);
      await eventually(
        () => wire.pubacks.length === n || undefined,
        `${n} PUBACKs (${wire.pubacks.length} written, ${sink.once().distinct} taken)`,
      );
      // 5 handed over twice (not taken the first time), every other one once
      assert.deepEqual(sink.once().twice, [5]);
      assert.equal(sink.once().distinct, n);
      assert.deepEqual(wire.pubacks, wire.publishes, "PUBACKs in the order of the PUBLISHes");
      assert.equal(source.stats.connects, 1);
      assert.deepEqual(sink.rejects, []);
    });
  },
});

Deno.test({
  name:
    "through Mosquitto a burst is read in place, not through MQTT.js, and each PUBACK is written once its message was taken, in order",
  ignore,
  fn: async () => {
    const taken = new Set<number>();
    const sink = new SlowSink(async (v) => {
      await sleep(v % 3);
      taken.add(v);
    });
    await withSource({ sink, inflight: 50 }, async (source, device) => {
      // the message of each packet id on the wire, and whether it was taken when its PUBACK went
      const valueOf = new Map<number, number>();
      source.client.on("packetreceive", (p) => {
        if (p.cmd === "publish" && p.qos === 1) {
          valueOf.set(p.messageId!, JSON.parse(String(p.payload)).value);
        }
      });
      const early: number[] = [];
      const wire = watchWire(source, (id) => {
        const v = valueOf.get(id);
        if (v === undefined || !taken.has(v)) early.push(id);
      });
      // the messages MQTT.js handed to the source itself
      let throughMqttJs = 0;
      const handle = source.client.handleMessage;
      source.client.handleMessage = (packet, callback) => {
        if (packet.cmd === "publish" && packet.topic !== "") throughMqttJs++;
        return handle(packet, callback);
      };
      const n = 2000;
      await burstInOrder(device, wire, sink, n);
      assert.deepEqual(early, [], "no PUBACK before its message was taken");
      assert.ok(throughMqttJs < n / 10, `${throughMqttJs} of ${n} through MQTT.js`);
      assert.equal(sink.maxPending, 50, "the window was full, never more");
    });
  },
});
