/**
 * The API's server over real sockets: WebSocket frames written by hand
 * over Deno.connect (an oversized message, an unmasked frame), a refused
 * handshake answered in plain HTTP, and HTTPS with a certificate made by
 * openssl for the test.
 */
import assert from "node:assert/strict";
import { hashToken } from "../../src/auth/token_hash.ts";
import { withTempDir } from "../_helpers.ts";
import { makeCertificate } from "./_certificate.ts";
import { json, serve, startDaemon, within } from "./_harness.ts";
import { parseWebSocketMessage } from "../../src/ingest/parse.ts";
import { GATHER_TURN_BYTES } from "../../src/api/http_server.ts";
import { bytesBatch } from "../e2e/_big_batches.ts";

/**
 * A client WebSocket frame: FIN unless `fin` is false, `opcode`, masked
 * unless `mask` is false; `declared` overrides the length.
 */
function frame(
  payload: Uint8Array,
  opts: { opcode?: number; mask?: boolean; declared?: number; fin?: boolean } = {},
): Uint8Array {
  const mask = opts.mask ?? true;
  const len = opts.declared ?? payload.length;
  const head: number[] = [(opts.fin === false ? 0 : 0x80) | (opts.opcode ?? 1)];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 255);
  else {
    head.push(
      m | 127,
      0,
      0,
      0,
      0,
      (len >>> 24) & 255,
      (len >> 16) & 255,
      (len >> 8) & 255,
      len & 255,
    );
  }
  const key = [0x12, 0x34, 0x56, 0x78];
  if (mask) head.push(...key);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  for (let i = 0; i < payload.length; i++) {
    out[head.length + i] = mask ? payload[i] ^ key[i % 4] : payload[i];
  }
  return out;
}

