/**
 * Home Assistant discovery: the ids, the messages against Home Assistant's
 * format (_homeassistant_format.ts), and the whole integration through a
 * real broker as Home Assistant sees it: the embedded broker, and Mosquitto
 * on 127.0.0.1 with its own configuration when installed. The templates are
 * rendered with Jinja (Python's jinja2, the engine Home Assistant's
 * templates run on) when it is installed. Each skip says so.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import {
  discoveryMessage,
  haId,
  startHomeAssistantDiscovery,
} from "../../src/alerts/homeassistant.ts";
import { forecastMessage, startMqttForecasts } from "../../src/alerts/mqtt_forecasts.ts";
import { startMqttStatus, statusWill } from "../../src/alerts/mqtt_status.ts";
import { startMqtt } from "../../src/ingest/mqtt.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { captureLog } from "../../src/log.ts";
import { FIVE_MIN, startDaemon } from "../api/_harness.ts";
import { findMosquitto, startMosquitto } from "../e2e/_daemon.ts";
import { withTempDir } from "../_helpers.ts";
import { discoveryProblems } from "./_homeassistant_format.ts";

const VERSION = "1.2.3";

/** Readings of a stream with two values, a daily sine each. */
function twoValueReadings(stream: string, n: number): Reading[] {
  const t0 = Date.now() - (n + 10) * FIVE_MIN;
  return Array.from({ length: n }, (_, i) => ({
    stream,
    ts: t0 + i * FIVE_MIN,
    values: {
      temperature: 20 + 2 * Math.sin((2 * Math.PI * i) / 48) + 0.05 * Math.sin(i * 1.7),
      "rel.humidity": 50 + 5 * Math.cos((2 * Math.PI * i) / 48),
    },
  }));
}

Deno.test("haId() keeps [a-zA-Z0-9_-] ids and makes the others into such ids that do not meet", () => {
  assert.equal(haId("kitchen_2-b"), "kitchen_2-b");
  const ids = ["plant.1", "plant:1", "plant_1", "plant-1", "pläntäi"].map(haId);
  for (const id of ids) assert.match(id, /^[a-zA-Z0-9_-]+$/);
  assert.equal(new Set(ids).size, ids.length, `distinct: ${ids}`);
  assert.match(haId("plant.1"), /^plant_1_[0-9a-f]{8}$/);
  assert.equal(haId("plant.1"), haId("plant.1"), "the same every time");
});

Deno.test("discoveryMessage() follows Home Assistant's device-based format: a sensor per target, an anomaly binary_sensor", () => {
  const m = discoveryMessage("greenhouse.2", ["temperature", "rel.humidity"], {
    prefix: "ha",
    nodeId: "gw1",
    forecastTopicPrefix: "site/forecasts",
    statusTopic: "site/status",
    version: VERSION,
  });
  const device = haId("gw1_greenhouse.2");
  assert.equal(m.topic, `ha/device/${device}/config`);
  assert.deepEqual(discoveryProblems("ha", m.topic, JSON.stringify(m.config)), []);
  const c = m.config as {
    dev: Record<string, unknown>;
    o: Record<string, unknown>;
    cmps: Record<string, Record<string, unknown>>;
  } & Record<string, unknown>;
  assert.deepEqual(c.dev, {
    ids: [device],
    name: "greenhouse.2",
    mf: "forecastd",
    mdl: "forecast of a sensor stream",
    sw: VERSION,
  });
  assert.deepEqual(c.o, { name: "forecastd", sw: VERSION });
  assert.equal(c.state_topic, "site/forecasts/greenhouse.2");
  assert.equal(c.availability_topic, "site/status");
  assert.deepEqual([c.payload_available, c.payload_not_available], ["online", "offline"]);
  assert.deepEqual(Object.keys(c.cmps), [
    "temperature_forecast",
    `${haId("rel.humidity")}_forecast`,
    "anomaly",
  ]);
  assert.deepEqual(
    Object.values(c.cmps).map((x) => [x.p, x.unique_id]),
    [
      ["sensor", `${device}_temperature_forecast`],
      ["sensor", `${device}_${haId("rel.humidity")}_forecast`],
      ["binary_sensor", `${device}_anomaly`],
    ],
  );
  assert.equal(c.cmps.temperature_forecast.json_attributes_topic, "site/forecasts/greenhouse.2");
  assert.equal(c.cmps.anomaly.device_class, "problem");

  // and the checker can fail
  const bad = { ...m.config, name: "x", cmps: { "a.b": { p: "light" } } };
  assert.deepEqual(discoveryProblems("ha", "ha/device/a b/config", JSON.stringify(bad)), [
    "object id a b is not of [a-zA-Z0-9_-]",
    "root key name is not allowed",
    "component id a.b is not of [a-zA-Z0-9_-]",
    "a.b: platform light",
    "a.b: unique_id undefined",
  ]);
});

/** A message as a subscriber got it. */
interface Got {
  topic: string;
  payload: string;
  retain: boolean;
}

