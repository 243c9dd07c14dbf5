/**
 * The server of the API: node:http (node:https with a certificate) as Deno
 * provides it, Hono's node adapter for requests, and the `ws` package for
 * WebSocket upgrades. Deno.serve is not used because its WebSocket has no
 * message size limit (denoland/deno#15809: a message is buffered whole,
 * up to 64 MiB, before any check) and accepts unmasked client frames; `ws`
 * refuses both while reading a frame's header. A FrameUnmasker in front of
 * each socket's frame reader unmasks the frames as their chunks come
 * (frame_unmasker.ts).
 *
 * A WebSocket handshake goes through the app like any request (Host,
 * Origin, token, query checks); a route that accepts it calls the upgrader
 * in its bindings, and the server then completes the handshake. Any other
 * answer (401, 403, 400, ...) is written back as a plain HTTP response and
 * the connection closed.
 */
import { createServer as createHttpServer, type IncomingMessage, STATUS_CODES } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
// @ts-types="@types/ws"
import type { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../log.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./limit_body.ts";
import type { ApiEnv } from "./router.ts";
import type { ServerSocket } from "./websocket.ts";
import { FrameUnmasker } from "./frame_unmasker.ts";
import { nextTurn } from "../async/next_turn.ts";

/** What the server calls for every request: the app's fetch. */
export type FetchHandler = (
  request: Request,
  env: ApiEnv["Bindings"],
) => Response | Promise<Response>;

/** Where and how to serve. */
export interface HttpServerOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Certificate chain (PEM): with `key`, the server speaks HTTPS. Default: plain HTTP. */
  cert?: string;
  /** Private key (PEM) of `cert`. */
  key?: string;
  /** Largest WebSocket message, bytes; larger ones close the socket with 1009. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Time a WebSocket is given to finish its close handshake at shutdown, ms. Default 1,000. */
  closeGraceMs?: number;
  log: Logger;
}

/** A running server. */
export interface HttpServer {
  /** The address and port it listens on. */
  readonly addr: { hostname: string; port: number };
  /** True when it speaks HTTPS. */
  readonly secure: boolean;
  /** Open WebSockets. */
  readonly webSockets: number;
  /**
   * Stops accepting connections, closes the WebSockets (1001), and resolves
   * once the requests in flight are answered and every connection is closed.
   */
  shutdown(): Promise<void>;
}

