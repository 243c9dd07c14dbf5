/**
 * Authentication of the API: which role each request needs, and the
 * middleware that checks the token it carries.
 *
 * - open (no token): `GET /healthz` and `GET /readyz` (probes that cannot
 *   carry a token; they tell only whether the process lives and is ready),
 *   CORS preflights (browsers send them without credentials), and the
 *   dashboard's page and files (`/`, `/dashboard/*`, `/docs`, `/docs/*`:
 *   they hold no data; the page asks for a token and sends it).
 * - write: every request that changes something (POST, PUT, DELETE, ...)
 *   and the ingest WebSocket `GET /v1/ingest/ws`.
 * - read: every other request, /metrics and /openapi.json included.
 *
 * The token is sent as `Authorization: Bearer <token>`; the live feeds
 * (`/v1/alerts/events`, `/v1/alerts/ws`, `/v1/ingest/ws`) also take
 * `?token=`, since a browser's EventSource and WebSocket cannot send
 * headers. Elsewhere a token in the query is refused: URLs end up in logs.
 */
import type { MiddlewareHandler } from "hono";
import type { ApiTokens, Role } from "../auth/api_tokens.ts";
import { roleAllows } from "../auth/api_tokens.ts";
import { fail } from "./errors.ts";
import type { ApiEnv } from "./router.ts";

/** Paths answered without a token (GET and HEAD only). */
const OPEN_PATHS = [
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/$/,
  /^\/dashboard\/[^/]+$/,
  /^\/docs\/?$/,
  /^\/docs\/[^/]+$/,
];

/** The routes that take `?token=`: the live feeds, which browsers open without headers. */
export const QUERY_TOKEN_PATHS: readonly string[] = [
  "/v1/alerts/events",
  "/v1/alerts/ws",
  "/v1/ingest/ws",
];

/** The role a request needs, or null when it is open. */
export function requiredRole(method: string, path: string): Role | null {
  const m = method.toUpperCase();
  if (m === "OPTIONS") return null;
  const safe = m === "GET" || m === "HEAD";
  if (safe && OPEN_PATHS.some((p) => p.test(path))) return null;
  if (!safe || path === "/v1/ingest/ws") return "write";
  return "read";
}

/** Why a request was refused, for the counters: missing, malformed, unknown, query, role. */
export type AuthRefusal = "missing" | "malformed" | "unknown" | "query" | "role";

/** What requireToken uses. */
export interface RequireTokenOptions {
  tokens: ApiTokens;
  /** Called with the reason of each refusal (for the metrics). Default: nothing. */
  refused?: (reason: AuthRefusal) => void;
}

/**
 * Refuses a request without a token of the role it needs: 401 (with
 * `WWW-Authenticate: Bearer`) when it carries none or an unknown one, 403
 * when its token's role is too weak. A token is never shown back.
 * With no token configured every request passes.
 */
export function requireToken(opts: RequireTokenOptions): MiddlewareHandler<ApiEnv> {
  const { tokens } = opts;
  return async (c, next) => {
    if (!tokens.enabled) return await next();
    const need = requiredRole(c.req.method, c.req.path);
    if (need === null) return await next();
    const what = `Cannot ${c.req.method} ${c.req.path}`;
    const refuse = (reason: AuthRefusal, status: 401 | 403, message: string): never => {
      opts.refused?.(reason);
      if (status === 401) c.header("www-authenticate", 'Bearer realm="forecastd"');
      fail(status, `${what}: ${message}`);
    };

    const header = c.req.header("authorization");
    const query = c.req.query("token");
    let presented: string;
    if (header !== undefined) {
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
      if (!m) {
        const scheme = header.trim().split(/\s+/)[0] ?? "";
        refuse(
          "malformed",
          401,
          `the Authorization header must be "Bearer <token>": current value is ${
            scheme === "" ? "empty" : `a ${JSON.stringify(scheme)} credential`
          }`,
        );
      }
      presented = m![1];
    } else if (query !== undefined) {
      if (!QUERY_TOKEN_PATHS.includes(c.req.path)) {
        refuse(
          "query",
          401,
          `a token in the query (?token=) is taken only by the live feeds (${
            QUERY_TOKEN_PATHS.join(", ")
          }); send it as Authorization: Bearer <token>: current value is a token in the query`,
        );
      }
      presented = query;
    } else {
      return refuse(
        "missing",
        401,
        `the request must carry an API token with the ${need} role (Authorization: Bearer ` +
          `<token>${
            QUERY_TOKEN_PATHS.includes(c.req.path) ? ", or ?token=<token>" : ""
          }): current value is missing`,
      );
    }
    const token = tokens.authenticate(presented);
    if (token === null) {
      return refuse(
        "unknown",
        401,
        "the API token must be one forecastd is configured with (--api-token): " +
          "current value is an unknown token",
      );
    }
    if (!roleAllows(token.role, need)) {
      return refuse(
        "role",
        403,
        `the API token must have the ${need} role: current value is a ${token.role} token ` +
          `(${token.id})`,
      );
    }
    c.set("token", token);
    await next();
  };
}
