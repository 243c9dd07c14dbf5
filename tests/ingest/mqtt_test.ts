/**
 * The MQTT source against the embedded broker on 127.0.0.1 port 0, with a
 * real MQTT.js client publishing as a device would: the conformance cases,
 * the ignored (alert) prefix, persistent sessions, a taken port. Alerts
 * published on the source's connection: tests/alerts/mqtt_test.ts.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import type { IngestResult, IngestSink, Refusal, Source } from "../../src/ingest/ingest_sink.ts";
import type { Reading } from "../../src/domain/reading.ts";
import {
  BrokerListenError,
  dialHost,
  hostPort,
  startEmbeddedBroker,
} from "../../src/ingest/broker.ts";
import { isUnderPrefix, startMqtt } from "../../src/ingest/mqtt.ts";
import { startMqttSource } from "../../src/ingest/mqtt_source.ts";
import {
  assertOutcome,
  CASE_TOPIC_PATTERNS,
  INGEST_CASES,
  type IngestCase,
  type Outcome,
} from "./cases.ts";

/** An ingest sink that records what reached it. */
class FakeSink implements IngestSink {
  readonly ingested: { readings: Reading[]; source: Source }[] = [];
  readonly rejects: string[] = [];
  /** What each reject() was told of the refused message, in order. */
  readonly refusals: (Refusal | undefined)[] = [];
  #waiters: (() => void)[] = [];

