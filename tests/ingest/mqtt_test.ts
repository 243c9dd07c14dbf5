/**
 * The MQTT adapter against the embedded broker on 127.0.0.1 port 0, with a
 * real MQTT.js client publishing as a device would: the conformance cases,
 * the alert prefix, alert publishing, persistent sessions, a taken port.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import { AlertHub } from "../../src/service/alert_hub.ts";
import type { IngestResult, Source } from "../../src/service/service.ts";
import type { Reading } from "../../src/domain/reading.ts";
import type { AlertSubscriber } from "../../src/alerts/alert_source.ts";
import { storedAlert } from "../_helpers.ts";
import {
  BrokerListenError,
  dialHost,
  hostPort,
  startEmbeddedBroker,
} from "../../src/ingest/broker.ts";
import { isUnderPrefix, type MqttServiceLike, startMqttSource } from "../../src/ingest/mqtt.ts";
import {
  assertOutcome,
  CASE_TOPIC_PATTERNS,
  INGEST_CASES,
  type IngestCase,
  type Outcome,
} from "./cases.ts";

/** A Service stand-in that records what reached it. */
class FakeService implements MqttServiceLike {
  readonly hub = new AlertHub();
  subscribe(sub: AlertSubscriber): () => void {
    return this.hub.subscribe(sub);
  }
  readonly ingested: { readings: Reading[]; source: Source }[] = [];
  readonly rejects: string[] = [];
  #waiters: (() => void)[] = [];

  ingest(readings: readonly Reading[], source: Source): IngestResult {
    this.ingested.push({ readings: [...readings], source });
    this.#wake();
    return { accepted: readings.length, rejected: [] };
  }
  reject(reason: string): void {
    this.rejects.push(reason);
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
  const broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, log });
  const svc = new FakeService();
  // the reject reason and message are in the debug log
  const capture = captureLog("debug");
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-cases",
    topics: CASE_TOPIC_PATTERNS,
    alertTopicPrefix: "forecastd/alerts",
    service: svc,
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

Deno.test("messages under the alert prefix are not read as readings, and alerts are published there with QoS 1", async () => {
  const { log } = captureLog();
  const broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, log });
  const svc = new FakeService();
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-alerts",
    topics: ["#"],
    alertTopicPrefix: "forecastd/alerts",
    service: svc,
    log,
  });
  const device = await connectDevice(broker.url);
  try {
    await source.ready;
    const received: { topic: string; payload: string; qos: number }[] = [];
    device.on("message", (topic, payload, packet) => {
      received.push({ topic, payload: payload.toString(), qos: packet.qos });
    });
    await device.subscribeAsync("forecastd/alerts/#", { qos: 1 });
    const alert = storedAlert({
      id: "0000000000000001",
      stream: "kitchen",
      time: Date.UTC(2025, 5, 1),
      score: 0.99,
    });
    svc.hub.publish(alert, (e) => {
      throw e;
    });
    // a device publishing under the prefix must not feed the service either
    await device.publishAsync("forecastd/alerts/kitchen", "21.5", { qos: 1 });
    await device.publishAsync("kitchen", JSON.stringify({ stream: "kitchen", value: 1 }), {
      qos: 1,
    });
    await svc.seen(1);
    const deadline = Date.now() + 5000;
    while (received.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const published = received.find((m) => m.payload !== "21.5");
    assert.ok(published, `the alert should arrive: got ${JSON.stringify(received)}`);
    assert.equal(published.topic, "forecastd/alerts/kitchen");
    assert.equal(published.qos, 1);
    assert.deepEqual(JSON.parse(published.payload), alert);
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
  const broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, log });
  const svc = new FakeService();
  const options = {
    url: broker.url,
    clientId: "forecastd-test-session",
    topics: CASE_TOPIC_PATTERNS,
    alertTopicPrefix: "forecastd/alerts",
    service: svc,
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
