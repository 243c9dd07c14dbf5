/**
 * The embedded broker's PUBLISH packets read in place (src/ingest/publish_parser.ts):
 * against mqtt-packet's own parser as the oracle, and through the real broker.
 */
import assert from "node:assert/strict";
import mqttPacket from "mqtt-packet";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import { readPublishesInPlace } from "../../src/ingest/publish_parser.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { cut, packets, run } from "./_packets.ts";

Deno.test("a parser reading PUBLISH packets in place emits what mqtt-packet's parser emits, cut anywhere", () => {
  const original = mqttPacket.parser;
  const packets2 = { parser: original };
  readPublishesInPlace(packets2);
  const make = packets2.parser as unknown as () => ReturnType<typeof original>;
  // options make mqtt-packet's own parser (the wrapper reads only parsers made without them)
  const oracle = () => original({});
  let compared = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const bytes = packets(seed, 60);
    for (const most of [1, 7, 64, 300, 1000, 100_000]) {
      const chunks = cut(bytes, seed * 31 + most, most);
      const want = run(oracle(), chunks);
      assert.deepEqual(run(make(), chunks), want, `seed ${seed}, pieces of at most ${most} bytes`);
      compared += want.length;
    }
  }
  assert.ok(compared > 5000, `enough packets compared: ${compared}`);
});

Deno.test("a burst of PUBLISHes whose reads end within packets is still read in place", () => {
  const packets2 = { parser: mqttPacket.parser };
  readPublishesInPlace(packets2);
  const parser = (packets2.parser as typeof mqttPacket.parser)();
  // what each PUBLISH came as: the in-place reader's class, or mqtt-packet's own Packet
  const by = new Map<string, number>();
  parser.on("packet", (p) => {
    if (p.cmd !== "publish") return;
    const kind = (p as object).constructor.name;
    by.set(kind, (by.get(kind) ?? 0) + 1);
  });
  // a device's burst: PUBLISHes of 1 to 10 readings, QoS 0 and 1
  const bytes = Buffer.concat(Array.from({ length: 600 }, (_, k) =>
    mqttPacket.generate({
      cmd: "publish",
      topic: `sensors/s${k % 37}/v`,
      payload: `[${'{"value":21.5,"ts":1748822400000},'.repeat(k % 10)}{"value":1}]`,
      qos: (k % 2) as 0 | 1,
      messageId: 1 + k,
      retain: false,
      dup: false,
    })));
  // reads of 1 to 2,000 bytes: nearly every one ends within a packet, some within its length
  const reads = cut(bytes, 3, 2000);
  for (const r of reads) parser.parse(r);
  const inPlace = by.get("PublishPacket") ?? 0;
  assert.equal(inPlace + (by.get("Packet") ?? 0), 600);
  // (before, after the first read that ended within a packet every one was mqtt-packet's)
  assert.ok(inPlace === 600, `read in place: ${inPlace} of 600 (${JSON.stringify([...by])})`);
});

Deno.test("a parser made with options (MQTT.js's) is mqtt-packet's own", () => {
  const packets2 = { parser: mqttPacket.parser };
  readPublishesInPlace(packets2);
  readPublishesInPlace(packets2); // the second call wraps nothing more
  const p = (packets2.parser as typeof mqttPacket.parser)({ protocolVersion: 4 });
  let n = 0;
  p.on("packet", () => n++);
  p.parse(Buffer.from([0x30, 5, 0, 1, 0x61, 0x31, 0x32]));
  assert.equal(n, 1);
});

Deno.test("the embedded broker takes a burst of QoS 0 and 1 publishes in order, with their payloads", async () => {
  const got: string[] = [];
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    onMessage: (m) => void got.push(`${m.topic} ${new TextDecoder().decode(m.payload)} ${m.qos}`),
  });
  const c = await mqtt.connectAsync(broker.url, { clientId: "burst", reconnectPeriod: 0 });
  try {
    const want: string[] = [];
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      // (QoS 2 waits for aedes's store of its ids first: its order among the others is not kept)
      const qos = (i % 2) as 0 | 1;
      const payload = i % 50 === 0 ? "x".repeat(20_000) : `{"value":${i}}`;
      want.push(`sensors/s${i % 7}/v ${payload} ${qos}`);
      sent.push(c.publishAsync(`sensors/s${i % 7}/v`, payload, { qos }));
    }
    await Promise.all(sent);
    while (got.length < want.length) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, want);
    assert.equal(broker.stats.accepted, 300);
  } finally {
    await c.endAsync();
    await broker.close();
  }
});
