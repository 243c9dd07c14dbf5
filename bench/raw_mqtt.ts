/**
 * A lean MQTT 3.1.1 publisher for the scale benchmark (not part of the test
 * suite): one TCP connection, QoS 1 PUBLISH packets encoded by hand and
 * written many at once, each PUBACK matched to its packet id. It does what
 * MQTT.js does for the benchmark at a fraction of the CPU, so that the
 * daemon, not its load generator, has the machine's cores
 * (`bench/scale.ts --client=raw`).
 *
 * Several publishes may be in flight on one connection at once (the open
 * feed of bench/feed_schedule.ts publishes a slice at its due time whatever
 * is unacknowledged): each resolves once its own messages are acknowledged.
 * Writes to the socket are serialized, one batch's bytes after the other's.
 * At most `inflight` messages are unacknowledged at a time, with packet ids
 * drawn from 1..`inflight` (MQTT's ids are 16 bits: 65,535 at most), and an
 * id still in flight is never given to another message: a publish waits for
 * ids to come free. MQTT 3.1.1 has no receive maximum (MQTT 5's CONNACK
 * property); neither the daemon's embedded broker (aedes: it takes what one
 * read of the socket holds, acknowledges each as it is taken, and reads
 * again once all of them are) nor Mosquitto 2.0 (it acknowledges a 3.1.1
 * client's QoS 1 publish as it takes it; `max_inflight_messages` bounds what
 * it sends, and is the receive maximum it gives MQTT 5 clients) limits a
 * 3.1.1 publisher's unacknowledged messages: TCP's flow control does.
 *
 * encodeMessages() encodes messages once, ahead of time, as the PUBLISH
 * packets they go out as (packet ids left 0): publishing them then costs
 * setting each packet's id as one comes free and a write of the range, so
 * that a benchmark's publisher takes as little of the cores as it can
 * while the daemon is fed (bench/scale.ts's capacity part encodes its feed
 * before the clock starts). publish() of plain messages encodes them first.
 *
 * With `acks` (bench/sustained_rate.ts's AckLog), each read of the socket
 * that held PUBACKs is told how many readings they acknowledged (a message's
 * `readings`, default 1): when the daemon's readings were trained, from the
 * publisher's side, at the cost of one clock read a socket read.
 *
 * ```ts
 * const c = await RawPublisher.connect("mqtt://127.0.0.1:1883", "bench-0");
 * await c.publish([{ topic: "sensors/s0/v", payload: '{"value":1}' }]);
 * c.close();
 * ```
 */

const encoder = new TextEncoder();

/** MQTT's packet ids: 16 bits, 0 not allowed. */
export const MAX_PACKET_IDS = 65_535;

/** The MQTT "remaining length": 7 bits a byte, least significant first. */
function varint(n: number, out: number[]): void {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
}

/** One publish() call's messages still unacknowledged, and who waits for them. */
interface Batch {
  left: number;
  done: () => void;
  failed: (e: Error) => void;
}

/** Options of {@link RawPublisher.connect}. */
export interface RawPublisherOptions {
  /**
   * The most messages unacknowledged at once, and the packet ids used
   * (1..inflight). Default {@link MAX_PACKET_IDS}, all of MQTT's ids.
   */
  inflight?: number;
  /**
   * Told, after each read of the socket that held PUBACKs, the readings
   * they acknowledged (the messages' `readings`). Default none.
   */
  acks?: { add(readings: number): void };
}

/** A message to publish; `readings`: how many it carries, for `acks` (default 1). */
export interface RawMessage {
  topic: string;
  payload: string;
  readings?: number;
}

/** Messages encoded by {@link encodeMessages}: published once, their packet ids set as they go. */
export interface EncodedMessages {
  /** The QoS 1 PUBLISH packets one after the other, each packet id 0 until it is sent. */
  readonly bytes: Uint8Array;
  /** Where packet m ends in `bytes` (it starts where packet m - 1 ends, the first at 0). */
  readonly ends: Uint32Array;
  /** Where packet m's 2-byte packet id is in `bytes`. */
  readonly idAt: Uint32Array;
  /** The readings message m carries (its `readings`, default 1). */
  readonly readings: Uint32Array;
}

/** Encoded messages already given to publish(): their ids are being set, not to be set again. */
const published = new WeakSet<EncodedMessages>();