/** A raw WebSocket client: the handshake, then frames in and out. */
class RawSocket {
  /** The handshake's answer: status line and headers. */
  status = "";
  #buf: Uint8Array = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  static async open(
    port: number,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<RawSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${btoa("forecastd-tests!")}`,
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const s = new RawSocket(conn);
    const head = await s.#until((b) => findEnd(b) >= 0, "the handshake's answer");
    const end = findEnd(head);
    s.status = new TextDecoder().decode(head.subarray(0, end));
    s.#buf = head.subarray(end + 4);
    return s;
  }

  async #until(
    done: (b: Uint8Array) => boolean,
    what: string,
    ms = 5000,
  ): Promise<Uint8Array> {
    const chunk = new Uint8Array(65536);
    while (!done(this.#buf)) {
      const n = await within(this.conn.read(chunk), ms, what);
      if (n === null) break;
      const next = new Uint8Array(this.#buf.length + n);
      next.set(this.#buf);
      next.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = next;
    }
    return this.#buf;
  }

  /** Writes `bytes`; false when the server has closed the connection meanwhile. */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      await this.conn.write(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The next frame from the server: opcode and payload (a close: code in the
   * first 2 bytes); waits up to `ms` for each read.
   */
  async next(ms = 5000): Promise<{ opcode: number; payload: Uint8Array }> {
    // the server's frames here are under 64 KiB: a 7-bit or a 16-bit length
    const head = (b: Uint8Array) => (b[1] & 127) === 126 ? 4 : 2;
    const size = (b: Uint8Array) => (b[1] & 127) === 126 ? (b[2] << 8) | b[3] : b[1] & 127;
    const complete = (b: Uint8Array) =>
      b.length >= 2 && b.length >= head(b) && b.length >= head(b) + size(b);
    const b = await this.#until(complete, "a frame", ms);
    const at = head(b), len = size(b);
    const f = { opcode: b[0] & 15, payload: b.slice(at, at + len) };
    this.#buf = b.subarray(at + len);
    return f;
  }

  close() {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

function findEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

const closeCode = (p: Uint8Array) => (p[0] << 8) | p[1];

Deno.test("a 64 MiB WebSocket message is refused from its header (1009), unread, and memory stays low", async () => {
  const d = await startDaemon();
  const server = await serve(d.app, { maxMessageBytes: 1024 * 1024 });
  const ws = await RawSocket.open(server.port, "/v1/ingest/ws");
  try {
    assert.match(ws.status, /^HTTP\/1\.1 101 /);
    const rss0 = Deno.memoryUsage().rss;
    const size = 64 * 1024 * 1024;
    await ws.write(frame(new Uint8Array(0), { declared: size }));
    // then the payload, 1 MiB at a time, until the server stops taking it
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let written = 0;
    while (written < size && await ws.write(chunk)) written += chunk.length;
    assert.ok(written < size / 4, `the server stopped reading: ${written} bytes were taken`);
    const f = await ws.next();
    assert.equal(f.opcode, 8, "a close frame");
    assert.equal(closeCode(f.payload), 1009, "1009: message too big");
    const grown = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
    assert.ok(grown < 32, `RSS grew by ${grown.toFixed(1)} MiB for a 64 MiB message`);
    assert.equal(d.service.rejects().too_large, 1, "counted as too_large");
  } finally {
    ws.close();
    await server.close();
    await d.close();
  }
});

Deno.test("an unmasked client frame closes the WebSocket with 1002 and is not ingested", async () => {
  const d = await startDaemon();
  const server = await serve(d.app);
  const ws = await RawSocket.open(server.port, "/v1/ingest/ws");
  try {
    const reading = new TextEncoder().encode(JSON.stringify({ stream: "u", t: 1 }));
    // a masked frame is taken
    await ws.write(frame(reading));
    const reply = await ws.next();
    assert.equal(reply.opcode, 1);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(reply.payload)), {
      ok: true,
      accepted: 1,
    });
    await ws.write(
      frame(new TextEncoder().encode(JSON.stringify({ stream: "v", t: 1 })), { mask: false }),
    );
    const f = await ws.next();
    assert.equal(f.opcode, 8);
    assert.equal(closeCode(f.payload), 1002, "1002: protocol error");
    assert.equal(d.service.records.has("v"), false);
  } finally {
    ws.close();
    await server.close();
    await d.close();
  }
});

/** `bytes` written in pieces of 1 to `most` bytes (a seeded cut), each write awaited. */
async function writeInPieces(ws: RawSocket, bytes: Uint8Array, most: number): Promise<void> {
  let seed = 7;
  for (let at = 0; at < bytes.length;) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (seed % most);
    assert.ok(await ws.write(bytes.subarray(at, at + n)), "the server reads on");
    at += n;
  }
}

const text = (p: Uint8Array) => new TextDecoder().decode(p);

Deno.test("a 1 MiB WebSocket message in fragments cut anywhere reaches ws unmasked, unjoined, and gets the readings and errors of the message whole", async () => {
  // ws's frame reader (lib/receiver.js): consume(n) joins the buffered chunks when n is more than
  // the first; getData() unmasks a payload unless the frame's key is 0. Neither may touch it. Its
  // 'drain' (ws then resumes the socket) comes after a turn every GATHER_TURN_BYTES gathered.
  const { Receiver } = await import("ws") as unknown as {
    Receiver: { prototype: Record<string, (...a: unknown[]) => unknown> };
  };
  const proto = Receiver.prototype;
  const consume = proto.consume, getData = proto.getData, emit = proto.emit;
  let joined = 0, keyed = 0, drains = 0;
  proto.emit = function (this: unknown, event: unknown, ...rest: unknown[]) {
    if (event === "drain") drains++;
    return emit.call(this, event, ...rest);
  };
  proto.consume = function (this: { _buffers: Uint8Array[] }, n: unknown) {
    if ((n as number) > this._buffers[0].length) joined += n as number;
    return consume.call(this, n);
  };
  proto.getData = function (this: { _mask?: Uint8Array }, cb: unknown) {
    if (this._mask !== undefined && this._mask.some((b) => b !== 0)) keyed++;
    return getData.call(this, cb);
  };
  const d = await startDaemon();
  const server = await serve(d.app, { maxMessageBytes: 1024 * 1024 });
  const ws = await RawSocket.open(server.port, "/v1/ingest/ws");
  const bytesOf = (s: string) => new TextEncoder().encode(s);
  /** `message` as a text fragment, a ping, and its continuation, written in pieces; the reply. */
  const send = async (message: Uint8Array, most: number) => {
    const cut = 400_001;
    await writeInPieces(
      ws,
      new Uint8Array([
        ...frame(message.subarray(0, cut), { fin: false }),
        ...frame(bytesOf("ping!"), { opcode: 9 }),
        ...frame(message.subarray(cut), { opcode: 0 }),
      ]),
      most,
    );
    const pong = await ws.next();
    assert.deepEqual([pong.opcode, text(pong.payload)], [10, "ping!"], "the ping answered");
    // (the service learns from thousands of readings: a while under load)
    return JSON.parse(text((await ws.next(60_000)).payload));
  };
  try {
    const batch = bytesBatch(1024 * 1024, ["f0", "f1", "f2", "f3"]);
    const good = JSON.stringify(batch);
    assert.ok(good.length > 1000_000 && good.length <= 1024 * 1024);
    const whole = parseWebSocketMessage(good, { receivedAt: Date.now() });
    assert.ok(whole.ok);
    assert.deepEqual(await send(bytesOf(good), 70_000), {
      ok: true,
      accepted: whole.readings.length,
    });
    assert.deepEqual(d.ingested, whole.readings, "the readings of the message whole, in order");
    assert.equal(joined, 0, "bytes ws joined from chunks");
    assert.equal(keyed, 0, "frames ws unmasked");
    // over 1,000,000 bytes at 262,144 a turn (pieces of 70,000 at most overshoot each by less)
    assert.equal(GATHER_TURN_BYTES, 262_144);
    assert.ok(drains >= 3, `the socket waited a turn every 256 KiB: ${drains} times`);

    // a bad time deep in it: the error of the message whole, nothing taken
    const bad = JSON.stringify(batch.map((r, i) => i === 5000 ? { ...r as object, ts: "x" } : r));
    const refused = parseWebSocketMessage(bad, { receivedAt: Date.now() });
    assert.ok(!refused.ok);
    assert.deepEqual(await send(bytesOf(bad), 9_000), {
      ok: false,
      reason: refused.error.reason,
      error: refused.error.message,
      field: "[5000].ts",
    });
    assert.equal(d.ingested.length, whole.readings.length, "nothing more taken");

    // a text message that is not UTF-8 still closes the socket (1007)
    const broken = bytesOf(good);
    broken[600_000] = 0xff;
    await writeInPieces(ws, frame(broken), 65_536);
    const f = await ws.next();
    assert.equal(f.opcode, 8);
    assert.equal(closeCode(f.payload), 1007, "1007: invalid payload data");
  } finally {
    proto.consume = consume;
    proto.getData = getData;
    proto.emit = emit;
    ws.close();
    await server.close();
    await d.close();
  }
});

Deno.test("a refused WebSocket handshake gets a plain HTTP answer: 401 without a token, 403 from another origin", async () => {
  const token = "fcd_http-server-test-token-00000000000000000000";
  const d = await startDaemon({ env: { FORECASTD_API_TOKENS: `write:${hashToken(token)}` } });
  const server = await serve(d.app);
  try {
    const none = await RawSocket.open(server.port, "/v1/alerts/ws");
    assert.match(none.status, /^HTTP\/1\.1 401 /);
    assert.match(none.status, /www-authenticate: Bearer realm="forecastd"/i);
    none.close();
    const foreign = await RawSocket.open(server.port, `/v1/alerts/ws?token=${token}`, {
      Origin: "https://evil.example",
    });
    assert.match(foreign.status, /^HTTP\/1\.1 403 /);
    foreign.close();
    const ok = await RawSocket.open(server.port, `/v1/alerts/ws?token=${token}`, {
      Origin: `http://127.0.0.1:${server.port}`,
    });
    assert.match(ok.status, /^HTTP\/1\.1 101 /, "the same origin with the token");
    ok.close();
  } finally {
    await server.close();
    await d.close();
  }
});

