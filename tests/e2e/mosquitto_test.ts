/**
 * The real daemon subscribed to a real Mosquitto (`--mqtt-url`), started by
 * the test on 127.0.0.1 and a free port with its own configuration file.
 * Skipped, saying why, when mosquitto is not installed
 * (`apt-get install -y mosquitto`).
 */
import assert from "node:assert/strict";
import {
  batchPayload,
  collectMqtt,
  findMosquitto,
  getJson,
  mqttClient,
  openedAlertEverywhere,
  spikeAt,
  sseClient,
  START,
  startDaemon,
  startMosquitto,
  STEP,
  streamWithReadings,
  withTempDir,
  wsClient,
} from "./_daemon.ts";
import { assertOutcome, INGEST_CASES, type Outcome } from "../ingest/cases.ts";
import type { Reading } from "../../src/domain/reading.ts";

const mosquitto = await findMosquitto();
if (mosquitto === null) {
  console.warn(
    "tests/e2e/mosquitto_test.ts: skipped: mosquitto is not installed " +
      "(apt-get install -y mosquitto)",
  );
}
const ignore = mosquitto === null;

Deno.test({
  name:
    "serve --mqtt-url: readings through Mosquitto give forecasts, the conformance cases hold, and an alert arrives on MQTT, SSE and WebSocket",
  ignore,
  fn: async () => {
    await withTempDir(async (dir) => {
      const broker = await startMosquitto(mosquitto!, dir);
      try {
        const data = `${dir}/data`;
        const d = await startDaemon({
          dataDir: data,
          args: ["--mqtt-url", broker.url, "--log-level", "debug"],
        });
        const device = await mqttClient(broker.url);
        const sse = await sseClient(`${d.http}/v1/alerts/events`);
        const ws = await wsClient(`${d.http.replace("http:", "ws:")}/v1/alerts/ws`);
        try {
          assert.equal(d.mqttUrl, broker.url, "the start-up line names the external broker");
          const ready = await getJson<{ checks: Record<string, string> }>(`${d.http}/readyz`);
          assert.equal(ready.checks.broker, "ok");
          const alerts = await collectMqtt(device, "forecastd/alerts/#");

          // the conformance cases (a topic outside the patterns is never delivered)
          for (const c of INGEST_CASES.filter((c) => c.mqtt)) {
            if ("reason" in c.expect && c.expect.reason === "unknown_topic") continue;
            const from = Date.now();
            await device.publishAsync(c.mqtt!.topic, c.mqtt!.payload, { qos: 1 });
            const entry = await d.waitForLog(
              (e) =>
                (e.event === "mqtt.readings" || e.event === "mqtt.rejected") &&
                e.topic === c.mqtt!.topic,
              `the outcome of "${c.name}"`,
            );
            const outcome: Outcome = entry.event === "mqtt.rejected"
              ? { ok: false, reason: String(entry.reason), message: String(entry.message) }
              : { ok: true, readings: entry.readings as Reading[] };
            assertOutcome(c, "mqtt", outcome, [from, Date.now()]);
          }

          // history, a forecast, then a spike
          await device.publishAsync("sensors/hall/temperature", batchPayload(0, 576), { qos: 1 });
          await streamWithReadings(d, "hall", 576);
          const f = await getJson<{ targets: Record<string, unknown> }>(
            `${d.http}/v1/streams/hall/forecast`,
          );
          assert.ok("temperature" in f.targets);
          const spike = spikeAt(600);
          for (let i = 576; i < 640; i++) {
            await device.publishAsync("sensors/hall/temperature", batchPayload(i, i + 1, spike), {
              qos: 1,
            });
          }
          await streamWithReadings(d, "hall", 640);
          const alert = await openedAlertEverywhere(
            d,
            "hall",
            { sse, ws, mqtt: alerts },
            "the alert on MQTT through Mosquitto",
          );
          assert.ok(Number(alert.ts) >= START + 600 * STEP, String(alert.message));
          // the source's copies taken again are counted on /metrics: none on this connection
          const metrics = await (await fetch(`${d.http}/metrics`)).text();
          assert.match(metrics, /^forecastd_mqtt_duplicates_total 0$/m);
        } finally {
          await sse.close();
          await ws.close();
          await device.endAsync();
          assert.equal((await d.stop()).code, 0);
        }
      } finally {
        await broker.stop();
      }
    });
  },
});

Deno.test({
  name:
    "serve --mqtt-url: readings published while the daemon is stopped are delivered by Mosquitto when it starts again (persistent session, QoS 1)",
  ignore,
  fn: async () => {
    await withTempDir(async (dir) => {
      const broker = await startMosquitto(mosquitto!, dir);
      try {
        const data = `${dir}/data`;
        const args = ["--mqtt-url", broker.url];
        const first = await startDaemon({ dataDir: data, args });
        const device = await mqttClient(broker.url);
        try {
          await device.publishAsync("sensors/cellar/temperature", batchPayload(0, 100), {
            qos: 1,
          });
          await streamWithReadings(first, "cellar", 100);
          assert.equal((await first.stop()).code, 0);

          // forecastd is down: a sensor goes on publishing
          for (let i = 100; i < 110; i++) {
            await device.publishAsync("sensors/cellar/temperature", batchPayload(i, i + 1), {
              qos: 1,
            });
          }

          const second = await startDaemon({ dataDir: data, args });
          try {
            const connected = await second.waitForLog(
              (e) => e.event === "mqtt.connected",
              "mqtt.connected",
            );
            assert.equal(connected.sessionPresent, true, "Mosquitto kept the session");
            const s = await streamWithReadings(second, "cellar", 110);
            assert.equal(s.readings, 110, "all ten readings sent while down arrived, once");
            assert.equal(s.lastReading, START + 109 * STEP);
          } finally {
            assert.equal((await second.stop()).code, 0);
          }
        } finally {
          await device.endAsync();
        }
      } finally {
        await broker.stop();
      }
    });
  },
});