/** The messages as QoS 1 PUBLISH packets, packet ids to be set as they are published. */
export function encodeMessages(messages: readonly RawMessage[]): EncodedMessages {
  // at most 3 bytes of UTF-8 per UTF-16 unit, 5 of fixed header, 4 of lengths and id
  let size = 0;
  for (const m of messages) size += 9 + 3 * (m.topic.length + m.payload.length);
  const out = new Uint8Array(size);
  const ends = new Uint32Array(messages.length);
  const idAt = new Uint32Array(messages.length);
  const readings = new Uint32Array(messages.length);
  let at = 0;
  for (let m = 0; m < messages.length; m++) {
    // the body first, 5 bytes in (room for the fixed header), then the header before it
    const body = at + 5;
    const topic = encoder.encodeInto(messages[m].topic, out.subarray(body + 2)).written;
    out[body] = topic >> 8;
    out[body + 1] = topic & 255;
    const payload = encoder.encodeInto(messages[m].payload, out.subarray(body + 4 + topic))
      .written;
    const head: number[] = [0x32];
    varint(4 + topic + payload, head);
    const start = body - head.length;
    out.set(head, start);
    if (start > at) out.copyWithin(at, start, body + 4 + topic + payload);
    idAt[m] = at + head.length + 2 + topic;
    at += head.length + 4 + topic + payload;
    ends[m] = at;
    readings[m] = messages[m].readings ?? 1;
  }
  return { bytes: out.slice(0, at), ends, idAt, readings };
}

/** One publisher connection; see the module comment. */
export class RawPublisher {
  readonly #conn: Deno.TcpConn;
  readonly #ids: number;
  /** The batch each packet id in flight belongs to (index: the id). */
  readonly #owner: (Batch | undefined)[];
  /** The readings of the message each packet id in flight carries (index: the id). */
  readonly #weight: Uint32Array;
  readonly #acks: { add(readings: number): void } | null;
  #nextId = 1;
  #inFlight = 0;
  #mostInFlight = 0;
  /** Publishes waiting for packet ids to come free. */
  #waiting: (() => void)[] = [];
  /** The last publish to take packet ids: publishes take them in turn. */
  #turn: Promise<void> = Promise.resolve();
  /** The last write queued: writes go out one after the other. */
  #writing: Promise<void> = Promise.resolve();
  #failed: Error | null = null;

  private constructor(
    conn: Deno.TcpConn,
    ids: number,
    acks: { add(readings: number): void } | null,
  ) {
    this.#conn = conn;
    this.#ids = ids;
    this.#owner = new Array(ids + 1);
    this.#weight = new Uint32Array(ids + 1);
    this.#acks = acks;
  }

