/**
 * The embedded broker's PUBLISH packets read in place (src/ingest/publish_parser.ts):
 * against mqtt-packet's own parser as the oracle, and through the real broker.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import mqttPacket from "mqtt-packet";
import mqtt from "mqtt";
import { captureLog } from "../../src/log.ts";
import { readPublishesInPlace } from "../../src/ingest/publish_parser.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";

/** A packet as the parsers emit it, every own field in order, the payload as hex. */
function seen(p: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(p).map((k) => [k, Buffer.isBuffer(p[k]) ? (p[k] as Buffer).toString("hex") : p[k]]),
  );
}

/** Feeds `chunks` to `parser`; what it emitted, packets and errors, in order. */
function run(
  parser: { parse(b: Buffer): number; on(e: string, f: (x: unknown) => void): unknown },
  chunks: Buffer[],
): string[] {
  const out: string[] = [];
  parser.on("packet", (p) => out.push(seen(p as Record<string, unknown>)));
  parser.on("error", (e) => out.push(`error: ${(e as Error).message}`));
  for (const c of chunks) parser.parse(c);
  return out;
}

/** A seeded generator of the packets a device (or a broken one) sends. */
function packets(seed: number, count: number): Buffer {
  let s = seed;
  const rand = (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
  const parts: Buffer[] = [];
  const varint = (n: number) => {
    const out: number[] = [];
    do {
      out.push((n % 128) | (n >= 128 ? 128 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    return out;
  };
  const topics = ["sensors/s1/v", "", "sensors/k\u00fcche/t", "a/b/c/d/e/f", "x"];
  for (let k = 0; k < count; k++) {
    const kind = rand(20);
    if (kind === 0) parts.push(Buffer.from([0xc0, 0])); // PINGREQ
    else if (kind === 1) parts.push(Buffer.from([0x62, 2, 0, 5])); // PUBREL
    else if (kind === 2) parts.push(Buffer.from([0x82, 8, 0, 1, 0, 3, 97, 47, 35, 1])); // SUBSCRIBE
    else {
      const qos = kind === 3 ? 3 : rand(3); // QoS 3: a packet mqtt-packet refuses
      const topic = kind === 4
        ? Buffer.from([0x61, 0xff, 0xfe]) // not UTF-8
        : Buffer.from(topics[rand(topics.length)], "utf8");
      const payload = Buffer.alloc(rand(4) === 0 ? 130 + rand(300) : rand(60), 0x30 + rand(10));
      const id = 1 + rand(65535);
      let body = [topic.length >> 8, topic.length & 255, ...topic];
      if (qos > 0) body.push(id >> 8, id & 255);
      body.push(...payload);
      // a topic length past the packet's end (a packet mqtt-packet refuses)
      if (kind === 5) body = [0, 200, ...body.slice(2, 6)];
      const first = 0x30 | (qos << 1) | (rand(2) ? 8 : 0) | rand(2);
      parts.push(Buffer.from([first, ...varint(body.length), ...body]));
    }
  }
  return Buffer.concat(parts);
}

/** `bytes` cut at seeded places into pieces of 1 to `most` bytes. */
function cut(bytes: Buffer, seed: number, most: number): Buffer[] {
  let s = seed;
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (s % most);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

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
    for (const most of [1, 7, 64, 100_000]) {
      const chunks = cut(bytes, seed * 31 + most, most);
      const want = run(oracle(), chunks);
      assert.deepEqual(run(make(), chunks), want, `seed ${seed}, pieces of at most ${most} bytes`);
      compared += want.length;
    }
  }
  assert.ok(compared > 5000, `enough packets compared: ${compared}`);
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