async function until<T>(f: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The daemon's MQTT side as serve wires it (startMqtt: the embedded broker
 * when `url` is null, in-process; else the source on the broker at `url`,
 * with its will), the status, the forecasts and discovery; streams
 * "room.1" (two values) and "hall"; and a client subscribed as Home
 * Assistant is: it gets one retained config per stream in the format, the
 * states and the availability they name; a deleted stream's device is
 * removed; offline at the end.
 */
async function asHomeAssistantSees(url: string | null, dataDir: string): Promise<void> {
  const { log } = captureLog();
  const d = await startDaemon();
  const m = await startMqtt({
    sink: d.service,
    log,
    dataDir,
    topics: ["sensors/{stream}"],
    url,
    brokerPort: 0,
    clientId: "forecastd-test-ha",
    ignoreTopicPrefix: "forecastd/alerts",
    // what serve gives: Home Assistant may read these on the embedded broker
    readTopics: ["forecastd/forecasts/#", "forecastd/status", "homeassistant/device/+/config"],
    will: statusWill("forecastd/status"),
  });
  const ha = await mqtt.connectAsync(m.broker?.url ?? url!, {
    clientId: `homeassistant-${crypto.randomUUID()}`,
  });
  const got: Got[] = [];
  ha.on("message", (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  // what Home Assistant subscribes to for device discovery (discovery.py), and the state topics
  await ha.subscribeAsync(["homeassistant/device/+/config", "forecastd/#"], { qos: 1 });
  await m.ready;
  await d.service.ingest(twoValueReadings("room.1", 150), "http");
  await d.service.ingest(twoValueReadings("hall", 150), "http");
  const client = m.publisher!;
  const status = startMqttStatus({ client: m.source?.client ?? client, log });
  const forecasts = startMqttForecasts(d.service, { client, log });
  const discovery = startHomeAssistantDiscovery(d.service, {
    client,
    log,
    version: VERSION,
    pollMs: 50,
  });
  try {
    const configs = () => got.filter((m) => m.topic.startsWith("homeassistant/"));
    await until(() => configs().length >= 2 ? true : undefined, "two discovery configs");
    const byStream = new Map<string, Got>();
    for (const m of configs()) {
      assert.deepEqual(discoveryProblems("homeassistant", m.topic, m.payload), [], m.topic);
      byStream.set(JSON.parse(m.payload).dev.name, m);
    }
    assert.deepEqual([...byStream.keys()].sort(), ["hall", "room.1"]);
    const room = JSON.parse(byStream.get("room.1")!.payload);
    assert.equal(
      byStream.get("room.1")!.topic,
      `homeassistant/device/${haId("forecastd_room.1")}/config`,
    );
    assert.deepEqual(Object.values(room.cmps).map((c) => (c as { p: string }).p), [
      "sensor",
      "sensor",
      "binary_sensor",
    ]);

    // the topics the config names carry what Home Assistant reads
    const state = await until(
      () => got.find((m) => m.topic === room.state_topic),
      `a forecast on ${room.state_topic}`,
    );
    assert.deepEqual(Object.keys(JSON.parse(state.payload).targets), [
      "temperature",
      "rel.humidity",
    ]);
    await until(
      () => got.find((m) => m.topic === room.availability_topic && m.payload === "online"),
      "online on the availability topic",
    );

    // retained: Home Assistant starting later gets them too
    const late = await mqtt.connectAsync(m.broker?.url ?? url!, {
      clientId: `homeassistant-late-${Date.now()}`,
    });
    try {
      const retained: Got[] = [];
      late.on("message", (topic, payload, packet) => {
        retained.push({ topic, payload: payload.toString(), retain: packet.retain });
      });
      await late.subscribeAsync(["homeassistant/device/+/config", "forecastd/#"], { qos: 1 });
      await until(() => retained.length >= 5 ? true : undefined, "the retained messages");
      assert.ok(retained.every((m) => m.retain), "all retained");
      assert.deepEqual(retained.map((m) => m.topic).sort(), [
        "forecastd/forecasts/hall",
        "forecastd/forecasts/room.1",
        "forecastd/status",
        `homeassistant/device/${haId("forecastd_hall")}/config`,
        `homeassistant/device/${haId("forecastd_room.1")}/config`,
      ]);
    } finally {
      await late.endAsync();
    }

    // a deleted stream: an empty retained config removes its device
    const n = got.length;
    await d.service.delete("room.1");
    const removal = await until(
      () => got.slice(n).find((m) => m.topic === byStream.get("room.1")!.topic),
      "the removal of room.1",
    );
    assert.equal(removal.payload, "");
    assert.deepEqual(discoveryProblems("homeassistant", removal.topic, removal.payload), []);
    await until(
      () => got.slice(n).find((m) => m.topic === room.state_topic && m.payload === ""),
      "room.1's retained forecast cleared",
    );
    assert.equal(discovery.stats.removed, 1);

    // forecastd stops: its entities go unavailable
    discovery.close();
    forecasts.close();
    await status.close();
    await until(
      () => got.slice(n).find((m) => m.topic === "forecastd/status" && m.payload === "offline"),
      "offline",
    );
  } finally {
    discovery.close();
    forecasts.close();
    await status.close();
    await ha.endAsync();
    await m.close();
    await d.close();
  }
}

Deno.test("Home Assistant gets a retained device config per stream, the states and availability it names, and a removal, through the embedded broker", async () => {
  await withTempDir((dir) => asHomeAssistantSees(null, dir));
});

const mosquitto = await findMosquitto();
if (mosquitto === null) {
  console.warn(
    "tests/alerts/homeassistant_test.ts: the Mosquitto test skipped: mosquitto is not " +
      "installed (apt-get install -y mosquitto)",
  );
}

Deno.test({
  name: "Home Assistant gets the same through Mosquitto on 127.0.0.1 with its own configuration",
  ignore: mosquitto === null,
  fn: async () => {
    await withTempDir(async (dir) => {
      const broker = await startMosquitto(mosquitto!, dir);
      try {
        await asHomeAssistantSees(broker.url, dir);
      } finally {
        await broker.stop();
      }
    });
  },
});

/** Renders Jinja templates with `value` (and `value_json`), as Home Assistant's MQTT entities do. */
const RENDER = `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
job = json.load(sys.stdin)
env = ImmutableSandboxedEnvironment()
out = []
for t in job["templates"]:
    out.append(env.from_string(t).render(value=job["value"], value_json=json.loads(job["value"])))
print(json.dumps(out))
`;

async function jinjaAvailable(): Promise<boolean> {
  try {
    const r = await new Deno.Command("python3", {
      args: ["-c", "import jinja2.sandbox"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function render(templates: string[], value: string): Promise<string[]> {
  const child = new Deno.Command("python3", {
    args: ["-c", RENDER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({ templates, value })));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  assert.ok(out.success, dec.decode(out.stderr));
  return JSON.parse(dec.decode(out.stdout));
}

const jinja = await jinjaAvailable();
if (!jinja) {
  console.warn(
    "tests/alerts/homeassistant_test.ts: the template test skipped: Python's jinja2 is not " +
      "installed (apt-get install -y python3-jinja2)",
  );
}

Deno.test({
  name:
    "the templates give the next forecast, its interval, time and crossing, and the anomaly state (Jinja)",
  ignore: !jinja,
  fn: async () => {
    const d = await startDaemon();
    try {
      await d.service.ingest(twoValueReadings("room.1", 150), "http");
      const f = d.service.forecast("room.1");
      // a threshold the forecast crosses: halfway to its 12th step
      const p = f.targets["rel.humidity"].point;
      const now = d.service.crossing("room.1", "rel.humidity", 0, "above").value;
      const x = (now + p[11]) / 2, direction = p[11] > now ? "above" : "below";
      const crossing = d.service.crossing("room.1", "rel.humidity", x, direction);
      assert.notEqual(crossing.crossing, null, "crossed within the horizon");
      const iso = (ms: number | null) =>
        ms !== null && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
      const message = forecastMessage(f, [{
        target: "rel.humidity",
        threshold: x,
        direction,
        crossing: iso(crossing.crossing),
        earliest: iso(crossing.earliest),
        latest: iso(crossing.latest),
      }]);
      const value = JSON.stringify(message);
      const { config } = discoveryMessage("room.1", ["temperature", "rel.humidity"], {
        version: VERSION,
      });
      const cmps = config.cmps as Record<string, Record<string, string>>;
      const h = `${haId("rel.humidity")}_forecast`;
      const [tState, tAttrs, hState, hAttrs, anomaly] = await render([
        cmps.temperature_forecast.value_template,
        cmps.temperature_forecast.json_attributes_template,
        cmps[h].value_template,
        cmps[h].json_attributes_template,
        cmps.anomaly.value_template,
      ], value);
      assert.equal(Number(tState), f.targets.temperature.point[0]);
      assert.equal(Number(hState), f.targets["rel.humidity"].point[0]);
      const t = JSON.parse(tAttrs);
      assert.deepEqual(t, {
        time: message.timestamps[0],
        lower: f.targets.temperature.lower[0],
        upper: f.targets.temperature.upper[0],
        coverage: f.coverage,
        origin: message.origin,
        crossing: null,
        crossings: [],
      }, "no threshold of temperature is configured");
      const hu = JSON.parse(hAttrs);
      assert.equal(hu.crossing, iso(crossing.crossing));
      assert.deepEqual(hu.crossings, message.crossings);
      assert.equal(anomaly, "OFF", `state ${f.model.state}`);
      const [on] = await render(
        [cmps.anomaly.value_template],
        JSON.stringify({ ...message, model: { ...message.model, state: "anomaly" } }),
      );
      assert.equal(on, "ON");
    } finally {
      await d.close();
    }
  },
});
