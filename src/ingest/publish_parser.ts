/**
 * The embedded broker's PUBLISH packets read straight from the socket's
 * bytes. aedes gives each connection an mqtt-packet parser, which copies
 * every read into a BufferList and walks each packet through four states,
 * each consuming bytes off the list (a new Buffer view a step), its varint
 * as an object, its packet as a new object. A device's usual packet is a
 * whole PUBLISH of one reading: it is read here in place, from the start of
 * the bytes aedes read, into the packet mqtt-packet would have made (same
 * fields, same values, emitted as the same `packet` event, in order).
 * A PUBLISH that a read ends within (in a burst, nearly every read does) is
 * held until the next read completes it, then read in place too; a whole
 * packet of another kind goes alone to mqtt-packet's own parser. Whatever
 * else is not a whole, plainly valid MQTT 3.1/3.1.1 PUBLISH (a part of
 * another packet, a packet mqtt-packet would refuse, a connection that said
 * MQTT 5) goes, with every byte after it, to mqtt-packet's own parser as
 * before, and the bytes after that too until it stands between two packets
 * again. What is emitted is what mqtt-packet's parser emits for the same
 * bytes, however the reads cut them (tests/ingest/publish_parser_test.ts).
 *
 * Only parsers made without options are read this way: aedes makes its own
 * as `mqtt.parser()`; MQTT.js, which reads the same exports, passes its
 * options. The MQTT source's own client reads its PUBLISHes in place too,
 * with this file's `wholePublishAt`, but hands them to the source without
 * an event (client_publishes.ts); other MQTT.js clients keep mqtt-packet's
 * parser throughout.
 *
 * ```ts
 * import mqttPacket from "mqtt-packet";
 * readPublishesInPlace(mqttPacket);
 * ```
 */
import { Buffer } from "node:buffer";

/** What is used of mqtt-packet's Parser. */
export interface Parser {
  parse(buf: Buffer): number;
  emit(event: "packet", packet: unknown): boolean;
  settings: { protocolVersion?: number };
  packet: { length: number };
  error: unknown;
  _list: { length: number };
  _stateCounter: number;
}

/** mqtt-packet's exports, as far as they are used here (its own types name every packet). */
export interface ParserFactory {
  parser: unknown;
}

/** A PUBLISH as mqtt-packet's parser makes it: its Packet's fields in its order, then the id. */
export interface ReadPublish {
  cmd: "publish";
  retain: boolean;
  qos: 0 | 1 | 2;
  dup: boolean;
  length: number;
  topic: string;
  payload: Buffer;
  messageId?: number;
}

/** A ReadPublish, made with mqtt-packet's field order (one shape for every packet). */
class PublishPacket implements ReadPublish {
  declare cmd: "publish";
  declare retain: boolean;
  declare qos: 0 | 1 | 2;
  declare dup: boolean;
  declare length: number;
  declare topic: string;
  declare payload: Buffer;
  /** Only with QoS 1 and 2, as mqtt-packet sets it. */
  declare messageId?: number;
  constructor(
    retain: boolean,
    qos: number,
    dup: boolean,
    length: number,
    topic: string,
    payload: Buffer,
  ) {
    this.cmd = "publish";
    this.retain = retain;
    this.qos = qos as 0 | 1 | 2;
    this.dup = dup;
    this.length = length;
    this.topic = topic;
    this.payload = payload;
  }
}

const WRAPPED = Symbol.for("forecastd.publishesInPlace");
/** A parser's reads that came while it was emitting (aedes may read again from a handler). */
const LATER = Symbol("forecastd.laterReads");
/** The first bytes of a PUBLISH a read ended with, and the packet's length (cutPublishAt). */
const HELD = Symbol("forecastd.heldPublish");

/** A parser's taker of whole PUBLISH packets (takePublishes). */
const TAKE = Symbol("forecastd.takePublish");

interface Held {
  bytes: Buffer;
  /** The packet's length; -1 while its remaining length is cut short. */
  total: number;
}

/**
 * Takes a whole PUBLISH read in place before it is emitted: true when it
 * took it (it is then not emitted), false to let it be emitted as usual.
 */
export type PublishTaker = (packet: ReadPublish) => boolean;

type Wrapped = Parser & {
  [LATER]?: Buffer[] | null;
  [HELD]?: Held | null;
  [TAKE]?: PublishTaker;
};

/**
 * Gives `parser` (one made by the wrapped factory, see
 * readPublishesInPlace) a taker: each whole PUBLISH it reads in place is
 * offered to `take` first, and emitted as before only when `take` says
 * false. The embedded broker takes a device's plain QoS 0 and 1 publishes
 * this way, without aedes's work a packet (broker.ts). A packet read by
 * mqtt-packet's own parser is emitted as before.
 */
export function takePublishes(parser: Parser, take: PublishTaker): void {
  (parser as Wrapped)[TAKE] = take;
}

