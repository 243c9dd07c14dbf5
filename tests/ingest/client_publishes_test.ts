/**
 * The MQTT source's PUBLISH packets taken in place (src/ingest/client_publishes.ts):
 * what the taker and MQTT.js get, in order, against mqtt-packet's own parser as the oracle,
 * over seeded packet streams cut at every byte and at seeded places, with the window
 * full at seeded packets. Through a real Mosquitto: tests/ingest/mqtt_window_test.ts.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import mqttPacket from "mqtt-packet";
import {
  type DirectTaker,
  HeldBytes,
  takePublishesDirectly,
} from "../../src/ingest/client_publishes.ts";
import { readPublishesInPlace } from "../../src/ingest/publish_parser.ts";
import { cut, packets, seen } from "./_packets.ts";

/** A QoS 0 or 1 PUBLISH as the source takes it, the same from either way in. */
function taken(
  qos: number,
  id: number,
  dup: boolean,
  retain: boolean,
  topic: string,
  payload: Buffer,
): string {
  return `publish qos ${qos} id ${id} dup ${dup} retain ${retain} ${topic} ${
    payload.toString("hex")
  }`;
}

/** A packet MQTT.js got: its QoS 0 and 1 PUBLISHes as the source takes them. */
function got(p: mqttPacket.Packet): string {
  return p.cmd === "publish" && p.qos < 2
    ? taken(p.qos, p.messageId ?? 0, p.dup, p.retain, p.topic, p.payload as Buffer)
    : seen(p as unknown as Record<string, unknown>);
}

/** What mqtt-packet's parser emitted. */
function oracle(chunks: Buffer[]): string[] {
  const out: string[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p) => out.push(got(p)));
  parser.on("error", (e) => out.push(`error: ${e.message}`));
  for (const c of chunks) parser.parse(c);
  return out;
}

/**
 * Feeds `chunks` as MQTT.js does (the next one once the packets of the one
 * before are handled) to a parser whose taker's window is full after the
 * takes `full` says; what the taker took and MQTT.js got, in order, and how
 * many the taker took.
 */
function direct(chunks: Buffer[], full: (take: number) => boolean, ready = () => true) {
  const out: string[] = [];
  let takes = 0;
  const taker: DirectTaker = {
    ready,
    take(id, dup, retain, topic, payload) {
      out.push(taken(id === 0 ? 0 : 1, id, dup, retain, topic, payload));
      return !full(takes++);
    },
  };
  const factory = { parser: mqttPacket.parser };
  const option = takePublishesDirectly(factory, taker);
  const parser = (factory.parser as typeof mqttPacket.parser)({ protocolVersion: 4, ...option });
  const held: HeldBytes[] = [];
  parser.on("packet", (p) => {
    if (p instanceof HeldBytes) held.push(p);
    else out.push(got(p));
  });
  parser.on("error", (e) => out.push(`error: ${e.message}`));
  for (const c of chunks) {
    parser.parse(c);
    // the window gets room: read on until the chunk is read
    while (held.length > 0) {
      while (!held[0].readOn()) { /* full again: room again */ }
      held.shift();
    }
  }
  return { out, takes };
}

Deno.test("PUBLISHes taken in place reach the taker and MQTT.js as mqtt-packet parses them, cut at every byte", () => {
  let compared = 0, takes = 0;
  for (let seed = 1; seed <= 4; seed++) {
    const bytes = packets(seed, 30, false);
    const want = oracle([bytes]);
    for (let k = 0; k <= bytes.length; k++) {
      const chunks = [bytes.subarray(0, k), bytes.subarray(k)];
      const out = direct(chunks, (t) => (t + seed) % 5 === 0);
      assert.deepEqual(out.out, want, `seed ${seed}, cut at ${k}`);
      compared += want.length;
      takes += out.takes;
    }
  }
  assert.ok(compared > 5_000, `enough packets compared: ${compared}`);
  assert.ok(takes > 0, `PUBLISHes taken in place: ${takes} of ${compared}`);
});

Deno.test("PUBLISHes taken in place reach the taker and MQTT.js as mqtt-packet parses them, cut anywhere", () => {
  let compared = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const bytes = packets(seed, 60);
    for (const most of [1, 7, 64, 100_000]) {
      const chunks = cut(bytes, seed * 31 + most, most);
      const want = oracle(chunks);
      for (const every of [1, 3, 1000]) {
        const out = direct(chunks, (t) => t % every === every - 1);
        assert.deepEqual(
          out.out,
          want,
          `seed ${seed}, pieces of at most ${most}, full every ${every}`,
        );
        compared += want.length;
      }
    }
  }
  assert.ok(compared > 15_000, `enough packets compared: ${compared}`);
});

Deno.test("a client not ready to take (not connected, closing) gets every packet through MQTT.js", () => {
  const bytes = packets(7, 60);
  const out = direct([bytes], () => false, () => false);
  assert.equal(out.takes, 0);
  assert.deepEqual(out.out, oracle([bytes]));
});

Deno.test("the embedded broker's in-place parser and the source's wrap mqtt-packet once each, in either order", () => {
  // a PUBLISH of QoS 1 on "a", payload "12"; a parser without options is the embedded broker's
  const publish = new Uint8Array([0x32, 7, 0, 1, 0x61, 0, 9, 0x31, 0x32]) as Buffer;
  for (const order of ["broker first", "source first"]) {
    const factory = { parser: mqttPacket.parser };
    const taker: DirectTaker = { ready: () => true, take: () => true };
    const wrap = [() => readPublishesInPlace(factory), () => takePublishesDirectly(factory, taker)];
    if (order === "source first") wrap.reverse();
    // each twice: a second source, a second broker in one process
    for (const w of [...wrap, ...wrap]) w();
    const parser = (factory.parser as typeof mqttPacket.parser)();
    let n = 0;
    parser.on("packet", () => n++);
    parser.parse(publish as Buffer);
    assert.equal(n, 1, order);
  }
});

Deno.test("whole QoS 0 and 1 PUBLISHes, as a subscriber reads them, are all taken in place, across full windows", () => {
  const publishes = Array.from({ length: 500 }, (_, i) =>
    mqttPacket.generate({
      cmd: "publish",
      qos: (i % 3 === 0 ? 0 : 1) as 0 | 1,
      dup: i % 7 === 0,
      retain: false,
      messageId: i % 3 === 0 ? undefined : 1 + i,
      topic: `sensors/s${i % 50}/v`,
      payload: JSON.stringify({ value: i }),
    }));
  // 20 chunks of 25 whole packets, as socket reads of a burst are
  const chunks = Array.from(
    { length: 20 },
    (_, k) => Buffer.concat(publishes.slice(25 * k, 25 * k + 25)),
  );
  const out = direct(chunks, (t) => t % 10 === 9);
  assert.equal(out.takes, 500);
  assert.deepEqual(out.out, oracle(chunks));
});
