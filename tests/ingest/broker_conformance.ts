/**
 * The broker conformance suite: what forecastd promises about MQTT whatever
 * the broker, run against each broker it supports
 * (broker_conformance_test.ts: the embedded broker and a real Mosquitto).
 * Each case gets a fresh broker, the daemon's MQTT side (startMqtt, as
 * `serve` starts it) and a real Service on an in-memory Deno KV, and checks
 * what the service learned.
 *
 * - readings of every topic form (value in the topic, values in the payload,
 *   a batch) at QoS 0, 1 and 2 are learned;
 * - payloads of every size up to the limit are learned, larger ones are not
 *   and are counted;
 * - malformed topics and payloads are refused without disconnecting
 *   forecastd's own client, and later readings are learned;
 * - devices reconnect, and so does forecastd when the broker restarts.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import type { Mqtt } from "../../src/ingest/mqtt.ts";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../../src/ingest/broker.ts";

/** A broker under test, with the daemon's MQTT side on it. */
export interface BrokerTarget {
  /** Where devices connect. */
  readonly url: string;
  /** Options of a device's connection (credentials). */
  readonly device: mqtt.IClientOptions;
  /** The daemon's MQTT side (startMqtt) on this broker, fed into `service`. */
  readonly mqtt: Mqtt;
  /** Stops and starts the broker on the same port; null when it runs in-process. */
  readonly restart: (() => Promise<void>) | null;
  close(): Promise<void>;
}

/** Starts a broker and the daemon's MQTT side on it, with `maxPayloadBytes`, into `service`. */
export type StartTarget = (service: Service, maxPayloadBytes: number) => Promise<BrokerTarget>;

/** The payload limit of the cases: the default. */
const MAX = DEFAULT_MAX_PAYLOAD_BYTES;
const T0 = Date.UTC(2025, 0, 6);
const STEP = 60_000;

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function readings(service: Service, stream: string): number {
  return service.records.has(stream) ? service.summary(stream).readings : 0;
}

function rejects(service: Service): number {
  return Object.values(service.rejects()).reduce((a, b) => a + b, 0);
}

/** A JSON batch of `n` readings of one value, padded with spaces to exactly `bytes` when given. */
function batch(n: number, bytes?: number): string {
  const items = Array.from({ length: n }, (_, i) => ({
    ts: T0 + i * STEP,
    value: 20 + ((i * 37) % 1000) / 1000,
  }));
  const text = JSON.stringify(items);
  if (bytes === undefined) return text;
  if (text.length > bytes) throw new Error(`${n} readings take ${text.length} > ${bytes} bytes`);
  return text + " ".repeat(bytes - text.length);
}