/** Where a whole PUBLISH's parts lie in a buffer (wholePublishAt fills it in). */
export interface PublishAt {
  /** The fixed header's first byte: type, DUP, QoS, RETAIN. */
  first: number;
  qos: number;
  /** The remaining length. */
  length: number;
  /** Where the topic's bytes start and end, where the payload starts (after the id), the packet's end. */
  topicStart: number;
  topicEnd: number;
  payloadStart: number;
  end: number;
}

/** frameAt's answers besides a cut PUBLISH's length (a positive number). */
/** A whole, plainly valid PUBLISH: `to` is filled in. */
const WHOLE_PUBLISH = -2;
/** A whole packet of another kind, or a whole PUBLISH mqtt-packet refuses: `to.end` is its end. */
const WHOLE_OTHER = -3;
/** A PUBLISH cut within its remaining length (a few bytes). */
const CUT_LENGTH = -1;
/** Anything else: its bytes, and those after, go to mqtt-packet's parser. */
const REST = 0;

/**
 * The longest PUBLISH whose first bytes a read ends with that is held until
 * the next read completes it (see cutPublishAt); a longer one goes to
 * mqtt-packet's parser.
 */
const MOST_HELD = 65_536;

/**
 * What starts at `buf[at]`, its fixed header's remaining length decoded
 * once: WHOLE_PUBLISH (a whole, plainly valid MQTT 3.1/3.1.1 PUBLISH of QoS
 * 0 to 2, `to` filled in); WHOLE_OTHER (a whole packet of another kind, or
 * a PUBLISH whose topic or id lies past its end: `to.end` is its end); for
 * a PUBLISH of QoS 0 to 2 that `buf` ends within (mqtt-packet's parser,
 * given its bytes alone, would wait for more), its length (fixed header and
 * remaining length) when that is at most MOST_HELD, or CUT_LENGTH when the
 * remaining length itself is cut short; REST for anything else (a longer
 * one, another packet cut short, a remaining length that is not valid).
 */
