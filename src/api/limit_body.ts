/**
 * The body limit of every route: a body larger than the limit is refused
 * with 413 as soon as that is known, from its Content-Length before reading
 * anything, or while a chunked body is read, so no more than the limit is
 * ever held. The refusal says `Connection: close`: the connection ends after
 * the answer, and a client told so does not send its next request on it (it
 * would fail as "connection closed before message completed").
 *
 * The server has told a client that sent `Expect: 100-continue` to go on
 * before any handler runs, so a refused body is usually on its way. When it
 * declared a length of at most DRAIN_MAX_BYTES it is read and dropped before
 * the answer (nothing of it is kept; at most 2 s): closing while the client
 * still sends resets the connection, and the client sees a send error
 * instead of the 413 (curl exits with 55). A larger or chunked body is not
 * read further.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ApiEnv } from "./router.ts";

/** Default largest request body, and WebSocket message, bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Largest refused body that is read and dropped before the 413 (8 MiB). */
export const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DRAIN_MS = 2000;

/**
 * Reads and drops a refused body that declared a Content-Length of at most
 * DRAIN_MAX_BYTES and is not being read already, for at most 2 s; see the
 * module comment.
 */
export async function drainRefusedBody(c: Context): Promise<void> {
  const body = c.req.raw.body;
  const size = Number(c.req.header("content-length") ?? NaN);
  if (body === null || body.locked || !(size <= DRAIN_MAX_BYTES)) return;
  const reader = body.getReader();
  const timer = setTimeout(() => void reader.cancel().catch(() => {}), DRAIN_MS);
  try {
    for (let read = 0; read <= DRAIN_MAX_BYTES;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client went away, or the 2 s passed: answer anyway
  } finally {
    clearTimeout(timer);
  }
}

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
    onError: async (c) => {
      await drainRefusedBody(c);
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
