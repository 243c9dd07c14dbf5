/**
 * The Origin check against cross-site requests from browsers. A browser
 * sends `Origin` with every cross-site request and every WebSocket
 * handshake; a page of another site may send a "simple" POST (a form, a
 * text/plain fetch) without a preflight, and WebSockets are not covered by
 * CORS at all. So a request that changes something, or opens a WebSocket,
 * and names an origin, must name forecastd's own (the same host and port as
 * its Host header) or one configured with --cors-origin. Requests without
 * `Origin` (curl, sensors, same-origin GETs) are not browsers' cross-site
 * requests and pass.
 */
import type { MiddlewareHandler } from "hono";
import { fail } from "./errors.ts";
import type { ApiEnv } from "./router.ts";

/** True when `origin` is the request's own (scheme aside: one port serves one scheme). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/** Refuses with 403 a cross-origin request that changes something or opens a WebSocket. */
export function checkOrigin(allowed: readonly string[]): MiddlewareHandler<ApiEnv> {
  const set = new Set(allowed);
  return async (c, next) => {
    const origin = c.req.header("origin");
    const method = c.req.method;
    const safe = method === "GET" || method === "HEAD" || method === "OPTIONS";
    const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    if (origin !== undefined && (!safe || upgrade)) {
      const host = c.req.header("host") ?? new URL(c.req.url).host;
      if (!set.has(origin) && !sameOrigin(origin, host)) {
        fail(
          403,
          `Cannot ${method} ${c.req.path}: a browser's request must come from forecastd's own ` +
            `origin or one allowed with --cors-origin: current value is ${JSON.stringify(origin)}`,
        );
      }
    }
    await next();
  };
}
