/**
 * The server's own first requests, made before the daemon says it is ready
 * (its start-up lines and `forecastd.ready`): GET /healthz, /readyz and a
 * stream's forecast, each once over a real connection to its own port, so
 * that the code every request takes on the main thread (node:http's server
 * as Deno provides it, Hono's node adapter, the router's matcher, which
 * Hono builds at the first match, the middleware, a route's validation and
 * its JSON answer) is loaded and compiled before a client's first request,
 * not while that request waits. On a fresh daemon the first /healthz took
 * 50 to 71 ms against 6 to 23 for the next (bench/first_requests.ts,
 * docs/scaling.md "twenty-second round (firstreq)").
 *
 * - Nothing is changed and nothing counted: /healthz and /readyz only read,
 *   and the forecast is of a stream named `forecastd-warm-up` (a 404 when
 *   there is none; a read when there is one; a redirect, not followed, when
 *   another shard owns it). No token is sent, so with API tokens the forecast
 *   is left out ({@link warmPaths}): its 401 would count as a refused
 *   request in /healthz and /metrics at every start.
 * - Best effort: a failure (a permission, a timeout after `timeoutMs`) is
 *   given back, to be logged, and the daemon goes on. A server speaking
 *   HTTPS is not warmed (its certificate need not name the address it
 *   listens on): `skipped`.
 * - A wildcard address (0.0.0.0, ::) is reached over loopback.
 */
import { isWildcard } from "./check_host.ts";
import { hostPort } from "../ingest/host_port.ts";

/** The paths requested, in order. */
export const WARM_PATHS: readonly string[] = [
  "/healthz",
  "/readyz",
  "/v1/streams/forecastd-warm-up/forecast",
];

/**
 * The paths to warm: all of {@link WARM_PATHS}, or without the forecast when
 * the API takes tokens (only /healthz and /readyz are open then).
 */
export function warmPaths(tokensEnabled: boolean): readonly string[] {
  return tokensEnabled ? WARM_PATHS.filter((p) => p === "/healthz" || p === "/readyz") : WARM_PATHS;
}

/** Where the server listens. */
export interface WarmTarget {
  readonly addr: { hostname: string; port: number };
  readonly secure: boolean;
}

/** What the warm-up did. */
export interface WarmHttpResult {
  /** Each request's status, in the order of WARM_PATHS (fewer after an error). */
  statuses: number[];
  /** The whole warm-up, ms. */
  ms: number;
  /** Why it stopped early, if it did. */
  error?: string;
  /** Why it was not made (HTTPS). */
  skipped?: string;
}

/** Options of warmHttp. */
export interface WarmHttpOptions {
  /** The paths to request. Default WARM_PATHS. */
  paths?: readonly string[];
  /** Bound on the whole warm-up, ms. Default 5,000. */
  timeoutMs?: number;
}

/** Requests each path of the server once, in order; never throws. */
export async function warmHttp(
  server: WarmTarget,
  opts: WarmHttpOptions = {},
): Promise<WarmHttpResult> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  const statuses: number[] = [];
  if (server.secure) return { statuses, ms: 0, skipped: "https" };
  const { hostname, port } = server.addr;
  const host = isWildcard(hostname) ? (hostname.includes(":") ? "::1" : "127.0.0.1") : hostname;
  const origin = `http://${hostPort(host, port)}`;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 5000);
  // a client of its own, closed after: no pooled connection to itself is left open
  const client = Deno.createHttpClient({});
  try {
    for (const path of opts.paths ?? WARM_PATHS) {
      const r = await fetch(`${origin}${path}`, { client, signal, redirect: "manual" });
      await r.body?.cancel();
      statuses.push(r.status);
    }
    return { statuses, ms: ms() };
  } catch (e) {
    return { statuses, ms: ms(), error: e instanceof Error ? e.message : String(e) };
  } finally {
    client.close();
  }
}
