/**
 * The embedded broker's PUBACKs written together (src/ingest/puback_writer.ts):
 * over a raw TCP connection to the real broker, and on a node:stream Writable.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import mqttPacket from "mqtt-packet";
import { captureLog } from "../../src/log.ts";
import { startEmbeddedBroker } from "../../src/ingest/broker.ts";
import { writePubacksTogether } from "../../src/ingest/puback_writer.ts";

const encoder = new TextEncoder();

/** An MQTT 3.1.1 packet: its first byte, its remaining length, its body. */
function packet(first: number, body: number[]): Uint8Array {
  const out = [first];
  let n = body.length;
  do {
    out.push((n % 128) | (n >= 128 ? 128 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return new Uint8Array([...out, ...body]);
}

const utf8 = (s: string) => {
  const b = [...encoder.encode(s)];
  return [b.length >> 8, b.length & 255, ...b];
};

/** CONNECT, clean session, no keep-alive. */
const connect = (clientId: string) =>
  packet(0x10, [...utf8("MQTT"), 4, 0x02, 0, 0, ...utf8(clientId)]);

/** PUBLISH at QoS 1. */
const publish = (topic: string, id: number, payload: string) =>
  packet(0x32, [...utf8(topic), id >> 8, id & 255, ...encoder.encode(payload)]);

/** Reads until `n` bytes came (or the connection ended). */
async function readBytes(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === null) break;
    got += k;
  }
  return out.subarray(0, got);
}

Deno.test("a burst of QoS 1 publishes on one connection gets each PUBACK once taken, in order, ids across both bytes", async () => {
  const held: (() => void)[] = [];
  const seen: string[] = [];
  const broker = await startEmbeddedBroker({
    port: 0,
    log: captureLog().log,
    onMessage: (m) => {
      seen.push(m.topic);
      return new Promise<boolean>((resolve) => held.push(() => resolve(true)));
    },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: broker.port });
  try {
    await conn.write(connect("burst"));
    assert.deepEqual([...await readBytes(conn, 4)], [0x20, 2, 0, 0], "CONNACK accepted");
    // ids 250..349: the low byte wraps, the high one counts
    const ids = Array.from({ length: 100 }, (_, i) => 250 + i);
    const burst = ids.map((id) => publish(`sensors/s${id}/v`, id, `{"value":${id}}`));
    await conn.write(new Uint8Array(burst.flatMap((p) => [...p])));
    while (held.length < ids.length) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, ids.map((id) => `sensors/s${id}/v`), "handed over in order");
    // nothing is acknowledged before it is taken: the first byte read must come after a release
    let released = false;
    let ackedEarly = false;
    const reading = (async () => {
      const out = new Uint8Array(4 * ids.length);
      let got = 0;
      while (got < out.length) {
        const k = await conn.read(out.subarray(got));
        if (k === null) break;
        if (got === 0 && !released) ackedEarly = true;
        got += k;
      }
      return out.subarray(0, got);
    })();
    await new Promise((r) => setTimeout(r, 200));
    released = true;
    // taken in halves, as two batches of a worker would be
    for (const release of held.splice(0, 50)) release();
    await new Promise((r) => setTimeout(r, 20));
    for (const release of held.splice(0)) release();
    const bytes = [...await reading];
    assert.equal(ackedEarly, false, "no PUBACK before the reading was taken");
    assert.equal(bytes.length, 4 * ids.length);
    const acks: number[] = [];
    for (let i = 0; i < bytes.length; i += 4) {
      assert.deepEqual(bytes.slice(i, i + 2), [0x40, 2], `PUBACK ${i / 4}`);
      acks.push(bytes[i + 2] * 256 + bytes[i + 3]);
    }
    assert.deepEqual(acks, ids);
    assert.equal(broker.stats.accepted, ids.length);
  } finally {
    conn.close();
    await broker.close();
  }
});

Deno.test("the PUBACKs of one tick are one write, before a later packet to that stream; with options, mqtt-packet writes", async () => {
  const chunks: number[][] = [];
  const stream = new Writable({
    writev(parts, done) {
      for (const p of parts) chunks.push([...(p.chunk as Uint8Array)]);
      done();
    },
    write(chunk, _encoding, done) {
      chunks.push([...(chunk as Uint8Array)]);
      done();
    },
  });
  const packets = { writeToStream: mqttPacket.writeToStream };
  writePubacksTogether(packets);
  writePubacksTogether(packets); // the second call wraps nothing more
  const write = packets.writeToStream as typeof mqttPacket.writeToStream;
  assert.equal(write({ cmd: "puback", messageId: 1 }, stream), true);
  assert.equal(write({ cmd: "puback", messageId: 258 }, stream), true);
  assert.equal(write({ cmd: "puback", messageId: 65535 }, stream), true);
  assert.deepEqual(chunks, [], "written at the next tick");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(chunks, [[0x40, 2, 0, 1, 0x40, 2, 1, 2, 0x40, 2, 255, 255]]);
  chunks.length = 0;
  // a PUBACK then another packet in the same tick: the PUBACK goes first
  write({ cmd: "puback", messageId: 9 }, stream);
  write({ cmd: "pingresp" }, stream);
  // MQTT.js passes its options: mqtt-packet's own writer, as before
  write({ cmd: "puback", messageId: 10 }, stream, { protocolVersion: 4 });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual((chunks as number[][]).flat(), [
    0x40,
    2,
    0,
    9,
    0xd0,
    0,
    0x40,
    2,
    0,
    10,
  ]);
  assert.equal((chunks as number[][])[0].length, 4, "the owed PUBACK is one chunk of its own");
});
