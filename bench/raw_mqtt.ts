/**
 * A lean MQTT 3.1.1 publisher for the scale benchmark (not part of the test
 * suite): one TCP connection, QoS 1 PUBLISH packets encoded by hand and
 * written many at once, PUBACKs counted. It does what MQTT.js does for the
 * benchmark at a fraction of the CPU, so that the daemon, not its load
 * generator, has the machine's cores (`bench/scale.ts --client=raw`).
 *
 * ```ts
 * const c = await RawPublisher.connect("mqtt://127.0.0.1:1883", "bench-0");
 * await c.publish([{ topic: "sensors/s0/v", payload: '{"value":1}' }]);
 * c.close();
 * ```
 */

const encoder = new TextEncoder();

/** The MQTT "remaining length": 7 bits a byte, least significant first. */
function varint(n: number, out: number[]): void {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
}

/** One publisher connection; see the module comment. */
export class RawPublisher {
  readonly #conn: Deno.TcpConn;
  #nextId = 1;
  /** PUBACKs still awaited, and who waits for them reaching zero. */
  #unacked = 0;
  #drained: (() => void)[] = [];
  #failed: Error | null = null;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /**
   * Connects (clean session, no credentials, no keep-alive: a publisher that
   * waits minutes for the acknowledgements of a daemon far behind sends
   * nothing meanwhile, and a broker closes a connection silent for one and a
   * half keep-alives) and waits for the CONNACK.
   */
  static async connect(url: string, clientId: string): Promise<RawPublisher> {
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
    const p = new RawPublisher(conn);
    p.#readAcks();
    return p;
  }

  /** Reads the broker's packets, counting PUBACKs. */
  async #readAcks(): Promise<void> {
    const buf = new Uint8Array(65536);
    let have = 0;
    try {
      for (;;) {
        const n = await this.#conn.read(buf.subarray(have));
        if (n === null) throw new Error("the broker closed the connection");
        have += n;
        let at = 0;
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
          if (buf[at] >> 4 === 4) this.#unacked--;
          at = i + 1 + len;
        }
        buf.copyWithin(0, at, have);
        have -= at;
        if (this.#unacked === 0) { for (const d of this.#drained.splice(0)) d(); }
      }
    } catch (e) {
      this.#failed = e instanceof Error ? e : new Error(String(e));
      for (const d of this.#drained.splice(0)) d();
    }
  }

  /** Publishes the messages at QoS 1 in one write; resolves once all are acknowledged. */
  async publish(messages: readonly { topic: string; payload: string }[]): Promise<void> {
    if (messages.length === 0) return;
    // at most 3 bytes of UTF-8 per UTF-16 unit, 5 of fixed header, 4 of lengths and id
    let size = 0;
    for (const m of messages) size += 9 + 3 * (m.topic.length + m.payload.length);
    const out = new Uint8Array(size);
    let at = 0;
    for (const m of messages) {
      const id = this.#nextId;
      this.#nextId = id === 65535 ? 1 : id + 1;
      // the body first, 5 bytes in (room for the fixed header), then the header before it
      const body = at + 5;
      const topic = encoder.encodeInto(m.topic, out.subarray(body + 2)).written;
      out[body] = topic >> 8;
      out[body + 1] = topic & 255;
      out[body + 2 + topic] = id >> 8;
      out[body + 3 + topic] = id & 255;
      const payload = encoder.encodeInto(m.payload, out.subarray(body + 4 + topic)).written;
      const head: number[] = [0x32];
      varint(4 + topic + payload, head);
      const start = body - head.length;
      out.set(head, start);
      if (start > at) out.copyWithin(at, start, body + 4 + topic + payload);
      at += head.length + 4 + topic + payload;
    }
    this.#unacked += messages.length;
    const drained = new Promise<void>((resolve) => this.#drained.push(resolve));
    await writeAll(this.#conn, out.subarray(0, at));
    await drained;
    if (this.#failed) throw this.#failed;
  }

  /** Sends DISCONNECT and closes the connection. */
  async close(): Promise<void> {
    try {
      await writeAll(this.#conn, new Uint8Array([0xe0, 0]));
    } finally {
      this.#conn.close();
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}
