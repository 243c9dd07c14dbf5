/**
 * The MQTT source's PUBLISH packets read in place from its socket's bytes
 * and handed straight to the source, without MQTT.js's work a packet.
 *
 * MQTT.js pipes its socket into a Writable whose `_write` feeds each chunk to
 * an mqtt-packet parser (a copy into a BufferList, four parser states, a
 * packet object), queues the packets and handles one a `process.nextTick`:
 * its handler dispatch, `packetreceive` and `message` events, a closure for
 * the acknowledgement, then the source's `handleMessage`. Through an external
 * Mosquitto that was a third of the main thread's cost a reading more than
 * the embedded broker's (docs/scaling.md). Here, for the parsers of the
 * clients registered with `takePublishesDirectly`, each whole, plainly valid
 * QoS 0 or 1 MQTT 3.1.1 PUBLISH at the start of a chunk, or after another
 * one, is read in place (publish_parser.ts) and given to the client's
 * `DirectTaker` at once, in the order of the bytes. Everything else (any
 * other packet, a QoS 2 PUBLISH, a part of a packet, a client not connected
 * yet) goes, with every byte after it in that chunk, to mqtt-packet's parser
 * and through MQTT.js as before; the bytes after that too until the parser
 * stands between two packets again. MQTT.js reads its next chunk once the
 * packets of the previous one are handled, so the two ways keep the order of
 * the packets on the connection.
 *
 * A full window holds the connection as before: when the taker says so, the
 * rest of the chunk is kept and the parser emits a `HeldBytes` packet in its
 * place, a QoS 0 PUBLISH that MQTT.js hands to the client's `handleMessage`
 * with the callback that lets it read on; the source keeps that callback and
 * calls `readOn()` once the window has room, then the callback once
 * `readOn()` says the chunk is read.
 *
 * ```ts
 * import mqttPacket from "mqtt-packet";
 * const client = mqtt.connect(url, { ...options, ...takePublishesDirectly(mqttPacket, taker) });
 * ```
 */
import type { Buffer } from "node:buffer";
import {
  between,
  keepMarks,
  type Parser,
  type ParserFactory,
  publishAt,
  wholePublishAt,
} from "./publish_parser.ts";

/** Where a client's direct PUBLISHes go. */
export interface DirectTaker {
  /** True while PUBLISHes may be taken directly: connected, subscribed, not closing. */
  ready(): boolean;
  /**
   * A whole QoS 0 or 1 PUBLISH (`id` 0 for QoS 0). True: the next packet
   * may be read now; false: the window is full, read on once it has room.
   */
  take(id: number, dup: boolean, retain: boolean, topic: string, payload: Buffer): boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * The rest of a chunk held back while the window is full, handed to MQTT.js
 * as a QoS 0 PUBLISH (the fields mqtt-packet's packet has) so that its
 * `handleMessage` callback holds the connection.
 */
export class HeldBytes {
  readonly cmd = "publish";
  readonly retain = false;
  readonly qos = 0;
  readonly dup = false;
  readonly length = 0;
  readonly topic = "";
  readonly payload = EMPTY;
  constructor(
    /** Reads on from where the window stopped; true once the chunk is read (hand on the callback). */
    readonly readOn: () => boolean,
  ) {}
}

const WRAPPED = Symbol.for("forecastd.publishesTakenDirectly");
/** The client option naming its taker: MQTT.js copies it into the options it makes parsers with. */
const TAKER = Symbol.for("forecastd.directTaker");

/**
 * Wraps `packets.parser` (mqtt-packet's exports, the object MQTT.js reads it
 * from) once, and returns the client option that makes the parsers of a
 * client given it hand whole PUBLISHes to `taker`: spread it into the
 * options of `mqtt.connect`.
 */
export function takePublishesDirectly(
  packets: ParserFactory,
  taker: DirectTaker,
): { [TAKER]: DirectTaker } {
  type Factory = ((opt?: unknown) => Parser) & { [WRAPPED]?: true };
  const make = packets.parser as Factory;
  if (!make[WRAPPED]) {
    const wrapped: Factory = (opt?: unknown) => {
      const parser = make(opt);
      const taker = typeof opt === "object" && opt !== null
        ? (opt as { [TAKER]?: DirectTaker })[TAKER]
        : undefined;
      if (taker !== undefined) takeFrom(parser, taker);
      return parser;
    };
    keepMarks(make, wrapped);
    wrapped[WRAPPED] = true;
    packets.parser = wrapped;
  }
  return { [TAKER]: taker };
}

/** Makes `parser` give whole PUBLISHes to `taker` as above. */
function takeFrom(parser: Parser, taker: DirectTaker): void {
  const parse = parser.parse.bind(parser);
  const at = publishAt();

  let rest: Buffer | null = null;
  /** Reads `buf` from `from`; false when held (the rest kept in `rest`). */
  const read = (buf: Buffer, from: number): boolean => {
    let i = from;
    const n = buf.length;
    while (i < n && taker.ready() && wholePublishAt(buf, i, at) && at.qos < 2) {
      const id = at.qos === 0 ? 0 : buf[at.topicEnd] << 8 | buf[at.topicEnd + 1];
      const room = taker.take(
        id,
        (at.first & 8) !== 0,
        (at.first & 1) !== 0,
        buf.toString("utf8", at.topicStart, at.topicEnd),
        buf.subarray(at.payloadStart, at.end),
      );
      i = at.end;
      if (!room) {
        rest = buf.subarray(i);
        return false;
      }
    }
    rest = null;
    if (i < n) parse(i === 0 ? buf : buf.subarray(i));
    return true;
  };
  const held = new HeldBytes(() => read(rest!, 0));
  parser.parse = (buf: Buffer): number => {
    if (!between(parser) || !taker.ready()) return parse(buf);
    if (!read(buf, 0)) parser.emit("packet", held);
    return parser._list.length;
  };
}
