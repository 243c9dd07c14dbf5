/**
 * The body limit of every route: a body larger than the limit is refused
 * with 413 as soon as that is known, from its Content-Length before reading
 * anything, or while a chunked body is read, so no more than the limit is
 * ever held. The refusal says `Connection: close`: the rest of the body is
 * never read, so the connection ends after the answer, and a client told so
 * does not send its next request on it (it would fail as "connection closed
 * before message completed").
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ApiEnv } from "./router.ts";

/** Default largest request body, and WebSocket message, bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The size a refusal shows: Content-Length when sent, else "more than N". */
export function shownSize(c: Context, maxBytes: number): string {
  const size = Number(c.req.header("content-length") ?? NaN);
  return Number.isFinite(size) ? String(size) : `more than ${maxBytes}`;
}

/**
 * Refuses bodies over `maxBytes` with 413 `Cannot <METHOD path>: the body
 * must be at most N bytes: current size is M bytes`; `skip` leaves a
 * request to a route's own limit.
 */
export function limitBody(
  maxBytes: number,
  skip: (c: Context<ApiEnv>) => boolean = () => false,
): MiddlewareHandler<ApiEnv> {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header("Connection", "close", { append: false });
      return c.json({
        error: `Cannot ${c.req.method} ${c.req.path}: the body must be at most ${maxBytes} ` +
          `bytes: current size is ${shownSize(c, maxBytes)} bytes`,
      }, 413);
    },
  });
  return async (c, next) => {
    if (skip(c)) return await next();
    return await limit(c, next);
  };
}