/** Starts serving `fetch`; rejects with Deno.errors.AddrInUse when the port is taken. */
export async function startHttpServer(
  fetch: FetchHandler,
  opts: HttpServerOptions,
): Promise<HttpServer> {
  const secure = opts.cert !== undefined && opts.key !== undefined;
  const closeGraceMs = opts.closeGraceMs ?? 1000;
  const { log } = opts;
  const listener = getRequestListener(
    (request, env) =>
      fetch(realRequest(request), { remoteAddr: env.incoming.socket?.remoteAddress }),
    // its own Request and Response in place of the globals would break Deno.serve elsewhere
    { overrideGlobalObjects: false },
  );
  const server = secure
    ? createHttpsServer({ cert: opts.cert, key: opts.key }, listener)
    : createHttpServer(listener);
  const maxPayload = opts.maxMessageBytes ?? DEFAULT_MAX_BODY_BYTES;
  // ws is loaded at the first WebSocket: a daemon whose clients only speak HTTP does not hold it
  let wss: Promise<WebSocketServer> | null = null;
  const webSocketServer = () =>
    wss ??= import("ws").then(({ WebSocketServer }) =>
      new WebSocketServer({
        noServer: true,
        maxPayload,
        // compression would let a small frame inflate past the limit's intent; none is needed
        perMessageDeflate: false,
      })
    );
  const sockets = new Set<WebSocket>();

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {}); // a reset client; nothing to do
    handleUpgrade(req, socket, head).catch((error) => {
      log.error("http.upgrade_failed", { error });
      socket.destroy();
    });
  });

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    let onOpen: ((s: ServerSocket) => void) | null = null;
    let response: Response;
    const request = toRequest(req, secure, opts);
    if (request === null) {
      response = Response.json({ error: "Cannot open a WebSocket: the Host header is invalid" }, {
        status: 400,
      });
    } else {
      response = await fetch(request, {
        remoteAddr: req.socket.remoteAddress,
        upgradeWebSocket: (open) => {
          onOpen = open;
          return new Response(null, { status: 200 });
        },
      });
    }
    const open = onOpen as ((s: ServerSocket) => void) | null;
    if (open !== null && response.status === 200) {
      (await webSocketServer()).handleUpgrade(req, socket, head, (ws) => {
        ws.binaryType = "arraybuffer";
        unmaskAhead(ws, maxPayload);
        sockets.add(ws);
        ws.on("close", () => sockets.delete(ws));
        ws.on("error", (error: Error & { code?: string }) => {
          log.debug("ws.protocol_error", { code: error.code, error: error.message });
          // ws has queued the close frame (1009, 1002) and would read on, discarding, until the
          // client answers it: stop reading now, send the close frame, then drop the connection
          const raw = (ws as unknown as { _socket?: Duplex })._socket;
          queueMicrotask(() => {
            raw?.pause();
            raw?.end();
            setTimeout(() => ws.terminate(), closeGraceMs);
          });
        });
        open(ws as unknown as ServerSocket);
      });
      return;
    }
    const body = new Uint8Array(await response.arrayBuffer());
    const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`];
    response.headers.forEach((v, k) => {
      if (k !== "content-length" && k !== "connection") lines.push(`${k}: ${v}`);
    });
    lines.push(`content-length: ${body.length}`, "connection: close", "", "");
    socket.write(lines.join("\r\n"));
    socket.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error & { code?: string }) => {
      if (e.code === "EADDRINUSE") {
        reject(new Deno.errors.AddrInUse(`${opts.hostname}:${opts.port}: address in use`));
      } else reject(e);
    };
    server.once("error", onError);
    server.listen(opts.port, opts.hostname, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address() as { address: string; port: number };

  return {
    addr: { hostname: address.address, port: address.port },
    secure,
    get webSockets() {
      return sockets.size;
    },
    async shutdown() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const ws of sockets) ws.close(1001, "forecastd is shutting down");
      // a client that does not answer the close is dropped
      const timer = setTimeout(() => {
        for (const ws of sockets) ws.terminate();
      }, closeGraceMs);
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Bytes of big payloads gathered (FrameUnmasker) before the socket waits a
 * turn of the event loop: a 1 MiB message's chunks, all there at once from
 * a fast client, were taken in one run of the loop (about 4.5 ms here for
 * the copy and the unmasking, ten times that on a Raspberry Pi); now other
 * sockets and timers go every 256 KiB (about 1 ms here).
 */
export const GATHER_TURN_BYTES = 262_144;

/**
 * Puts a FrameUnmasker in front of `ws`'s frame reader (its `_receiver`,
 * which the socket's data is written to): each chunk's payload is unmasked
 * in the task that got it, and a big payload reaches `ws` whole, not to be
 * joined and unmasked in one task (frame_unmasker.ts). Every
 * GATHER_TURN_BYTES gathered, the reader says it is full (`write()` false:
 * `ws` pauses the socket) and drains after a turn (`ws` resumes it). A
 * `ws` without that reader is left as it is (it reads as it did).
 */
function unmaskAhead(ws: WebSocket, maxPayload: number): void {
  const receiver = (ws as unknown as {
    _receiver?: { write?: (chunk: Buffer) => boolean; emit(event: "drain"): boolean };
  })._receiver;
  const write = receiver?.write;
  if (receiver === undefined || typeof write !== "function") return;
  const frames = new FrameUnmasker({ maxPayload });
  let gathered = 0;
  const drain = () => {
    // not once ws has refused the stream: its error handling stops reading (below)
    if (ws.readyState === ws.OPEN) receiver.emit("drain");
  };
  receiver.write = (chunk: Buffer) => {
    const before = frames.gathered;
    const parts = frames.take(chunk);
    let more = true;
    for (let i = 0; i < parts.length; i++) more = write.call(receiver, parts[i]);
    gathered += frames.gathered - before;
    if (gathered < GATHER_TURN_BYTES || !more) return more;
    gathered = 0;
    nextTurn().then(drain);
    return false;
  };
}

/**
 * A Request of this realm for the adapter's lightweight one, which Deno's
 * own constructors refuse (`new Request(req, init)`, as Hono's body limit
 * does): the same method, URL, headers, body stream and abort signal.
 */
function realRequest(r: Request): Request {
  // it passes instanceof Request (its prototype is Request's) but not Deno's brand check
  const bodyless = r.method === "GET" || r.method === "HEAD";
  return new Request(r.url, {
    method: r.method,
    headers: r.headers,
    body: bodyless ? undefined : r.body,
    signal: r.signal,
    duplex: "half",
  } as RequestInit);
}

/** The fetch Request of an upgrade's IncomingMessage (no body), or null for a bad Host. */
function toRequest(
  req: IncomingMessage,
  secure: boolean,
  opts: Pick<HttpServerOptions, "hostname" | "port">,
): Request | null {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const host = req.headers.host ?? `${opts.hostname}:${opts.port}`;
  try {
    const url = new URL(`${secure ? "https" : "http"}://${host}${req.url ?? "/"}`);
    return new Request(url, { method: req.method, headers });
  } catch {
    return null;
  }
}
