/**
 * bench/raw_mqtt.ts against real brokers: several publishes in flight on one
 * connection, each packet id used by one message at a time, the in-flight
 * limit kept, and the calls' order kept on the wire.
 */
import assert from "node:assert/strict";
import mqttPacket from "mqtt-packet";
import { encodeMessages, RawPublisher } from "../../bench/raw_mqtt.ts";
import { MOSQUITTO_CONFIG } from "../../bench/mosquitto_config.ts";
import { findMosquitto, startMosquitto } from "../e2e/_daemon.ts";
import { startHoldingBroker } from "./_holding_broker.ts";

const messages = (name: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ topic: `sensors/${name}-${i}/v`, payload: `{"v":${i}}` }));

Deno.test("raw publisher: an id in flight is never reused, and at most `inflight` are unacknowledged", async () => {
  // each PUBACK 20 ms after its message: the publishes below need each id several times
  const broker = await startHoldingBroker({ delayMs: 20 });
  const pub = await RawPublisher.connect(broker.url, "ids", { inflight: 8 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // (a PUBACK whose id was given to two messages settles one of them: the other waits forever)
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not all acknowledged: ${broker.reused} ids reused`)),
        10_000,
      );
    });
    await Promise.race([
      Promise.all([pub.publish(messages("a", 30)), pub.publish(messages("b", 30))]),
      stuck,
    ]);
    assert.equal(broker.received, 60);
    assert.equal(broker.reused, 0);
    assert.ok(broker.mostUnacked <= 8, `at most 8 unacknowledged: ${broker.mostUnacked}`);
    assert.equal(pub.mostInFlight, 8);
    assert.equal(pub.inFlight, 0);
    // a publish waiting for ids is not overtaken by a later one: a stream's readings stay in order
    assert.deepEqual(
      broker.topics,
      [...messages("a", 30), ...messages("b", 30)].map((m) => m.topic),
    );
  } finally {
    clearTimeout(timer);
    await pub.close();
    await broker.close();
  }
});

Deno.test("raw publisher: each publish resolves on its own acknowledgements", async () => {
  const broker = await startHoldingBroker({ hold: true });
  const pub = await RawPublisher.connect(broker.url, "own");
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const first = pub.publish(messages("first", 5));
    while (pub.inFlight < 5) await new Promise((r) => setTimeout(r, 5));
    // the second publish goes out while the first is unacknowledged
    let secondDone = false;
    const second = pub.publish(messages("second", 5)).then(() => void (secondDone = true));
    while (pub.inFlight < 10 || broker.received < 5) await new Promise((r) => setTimeout(r, 5));
    broker.release(5);
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the first publish waited for the second's")),
        5000,
      );
    });
    await Promise.race([first, stuck]);
    assert.equal(secondDone, false);
    assert.equal(pub.inFlight, 5);
    broker.release();
    await second;
    assert.equal(broker.received, 10);
    assert.equal(pub.mostInFlight, 10);
  } finally {
    clearTimeout(timer);
    broker.release();
    await pub.close();
    await broker.close();
  }
});

Deno.test("raw publisher: 3,000 messages in flight on one connection, through Mosquitto", async (t) => {
  const exe = await findMosquitto();
  if (exe === null) {
    await t.step({ name: "mosquitto is not installed", ignore: true, fn: () => {} });
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "forecastd-rawpub-" });
  const mosquitto = await startMosquitto(exe, dir, undefined, { extraConfig: MOSQUITTO_CONFIG });
  const pub = await RawPublisher.connect(mosquitto.url, "many");
  try {
    // three publishes of 1,000 before any acknowledgement is awaited (a 3.1.1 client has no
    // receive maximum; Mosquitto's max_inflight_messages bounds what it sends, not what it takes)
    await Promise.all([0, 1, 2].map((i) => pub.publish(messages(`m${i}`, 1000))));
    assert.ok(pub.mostInFlight > 1000, `several publishes in flight: ${pub.mostInFlight}`);
    assert.equal(pub.inFlight, 0);
  } finally {
    await pub.close();
    await mosquitto.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("raw publisher: `acks` is told the readings each PUBACK acknowledged, as they come", async () => {
  const broker = await startHoldingBroker({ hold: true });
  const told: number[] = [];
  const pub = await RawPublisher.connect(broker.url, "acks", {
    acks: { add: (readings) => void told.push(readings) },
  });
  try {
    // 4 messages of 3 readings, then 2 of one (no `readings`: 1 each)
    const three = messages("three", 4).map((m) => ({ ...m, readings: 3 }));
    const done = Promise.all([pub.publish(three), pub.publish(messages("one", 2))]);
    while (broker.received < 6) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(told, []);
    broker.release(2);
    while (pub.inFlight > 4) await new Promise((r) => setTimeout(r, 5));
    // the first two messages' readings, whatever reads they came in
    assert.equal(told.reduce((a, b) => a + b, 0), 6);
    broker.release();
    await done;
    assert.equal(told.reduce((a, b) => a + b, 0), 14);
  } finally {
    broker.release();
    await pub.close();
    await broker.close();
  }
});

Deno.test("encodeMessages() writes the PUBLISH packets mqtt-packet writes, ids at idAt", () => {
  // remaining lengths of 1, 2 and 3 bytes; a topic and a payload beyond ASCII
  const plain = [
    { topic: "sensors/a/v", payload: '{"value":1}' },
    { topic: "sensors/é/v", payload: "x".repeat(300), readings: 7 },
    { topic: "s", payload: "ü".repeat(9000) },
  ];
  const enc = encodeMessages(plain);
  assert.deepEqual([...enc.readings], [1, 7, 1]);
  plain.forEach((m, i) => {
    const ref = mqttPacket.generate({
      cmd: "publish",
      qos: 1,
      dup: false,
      retain: false,
      messageId: 258 + i,
      topic: m.topic,
      payload: m.payload,
    });
    const start = i === 0 ? 0 : enc.ends[i - 1];
    const packet = enc.bytes.slice(start, enc.ends[i]);
    assert.deepEqual([...packet.subarray(enc.idAt[i] - start, enc.idAt[i] - start + 2)], [0, 0]);
    packet[enc.idAt[i] - start] = (258 + i) >> 8;
    packet[enc.idAt[i] - start + 1] = (258 + i) & 255;
    assert.deepEqual(packet, new Uint8Array(ref), `packet ${i}`);
  });
});

Deno.test("raw publisher: encoded messages go in order, and only once", async () => {
  const broker = await startHoldingBroker();
  const pub = await RawPublisher.connect(broker.url, "encoded", { inflight: 4 });
  try {
    const enc = encodeMessages(messages("enc", 10));
    await pub.publish(enc);
    assert.deepEqual(broker.topics, messages("enc", 10).map((m) => m.topic));
    assert.equal(broker.reused, 0);
    await assert.rejects(() => pub.publish(enc), /must be published once/);
  } finally {
    await pub.close();
    await broker.close();
  }
});