  ingest(readings: readonly Reading[], source: Source): Promise<IngestResult> {
    this.ingested.push({ readings: [...readings], source });
    this.#wake();
    return Promise.resolve({ accepted: readings.length, rejected: [] });
  }
  reject(reason: string, refusal?: Refusal): void {
    this.rejects.push(reason);
    this.refusals.push(refusal);
    this.#wake();
  }
  /** Resolves once `n` messages (ingested or rejected) arrived in all. */
  async seen(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ingested.length + this.rejects.length < n) {
      if (Date.now() > deadline) {
        throw new Error(
          `expected ${n} messages, got ${this.ingested.length + this.rejects.length}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, 50);
      });
      clearTimeout(timer);
    }
  }
  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }
}

function isUnknownTopic(c: IngestCase): boolean {
  return "reason" in c.expect && c.expect.reason === "unknown_topic";
}

async function connectDevice(url: string, clientId?: string): Promise<mqtt.MqttClient> {
  return await mqtt.connectAsync(url, {
    clientId: clientId ?? `device-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
}

Deno.test("hostPort() brackets IPv6 literals and dialHost() maps wildcards to loopback", () => {
  assert.equal(hostPort("127.0.0.1", 1883), "127.0.0.1:1883");
  assert.equal(hostPort("::1", 1883), "[::1]:1883");
  assert.equal(dialHost("0.0.0.0"), "127.0.0.1");
  assert.equal(dialHost("::"), "::1");
  assert.equal(dialHost("192.168.1.5"), "192.168.1.5");
});

Deno.test("isUnderPrefix() takes the prefix itself and its sub-topics, not look-alikes", () => {
  assert.ok(isUnderPrefix("forecastd/alerts", "forecastd/alerts"));
  assert.ok(isUnderPrefix("forecastd/alerts/kitchen", "forecastd/alerts"));
  assert.ok(!isUnderPrefix("forecastd/alertsx/kitchen", "forecastd/alerts"));
  assert.ok(!isUnderPrefix("sensors/kitchen", "forecastd/alerts"));
});

Deno.test("the embedded broker on a taken port fails with a message naming the port and the way out", async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, r));
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(
      startEmbeddedBroker({ host: "127.0.0.1", port, log: captureLog().log }),
      (e: unknown) => {
        assert.ok(e instanceof BrokerListenError);
        assert.equal(e.code, "EADDRINUSE");
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port} must be free`));
        assert.match(e.message, /--mqtt-url mqtt:\/\/127\.0\.0\.1:\d+/);
        assert.match(e.message, /--mqtt-port/);
        return true;
      },
    );
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

Deno.test("every conformance case sent over MQTT gives the outcome the case table states", async () => {
  const { log } = captureLog();
  const broker = await startEmbeddedBroker({ port: 0, log, defaultRead: ["#"] });
  const svc = new FakeSink();
  // the reject reason and message are in the debug log
  const capture = captureLog("debug");
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-cases",
    topics: CASE_TOPIC_PATTERNS,
    ignoreTopicPrefix: "forecastd/alerts",
    sink: svc,
    log: capture.log,
  });
  const device = await connectDevice(broker.url);
  try {
    await source.ready;
    assert.ok(source.connected);
    // A topic no pattern matches is not covered by any subscription: the
    // broker never delivers it, which is how MQTT gives unknown_topic (the
    // parser's own rejection of it is checked in parse_test.ts).
    const unknown = INGEST_CASES.filter((c) => c.mqtt && isUnknownTopic(c));
    assert.ok(unknown.length > 0);
    for (const c of unknown) await device.publishAsync(c.mqtt!.topic, c.mqtt!.payload, { qos: 1 });
    const cases = INGEST_CASES.filter((c) => c.mqtt && !isUnknownTopic(c));
    // one at a time: each case's outcome is the one thing that arrived after it
    for (const [i, c] of cases.entries()) {
      const from = Date.now();
      await device.publishAsync(c.mqtt!.topic, c.mqtt!.payload, { qos: 1 });
      await svc.seen(i + 1);
      const to = Date.now();
      const rejection = capture.entries().filter((e) => e.event === "mqtt.rejected")
        .find((e) => e.topic === c.mqtt!.topic);
      const outcome: Outcome = rejection
        ? { ok: false, reason: String(rejection.reason), message: String(rejection.message) }
        : { ok: true, readings: svc.ingested[svc.ingested.length - 1].readings };
      assertOutcome(c, "mqtt", outcome, [from, to]);
    }
    assert.equal(svc.ingested.length + svc.rejects.length, cases.length);
    assert.equal(source.stats.messages, cases.length, "unknown topics never arrive");
    assert.ok(svc.ingested.every((i) => i.source === "mqtt"));
  } finally {
    await device.endAsync();
    await source.close();
    await broker.close();
  }
});

Deno.test("a refused message reaches the sink with its source, stream, message and topic", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "forecastd-refusals-" });
  const svc = new FakeSink();
  const mqttSide = await startMqtt({
    sink: svc,
    log: captureLog().log,
    dataDir,
    topics: ["sensors/{stream}/{value}"],
    brokerPort: 0,
    maxPayloadBytes: 100,
  });
  const device = await connectDevice(mqttSide.broker!.url, "device-refused");
  try {
    await device.publishAsync("sensors/kitchen/temperature", "warm", { qos: 1 });
    await device.publishAsync("sensors/no way!/temperature", "21", { qos: 1 });
    await device.publishAsync("sensors/kitchen/temperature", "1".repeat(200), { qos: 1 });
    await svc.seen(3);
    assert.deepEqual(svc.rejects, ["bad_value", "bad_stream", "too_large"]);
    const [value, stream, large] = svc.refusals;
    assert.deepEqual(value, {
      source: "mqtt",
      stream: "kitchen",
      message: `Cannot ingest reading: 'value' must be a finite number: current value is "warm"`,
      topic: "sensors/kitchen/temperature",
    });
    assert.equal(stream?.stream, null, "a topic naming no valid stream: none");
    assert.equal(stream?.topic, "sensors/no way!/temperature");
    assert.match(stream?.message ?? "", /^Cannot ingest reading: 'topic' must hold a stream id /);
    assert.deepEqual(large, {
      source: "mqtt",
      stream: null,
      message: 'Cannot ingest message from client "device-refused": a payload must be at most ' +
        "100 bytes: it has 200",
      topic: "sensors/kitchen/temperature",
    });
  } finally {
    await device.endAsync();
    await mqttSide.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("messages under the ignored (alert) prefix are not read as readings", async () => {
  const { log } = captureLog();
  // as on an external broker: anyone may publish under the prefix, and read everything
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    defaultRead: ["#"],
    reservedPrefixes: [],
  });
  const svc = new FakeSink();
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-alerts",
    topics: ["#"],
    ignoreTopicPrefix: "forecastd/alerts",
    sink: svc,
    log,
  });
  const device = await connectDevice(broker.url);
  try {
    await source.ready;
    // a device publishing under the prefix must not feed the sink
    await device.publishAsync("forecastd/alerts/kitchen", "21.5", { qos: 1 });
    await device.publishAsync("forecastd/alerts", "21.5", { qos: 1 });
    await device.publishAsync("kitchen", JSON.stringify({ stream: "kitchen", value: 1 }), {
      qos: 1,
    });
    await svc.seen(1);
    // the broker delivers one client's QoS 1 messages in order: the two under the prefix came first
    assert.equal(source.stats.messages, 1, "the messages under the prefix are not counted");
    assert.equal(svc.ingested.length, 1, "only the reading outside the prefix is ingested");
    assert.equal(svc.ingested[0].readings[0].stream, "kitchen");
    assert.deepEqual(svc.rejects, []);
  } finally {
    await device.endAsync();
    await source.close();
    await broker.close();
  }
});

Deno.test("a reading published while the source is down arrives when it reconnects with the same client id", async () => {
  const { log } = captureLog();
  const broker = await startEmbeddedBroker({ port: 0, log, defaultRead: ["#"] });
  const svc = new FakeSink();
  const options = {
    url: broker.url,
    clientId: "forecastd-test-session",
    topics: CASE_TOPIC_PATTERNS,
    ignoreTopicPrefix: "forecastd/alerts",
    sink: svc,
    log,
  };
  let source = startMqttSource(options);
  const device = await connectDevice(broker.url);
  try {
    await source.ready;
    await source.close();
    assert.equal(source.connected, false);
    await device.publishAsync("sensors/offline/temperature", "20.5", { qos: 1 });
    source = startMqttSource(options);
    await source.ready;
    await svc.seen(1);
    assert.equal(svc.ingested[0].readings[0].stream, "offline");
    assert.deepEqual(svc.ingested[0].readings[0].values, { temperature: 20.5 });
  } finally {
    await device.endAsync();
    await source.close();
    await broker.close();
  }
});

Deno.test("the source's last will is published, retained, when its connection drops without a DISCONNECT", async () => {
  const { log } = captureLog();
  // as an external broker: every client reads everything and may publish under forecastd/
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    defaultRead: ["#"],
    reservedPrefixes: [],
  });
  const will = { topic: "forecastd/status", payload: "offline", qos: 1 as const, retain: true };
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-will",
    topics: CASE_TOPIC_PATTERNS,
    sink: new FakeSink(),
    log,
    reconnectMs: 60_000,
    will,
  });
  const watcher = await connectDevice(broker.url);
  let late: mqtt.MqttClient | undefined;
  try {
    await source.ready;
    const got: { topic: string; payload: string; retain: boolean }[] = [];
    watcher.on("message", (topic, payload, packet) => {
      got.push({ topic, payload: payload.toString(), retain: packet.retain });
    });
    await watcher.subscribeAsync("forecastd/status", { qos: 1 });
    source.client.stream.destroy(); // the connection drops: no DISCONNECT
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, [{ topic: "forecastd/status", payload: "offline", retain: false }]);

    // retained: a client that subscribes later gets it too
    late = await connectDevice(broker.url);
    const retained = new Promise<{ payload: string; retain: boolean }>((resolve) =>
      late!.on(
        "message",
        (_t, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain }),
      )
    );
    await late.subscribeAsync("forecastd/status", { qos: 1 });
    assert.deepEqual(await retained, { payload: "offline", retain: true });
  } finally {
    await late?.endAsync();
    await watcher.endAsync();
    await source.close();
    await broker.close();
  }
});

/** The retained messages a client that subscribes to `filter` now gets, as topic -> payload. */
async function retainedFor(url: string, filter: string): Promise<Record<string, string>> {
  const c = await connectDevice(url);
  try {
    const got: Record<string, string> = {};
    c.on("message", (topic, payload, packet) => {
      if (packet.retain) got[topic] = payload.toString();
    });
    await c.subscribeAsync(filter, { qos: 1 });
    await new Promise((r) => setTimeout(r, 200)); // retained messages come right after SUBACK
    return got;
  } finally {
    await c.endAsync();
  }
}

Deno.test("on the embedded broker the daemon's retained publishes reach clients that subscribe later, within readTopics; an empty one clears", async () => {
  const { log } = captureLog();
  const dataDir = await Deno.makeTempDir({ prefix: "forecastd-mqtt-test-" });
  const m = await startMqtt({
    sink: new FakeSink(),
    log,
    dataDir,
    topics: CASE_TOPIC_PATTERNS,
    brokerPort: 0,
    ignoreTopicPrefix: "forecastd/alerts",
    readTopics: ["forecastd/status"],
  });
  try {
    const publish = (topic: string, message: string, retain: boolean) =>
      new Promise<void>((resolve, reject) =>
        m.publisher!.publish(topic, message, { qos: 1, retain }, (e) => e ? reject(e) : resolve())
      );
    await publish("forecastd/status", "online", true);
    await publish("forecastd/forecasts/kitchen", "{}", true); // not in readTopics
    await publish("forecastd/alerts/kitchen", "{}", false); // not retained
    assert.deepEqual(await retainedFor(m.broker!.url, "#"), { "forecastd/status": "online" });
    await publish("forecastd/status", "", true);
    assert.deepEqual(await retainedFor(m.broker!.url, "#"), {}, "cleared");
  } finally {
    await m.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("on an external broker the acknowledgements of a burst go out in a few writes, each message acknowledged", async () => {
  const broker = await startEmbeddedBroker({ port: 0, log: captureLog().log, defaultRead: ["#"] });
  const svc = new FakeSink();
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-burst",
    topics: ["sensors/{stream}/{value}"],
    sink: svc,
    log: captureLog().log,
  });
  await source.ready;
  // the source's socket: each call of its _write or _writev is one write to the system
  const socket = source.client.stream as unknown as Record<string, (...a: unknown[]) => unknown>;
  let writes = 0;
  for (const name of ["_write", "_writev"]) {
    const original = socket[name];
    socket[name] = (...a: unknown[]) => {
      writes++;
      return original.apply(socket, a);
    };
  }
  const device = await connectDevice(broker.url, "device-burst");
  try {
    const t0 = Date.UTC(2026, 0, 1);
    const n = 500;
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          device.publishAsync(`sensors/s${i % 50}/v`, JSON.stringify({ value: i, ts: t0 + i }), {
            qos: 1,
          }),
      ),
    );
    await svc.seen(n);
    // the acknowledgements go out once the turn's I/O is done
    for (let i = 0; i < 100 && writes === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(svc.ingested.length, n);
    assert.ok(writes > 0 && writes <= n / 5, `${writes} writes for ${n} acknowledgements`);
    // and the next message is taken and acknowledged as well
    await device.publishAsync("sensors/s0/v", JSON.stringify({ value: 1, ts: t0 + n }), {
      qos: 1,
    });
    await svc.seen(n + 1);
  } finally {
    await device.endAsync();
    await source.close();
    await broker.close();
  }
});

Deno.test("messages reach the sink in the order they came, a small one after a big batch too", async () => {
  // A big payload is parsed in slices (the event loop turns meanwhile); a
  // one-reading message right behind it must still wait for it, or the
  // batch's readings would come after a newer one and be refused.
  const dataDir = await Deno.makeTempDir({ prefix: "forecastd-mqtt-order-" });
  const svc = new FakeSink();
  const mqttSide = await startMqtt({
    sink: svc,
    log: captureLog().log,
    dataDir,
    topics: ["sensors/{stream}"],
    brokerPort: 0,
  });
  const device = await connectDevice(mqttSide.broker!.url, "device-order");
  const t0 = Date.UTC(2026, 0, 1);
  const batch = (from: number, n: number) =>
    JSON.stringify(Array.from({ length: n }, (_, i) => ({ value: i, ts: t0 + (from + i) * 1000 })));
  const one = (at: number) => JSON.stringify({ value: 1, ts: t0 + at * 1000 });
  try {
    await Promise.all([
      device.publishAsync("sensors/o", batch(0, 5000), { qos: 1 }),
      device.publishAsync("sensors/o", one(5000), { qos: 1 }),
      device.publishAsync("sensors/o", batch(5001, 3000), { qos: 1 }),
      device.publishAsync("sensors/o", one(8001), { qos: 1 }),
      device.publishAsync("sensors/o", one(8002), { qos: 1 }),
    ]);
    await svc.seen(5);
    const ts = svc.ingested.flatMap((m) => m.readings.map((r) => r.ts));
    assert.equal(ts.length, 8003);
    const firstOutOfOrder = ts.findIndex((t, i) => i > 0 && t <= ts[i - 1]);
    assert.equal(
      firstOutOfOrder,
      -1,
      `a reading came before an older one at index ${firstOutOfOrder}`,
    );
  } finally {
    await device.endAsync();
    await mqttSide.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
