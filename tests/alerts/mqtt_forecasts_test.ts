/**
 * Forecasts over MQTT: a real service and its HTTP API beside the daemon's
 * MQTT side on the embedded broker (127.0.0.1 port 0), published in-process
 * as the daemon does there (the payload is the API's forecast body plus
 * crossings; on an external broker: homeassistant_test.ts);
 * and a fake source with a manual clock and a scripted client for the rate,
 * the alerts, deleted streams and close().
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import {
  type CrossingRule,
  type ForecastSource,
  type ForecastView,
  startMqttForecasts,
} from "../../src/alerts/mqtt_forecasts.ts";
import type { MqttRetainClient } from "../../src/alerts/mqtt_retained.ts";
import type { AlertSubscriber } from "../../src/alerts/alert_source.ts";
import { startMqtt } from "../../src/ingest/mqtt.ts";
import { captureLog } from "../../src/log.ts";
import { FIVE_MIN, json, sineReadings, startDaemon } from "../api/_harness.ts";
import { storedAlert } from "../_helpers.ts";

Deno.test("each stream's forecast is published retained on <prefix>/<stream>: the API's forecast body with the crossings", async () => {
  const { log } = captureLog();
  const d = await startDaemon();
  const dataDir = await Deno.makeTempDir({ prefix: "forecastd-forecasts-test-" });
  // the daemon's MQTT side on the embedded broker: forecasts are published in-process
  const m = await startMqtt({
    sink: d.service,
    log,
    dataDir,
    topics: ["sensors/{stream}"],
    brokerPort: 0,
    ignoreTopicPrefix: "forecastd/alerts",
    readTopics: ["site/forecasts/#"],
  });
  let late: mqtt.MqttClient | undefined;
  const crossings: CrossingRule[] = [
    { stream: null, target: "v", threshold: 21, direction: "above" },
    { stream: "room", target: "v", threshold: 19, direction: "below" },
    { stream: "other", target: "v", threshold: 0, direction: "below" },
    { stream: null, target: "humidity", threshold: 50, direction: "above" },
  ];
  try {
    await d.service.ingest(sineReadings("room", Date.now() - 400 * FIVE_MIN, 0, 200), "http");
    const forecasts = startMqttForecasts(d.service, {
      client: m.publisher!,
      log,
      topicPrefix: "site/forecasts",
      crossings,
    });
    try {
      await until(() => forecasts.stats.published >= 1, "the first publish");
      assert.deepEqual(forecasts.stats, { published: 1, cleared: 0, failed: 0 });

      // a client that subscribes later gets it, retained
      late = await mqtt.connectAsync(m.broker!.url, { clientId: "node-red" });
      const got: { topic: string; payload: string; retain: boolean }[] = [];
      late.on("message", (topic, payload, packet) => {
        got.push({ topic, payload: payload.toString(), retain: packet.retain });
      });
      await late.subscribeAsync("site/forecasts/+", { qos: 1 });
      await until(() => got.length >= 1, "the retained forecast");
      const msg = got[0];
      assert.equal(msg.topic, "site/forecasts/room");
      assert.equal(msg.retain, true);
      const body = JSON.parse(msg.payload);

      const api = await json(await d.request("GET", "/v1/streams/room/forecast"));
      assert.equal(api.status, 200);
      const { crossings: published, ...forecast } = body;
      assert.deepEqual(forecast, api.body, "the same body as GET /v1/streams/room/forecast");
      assert.equal(forecast.targets.v.point.length, 24);

      // the rules of this stream's targets, in order, as GET .../crossing computes them
      assert.deepEqual(
        published.map((c: { threshold: number }) => c.threshold),
        [21, 19],
        "another stream's rule and a rule of a target it lacks are left out",
      );
      for (const c of published) {
        const q = `target=v&${c.direction}=${c.threshold}`;
        const r = await json(await d.request("GET", `/v1/streams/room/crossing?${q}`));
        assert.equal(r.status, 200);
        assert.deepEqual(c, {
          target: "v",
          threshold: c.threshold,
          direction: c.direction,
          crossing: r.body.crossing,
          earliest: r.body.earliest,
          latest: r.body.latest,
        });
      }
    } finally {
      forecasts.close();
    }
  } finally {
    await late?.endAsync();
    await m.close();
    await d.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fake application: streams with a settable newest reading, and live alert subscribers. */
