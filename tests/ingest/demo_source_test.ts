/**
 * The simulated sensor of `serve --demo`, run fast (a reading every few ms)
 * against a real Service on a :memory: KV: straight into the service, and
 * through the embedded broker and the MQTT source as the daemon runs it.
 */
import assert from "node:assert/strict";
import { demoTopic, startDemoSource } from "../../src/ingest/demo_source.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { startMqttSource } from "../../src/ingest/mqtt_source.ts";
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import type { StoredAlert } from "../../src/domain/alert.ts";

const DEFAULT_TOPICS = ["sensors/{stream}/{value}", "sensors/{stream}"];

async function withService(fn: (svc: Service) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const svc = new Service({ store: new Store(kv), log: captureLog().log });
  try {
    await fn(svc);
    await svc.close();
  } finally {
    kv.close();
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("demoTopic() fills the first pattern that names a stream, and skips one that another pattern shadows", () => {
  assert.deepEqual(demoTopic(DEFAULT_TOPICS, "demo", "temperature"), {
    topic: "sensors/demo/temperature",
    namesValue: true,
  });
  assert.deepEqual(demoTopic(["home/+/{stream}"], "demo", "t"), {
    topic: "home/demo/demo",
    namesValue: false,
  });
  // "x/#" matches every x/... topic first, so the second pattern would never name the stream
  assert.equal(demoTopic(["x/#", "x/{stream}"], "demo", "t"), null);
  assert.equal(demoTopic(["readings/#"], "demo", "t"), null, "no pattern names a stream");
});

// a new demo stream starts at a UTC midnight: the same readings and the same
// first alert whatever the hour it is started (started at 16:00 without that,
// the first fault fell where two days of history did not make it an alert)
for (const hour of [2, 16]) {
  Deno.test(`the demo sends a warm-up backlog, then live readings with faults, and its first fault raises an alert (started at ${hour}:00 UTC)`, async () => {
    await withService(async (svc) => {
      const alerts: StoredAlert[] = [];
      svc.subscribe({ send: (e) => alerts.push(e) });
      const capture = captureLog("info");
      const started = Date.now();
      const demo = startDemoSource({
        sink: svc,
        broker: null,
        topics: DEFAULT_TOPICS,
        log: capture.log,
        intervalMs: 2,
        now: () => Date.UTC(2026, 0, 1, hour) + (Date.now() - started),
      });
      try {
        assert.equal(demo.topic, null, "without a broker it feeds the service");
        await demo.warmedUp;
        assert.equal(svc.summary("demo").readings, 576, "two simulated days first");
        assert.notEqual(svc.summary("demo").state, "warming_up", "warmed up by the backlog");
        await until(() => alerts.some((a) => a.type === "opened"), "an opened alert");
      } finally {
        await demo.close();
      }
      assert.equal(
        svc.summary("demo").readings > 576,
        true,
        "live readings followed the backlog",
      );
      const fault = capture.entries().find((e) => e.event === "demo.fault");
      assert.ok(fault, "the fault is logged");
      assert.equal(fault.kind, "spike");
      const faultAt = Date.parse(String(fault.at));
      assert.equal(new Date(faultAt).toISOString().slice(11, 16), "01:40", "the same time of day");
      const opened = alerts.find((a) => a.type === "opened")!;
      assert.ok(opened.time >= faultAt, "the alert follows the fault");
      assert.ok(
        opened.time <= faultAt + 3 * 300_000,
        `the first fault opens it: opened at ${
          new Date(opened.time).toISOString()
        }, fault at ${fault.at}`,
      );
      const s = svc.summary("demo");
      assert.equal(s.periodMs, 300_000, "5 simulated minutes between readings");
      assert.ok(s.lastReading! < Date.now(), "simulated time stays behind the clock");
    });
  });
}

Deno.test("the demo continues after the last reading of a restored demo stream, without a second backlog", async () => {
  await withService(async (svc) => {
    const last = Date.UTC(2025, 5, 1, 12);
    await svc.ingest([{ stream: "demo", ts: last, values: { temperature: 21 } }], "demo");
    const demo = startDemoSource({
      sink: svc,
      broker: null,
      topics: DEFAULT_TOPICS,
      log: captureLog().log,
      intervalMs: 2,
    });
    try {
      await demo.warmedUp;
      await until(() => svc.summary("demo").readings >= 3, "two live readings");
    } finally {
      await demo.close();
    }
    const s = svc.summary("demo");
    assert.equal(s.readings, demo.sent + 1, "every reading was accepted, none twice");
    assert.equal(s.lastReading, last + demo.sent * 300_000);
  });
});

Deno.test("the demo publishes through the embedded broker and the MQTT source into the service", async () => {
  await withService(async (svc) => {
    const { log } = captureLog();
    // the source reads over TCP here: let anonymous clients read the readings
    const broker = await startEmbeddedBroker({ port: 0, log, defaultRead: ["#"] });
    const source = startMqttSource({
      url: broker.url,
      clientId: "forecastd-test-demo",
      topics: DEFAULT_TOPICS,
      ignoreTopicPrefix: "forecastd/alerts",
      sink: svc,
      log,
    });
    try {
      const demo = startDemoSource({
        sink: svc,
        broker: { url: broker.url },
        subscribed: source.ready,
        topics: DEFAULT_TOPICS,
        log,
        intervalMs: 5,
      });
      try {
        assert.equal(demo.topic, "sensors/demo/temperature");
        await demo.warmedUp;
        await until(() => svc.records.has("demo") && svc.summary("demo").readings > 580, "live");
      } finally {
        await demo.close();
      }
      assert.equal(svc.counters.readings.mqtt, svc.summary("demo").readings);
      assert.equal(svc.counters.readings.demo, 0, "nothing bypassed MQTT");
    } finally {
      await source.close();
      await broker.close();
    }
  });
});
