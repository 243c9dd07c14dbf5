/**
 * A real Mosquitto restarted under the daemon (`--mqtt-url`): the QoS 1
 * readings a device publishes while the broker is down all arrive once it is
 * back, /readyz tells the outage, HTTP ingest goes on meanwhile, and the
 * alerts raised during the outage reach an MQTT subscriber after the daemon
 * reconnected. Mosquitto runs with persistence, as a gateway's broker does,
 * so the sessions of the daemon and of the subscriber survive its restart.
 * Skipped, saying why, when mosquitto is not installed.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import {
  batchPayload,
  eventually,
  findMosquitto,
  getJson,
  spikeAt,
  START,
  startDaemon,
  startMosquitto,
  STEP,
  streamWithReadings,
  withTempDir,
} from "./_daemon.ts";

const mosquitto = await findMosquitto();
if (mosquitto === null) {
  console.warn(
    "tests/e2e/broker_restart_test.ts: skipped: mosquitto is not installed " +
      "(apt-get install -y mosquitto)",
  );
}

/** An MQTT.js client that reconnects by itself and keeps its session (as devices do). */
function reconnectingClient(url: string, clientId: string): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 200 });
}

Deno.test({
  name:
    "serve --mqtt-url: a Mosquitto restart loses no QoS 1 reading, and the alerts of the outage reach MQTT after the reconnection",
  ignore: mosquitto === null,
  fn: async () => {
    await withTempDir(async (dir) => {
      let broker = await startMosquitto(mosquitto!, dir, undefined, { persistence: true });
      const port = broker.port;
      const d = await startDaemon({ dataDir: `${dir}/data`, args: ["--mqtt-url", broker.url] });
      const device = await reconnectingClient(broker.url, "restart-device");
      const subscriber = await reconnectingClient(broker.url, "restart-subscriber");
      const alerts: { topic: string; payload: Record<string, unknown> }[] = [];
      subscriber.on("message", (topic, payload) => {
        alerts.push({ topic, payload: JSON.parse(payload.toString()) });
      });
      try {
        await subscriber.subscribeAsync("forecastd/alerts/#", { qos: 1 });
        // two days of history on MQTT, and the same on HTTP for a second stream
        await device.publishAsync("sensors/cellar/temperature", batchPayload(0, 576), { qos: 1 });
        const res = await fetch(`${d.http}/v1/streams/attic/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: batchPayload(0, 576),
        });
        assert.equal(res.status, 200, await res.text());
        await streamWithReadings(d, "cellar", 576);
        assert.equal((await getJson(`${d.http}/readyz`)).status, "ready");

        // the broker stops; the device goes on publishing with QoS 1 (its client queues)
        await broker.stop();
        await d.waitForLog((e) => e.event === "mqtt.disconnected", "mqtt.disconnected");
        const queued: Promise<unknown>[] = [];
        for (let i = 576; i < 600; i++) {
          queued.push(
            device.publishAsync("sensors/cellar/temperature", batchPayload(i, i + 1), { qos: 1 }),
          );
        }
        // /readyz says so, and HTTP ingest goes on: a spike on attic raises an alert meanwhile
        const down = await getJson<{ checks: Record<string, string> }>(`${d.http}/readyz`, 503);
        assert.notEqual(down.checks.broker, "ok", JSON.stringify(down));
        for (let i = 576; i < 640; i++) {
          const r = await fetch(`${d.http}/v1/streams/attic/readings`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: batchPayload(i, i + 1, spikeAt(600)),
          });
          assert.equal(r.status, 200, await r.text());
        }
        const stored = await eventually(async () => {
          const page = await getJson<{ alerts: Record<string, unknown>[] }>(
            `${d.http}/v1/alerts?stream=attic`,
          );
          return page.alerts.find((a) => a.type === "opened");
        }, "the alert of the spike on attic to be stored");
        assert.equal(alerts.length, 0, "no alert reached MQTT while the broker was down");

        // the broker is back where it was, with its sessions
        broker = await startMosquitto(mosquitto!, dir, port, { persistence: true });
        const again = await d.waitForLog(
          (e) => e.event === "mqtt.connected" && e.sessionPresent === true,
          "the daemon to reconnect to its session",
          30_000,
        ).catch((e) => {
          throw new Error(
            `${e.message}; its MQTT log: ${
              JSON.stringify(d.log.filter((l) => l.event.startsWith("mqtt.")))
            }`,
          );
        });
        assert.equal(again.sessionPresent, true);
        await Promise.all(queued);
        const s = await streamWithReadings(d, "cellar", 600);
        assert.equal(s.readings, 600, "every reading sent during the outage arrived, once");
        assert.equal(s.lastReading, START + 599 * STEP);
        await eventually(async () => {
          const r = await fetch(`${d.http}/readyz`);
          await r.body?.cancel();
          return r.status === 200 ? true : undefined;
        }, "/readyz to answer 200 again");

        // the alert raised during the outage is published after the reconnection
        const viaMqtt = await eventually(
          () => alerts.find((a) => a.payload.id === stored.id),
          "the outage's alert on MQTT",
        );
        assert.equal(viaMqtt.topic, "forecastd/alerts/attic");
        assert.deepEqual(viaMqtt.payload, stored);
      } finally {
        await device.endAsync();
        await subscriber.endAsync();
        assert.equal((await d.stop()).code, 0);
        await broker.stop();
      }
    });
  },
});
