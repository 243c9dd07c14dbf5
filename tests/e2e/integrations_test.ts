/**
 * The real daemon plugged into what operators plug it into: Home Assistant
 * discovery, forecasts and forecastd's status over MQTT, and /metrics with
 * the horizons asked for. On the embedded broker, and on a real Mosquitto
 * (127.0.0.1, a free port, its own configuration), where a killed daemon's
 * last will must say "offline". The Mosquitto test is skipped, saying so,
 * when mosquitto is not installed (apt-get install -y mosquitto).
 */
import assert from "node:assert/strict";
import type mqtt from "mqtt";
import {
  batchPayload,
  type Daemon,
  eventually,
  findMosquitto,
  mqttClient,
  startDaemon,
  startMosquitto,
  streamWithReadings,
  withTempDir,
} from "./_daemon.ts";
import { discoveryProblems } from "../alerts/_homeassistant_format.ts";
import { parseMetrics } from "../api/_metrics.ts";

const FLAGS = [
  "--ha-discovery",
  "--forecast-crossing",
  "hall/temperature>22.5",
  "--forecast-crossing",
  "temperature<19",
  "--forecast-publish-seconds",
  "1",
  "--metrics-horizon",
  "1",
  "--metrics-horizon",
  "12",
];

interface Got {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A client subscribed as Home Assistant and Node-RED would be; what it got, as it comes. */
async function watcher(url: string): Promise<{ client: mqtt.MqttClient; got: Got[] }> {
  const client = await mqttClient(url);
  const got: Got[] = [];
  client.on("message", (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await client.subscribeAsync(["homeassistant/device/+/config", "forecastd/#"], { qos: 1 });
  return { client, got };
}

/** Feeds "hall" 300 readings and checks what Home Assistant and /metrics see. */
async function checkIntegrations(d: Daemon, url: string, got: Got[]): Promise<void> {
  const device = await mqttClient(url);
  try {
    await device.publishAsync("sensors/hall/temperature", batchPayload(0, 300), { qos: 1 });
    await streamWithReadings(d, "hall", 300);
  } finally {
    await device.endAsync();
  }
  const config = await eventually(
    () => got.find((m) => m.topic === "homeassistant/device/forecastd_hall/config"),
    "hall's discovery config",
  );
  assert.equal(config.retain, false, "delivered live to a subscriber");
  assert.deepEqual(discoveryProblems("homeassistant", config.topic, config.payload), []);
  const c = JSON.parse(config.payload);
  assert.equal(c.state_topic, "forecastd/forecasts/hall");
  assert.equal(c.availability_topic, "forecastd/status");
  assert.deepEqual(Object.keys(c.cmps), ["temperature_forecast", "anomaly"]);

  // the last forecast, once all 300 readings are in
  const forecast = await eventually(() => {
    const m = got.findLast((m) => m.topic === "forecastd/forecasts/hall");
    const body = m && JSON.parse(m.payload);
    return body?.origin === new Date(Date.UTC(2025, 5, 2) + 299 * 300_000).toISOString()
      ? body
      : undefined;
  }, "the forecast from hall's newest reading (--forecast-publish-seconds 1)");
  assert.equal(forecast.targets.temperature.point.length, 24);
  assert.deepEqual(
    forecast.crossings.map((x: { threshold: number; direction: string }) => [
      x.threshold,
      x.direction,
    ]),
    [[22.5, "above"], [19, "below"]],
    "hall's own rule and the rule of every stream with a temperature",
  );
  await eventually(
    () => got.find((m) => m.topic === "forecastd/status" && m.payload === "online"),
    "online",
  );

  const { samples } = parseMetrics(await (await fetch(`${d.http}/metrics`)).text());
  assert.deepEqual([...samples.get("forecastd_forecast_mse")!.keys()], [
    '{stream="hall",horizon="1"}',
    '{stream="hall",horizon="12"}',
  ], "--metrics-horizon 1 --metrics-horizon 12");
}

Deno.test("serve --ha-discovery on the embedded broker: a device config, forecasts with crossings, online; metrics at the horizons asked for", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: `${dir}/data`, args: FLAGS });
    const ha = await watcher(d.mqttUrl);
    try {
      await checkIntegrations(d, d.mqttUrl, ha.got);
    } finally {
      await ha.client.endAsync();
      await d.stop();
    }
  });
});

const mosquitto = await findMosquitto();
if (mosquitto === null) {
  console.warn(
    "tests/e2e/integrations_test.ts: the Mosquitto test skipped: mosquitto is not installed " +
      "(apt-get install -y mosquitto)",
  );
}

Deno.test({
  name:
    "serve --ha-discovery --mqtt-url on Mosquitto: the same, then offline by the last will when killed, online again after a restart, offline retained after a clean stop",
  ignore: mosquitto === null,
  fn: async () => {
    await withTempDir(async (dir) => {
      const broker = await startMosquitto(mosquitto!, dir);
      const ha = await watcher(broker.url);
      try {
        const args = ["--mqtt-url", broker.url, ...FLAGS];
        let d = await startDaemon({ dataDir: `${dir}/data`, args });
        try {
          await checkIntegrations(d, broker.url, ha.got);
        } finally {
          await d.stop("SIGKILL");
        }
        const status = () => ha.got.filter((m) => m.topic === "forecastd/status");
        await eventually(
          () => status().at(-1)?.payload === "offline" ? true : undefined,
          "the last will: offline",
        );

        const n = status().length;
        d = await startDaemon({ dataDir: `${dir}/data`, args });
        await eventually(
          () => status().slice(n).some((m) => m.payload === "online") ? true : undefined,
          "online after the restart",
        );
        assert.equal((await d.stop()).code, 0);
        await eventually(
          () => status().slice(n).at(-1)?.payload === "offline" ? true : undefined,
          "offline at a clean stop",
        );

        // retained, for a Home Assistant that starts later
        const late = await watcher(broker.url);
        try {
          const retained = await eventually(
            () => late.got.length >= 3 ? late.got : undefined,
            "the retained messages",
          );
          assert.deepEqual(
            retained.map((m) => [m.topic, m.retain]).sort(),
            [
              ["forecastd/forecasts/hall", true],
              ["forecastd/status", true],
              ["homeassistant/device/forecastd_hall/config", true],
            ],
          );
          assert.equal(retained.find((m) => m.topic === "forecastd/status")!.payload, "offline");
        } finally {
          await late.client.endAsync();
        }
      } finally {
        await ha.client.endAsync();
        await broker.stop();
      }
    });
  },
});