Deno.test("with a certificate the server speaks HTTPS: a client trusting it gets answers, plain HTTP does not", async (t) => {
  await withTempDir(async (dir) => {
    const pem = await makeCertificate(dir);
    if (pem === null) {
      console.log("openssl is not installed: skipping the HTTPS test");
      t.step({ name: "HTTPS (skipped: no openssl)", ignore: true, fn: () => {} });
      return;
    }
    const d = await startDaemon();
    const server = await serve(d.app, pem);
    const client = Deno.createHttpClient({ caCerts: [pem.cert] });
    try {
      const r = await json(await fetch(`https://127.0.0.1:${server.port}/healthz`, { client }));
      assert.deepEqual(r, { status: 200, body: { status: "ok", version: "0.0.0-test" } });
      await assert.rejects(() => fetch(`http://127.0.0.1:${server.port}/healthz`));
      // the WebSocket upgrade over TLS
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [pem.cert],
      });
      await conn.write(new TextEncoder().encode(
        `GET /v1/alerts/ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${btoa("forecastd-tests!")}\r\n` +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      ));
      const buf = new Uint8Array(1024);
      const n = await within(conn.read(buf), 5000, "the TLS handshake's answer");
      assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 101 /);
      conn.close();
    } finally {
      client.close();
      await server.close();
      await d.close();
    }
  });
});

