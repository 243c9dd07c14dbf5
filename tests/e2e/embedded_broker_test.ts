/**
 * The real daemon with its embedded broker: readings published by an MQTT.js
 * client, forecasts over HTTP, alerts on SSE, WebSocket and MQTT, the shared
 * conformance cases, and a broker port that is taken.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import mqtt from "mqtt";
import { hashPassword } from "../../src/ingest/broker_users.ts";
import {
  batchPayload,
  collectMqtt,
  eventually,
  getJson,
  mqttClient,
  openedAlertEverywhere,
  spikeAt,
  sseClient,
  START,
  startDaemon,
  STEP,
  streamWithReadings,
  withTempDir,
  wsClient,
} from "./_daemon.ts";
import { assertOutcome, INGEST_CASES, type IngestCase, type Outcome } from "../ingest/cases.ts";
import type { Reading } from "../../src/domain/reading.ts";

Deno.test("serve: readings through the embedded broker give forecasts over HTTP, and an injected spike raises an alert that arrives on SSE, WebSocket and MQTT", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir });
    const device = await mqttClient(d.mqttUrl);
    const sse = await sseClient(`${d.http}/v1/alerts/events`);
    const ws = await wsClient(`${d.http.replace("http:", "ws:")}/v1/alerts/ws`);
    try {
      assert.match(d.mqttUrl, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
      const ready = await getJson<{ status: string; checks: Record<string, string> }>(
        `${d.http}/readyz`,
      );
      assert.equal(ready.status, "ready");
      assert.equal(ready.checks.broker, "ok");
      const alerts = await collectMqtt(device, "forecastd/alerts/#");

      // two days of history (the default preset opens no alert before one day)
      await device.publishAsync("sensors/room/temperature", batchPayload(0, 576), { qos: 1 });
      await streamWithReadings(d, "room", 576);
      const f = await getJson<{ stream: string; targets: Record<string, unknown> }>(
        `${d.http}/v1/streams/room/forecast`,
      );
      assert.equal(f.stream, "room");
      assert.ok("temperature" in f.targets, JSON.stringify(f));
      assert.equal(alerts.length, 0, "no alert on normal readings");

      // a spike, then normal readings again, one message each as a sensor sends them
      const spike = spikeAt(600);
      for (let i = 576; i < 640; i++) {
        await device.publishAsync("sensors/room/temperature", batchPayload(i, i + 1, spike), {
          qos: 1,
        });
      }
      await streamWithReadings(d, "room", 640);
      const fromMqtt = await openedAlertEverywhere(d, "room", { sse, ws, mqtt: alerts });
      assert.ok(
        Number(fromMqtt.ts) >= START + 600 * STEP && Number(fromMqtt.ts) < START + 640 * STEP,
        `the alert is about the spike or the readings after it: ${fromMqtt.message}`,
      );
    } finally {
      await sse.close();
      await ws.close();
      await device.endAsync();
      const status = await d.stop("SIGTERM");
      assert.equal(status.code, 0, "SIGTERM ends the daemon with status 0");
    }
    assert.ok(d.log.some((e) => e.event === "shutdown.done"), "the shutdown completed");
  });
});

function isUnknownTopic(c: IngestCase): boolean {
  return "reason" in c.expect && c.expect.reason === "unknown_topic";
}

Deno.test("serve: every conformance case published to the embedded broker reaches the service with the outcome the case table states", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir, args: ["--log-level", "debug"] });
    const device = await mqttClient(d.mqttUrl);
    try {
      // A topic no pattern matches is covered by no subscription: the broker
      // never delivers it (parse_test.ts checks the parser's unknown_topic).
      for (const c of INGEST_CASES.filter((c) => c.mqtt && isUnknownTopic(c))) {
        await device.publishAsync(c.mqtt!.topic, c.mqtt!.payload, { qos: 1 });
      }
      const cases = INGEST_CASES.filter((c) => c.mqtt && !isUnknownTopic(c));
      let seen = 0;
      const outcomes = (topic: string) =>
        d.log.filter((e) =>
          e.topic === topic && (e.event === "mqtt.readings" || e.event === "mqtt.rejected")
        );
      for (const c of cases) {
        const from = Date.now();
        await device.publishAsync(c.mqtt!.topic, c.mqtt!.payload, { qos: 1 });
        const entry = await d.waitForLog(
          (e) =>
            (e.event === "mqtt.readings" || e.event === "mqtt.rejected") &&
            e.topic === c.mqtt!.topic,
          `the outcome of "${c.name}"`,
        );
        seen++;
        const outcome: Outcome = entry.event === "mqtt.rejected"
          ? { ok: false, reason: String(entry.reason), message: String(entry.message) }
          : { ok: true, readings: entry.readings as Reading[] };
        assertOutcome(c, "mqtt", outcome, [from, Date.now()]);
        assert.equal(outcomes(c.mqtt!.topic).length, 1, `one outcome for "${c.name}"`);
        if (entry.event === "mqtt.readings") {
          // the service took them: the stream exists over HTTP
          const stream = (entry.readings as { stream: string }[])[0].stream;
          await getJson(`${d.http}/v1/streams/${stream}`);
        }
      }
      assert.equal(seen, cases.length);
      const unknown = d.log.filter((e) => String(e.topic ?? "").startsWith("elsewhere/"));
      assert.deepEqual(unknown, [], "a topic outside the patterns never reaches the daemon");
      const metrics = await (await fetch(`${d.http}/metrics`)).text();
      assert.match(metrics, /bad_value/, "parse rejects are counted by reason");
    } finally {
      await device.endAsync();
      await d.stop();
    }
  });
});

Deno.test("serve: when the embedded broker's port is taken the log says so, HTTP is served and /readyz reports the broker down", async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen({ host: "127.0.0.1", port: 0 }, r));
  const port = (blocker.address() as { port: number }).port;
  try {
    await withTempDir(async (dir) => {
      const d = await startDaemon({
        dataDir: dir,
        args: ["--mqtt-port", String(port)],
        waitSubscribed: false,
      });
      try {
        const failed = await d.waitForLog(
          (e) => e.event === "broker.listen_failed",
          "broker.listen_failed",
        );
        assert.equal(failed.level, "error");
        assert.match(String(failed.message), new RegExp(`127\\.0\\.0\\.1:${port} must be free`));
        assert.ok(d.banner.some((l) => /^ {2}mqtt: not running: .*must be free/.test(l)));
        const res = await fetch(`${d.http}/readyz`);
        const body = await res.json();
        assert.equal(res.status, 503);
        assert.equal(body.checks.broker, "disconnected");
        assert.equal(body.checks.kv, "ok");
        assert.equal((await getJson<{ status: string }>(`${d.http}/healthz`)).status, "ok");
      } finally {
        assert.equal((await d.stop()).code, 0);
      }
    });
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

Deno.test("serve --demo: the simulated sensor's history arrives through the embedded broker, so the demo stream forecasts at once", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir, args: ["--demo"] });
    try {
      // the demo: line comes after the data: line the start-up wait ends on
      await eventually(
        () =>
          d.banner.some((l) => l.startsWith('  demo: stream "demo" on sensors/demo/temperature')) ||
          undefined,
        `the demo: start-up line in ${JSON.stringify(d.banner)}`,
      );
      const s = await streamWithReadings(d, "demo", 576);
      assert.notEqual(s.state, "warming_up", "two simulated days warm the stream up");
      const f = await getJson<{ periodMs: number; targets: Record<string, unknown> }>(
        `${d.http}/v1/streams/demo/forecast`,
      );
      assert.equal(f.periodMs, 300_000);
      assert.ok("temperature" in f.targets);
      const metrics = await (await fetch(`${d.http}/metrics`)).text();
      const count = (source: string) =>
        Number(
          new RegExp(`^forecastd_readings_total\\{source="${source}"\\} (\\d+)`, "m")
            .exec(metrics)?.[1],
        );
      assert.ok(count("mqtt") >= 576, `the readings came over MQTT: ${count("mqtt")}`);
      assert.equal(count("demo"), 0, "none bypassed MQTT");
    } finally {
      assert.equal((await d.stop()).code, 0);
    }
  });
});

Deno.test("serve: every QoS 1 reading the embedded broker acknowledged before a SIGTERM is learned and there after a restart", async () => {
  await withTempDir(async (dir) => {
    const first = await startDaemon({ dataDir: dir });
    const device = await mqttClient(first.mqttUrl);
    const acked: number[] = [];
    const total = 10_240;
    let sent = 0;
    try {
      // readings one per message, up to 200 unacknowledged; SIGTERM once 2,000 are acknowledged
      let inFlight = 0;
      let signalled = false;
      const deadline = Date.now() + 30_000;
      while (sent < total && device.connected && Date.now() < deadline) {
        if (inFlight >= 200) {
          await new Promise((r) => setTimeout(r, 2));
          continue;
        }
        const i = sent++;
        inFlight++;
        device.publish(
          "sensors/flood/temperature",
          JSON.stringify({ ts: START + i * STEP, value: i % 50 }),
          { qos: 1 },
          (e) => {
            inFlight--;
            if (!e) acked.push(i);
          },
        );
        if (!signalled && acked.length >= 2000) {
          signalled = true;
          Deno.kill(first.pid, "SIGTERM");
        }
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 0));
      }
      assert.ok(signalled, `2,000 acknowledged within 30 s: ${acked.length} of ${sent} sent`);
    } finally {
      device.end(true);
      // the SIGTERM was sent: wait for the exit (stop() would send a second one, which forces it)
      if (acked.length >= 2000) await first.exited;
      assert.equal((await first.stop()).code, 0, "SIGTERM ends the daemon with status 0");
    }
    assert.ok(sent < total, "the daemon stopped while readings were still coming");
    const last = Math.max(...acked);
    assert.equal(last, acked.length - 1, "acknowledged in order, none skipped");

    const second = await startDaemon({ dataDir: dir });
    try {
      const s = await getJson<{ readings: number; lastReading: number }>(
        `${second.http}/v1/streams/flood`,
      );
      assert.ok(
        s.readings >= acked.length,
        `${acked.length} acknowledged, ${s.readings} learned after the restart`,
      );
      assert.ok(s.lastReading >= START + last * STEP, "the last acknowledged reading is there");
      assert.ok(s.readings <= sent);
    } finally {
      assert.equal((await second.stop()).code, 0);
    }
  });
});

Deno.test("serve --broker-users-file: anonymous clients are refused, a user publishes readings and reads only the alerts, and the demo still publishes", async () => {
  await withTempDir(async (dir) => {
    const hash = await hashPassword("kitchen-pw", { N: 1024 });
    const usersFile = `${dir}/users.json`;
    await Deno.writeTextFile(
      usersFile,
      JSON.stringify({ users: [{ username: "kitchen", password: hash }] }),
    );
    const d = await startDaemon({
      dataDir: dir,
      args: ["--broker-users-file", usersFile, "--demo"],
    });
    try {
      await assert.rejects(mqttClient(d.mqttUrl), /Not authorized/i);
      const device = await mqtt.connectAsync(d.mqttUrl, {
        clientId: "kitchen-1",
        username: "kitchen",
        password: "kitchen-pw",
        reconnectPeriod: 0,
      });
      try {
        const seen = await collectMqtt(device, "#");
        await device.publishAsync("sensors/kitchen/temperature", batchPayload(0, 10), { qos: 1 });
        await streamWithReadings(d, "kitchen", 10);
        await streamWithReadings(d, "demo", 576);
        assert.deepEqual(
          seen.filter((m) => !m.topic.startsWith("forecastd/alerts/")),
          [],
          "no reading reached the user subscribed to #",
        );
      } finally {
        await device.endAsync();
      }
      const listening = await d.waitForLog((e) => e.event === "broker.listening", "listening");
      assert.equal(listening.users, 1);
      assert.ok(!d.log.some((e) => e.event === "broker.anonymous_loopback_only"));
      assert.doesNotMatch(JSON.stringify(d.log), /kitchen-pw/, "no password in the log");
    } finally {
      assert.equal((await d.stop()).code, 0);
    }
  });
});