  /**
   * Connects (clean session, no credentials, no keep-alive: a publisher that
   * waits minutes for the acknowledgements of a daemon far behind sends
   * nothing meanwhile, and a broker closes a connection silent for one and a
   * half keep-alives) and waits for the CONNACK.
   */
  static async connect(
    url: string,
    clientId: string,
    opts: RawPublisherOptions = {},
  ): Promise<RawPublisher> {
    const ids = opts.inflight ?? MAX_PACKET_IDS;
    if (!Number.isInteger(ids) || ids < 1 || ids > MAX_PACKET_IDS) {
      throw new RangeError(
        `Cannot connect: inflight must be an integer from 1 to ${MAX_PACKET_IDS}: current value is ${ids}`,
      );
    }
    const u = new URL(url);
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    conn.setNoDelay(true);
    const id = encoder.encode(clientId);
    const body = [0, 4, 77, 81, 84, 84, 4, 2, 0, 0, id.length >> 8, id.length & 255, ...id];
    const head = [0x10];
    varint(body.length, head);
    await writeAll(conn, new Uint8Array([...head, ...body]));
    const ack = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const n = await conn.read(ack.subarray(got));
      if (n === null) throw new Error("Cannot connect: the broker closed the connection");
      got += n;
    }
    if (ack[0] !== 0x20 || ack[3] !== 0) {
      conn.close();
      throw new Error(`Cannot connect: CONNACK must accept: current value is ${ack.join(" ")}`);
    }
    const p = new RawPublisher(conn, ids, opts.acks ?? null);
    p.#readAcks();
    return p;
  }

  /** Messages written and not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most messages that were unacknowledged at once. */
  get mostInFlight(): number {
    return this.#mostInFlight;
  }

  /** Reads the broker's packets, settling each PUBACK's message. */
  async #readAcks(): Promise<void> {
    const buf = new Uint8Array(65536);
    let have = 0;
    try {
      for (;;) {
        const n = await this.#conn.read(buf.subarray(have));
        if (n === null) throw new Error("the broker closed the connection");
        have += n;
        let at = 0, acked = 0;
        for (;;) {
          // fixed header, remaining length, body
          if (have - at < 2) break;
          let len = 0, mul = 1, i = at + 1;
          for (; i < have; i++) {
            len += (buf[i] & 127) * mul;
            mul *= 128;
            if ((buf[i] & 128) === 0) break;
          }
          if (i >= have || have - (i + 1) < len) break;
          if (buf[at] >> 4 === 4) acked += this.#acked((buf[i + 1] << 8) | buf[i + 2]);
          at = i + 1 + len;
        }
        if (acked > 0) this.#acks?.add(acked);
        buf.copyWithin(0, at, have);
        have -= at;
      }
    } catch (e) {
      this.#fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The PUBACK of packet `id`: its message is settled and the id free again; its readings. */
  #acked(id: number): number {
    const batch = this.#owner[id];
    if (batch === undefined) {
      throw new Error(`PUBACK of packet id ${id}, which is not in flight`);
    }
    this.#owner[id] = undefined;
    this.#inFlight--;
    if (--batch.left === 0) batch.done();
    this.#waiting.shift()?.();
    return this.#weight[id];
  }

  #fail(e: Error): void {
    if (this.#failed) return;
    this.#failed = e;
    const batches = new Set(this.#owner.filter((b) => b !== undefined));
    this.#owner.fill(undefined);
    for (const b of batches) b.failed(e);
    for (const w of this.#waiting.splice(0)) w();
  }

  /**
   * Publishes the messages at QoS 1, as few writes as the free packet ids
   * allow; resolves once all of them are acknowledged, whatever else is in
   * flight on the connection. Messages encoded by encodeMessages() go as
   * they are (each such set published once).
   */
  async publish(plain: readonly RawMessage[] | EncodedMessages): Promise<void> {
    const messages = "bytes" in plain ? plain : encodeMessages(plain);
    if (published.has(messages)) {
      throw new Error("Cannot publish: encoded messages must be published once: these were before");
    }
    published.add(messages);
    if (messages.ends.length === 0) return;
    if (this.#failed) throw this.#failed;
    let done!: () => void, failed!: (e: Error) => void;
    const acked = new Promise<void>((res, rej) => {
      done = res;
      failed = rej;
    });
    const batch: Batch = { left: messages.ends.length, done, failed };
    // one publish at a time takes ids and queues its writes: messages go out in the calls' order
    const queued = this.#turn.then(() => this.#send(messages, batch));
    this.#turn = queued;
    await acked;
  }

  /** Writes the batch's messages, as many at once as there are free packet ids. */
  async #send(messages: EncodedMessages, batch: Batch) {
    const count = messages.ends.length;
    for (let from = 0; from < count;) {
      while (this.#inFlight === this.#ids && !this.#failed) {
        await new Promise<void>((r) => this.#waiting.push(r));
      }
      if (this.#failed) return batch.failed(this.#failed);
      const to = Math.min(count, from + this.#ids - this.#inFlight);
      const bytes = this.#take(messages, from, to, batch);
      from = to;
      const write = this.#writing.then(() => writeAll(this.#conn, bytes));
      this.#writing = write.catch(() => {});
      write.catch((e) => this.#fail(e instanceof Error ? e : new Error(String(e))));
    }
  }

  /** The packets of messages [from, to), each given a free packet id owned by `batch`. */
  #take(messages: EncodedMessages, from: number, to: number, batch: Batch): Uint8Array {
    const { bytes, idAt } = messages;
    for (let m = from; m < to; m++) {
      // the next id not in flight (there is one: fewer than #ids are)
      let id = this.#nextId;
      while (this.#owner[id] !== undefined) id = id === this.#ids ? 1 : id + 1;
      this.#nextId = id === this.#ids ? 1 : id + 1;
      this.#owner[id] = batch;
      this.#weight[id] = messages.readings[m];
      this.#inFlight++;
      bytes[idAt[m]] = id >> 8;
      bytes[idAt[m] + 1] = id & 255;
    }
    if (this.#inFlight > this.#mostInFlight) this.#mostInFlight = this.#inFlight;
    return bytes.subarray(from === 0 ? 0 : messages.ends[from - 1], messages.ends[to - 1]);
  }

  /** Sends DISCONNECT and closes the connection. */
  async close(): Promise<void> {
    try {
      await this.#writing;
      await writeAll(this.#conn, new Uint8Array([0xe0, 0]));
    } finally {
      this.#conn.close();
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}
