/**
 * Seeded MQTT packet streams, as a device (or a broken one) sends them, cut
 * into pieces, and what a parser emits for them: for the tests of the
 * PUBLISH packets read in place (publish_parser_test.ts,
 * client_publishes_test.ts), with mqtt-packet's own parser as the oracle.
 */
import { Buffer } from "node:buffer";

/** A packet as the parsers emit it, every own field in order, the payload as hex. */
export function seen(p: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(p).map((k) => [k, Buffer.isBuffer(p[k]) ? (p[k] as Buffer).toString("hex") : p[k]]),
  );
}

/** Feeds `chunks` to `parser`; what it emitted, packets and errors, in order. */
export function run(
  parser: { parse(b: Buffer): number; on(e: string, f: (x: unknown) => void): unknown },
  chunks: Buffer[],
): string[] {
  const out: string[] = [];
  parser.on("packet", (p) => out.push(seen(p as Record<string, unknown>)));
  parser.on("error", (e) => out.push(`error: ${(e as Error).message}`));
  for (const c of chunks) parser.parse(c);
  return out;
}

/**
 * A seeded generator of the packets a device sends; with `broken`, a broken
 * one too (packets mqtt-packet refuses, after which a connection ends).
 */
export function packets(seed: number, count: number, broken = true): Buffer {
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
      const qos = kind === 3 && broken ? 3 : rand(3); // QoS 3: a packet mqtt-packet refuses
      const topic = kind === 4 && broken
        ? Buffer.from([0x61, 0xff, 0xfe]) // not UTF-8
        : Buffer.from(topics[rand(topics.length)], "utf8");
      const payload = Buffer.alloc(rand(4) === 0 ? 130 + rand(300) : rand(60), 0x30 + rand(10));
      const id = 1 + rand(65535);
      let body = [topic.length >> 8, topic.length & 255, ...topic];
      if (qos > 0) body.push(id >> 8, id & 255);
      body.push(...payload);
      // a topic length past the packet's end (a packet mqtt-packet refuses)
      if (kind === 5 && broken) body = [0, 200, ...body.slice(2, 6)];
      const first = 0x30 | (qos << 1) | (rand(2) ? 8 : 0) | rand(2);
      parts.push(Buffer.from([first, ...varint(body.length), ...body]));
    }
  }
  return Buffer.concat(parts);
}

/** `bytes` cut at seeded places into pieces of 1 to `most` bytes. */
export function cut(bytes: Buffer, seed: number, most: number): Buffer[] {
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
