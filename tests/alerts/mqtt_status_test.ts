/**
 * forecastd's status topic: on an MQTT source's own connection with its
 * last will, as the daemon runs it on an external broker (the embedded
 * broker on 127.0.0.1 port 0 standing in for one); in-process on the
 * embedded broker, as the daemon runs it there; and against a scripted
 * client for a close() that gets no answer.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import {
  type MqttStatusClient,
  startMqttStatus,
  STATUS_OFFLINE,
  STATUS_ONLINE,
  statusWill,
} from "../../src/alerts/mqtt_status.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { startMqttSource } from "../../src/ingest/mqtt_source.ts";
import type { IngestSink } from "../../src/ingest/ingest_sink.ts";
import { captureLog } from "../../src/log.ts";

const sink: IngestSink = {
  ingest: (readings) => Promise.resolve({ accepted: readings.length, rejected: [] }),
  reject: () => {},
};

/** The retained message of `topic` now, as a client that subscribes now gets it. */
async function retainedOf(url: string, topic: string): Promise<string | null> {
  const c = await mqtt.connectAsync(url, { clientId: `late-${crypto.randomUUID().slice(0, 8)}` });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const got = new Promise<string>((resolve) =>
      c.on("message", (_t, payload, packet) => packet.retain && resolve(payload.toString()))
    );
    await c.subscribeAsync(topic, { qos: 1 });
    const none = new Promise<null>((r) => timer = setTimeout(() => r(null), 300));
    return await Promise.race([got, none]);
  } finally {
    clearTimeout(timer);
    await c.endAsync();
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("status: online (retained) while running and after a reconnection, offline by the will when the connection drops and at close()", async () => {
  const { log } = captureLog();
  // as an external broker: every client reads everything and may publish under forecastd/
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    defaultRead: ["#"],
    reservedPrefixes: [],
  });
  const topic = "site/forecastd/status";
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-status",
    topics: ["sensors/{stream}"],
    sink,
    log,
    reconnectMs: 200,
    will: statusWill(topic),
  });
  const watcher = await mqtt.connectAsync(broker.url, { clientId: "watcher" });
  try {
    const seen: string[] = [];
    watcher.on("message", (_t, payload) => seen.push(payload.toString()));
    await watcher.subscribeAsync(topic, { qos: 1 });
    await source.ready;
    const status = startMqttStatus({ client: source.client, topic, log });
    await until(() => seen.length === 1, "online");
    assert.deepEqual(seen, [STATUS_ONLINE]);
    assert.equal(await retainedOf(broker.url, topic), STATUS_ONLINE, "retained");

    source.client.stream.destroy(); // the connection drops: the broker sends the will
    await until(() => seen.length === 3, "the will, then online again after the reconnection");
    assert.deepEqual(seen, [STATUS_ONLINE, STATUS_OFFLINE, STATUS_ONLINE]);

    await status.close();
    await status.close(); // safe twice
    await until(() => seen.length === 4, "offline at close()");
    assert.deepEqual(seen.slice(3), [STATUS_OFFLINE]);
    await source.close();
    assert.equal(await retainedOf(broker.url, topic), STATUS_OFFLINE, "offline stays retained");
  } finally {
    await watcher.endAsync();
    await source.close();
    await broker.close();
  }
});

Deno.test("status: close() gives up after closeTimeoutMs when the broker does not answer, saying so", async () => {
  const log = captureLog("debug");
  const calls: { topic: string; message: string; retain: boolean }[] = [];
  let connect: (() => void) | undefined;
  const client: MqttStatusClient = {
    connected: false,
    publish(topic, message, opts) {
      calls.push({ topic, message, retain: opts.retain }); // never acknowledged
    },
    on: (_e, l) => connect = l,
    off: () => connect = undefined,
  };
  const status = startMqttStatus({ client, log: log.log, closeTimeoutMs: 50 });
  assert.deepEqual(calls, [], "not connected yet: nothing published");
  connect!();
  assert.deepEqual(calls, [{ topic: "forecastd/status", message: STATUS_ONLINE, retain: true }]);
  const t0 = performance.now();
  await status.close();
  assert.ok(performance.now() - t0 >= 45, "waited for the acknowledgement");
  assert.deepEqual(calls.at(-1), {
    topic: "forecastd/status",
    message: STATUS_OFFLINE,
    retain: true,
  });
  assert.equal(connect, undefined, "no longer follows the connections");
  assert.equal(log.entries().filter((e) => e.event === "mqtt.status_timeout").length, 1);
});

Deno.test("status on the embedded broker, in-process: online retained at start, offline at close(), for clients that may read it", async () => {
  const { log } = captureLog();
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    defaultRead: ["forecastd/alerts/#", "forecastd/status"],
  });
  try {
    const status = startMqttStatus({ client: broker, log });
    assert.equal(await retainedOf(broker.url, "forecastd/status"), STATUS_ONLINE);
    await status.close();
    assert.equal(await retainedOf(broker.url, "forecastd/status"), STATUS_OFFLINE);
  } finally {
    await broker.close();
  }
});
