/**
 * The embedded broker on 127.0.0.1 port 0 with real MQTT.js clients.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { publishFromAnotherProcess } from "./_publisher.ts";

Deno.test("the embedded broker acknowledges and delivers publishes of 100 KB to 1 MB from another process at QoS 1", async () => {
  const broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, log: captureLog().log });
  const sub = await mqtt.connectAsync(broker.url, { clientId: "sub", reconnectPeriod: 0 });
  try {
    const got: number[] = [];
    sub.on("message", (_topic, payload) => got.push(payload.length));
    await sub.subscribeAsync("big/#", { qos: 1 });
    const sizes = [100_000, 150_000, 200_000, 300_000, 500_000, 700_000, 1_000_000];
    const sent = await publishFromAnotherProcess(broker.url, "big/x", 1, sizes);
    assert.deepEqual(
      sent.map((s) => [s.size, s.acked]),
      sizes.map((s) => [s, true]),
      "every publish was acknowledged within 5 s",
    );
    const deadline = Date.now() + 5000;
    while (got.length < sizes.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(got, sizes, "the subscriber got every payload whole, in order");
  } finally {
    await sub.endAsync();
    await broker.close();
  }
});
