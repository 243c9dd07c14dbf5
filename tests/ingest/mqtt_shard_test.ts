/**
 * The MQTT source of one shard (`owns`): readings of other shards' streams
 * are dropped and counted as other_shard, whether the topic or the payload
 * names the stream; its own streams' readings go on as before. Against the
 * embedded broker on 127.0.0.1 port 0 with a real MQTT.js device.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import type { IngestResult, IngestSink, Source } from "../../src/ingest/ingest_sink.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { startMqtt } from "../../src/ingest/mqtt.ts";
import { startMqttSource } from "../../src/ingest/mqtt_source.ts";
import { OTHER_SHARD, ownsStream, type ShardMap } from "../../src/domain/shard_map.ts";

/** Records readings and rejects; `until()` waits for a condition. */
class RecordingSink implements IngestSink {
  readonly readings: Reading[] = [];
  readonly rejects: string[] = [];
  ingest(readings: readonly Reading[], _source: Source): Promise<IngestResult> {
    this.readings.push(...readings);
    return Promise.resolve({ accepted: readings.length, rejected: [] });
  }
  reject(reason: string): void {
    this.rejects.push(reason);
  }
  async until(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const SHARD_0: ShardMap = { index: 0, count: 2, peers: ["http://a", "http://b"] };
const owns = (id: string) => ownsStream(SHARD_0, id);
// fixed vectors (tests/domain/shard_of_test.ts): boiler-1 is shard 0 of 2, pump.2 shard 1
const MINE = "boiler-1", THEIRS = "pump.2";

Deno.test("a shard's MQTT source drops other shards' readings by topic and by payload, counted as other_shard", async () => {
  const { log, lines } = captureLog("debug");
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    defaultRead: ["#"],
    reservedPrefixes: [],
  });
  const sink = new RecordingSink();
  const source = startMqttSource({
    url: broker.url,
    clientId: "forecastd-test-shard",
    topics: ["sensors/{stream}/{value}", "batch"],
    owns,
    sink,
    log,
  });
  const device = await mqtt.connectAsync(broker.url, { clientId: "dev-shard", reconnectPeriod: 0 });
  try {
    await source.ready;
    // by topic: the other shard's payload is not even read (it is no valid reading either)
    await device.publishAsync(`sensors/${THEIRS}/t`, "not a number", { qos: 1 });
    await device.publishAsync(`sensors/${MINE}/t`, "21.5", { qos: 1 });
    // by payload: one message, readings of both shards
    await device.publishAsync(
      "batch",
      JSON.stringify([
        { stream: MINE, ts: 1_700_000_000_000, values: { t: 1 } },
        { stream: THEIRS, ts: 1_700_000_000_000, values: { t: 2 } },
        { stream: THEIRS, ts: 1_700_000_001_000, values: { t: 3 } },
      ]),
      { qos: 1 },
    );
    // a message with only the other shard's readings reaches the sink not at all
    await device.publishAsync(
      "batch",
      JSON.stringify({ stream: THEIRS, ts: 1_700_000_002_000, values: { t: 4 } }),
      { qos: 1 },
    );
    await device.publishAsync(`sensors/${MINE}/t`, "22.5", { qos: 1 });
    await sink.until(() => sink.readings.length === 3, "3 readings of the own stream");
    assert.deepEqual(sink.readings.map((r) => r.stream), [MINE, MINE, MINE]);
    assert.deepEqual(sink.readings.map((r) => r.values.t), [21.5, 1, 22.5]);
    assert.deepEqual(sink.rejects, [OTHER_SHARD, OTHER_SHARD, OTHER_SHARD, OTHER_SHARD]);
    // dropping is routine: no log line per dropped message, not even at debug
    assert.equal(lines.filter((l) => l.includes(THEIRS)).length, 0, lines.join("\n"));
  } finally {
    await device.endAsync();
    await source.close();
    await broker.close();
  }
});

Deno.test("the embedded broker's in-process source of a shard drops other shards' readings too", async () => {
  const { log } = captureLog();
  const sink = new RecordingSink();
  const dataDir = await Deno.makeTempDir({ prefix: "forecastd-shard-" });
  const m = await startMqtt({
    sink,
    log,
    dataDir,
    topics: ["sensors/{stream}"],
    brokerPort: 0,
    owns,
  });
  const device = await mqtt.connectAsync(m.brokerUrl!, {
    clientId: "dev-shard-embedded",
    reconnectPeriod: 0,
  });
  try {
    await device.publishAsync(`sensors/${THEIRS}`, "1", { qos: 1 });
    await device.publishAsync(`sensors/${MINE}`, "2", { qos: 1 });
    await sink.until(() => sink.readings.length === 1, "the own stream's reading");
    assert.deepEqual(sink.readings.map((r) => [r.stream, r.values.value]), [[MINE, 2]]);
    assert.deepEqual(sink.rejects, [OTHER_SHARD]);
  } finally {
    await device.endAsync();
    await m.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
