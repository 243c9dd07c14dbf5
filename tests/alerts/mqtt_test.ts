/**
 * The MQTT alert channel: against the embedded broker on 127.0.0.1 port 0,
 * publishing on an MQTT source's own connection as the daemon does on an
 * external broker, and in-process as it does on the embedded one; and
 * against a scripted client for failures and close().
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { type MqttPublishClient, startMqttAlerts } from "../../src/alerts/mqtt.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { startMqttSource } from "../../src/ingest/mqtt_source.ts";
import type { IngestSink } from "../../src/ingest/ingest_sink.ts";
import { AlertHub } from "../../src/service/alert_hub.ts";
import { captureLog } from "../../src/log.ts";
import { storedAlert } from "../_helpers.ts";

const fail = (e: unknown) => {
  throw e;
};

Deno.test("alerts are published as JSON to <prefix>/<stream> with QoS 1 on the source's connection, which does not read them back", async () => {
  const { log } = captureLog();
  // as on an external broker: the source's client may publish alerts and read everything
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    defaultRead: ["#"],
    reservedPrefixes: [],
  });
  const ingested: unknown[] = [];
  const sink: IngestSink = {
    ingest(readings) {
      ingested.push(...readings);
      return Promise.resolve({ accepted: readings.length, rejected: [] });
    },
    reject: (reason) => ingested.push(reason),
  };
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-alert-channel",
    topics: ["#"],
    ignoreTopicPrefix: "forecastd/alerts",
    sink,
    log,
  });
  const hub = new AlertHub();
  const alerts = startMqttAlerts(hub, { client: source.client, log });
  const device = await mqtt.connectAsync(broker.url, {
    clientId: `device-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
  try {
    await source.ready;
    assert.equal(
      broker.clients,
      2,
      "the source and the device: no connection of the channel's own",
    );
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
    hub.publish(alert, fail);
    const deadline = Date.now() + 5000;
    while ((received.length < 1 || alerts.stats.published < 1) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(received.length, 1, `the alert should arrive once: got ${received.length}`);
    assert.equal(received[0].topic, "forecastd/alerts/kitchen");
    assert.equal(received[0].qos, 1);
    assert.deepEqual(JSON.parse(received[0].payload), alert);
    assert.deepEqual(alerts.stats, { published: 1, failed: 0 });
    assert.deepEqual(ingested, [], "the source subscribed to # did not read its own alert");
    assert.equal(source.stats.messages, 0);
  } finally {
    await device.endAsync();
    alerts.close();
    await source.close();
    await broker.close();
  }
});

Deno.test("on the embedded broker alerts are published in-process; a client subscribed to # gets them, not the readings, and cannot forge one", async () => {
  const { log } = captureLog();
  const broker = await startEmbeddedBroker({ port: 0, log });
  const hub = new AlertHub();
  const alerts = startMqttAlerts(hub, { client: broker, log });
  const spy = await mqtt.connectAsync(broker.url, { clientId: "spy", reconnectPeriod: 0 });
  const device = await mqtt.connectAsync(broker.url, { clientId: "forger", reconnectPeriod: 0 });
  try {
    const received: { topic: string; payload: string }[] = [];
    spy.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await spy.subscribeAsync("#", { qos: 1 });
    await device.publishAsync("sensors/kitchen/temperature", "21.5", { qos: 1 });
    await device.publishAsync("forecastd/alerts/kitchen", '{"type":"opened"}', { qos: 1 });
    const alert = storedAlert({ id: "0000000000000007", stream: "kitchen" });
    hub.publish(alert, fail);
    const deadline = Date.now() + 5000;
    while (received.length < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // the device's two publishes came before the alert: had they been delivered, they would be here
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(received.map((m) => m.topic), ["forecastd/alerts/kitchen"]);
    assert.deepEqual(JSON.parse(received[0].payload), alert);
    assert.deepEqual(alerts.stats, { published: 1, failed: 0 });
    assert.equal(broker.stats.refused.not_authorized, 1, "the forged alert was refused");
    assert.ok(device.connected, "the forger was acknowledged, not disconnected");
  } finally {
    alerts.close();
    await device.endAsync();
    await spy.endAsync();
    await broker.close();
  }
});

/** A client whose publishes complete when the test says, with the error it gives. */
function scriptedClient() {
  const calls: { topic: string; message: string; qos: number; done: (e?: Error) => void }[] = [];
  const client: MqttPublishClient = {
    publish(topic, message, opts, callback) {
      calls.push({ topic, message, qos: opts.qos, done: callback });
    },
  };
  return { client, calls };
}

Deno.test("a failed publish is counted and logged; after close() nothing is published and a late failure is not logged", () => {
  const log = captureLog("debug");
  const hub = new AlertHub();
  const { client, calls } = scriptedClient();
  const alerts = startMqttAlerts(hub, { client, log: log.log, topicPrefix: "site/alerts" });
  assert.equal(hub.size, 1);

  hub.publish(storedAlert({ id: "0000000000000001", stream: "boiler" }), fail);
  hub.publish(storedAlert({ id: "0000000000000002", stream: "pump" }), fail);
  assert.deepEqual(calls.map((c) => [c.topic, c.qos]), [
    ["site/alerts/boiler", 1],
    ["site/alerts/pump", 1],
  ]);
  assert.equal(JSON.parse(calls[0].message).id, "0000000000000001");
  calls[0].done();
  calls[1].done(new Error("connection lost"));
  assert.deepEqual(alerts.stats, { published: 1, failed: 1 });
  const warned = log.entries().filter((e) => e.event === "mqtt.alert_publish_failed");
  assert.equal(warned.length, 1);
  assert.equal(warned[0].topic, "site/alerts/pump");
  assert.equal(warned[0].id, "0000000000000002");
  assert.equal(warned[0].channel, "mqtt");
  assert.equal(
    log.entries().filter((e) => e.event === "mqtt.alert_published" && e.id === "0000000000000001")
      .length,
    1,
  );

  hub.publish(storedAlert({ id: "0000000000000003", stream: "boiler" }), fail);
  alerts.close();
  alerts.close();
  assert.equal(hub.size, 0, "close() unsubscribes");
  hub.publish(storedAlert({ id: "0000000000000004", stream: "boiler" }), fail);
  assert.equal(calls.length, 3, "nothing is published after close()");
  calls[2].done(new Error("client ended"));
  assert.deepEqual(alerts.stats, { published: 1, failed: 2 });
  assert.equal(
    log.entries().filter((e) => e.event === "mqtt.alert_publish_failed").length,
    1,
    "a publish cut short by the shutdown is not a warning",
  );
});
