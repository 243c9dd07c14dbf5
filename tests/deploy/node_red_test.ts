/**
 * deploy/node-red/forecastd-flow.json, the Node-RED flow of
 * docs/integrations.md: a flow Node-RED imports (nodes wired to nodes that
 * exist, MQTT nodes on its broker node), on the topics forecastd uses by
 * default, whose function nodes work on the messages forecastd really
 * publishes, and whose example reading is one forecastd takes.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config/mod.ts";
import { forecastMessage } from "../../src/alerts/mqtt_forecasts.ts";
import { compileTopicPatterns } from "../../src/ingest/topics.ts";
import { parseMqttMessage } from "../../src/ingest/parse.ts";
import { FIVE_MIN, sineReadings, startDaemon } from "../api/_harness.ts";
import { ROOT } from "../e2e/_daemon.ts";
import { storedAlert } from "../_helpers.ts";

const FLOW = "deploy/node-red/forecastd-flow.json";

interface NodeRedNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  topic?: string;
  broker?: string;
  func?: string;
  payload?: string;
  property?: string;
  wires?: string[][];
  x?: number;
  y?: number;
}

const flow = JSON.parse(Deno.readTextFileSync(`${ROOT}${FLOW}`)) as NodeRedNode[];
const byType = (type: string) => flow.filter((n) => n.type === type);
const named = (name: string) => {
  const n = flow.find((n) => n.name === name);
  assert.ok(n, `a node named "${name}"`);
  return n;
};

/** Runs a function node's code as Node-RED does: `msg` in, the message (or null) out. */
function runFunction(node: NodeRedNode, msg: Record<string, unknown>) {
  const status: unknown[] = [];
  const fn = new Function("msg", "node", node.func!) as (
    msg: Record<string, unknown>,
    node: { status(s: unknown): void },
  ) => Record<string, unknown> | null;
  return { out: fn(structuredClone(msg), { status: (s) => status.push(s) }), status };
}

Deno.test(`${FLOW} is a Node-RED flow: one tab, unique ids, every wire to a node, MQTT on its broker node`, () => {
  assert.ok(Array.isArray(flow), "an array of nodes");
  const ids = flow.map((n) => n.id);
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/, "Node-RED's id form");
  const tabs = byType("tab");
  assert.equal(tabs.length, 1);
  const brokers = byType("mqtt-broker");
  assert.equal(brokers.length, 1);
  for (const n of flow.filter((n) => n.type !== "tab" && n.type !== "mqtt-broker")) {
    assert.equal(n.z, tabs[0].id, `${n.type} "${n.name}" is on the tab`);
    assert.ok(typeof n.x === "number" && typeof n.y === "number", `${n.name} has a place`);
    for (const out of n.wires ?? []) {
      for (const to of out) assert.ok(ids.includes(to), `${n.name} is wired to ${to}, a node`);
    }
  }
  for (const n of [...byType("mqtt in"), ...byType("mqtt out")]) {
    assert.equal(n.broker, brokers[0].id, `${n.name} uses the broker node`);
  }
});

Deno.test(`${FLOW} uses the topics forecastd publishes and reads by default`, () => {
  const c = DEFAULT_CONFIG;
  assert.deepEqual(
    byType("mqtt in").map((n) => n.topic).sort(),
    [
      `${c.alertTopicPrefix}/+`,
      `${c.forecastTopicPrefix}/+`,
      c.statusTopic,
    ].sort(),
  );
  // the example reading is one forecastd takes on its default topic patterns
  const out = byType("mqtt out");
  assert.equal(out.length, 1);
  const inject = flow.find((n) => n.wires?.some((w) => w.includes(out[0].id)))!;
  const parsed = parseMqttMessage(
    out[0].topic!,
    String(inject.payload),
    compileTopicPatterns(c.mqttTopics),
    { receivedAt: Date.UTC(2026, 0, 1) },
  );
  assert.ok(parsed.ok, `a reading: ${JSON.stringify(parsed)}`);
  assert.deepEqual(parsed.readings.map((r) => [r.stream, r.values]), [
    ["kitchen", { temperature: 21.5 }],
  ]);
});

Deno.test(`the function nodes of ${FLOW} work on forecastd's real messages`, async () => {
  const d = await startDaemon();
  try {
    await d.service.ingest(sineReadings("kitchen", Date.now() - 400 * FIVE_MIN, 0, 200), "mqtt");
    const f = d.service.forecast("kitchen");
    const x = d.service.crossing("kitchen", "v", f.targets.v.point[5], "above");
    const crossing = {
      target: "v",
      threshold: x.threshold,
      direction: "above" as const,
      crossing: x.crossing === null ? null : new Date(x.crossing).toISOString(),
      earliest: null,
      latest: null,
    };
    // as the MQTT node gives it with "auto-detect": the JSON parsed
    const message = JSON.parse(JSON.stringify(forecastMessage(f, [crossing])));
    const forecast = named("next step and crossing");
    const { out, status } = runFunction(forecast, {
      topic: "forecastd/forecasts/kitchen",
      payload: message,
    });
    assert.deepEqual(out, {
      topic: "kitchen",
      payload: {
        stream: "kitchen",
        state: f.model.state,
        next: {
          v: {
            value: f.targets.v.point[0],
            lower: f.targets.v.lower[0],
            upper: f.targets.v.upper[0],
            at: message.timestamps[0],
          },
        },
        crossing: crossing.crossing === null ? null : crossing,
      },
    });
    assert.equal(status.length, 1);
    // the switch after it reads what the function gives
    assert.equal(named("a threshold will be crossed").property, "payload.crossing");
    // a deleted stream's cleared forecast (an empty payload: the empty string) is dropped
    assert.equal(runFunction(forecast, { payload: "" }).out, null);

    const alerts = named("anomaly opened");
    const opened = storedAlert({ id: "0000000000000001", stream: "kitchen" });
    assert.equal(opened.type, "opened");
    assert.deepEqual(runFunction(alerts, { payload: JSON.parse(JSON.stringify(opened)) }).out, {
      topic: "forecastd: anomaly in kitchen",
      payload: opened.message,
    });
    const resolved = { ...opened, type: "resolved", state: "resolved" };
    assert.equal(runFunction(alerts, { payload: resolved }).out, null, "only openings");
  } finally {
    await d.close();
  }
});
