/**
 * The embedded broker's PUBACKs, written together: the PUBACKs a connection
 * is owed during one turn of the event loop go out as one buffer of 4 bytes
 * each, in the order aedes wrote them, at the next tick (when mqtt-packet's
 * writer would have uncorked the socket).
 *
 * aedes writes each PUBACK through mqtt-packet's `writeToStream`: per PUBACK
 * a packet object's generic encoding, a cork and a next-tick uncork, three
 * socket writes (header, length, packet id: each a chunk object the socket
 * keeps until the uncork), a 2-byte Buffer for the id. One reading a message
 * means one PUBACK a reading: a share of the main thread's CPU a reading
 * (docs/scaling.md). This wraps `writeToStream` on mqtt-packet's exports,
 * which aedes calls as `mqtt.writeToStream(packet, conn)`; every other
 * packet, and any call with options (MQTT.js, which reads the same exports,
 * always passes them), goes to mqtt-packet's writer as before, after the
 * PUBACKs owed to that connection so far, so a connection's packets keep
 * their order.
 *
 * What a PUBACK means is unchanged: aedes writes it once the reading was
 * taken (src/ingest/broker.ts), and what it returns is what mqtt-packet
 * returns for a PUBACK (true: aedes never waits for a drain after one).
 *
 * ```ts
 * import mqttPacket from "mqtt-packet";
 * writePubacksTogether(mqttPacket);
 * ```
 */
import { Buffer } from "node:buffer";
import process from "node:process";

/** What is used of a connection: a node:net or node:tls socket. */
export interface AckStream {
  write(chunk: Uint8Array): boolean;
  readonly destroyed: boolean;
}

/** A packet as aedes hands it to the writer. */
interface Packet {
  cmd: string;
  messageId?: number;
}

type WriteToStream = (packet: Packet, stream: AckStream, opts?: unknown) => boolean;

/** mqtt-packet's exports, as far as they are used here (its own types name every packet). */
export interface PacketWriter {
  writeToStream: unknown;
}

const WRAPPED = Symbol.for("forecastd.pubacksTogether");

/** The packet ids owed a PUBACK per connection, in order; reused from one tick to the next. */
const owed = new WeakMap<AckStream, number[]>();
/** The connections owed PUBACKs now. */
const waiting = new Set<AckStream>();
let flushQueued = false;

/** Writes `stream`'s owed PUBACKs as one buffer (none once the socket is destroyed). */
function flush(stream: AckStream): void {
  waiting.delete(stream);
  const ids = owed.get(stream);
  if (ids === undefined || ids.length === 0) return;
  if (!stream.destroyed) stream.write(pubacks(ids));
  ids.length = 0;
}

/** The PUBACKs of packet ids `ids` (each 0 to 65535), in this order: 4 bytes each. */
export function pubacks(ids: readonly number[]): Buffer {
  const n = ids.length;
  const bytes = Buffer.allocUnsafe(4 * n);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    bytes[4 * i] = 0x40; // PUBACK
    bytes[4 * i + 1] = 2; // remaining length: the packet id
    bytes[4 * i + 2] = id >> 8;
    bytes[4 * i + 3] = id & 0xff;
  }
  return bytes;
}

function flushAll(): void {
  flushQueued = false;
  for (const stream of waiting) flush(stream);
}

/**
 * Owes `stream` the PUBACK of packet id `id` (0 to 65535): written with the
 * others owed it this turn, at the next tick, as a PUBACK aedes writes
 * through the wrapped writer (the embedded broker's own publishes path,
 * broker.ts, owes them here without a packet object).
 */
export function owePuback(stream: AckStream, id: number): void {
  let ids = owed.get(stream);
  if (ids === undefined) owed.set(stream, ids = []);
  ids.push(id);
  waiting.add(stream);
  if (!flushQueued) {
    flushQueued = true;
    process.nextTick(flushAll);
  }
}

/**
 * Wraps `packets.writeToStream` (mqtt-packet's exports) so that PUBACKs
 * written without options go out together, as above. Safe to call twice.
 */
export function writePubacksTogether(packets: PacketWriter): void {
  const writer = packets.writeToStream as WriteToStream & { [WRAPPED]?: true };
  if (writer[WRAPPED]) return;
  const wrapped = ((packet: Packet, stream: AckStream, opts?: unknown): boolean => {
    const id = packet.messageId;
    if (
      opts === undefined && packet.cmd === "puback" && typeof id === "number" &&
      Number.isInteger(id) && id >= 0 && id <= 0xffff
    ) {
      owePuback(stream, id);
      return true;
    }
    // the PUBACKs owed first: a connection's packets in the order they were written
    if (waiting.has(stream)) flush(stream);
    return writer(packet, stream, opts);
  }) as WriteToStream & { [WRAPPED]?: true };
  // mqtt-packet's switch of its number cache stays reachable through the wrapper
  Object.defineProperty(wrapped, "cacheNumbers", {
    get: () => (writer as unknown as { cacheNumbers: boolean }).cacheNumbers,
    set: (v: boolean) => void ((writer as unknown as { cacheNumbers: boolean }).cacheNumbers = v),
  });
  wrapped[WRAPPED] = true;
  packets.writeToStream = wrapped;
}