Deno.test("requests through the real server reach the routes whole: a DELETE and a POST without a body, a chunked PUT over the limit", async () => {
  const d = await startDaemon({ env: { FORECASTD_MAX_BODY_BYTES: "4096" } });
  const server = await serve(d.app);
  try {
    const base = `http://${server.base}`;
    await d.request("PUT", "/v1/streams/cellar", { columns: ["t"] });
    const del = await fetch(`${base}/v1/streams/cellar`, { method: "DELETE" });
    assert.equal(del.status, 204);
    await del.body?.cancel();
    const ack = await json(await fetch(`${base}/v1/alerts/1/ack`, { method: "POST" }));
    assert.equal(ack.status, 404, JSON.stringify(ack.body));
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < 8; i++) ctl.enqueue(new Uint8Array(1024).fill(32));
        ctl.close();
      },
    });
    const put = await json(
      await fetch(`${base}/v1/streams/cellar`, {
        method: "PUT",
        body,
        headers: { "content-type": "application/json" },
      }),
    );
    assert.equal(put.status, 413, JSON.stringify(put.body));
  } finally {
    await server.close();
    await d.close();
  }
});

Deno.test("a body over the limit is refused with Connection: close, and the client's next request gets through", async () => {
  // The refused body is never read, so the server ends the connection after
  // the 413; without the header a client sends its next request on that
  // connection and it fails ("connection closed before message completed").
  const d = await startDaemon({ env: { FORECASTD_MAX_BODY_BYTES: "4096" } });
  const server = await serve(d.app);
  try {
    const base = `http://${server.base}`;
    const big = JSON.stringify({ value: 1, pad: "x".repeat(8192) });
    for (const path of ["/v1/readings", "/v1/streams/cellar/readings", "/v1/streams/cellar"]) {
      const method = path === "/v1/streams/cellar" ? "PUT" : "POST";
      for (let round = 0; round < 20; round++) {
        const refused = await fetch(`${base}${path}`, {
          method,
          body: big,
          headers: { "content-type": "application/json" },
        });
        assert.equal(refused.status, 413, `${method} ${path}`);
        assert.equal(refused.headers.get("connection"), "close", `${method} ${path}`);
        await refused.body?.cancel();
        const next = await fetch(`${base}/healthz`);
        assert.equal(next.status, 200);
        await next.body?.cancel();
      }
    }
  } finally {
    await server.close();
    await d.close();
  }
});

/** Reads from `conn` until `text` has come (or the connection ends); everything read. */
async function readUntil(conn: Deno.Conn, text: string, within = 5000): Promise<string> {
  const buf = new Uint8Array(65536);
  let got = "";
  const deadline = Date.now() + within;
  while (!got.includes(text) && Date.now() < deadline) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += new TextDecoder().decode(buf.subarray(0, n));
  }
  return got;
}

Deno.test("a refused body the client sends after 100 Continue is read to its end before the 413", async () => {
  // The server answers `Expect: 100-continue` before any handler runs, so a
  // client sends its body even when it will be refused; closing while it
  // still sends resets the connection and the client never sees the 413
  // (curl: exit 55). Here the client waits for 100 Continue, pauses, then
  // sends the whole body: every write must go through and the 413 follow.
  const d = await startDaemon({ env: { FORECASTD_MAX_BODY_BYTES: "4096" } });
  const server = await serve(d.app);
  try {
    const port = server.port;
    for (const path of ["/v1/readings", "/v1/streams/cellar"]) {
      const method = path === "/v1/streams/cellar" ? "PUT" : "POST";
      const body = new TextEncoder().encode(
        JSON.stringify({ value: 1, pad: "x".repeat(600_000) }),
      );
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await conn.write(new TextEncoder().encode([
          `${method} ${path} HTTP/1.1`,
          `Host: ${server.base}`,
          "Content-Type: application/json",
          `Content-Length: ${body.length}`,
          "Expect: 100-continue",
          "",
          "",
        ].join("\r\n")));
        const head = await readUntil(conn, "\r\n\r\n");
        assert.match(head, /^HTTP\/1\.1 100 /, `${method} ${path}: ${head.slice(0, 80)}`);
        assert.ok(!head.includes(" 413 "), `${method} ${path}: answered before the body came`);
        await new Promise((r) => setTimeout(r, 200));
        for (let at = 0; at < body.length;) at += await conn.write(body.subarray(at));
        const answer = await readUntil(conn, "}"); // the end of the JSON error
        assert.match(answer, /HTTP\/1\.1 413 /, `${method} ${path}: ${answer.slice(0, 200)}`);
        assert.match(answer, /connection: close/i);
      } finally {
        conn.close();
      }
    }
  } finally {
    await server.close();
    await d.close();
  }
});