/** Registers the suite's cases as Deno tests named `<name>: ...`. */
export function brokerConformance(name: string, start: StartTarget, ignore = false): void {
  const run = (title: string, fn: (t: BrokerTarget, service: Service) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore,
      fn: async () => {
        const kv = await Deno.openKv(":memory:");
        const service = new Service({ store: new Store(kv), log: captureLog().log });
        try {
          const target = await start(service, MAX);
          try {
            await target.mqtt.ready;
            assert.ok(target.mqtt.connected(), "the daemon's MQTT side is up");
            await fn(target, service);
          } finally {
            await target.close();
          }
          await service.close();
        } finally {
          kv.close();
        }
      },
    });

  const connect = (t: BrokerTarget, id: string) =>
    mqtt.connectAsync(t.url, { clientId: id, reconnectPeriod: 0, ...t.device });

  /** How often forecastd's own client connected (external brokers), else null. */
  const connects = (t: BrokerTarget) => t.mqtt.source?.stats.connects ?? null;

  run("readings of every topic form at QoS 0, 1 and 2 are learned", async (t, service) => {
    const device = await connect(t, "forms");
    try {
      for (const qos of [0, 1, 2] as const) {
        await device.publishAsync(`sensors/v${qos}/temperature`, "21.5", { qos });
        await device.publishAsync(
          `sensors/o${qos}`,
          JSON.stringify({ temperature: 21.5, humidity: 40, ts: T0 }),
          { qos },
        );
        await device.publishAsync(`sensors/b${qos}/temperature`, batch(3), { qos });
      }
      for (const qos of [0, 1, 2]) {
        await until(() => readings(service, `b${qos}`) === 3, `the batch at QoS ${qos}`);
        assert.equal(readings(service, `v${qos}`), 1, `value in the topic at QoS ${qos}`);
        assert.equal(readings(service, `o${qos}`), 1, `values in the payload at QoS ${qos}`);
      }
      assert.equal(service.counters.readings.mqtt, 15);
      assert.equal(rejects(service), 0);
    } finally {
      await device.endAsync();
    }
  });

  run(
    `payloads up to the limit (${MAX} bytes) are learned at QoS 0, 1 and 2; one byte more is not, and is counted`,
    async (t, service) => {
      const device = await connect(t, "sizes");
      try {
        // 20 readings padded with spaces: the size is the payload's, the learning stays short
        const sizes = [1000, 100_000, 300_000, MAX];
        for (const qos of [0, 1, 2] as const) {
          for (const [k, bytes] of sizes.entries()) {
            await device.publishAsync(`sensors/s${qos}x${k}/temperature`, batch(20, bytes), {
              qos,
            });
          }
        }
        for (const qos of [0, 1, 2]) {
          for (const [k, bytes] of sizes.entries()) {
            await until(
              () => readings(service, `s${qos}x${k}`) === 20,
              `the ${bytes}-byte payload at QoS ${qos}`,
            );
          }
        }
        const before = rejects(service);
        await device.publishAsync("sensors/over/temperature", batch(20, MAX + 1), { qos: 1 });
        await device.publishAsync("sensors/after/temperature", "1", { qos: 1 });
        await until(() => readings(service, "after") === 1, "the reading after");
        assert.equal(readings(service, "over"), 0, "the oversized payload was not learned");
        assert.equal(service.rejects().too_large, 1);
        assert.equal(rejects(service), before + 1);
        assert.ok(device.connected, "the device was not disconnected");
      } finally {
        await device.endAsync();
      }
    },
  );

  run(
    "a batch of 10,000 readings (the most one message may hold) is learned",
    async (t, service) => {
      const device = await connect(t, "batch");
      try {
        const payload = batch(10_000);
        assert.ok(
          payload.length > 300_000,
          `larger than where publishes stalled: ${payload.length}`,
        );
        await device.publishAsync("sensors/big/temperature", payload, { qos: 1 });
        await until(() => readings(service, "big") === 10_000, "10,000 readings", 60_000);
      } finally {
        await device.endAsync();
      }
    },
  );

  run(
    "malformed topics and payloads are refused without disconnecting forecastd's own client",
    async (t, service) => {
      const device = await connect(t, "bad");
      const before = connects(t);
      try {
        for (const topic of ["sensors/", "sensors//temperature", "sensors/a/"]) {
          await device.publishAsync(topic, "21.5", { qos: 1 });
        }
        for (const payload of ["warm", "{not json", "[]", "NaN"]) {
          await device.publishAsync("sensors/badpayload/temperature", payload, { qos: 1 });
        }
        // U+0000 in a topic is malformed MQTT: the broker closes that device's connection
        const closed = new Promise<void>((r) => device.once("close", () => r()));
        device.publish("sensors/nul\u0000/temperature", "1", { qos: 1 });
        await closed;
        const next = await connect(t, "good");
        await next.publishAsync("sensors/good/temperature", "20", { qos: 1 });
        await next.endAsync();
        await until(() => readings(service, "good") === 1, "the reading after the bad ones");
        assert.equal(service.records.size, 1, "only the good stream exists");
        assert.ok(rejects(service) >= 7, `the refusals were counted: ${rejects(service)}`);
        assert.ok(t.mqtt.connected());
        assert.equal(connects(t), before, "forecastd's client did not reconnect");
      } finally {
        device.end(true);
      }
    },
  );

  run(
    "a device reconnects and goes on; forecastd reconnects when the broker restarts",
    async (t, service) => {
      let device = await connect(t, "again");
      await device.publishAsync("sensors/again/temperature", batch(1), { qos: 1 });
      device.stream.destroy();
      device.end(true);
      device = await connect(t, "again");
      try {
        await device.publishAsync(
          "sensors/again/temperature",
          JSON.stringify({ ts: T0 + STEP, value: 2 }),
          { qos: 1 },
        );
        await until(() => readings(service, "again") === 2, "both readings");
      } finally {
        await device.endAsync();
      }
      if (t.restart === null) return;
      const before = connects(t)!;
      await t.restart();
      await until(
        () => connects(t)! > before && t.mqtt.connected(),
        "forecastd to reconnect",
        15_000,
      );
      device = await connect(t, "after-restart");
      try {
        await device.publishAsync(
          "sensors/again/temperature",
          JSON.stringify({ ts: T0 + 2 * STEP, value: 3 }),
          { qos: 1 },
        );
        await until(() => readings(service, "again") === 3, "the reading after the restart");
      } finally {
        await device.endAsync();
      }
    },
  );
}
