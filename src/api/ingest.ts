/**
 * Ingest routes: readings over HTTP and over a WebSocket, through the same
 * parsers as MQTT (src/ingest/parse.ts) into `service.ingest()`.
 *
 *   POST /v1/streams/{id}/readings   the path names the stream
 *   POST /v1/readings                each reading names its stream
 *   GET  /v1/ingest/ws               WebSocket: each message a reading or a batch
 *
 * A message that cannot be parsed is rejected whole (400, or a WebSocket
 * reply with `ok: false`) and counted by reason; a parsed one is handed to
 * the service, which may still reject single readings (a stream's columns,
 * an out-of-order timestamp): those are listed in `rejected`.
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseHttpBody, parseWebSocketMessage } from "../ingest/parse.ts";
import type { ParseResult } from "../ingest/ingest_error.ts";
import type { IngestResult } from "../service/service.ts";
import type { AppDeps } from "./app.ts";
import { upgradeWebSocket } from "./websocket.ts";

/** Default largest body or WebSocket message, bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The reply to every ingest WebSocket message. */
export type IngestReply =
  | { ok: true; accepted: number }
  | {
    ok: false;
    reason: string;
    error: string;
    field?: string;
    accepted?: number;
    rejected?: IngestResult["rejected"];
  };

function tooLarge(max: number, size: number): string {
  return `Cannot ingest reading: payload must be at most ${max} bytes: current size is ${size} bytes`;
}

/** Registers the ingest routes on `app`. */
export function ingestRoutes(app: Hono, deps: AppDeps): void {
  const { service, log } = deps;
  const maxBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      service.reject("too_large");
      const size = Number(c.req.header("content-length") ?? NaN);
      const shown = Number.isFinite(size) ? size : `more than ${maxBytes}`;
      return c.json({ error: tooLarge(maxBytes, shown as number), reason: "too_large" }, 413);
    },
  });

  /** Parsed readings into the service, or the 400 of the parse error. */
  const answer = (c: Context, parsed: ParseResult) => {
    if (!parsed.ok) {
      const e = parsed.error;
      service.reject(e.reason);
      log.debug("ingest.rejected", { source: "http", reason: e.reason, error: e.message });
      return c.json({ error: e.message, reason: e.reason, field: e.field }, 400);
    }
    const result = service.ingest(parsed.readings, "http");
    if (result.accepted === 0 && result.rejected.length > 0) {
      const first = result.rejected[0];
      return c.json({ error: first.message, reason: first.reason, ...result }, 422);
    }
    return c.json(result);
  };

  app.post("/v1/streams/:id/readings", limit, async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    return answer(c, parseHttpBody(body, { receivedAt: Date.now(), stream: c.req.param("id") }));
  });

  app.post("/v1/readings", limit, async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    return answer(c, parseHttpBody(body, { receivedAt: Date.now() }));
  });

  app.get("/v1/ingest/ws", (c) => {
    const { socket, response } = upgradeWebSocket(c.req.raw, "open ingest WebSocket");
    const reply = (r: IngestReply) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(r));
    };
    socket.onmessage = (ev) => {
      try {
        reply(ingestMessage(deps, ev.data, maxBytes));
      } catch (e) {
        log.error("ingest.failed", { source: "ws", error: e });
        reply({
          ok: false,
          reason: "error",
          error: "Cannot ingest reading: the daemon failed unexpectedly; see its log",
        });
      }
    };
    return response;
  });
}

/** What one WebSocket message does: parse, ingest, reply. */
export function ingestMessage(
  { service, log }: Pick<AppDeps, "service" | "log">,
  data: unknown,
  maxBytes: number,
): IngestReply {
  const message = typeof data === "string"
    ? data
    : data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(0);
  // a string's UTF-8 size is 1-3 bytes per UTF-16 unit: encode only when it may matter
  const size = typeof message === "string"
    ? (message.length * 3 > maxBytes ? new TextEncoder().encode(message).length : message.length)
    : message.byteLength;
  if (size > maxBytes) {
    service.reject("too_large");
    return { ok: false, reason: "too_large", error: tooLarge(maxBytes, size) };
  }
  const parsed = parseWebSocketMessage(message, { receivedAt: Date.now() });
  if (!parsed.ok) {
    const e = parsed.error;
    service.reject(e.reason);
    log.debug("ingest.rejected", { source: "ws", reason: e.reason, error: e.message });
    return { ok: false, reason: e.reason, error: e.message, field: e.field };
  }
  const result = service.ingest(parsed.readings, "ws");
  if (result.rejected.length === 0) return { ok: true, accepted: result.accepted };
  const first = result.rejected[0];
  return {
    ok: false,
    reason: first.reason,
    error: first.message,
    accepted: result.accepted,
    rejected: result.rejected,
  };
}