function frameAt(buf: Uint8Array, at: number, to: PublishAt): number {
  const n = buf.length;
  const first = buf[at];
  const publish = first >> 4 === 3 && ((first >> 1) & 3) !== 3;
  // the remaining length: 1 to 4 bytes of 7 bits, least significant first
  let length = 0;
  let i = at + 1;
  let shift = 0;
  for (;;) {
    if (shift > 21) return REST;
    if (i >= n) return publish ? CUT_LENGTH : REST;
    const b = buf[i++];
    length += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  const end = i + length;
  if (end > n) {
    const total = end - at;
    return publish && total <= MOST_HELD ? total : REST;
  }
  to.end = end;
  if (!publish || length < 2) return WHOLE_OTHER;
  const qos = (first >> 1) & 3;
  // the topic's length, the topic and the packet id must lie within the packet
  const topicEnd = i + 2 + (buf[i] << 8 | buf[i + 1]);
  const idEnd = qos > 0 ? topicEnd + 2 : topicEnd;
  if (idEnd > end) return WHOLE_OTHER;
  to.first = first;
  to.qos = qos;
  to.length = length;
  to.topicStart = i + 2;
  to.topicEnd = topicEnd;
  to.payloadStart = idEnd;
  return WHOLE_PUBLISH;
}

/**
 * True when a whole, plainly valid MQTT 3.1/3.1.1 PUBLISH (QoS 0 to 2)
 * starts at `buf[at]`, with `to` filled in; false for anything else (any
 * other packet, a part of one, one whose topic or id lies past its end).
 */
export function wholePublishAt(buf: Uint8Array, at: number, to: PublishAt): boolean {
  return frameAt(buf, at, to) === WHOLE_PUBLISH;
}

/** A PublishAt for wholePublishAt to fill in (one a reader, reused packet after packet). */
export function publishAt(): PublishAt {
  return { first: 0, qos: 0, length: 0, topicStart: 0, topicEnd: 0, payloadStart: 0, end: 0 };
}

/** frameAt's answer, reused (one packet is read at a time, on one thread). */
const found = publishAt();

/**
 * Whether `buf` ends, from `at`, with the first bytes of a PUBLISH of QoS 0
 * to 2 (mqtt-packet's parser, given them alone, would wait for more, as for
 * any packet cut short): its length (fixed header and remaining length) when
 * that is at most MOST_HELD bytes; -1 when the remaining length itself is cut
 * short; 0 for anything else (another packet, a whole one, a longer one).
 */
export function cutPublishAt(buf: Uint8Array, at: number): number {
  const kind = frameAt(buf, at, publishAt());
  return kind === WHOLE_PUBLISH || kind === WHOLE_OTHER ? 0 : kind;
}

/**
 * Emits the PUBLISH `p` found in `buf` (frameAt's WHOLE_PUBLISH), unless
 * the parser's taker (takePublishes) takes it first.
 */
function emitPublish(parser: Wrapped, buf: Buffer, p: PublishAt): void {
  const packet = new PublishPacket(
    (p.first & 1) !== 0,
    p.qos,
    (p.first & 8) !== 0,
    p.length,
    buf.toString("utf8", p.topicStart, p.topicEnd),
    buf.subarray(p.payloadStart, p.end),
  );
  if (p.qos > 0) packet.messageId = buf[p.topicEnd] << 8 | buf[p.topicEnd + 1];
  const take = parser[TAKE];
  if (take === undefined || !take(packet)) parser.emit("packet", packet);
}

/** True when mqtt-packet's parser stands between two packets, with nothing of its own buffered. */
export function between(parser: Parser): boolean {
  return parser._stateCounter === 0 && parser._list.length === 0 && parser.packet.length === -1 &&
    !parser.error && parser.settings.protocolVersion !== 5;
}

/**
 * Wraps `packets.parser` (mqtt-packet's exports) so that the parsers made
 * without options read whole PUBLISH packets in place, as above. Safe to
 * call twice.
 */
export function readPublishesInPlace(packets: ParserFactory): void {
  type Factory = ((opt?: unknown) => Parser) & { [WRAPPED]?: true };
  const make = packets.parser as Factory;
  if (make[WRAPPED]) return;
  const wrapped: Factory = (opt?: unknown) => {
    const parser = make(opt) as Wrapped;
    if (opt !== undefined) return parser;
    const parse = parser.parse.bind(parser);
    parser.parse = (buf: Buffer): number => {
      const later = parser[LATER];
      // a read during an emit: after the bytes being read now, in order
      if (later !== undefined && later !== null) {
        later.push(buf);
        return 0;
      }
      parser[LATER] = [];
      try {
        for (
          let next: Buffer | undefined = buf;
          next !== undefined;
          next = parser[LATER]!.shift()
        ) {
          const held = parser[HELD];
          if (held && held.total < 0) {
            // cut within its remaining length (a few bytes): read on as one with this read
            parser[HELD] = null;
            read(Buffer.concat([held.bytes, next]));
          } else if (held) {
            // the PUBLISH the last read ended with, completed from this one's first bytes
            const need = held.total - held.bytes.length;
            if (next.length < need) {
              parser[HELD] = { bytes: Buffer.concat([held.bytes, next]), total: held.total };
              continue;
            }
            parser[HELD] = null;
            const whole = Buffer.concat([held.bytes, next.subarray(0, need)]);
            if (frameAt(whole, 0, found) === WHOLE_PUBLISH) {
              emitPublish(parser, whole, found);
              if (need < next.length) read(next.subarray(need));
            } else {
              // one mqtt-packet refuses: its parser gets the bytes in the reads they came in (after
              // an error it drops the rest of the read)
              parse(Buffer.concat([held.bytes, next]));
            }
          } else read(next);
        }
      } finally {
        parser[LATER] = null;
      }
      return parser._list.length + (parser[HELD]?.bytes.length ?? 0);
    };
    /**
     * The whole PUBLISHes of `next` in place, the rest through mqtt-packet's parser; when
     * `next` ends within a PUBLISH, its first bytes are held until the next read instead (in a
     * burst every read ends within one, and mqtt-packet's parser would then read every packet
     * after it until a read ended between two).
     */
    const read = (next: Buffer) => {
      let from = 0;
      const p = found;
      while (from < next.length && between(parser)) {
        // each packet's fixed header is read once (frameAt), whatever it turns out to be
        const kind = frameAt(next, from, p);
        if (kind === WHOLE_PUBLISH) {
          from = p.end;
          emitPublish(parser, next, p);
        } else if (kind === WHOLE_OTHER) {
          // a whole packet of another kind (a PINGREQ, a PUBLISH mqtt-packet refuses) goes to
          // mqtt-packet's parser alone; after an error it drops the rest of the read, as before
          const end = p.end;
          parse(next.subarray(from, end));
          if (parser.error) return;
          from = end;
        } else if (kind !== REST) {
          parser[HELD] = { bytes: next.subarray(from), total: kind };
          return;
        } else break;
      }
      if (from < next.length) parse(from === 0 ? next : next.subarray(from));
    };
    return parser;
  };
  keepMarks(make, wrapped);
  wrapped[WRAPPED] = true;
  packets.parser = wrapped;
}

/**
 * Copies the marks (own symbol properties) of a wrapped `parser` factory to
 * its wrapper: each wrapper of mqtt-packet's factory (this file's,
 * client_publishes.ts's) marks what it wrapped, and a wrapper around another
 * keeps that mark, so that neither wraps twice.
 */
export function keepMarks(from: object, to: object): void {
  for (const key of Object.getOwnPropertySymbols(from)) {
    (to as Record<symbol, unknown>)[key] = (from as Record<symbol, unknown>)[key];
  }
}