function fakeSource() {
  const records = new Map<string, { targets: string[] }>();
  const last = new Map<string, number>();
  const subscribers = new Set<AlertSubscriber>();
  const source: ForecastSource = {
    records,
    lastReading: (id) => last.get(id) ?? null,
    forecast(id): ForecastView {
      const origin = last.get(id);
      if (origin === undefined) throw new Error(`no forecast of ${id}`);
      return {
        stream: id,
        origin,
        periodMs: 60_000,
        timestamps: [origin + 60_000, NaN],
        coverage: 0.9,
        targets: { t: { point: [1, 2], lower: [0, null], upper: [2, null] } },
        model: { version: 3, updatedAt: origin, state: "learning" },
      };
    },
    crossing: (_id, _t, x) => ({ crossing: x, earliest: null, latest: NaN }),
    subscribe(sub) {
      subscribers.add(sub);
      return () => subscribers.delete(sub);
    },
  };
  return { source, records, last, subscribers };
}

function scriptedClient() {
  const calls: { topic: string; message: string; retain: boolean; done: (e?: Error) => void }[] =
    [];
  const client: MqttRetainClient = {
    publish(topic, message, opts, callback) {
      calls.push({ topic, message, retain: opts.retain, done: callback });
    },
  };
  return { client, calls };
}

Deno.test("forecasts: at most one per stream per interval and only a newer one, an alert at once, a deleted stream cleared, nothing after close()", () => {
  const log = captureLog("debug");
  const { source, records, last, subscribers } = fakeSource();
  const { client, calls } = scriptedClient();
  let clock = 0;
  records.set("a", { targets: ["t"] });
  records.set("b", { targets: ["t"] }); // no reading yet: nothing to publish
  last.set("a", Date.UTC(2026, 0, 1));
  const forecasts = startMqttForecasts(source, {
    client,
    log: log.log,
    intervalSeconds: 10,
    crossings: [{ stream: null, target: "t", threshold: 5, direction: "above" }],
    now: () => clock,
  });
  try {
    assert.deepEqual(calls.map((c) => [c.topic, c.retain]), [["forecastd/forecasts/a", true]]);
    const body = JSON.parse(calls[0].message);
    assert.equal(body.origin, "2026-01-01T00:00:00.000Z");
    assert.deepEqual(body.timestamps, ["2026-01-01T00:01:00.000Z", null], "NaN: not known");
    assert.deepEqual(body.model.updatedAt, "2026-01-01T00:00:00.000Z");
    assert.deepEqual(body.crossings, [{
      target: "t",
      threshold: 5,
      direction: "above",
      crossing: "1970-01-01T00:00:00.005Z",
      earliest: null,
      latest: null,
    }]);
    calls[0].done();
    assert.equal(forecasts.stats.published, 1);

    clock = 5_000;
    assert.equal(forecasts.flush(), 0, "nothing new");
    last.set("a", Date.UTC(2026, 0, 1, 0, 1));
    assert.equal(forecasts.flush(), 0, "newer, but within 10 s of the last publish");
    clock = 10_000;
    assert.equal(forecasts.flush(), 1, "10 s later");
    assert.equal(JSON.parse(calls[1].message).origin, "2026-01-01T00:01:00.000Z");
    clock = 30_000;
    assert.equal(forecasts.flush(), 0, "the same forecast is not sent again");

    // an alert of a stream publishes it at once, rate or not
    clock = 31_000;
    assert.equal(subscribers.size, 1);
    for (const s of subscribers) s.send(storedAlert({ id: "0000000000000001", stream: "a" }));
    assert.equal(calls.length, 3);
    assert.equal(calls[2].topic, "forecastd/forecasts/a");

    // b's first reading: published at the next check
    last.set("b", Date.UTC(2026, 0, 1));
    assert.equal(forecasts.flush(), 1);
    assert.equal(calls[3].topic, "forecastd/forecasts/b");

    // a deleted stream's retained forecast is cleared, once
    records.delete("a");
    last.delete("a");
    forecasts.flush();
    forecasts.flush();
    assert.deepEqual(calls.slice(4).map((c) => [c.topic, c.message, c.retain]), [
      ["forecastd/forecasts/a", "", true],
    ]);
    calls[4].done();
    calls[3].done(new Error("connection lost"));
    assert.deepEqual(forecasts.stats, { published: 1, cleared: 1, failed: 1 });
    assert.equal(
      log.entries().filter((e) => e.event === "mqtt.forecast_publish_failed").length,
      1,
    );
  } finally {
    forecasts.close();
  }
  forecasts.close(); // safe twice
  assert.equal(subscribers.size, 0, "unsubscribed from the alerts");
  clock = 100_000;
  last.set("b", Date.UTC(2026, 0, 2));
  assert.equal(forecasts.flush(), 0);
  const n = calls.length;
  calls[2].done(new Error("connection closed"));
  assert.equal(calls.length, n, "nothing published after close()");
  assert.equal(
    log.entries().filter((e) => e.event === "mqtt.forecast_publish_failed").length,
    1,
    "a publish cut short after close() is not logged",
  );
});
