/**
 * Restarts of the real daemon on the same Deno KV file: after SIGTERM (the
 * final checkpoint saves everything) and after SIGKILL (the last periodic
 * checkpoint survives, and learning goes on from it).
 */
import assert from "node:assert/strict";
import {
  batchPayload,
  getJson,
  mqttClient,
  START,
  startDaemon,
  STEP,
  streamWithReadings,
  withTempDir,
} from "./_daemon.ts";

interface Forecast {
  stream: string;
  origin: string;
  targets: Record<string, unknown>;
  model: { version: number; updatedAt: string | null; state: string };
}

const TOPIC = "sensors/porch/temperature";

Deno.test("serve: after SIGTERM and a restart on the same KV file the forecast is identical, and learning goes on", async () => {
  await withTempDir(async (dir) => {
    const first = await startDaemon({ dataDir: dir });
    let before: Forecast;
    try {
      const device = await mqttClient(first.mqttUrl);
      try {
        await device.publishAsync(TOPIC, batchPayload(0, 400), { qos: 1 });
      } finally {
        await device.endAsync();
      }
      await streamWithReadings(first, "porch", 400);
      before = await getJson<Forecast>(`${first.http}/v1/streams/porch/forecast`);
    } finally {
      const status = await first.stop("SIGTERM");
      assert.equal(status.code, 0, "SIGTERM exits with status 0");
    }
    assert.ok(first.log.some((e) => e.event === "shutdown.done"), "the shutdown completed");

    const second = await startDaemon({ dataDir: dir });
    try {
      assert.ok(
        second.banner.some((l) => /\(1 stream restored\)/.test(l)),
        second.banner.join("\n"),
      );
      const after = await getJson<Forecast>(`${second.http}/v1/streams/porch/forecast`);
      assert.deepEqual(after, before, "the restored model forecasts exactly as before");

      const device = await mqttClient(second.mqttUrl);
      try {
        await device.publishAsync(TOPIC, batchPayload(400, 410), { qos: 1 });
      } finally {
        await device.endAsync();
      }
      await streamWithReadings(second, "porch", 410);
      const later = await getJson<Forecast>(`${second.http}/v1/streams/porch/forecast`);
      assert.equal(later.origin, new Date(START + 409 * STEP).toISOString());
      assert.ok(later.model.version > before.model.version, "it learned from the new readings");
    } finally {
      assert.equal((await second.stop("SIGTERM")).code, 0);
    }
  });
});

Deno.test("serve: after SIGKILL and a restart the stream is restored from its last checkpoint and keeps learning", async () => {
  await withTempDir(async (dir) => {
    const args = ["--checkpoint-every", "50", "--log-level", "debug"];
    const first = await startDaemon({ dataDir: dir, args });
    let checkpointed: Forecast;
    try {
      const device = await mqttClient(first.mqttUrl);
      try {
        await device.publishAsync(TOPIC, batchPayload(0, 400), { qos: 1 });
        await streamWithReadings(first, "porch", 400);
        // a PUT saves the stream at once: the last checkpoint holds all 400
        const put = await fetch(`${first.http}/v1/streams/porch`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        assert.equal(put.status, 200, await put.text());
        checkpointed = await getJson<Forecast>(`${first.http}/v1/streams/porch/forecast`);
        await first.waitForLog((e) => e.event === "checkpoint.saved", "checkpoint.saved");
        const saves = first.log.filter((e) => e.event === "checkpoint.saved").length;

        // 20 more readings: fewer than half of --checkpoint-every, so not saved
        await device.publishAsync(TOPIC, batchPayload(400, 420), { qos: 1 });
        await streamWithReadings(first, "porch", 420);
        assert.equal(
          first.log.filter((e) => e.event === "checkpoint.saved").length,
          saves,
          "no checkpoint after the last 20 readings",
        );
      } finally {
        await device.endAsync();
      }
    } finally {
      const status = await first.stop("SIGKILL");
      assert.equal(status.signal, "SIGKILL");
    }
    assert.ok(!first.log.some((e) => e.event === "shutdown.started"), "no graceful shutdown ran");

    const second = await startDaemon({ dataDir: dir, args });
    try {
      const s = await getJson<{ readings: number; lastReading: number }>(
        `${second.http}/v1/streams/porch`,
      );
      assert.equal(s.readings, 400, "the model is the one of the last checkpoint");
      assert.equal(s.lastReading, START + 399 * STEP);
      const restored = await getJson<Forecast>(`${second.http}/v1/streams/porch/forecast`);
      assert.deepEqual(restored, checkpointed, "it forecasts as it did at that checkpoint");

      // the sensor sends the 20 lost readings again: they are learned
      const device = await mqttClient(second.mqttUrl);
      try {
        await device.publishAsync(TOPIC, batchPayload(400, 420), { qos: 1 });
      } finally {
        await device.endAsync();
      }
      await streamWithReadings(second, "porch", 420);
      const later = await getJson<Forecast>(`${second.http}/v1/streams/porch/forecast`);
      assert.equal(later.origin, new Date(START + 419 * STEP).toISOString());
      assert.ok(later.model.version > restored.model.version, "it keeps learning");
    } finally {
      assert.equal((await second.stop("SIGTERM")).code, 0);
    }
  });
});
