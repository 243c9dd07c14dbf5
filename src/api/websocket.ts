/**
 * The WebSocket routes' side of the upgrade: a route checks its request
 * like any other (token, Origin, query) and then calls `acceptWebSocket()`,
 * which hands the server a function to call with the socket once the
 * handshake is done. The server (http_server.ts) reads frames with the `ws`
 * package, which refuses a message over the size limit while reading its
 * header (close 1009) and a client frame that is not masked (close 1002),
 * so neither is ever buffered.
 */
import type { Context } from "hono";
import { z } from "zod";
import { errorResponses, fail } from "./errors.ts";
import type { ApiEnv } from "./router.ts";

/** A WebSocket of the server, as the routes use it (the `ws` package's, in a narrow view). */
export interface ServerSocket {
  /** 1 while open (WebSocket.OPEN). */
  readonly readyState: number;
  /** Bytes queued to send. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection at once, without waiting for the close handshake. */
  terminate(): void;
  /** Each message: a string (text frame) or an ArrayBuffer (binary). */
  onmessage: ((ev: { data: unknown }) => void) | null;
  /**
   * Adds a listener of each message as it came, undecoded: a text message's
   * UTF-8 bytes (a Uint8Array, checked to be UTF-8) or a binary one's
   * ArrayBuffer. Use it or `onmessage`, not both.
   */
  on(
    event: "message",
    listener: (data: Uint8Array | ArrayBuffer, isBinary: boolean) => void,
  ): unknown;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  /** A protocol error (too large, not masked, bad UTF-8): the socket then closes. */
  onerror: ((ev: { error?: unknown; message?: string }) => void) | null;
}

/** Given by the server to the app: records `onOpen` and answers the handshake's response. */
export type WebSocketUpgrader = (onOpen: (socket: ServerSocket) => void) => Response;

/** The close code of a message over the limit (RFC 6455: message too big). */
export const CLOSE_TOO_LARGE = 1009;

/** True when a socket's error event is a message over the size limit. */
export function isTooLarge(ev: { error?: unknown }): boolean {
  return (ev.error as { code?: string } | undefined)?.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
}

/**
 * Accepts the WebSocket handshake of `c`: `onOpen` gets the socket once it
 * is open. Throws a 426 naming `action` when the request is not a
 * WebSocket handshake.
 */
export function acceptWebSocket(
  c: Context<ApiEnv>,
  action: string,
  onOpen: (socket: ServerSocket) => void,
): Response {
  const upgrade = c.req.header("upgrade");
  if (upgrade?.toLowerCase() !== "websocket") {
    fail(
      426,
      `Cannot ${action}: the request must be a WebSocket handshake (Upgrade: websocket): current value is ${
        upgrade === null || upgrade === undefined ? "missing" : JSON.stringify(upgrade)
      }`,
    );
  }
  const upgrader = c.env?.upgradeWebSocket;
  if (upgrader === undefined) {
    throw new Error(
      `Cannot ${action}: the app must be served by startHttpServer() (src/api/http_server.ts), ` +
        "which upgrades WebSockets: current server has no upgrade",
    );
  }
  return upgrader(onOpen);
}

/** The OpenAPI responses of a WebSocket route: 101 with the upgrade, 426 without one. */
export function webSocketResponses(description: string, ...errors: 400[]) {
  return {
    101: {
      description: `Switching Protocols (a GET with \`Upgrade: websocket\`). ${description}`,
      headers: z.object({
        upgrade: z.literal("websocket"),
        connection: z.literal("Upgrade"),
      }),
    },
    ...errorResponses(...errors, 426),
  };
}
