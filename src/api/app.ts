/**
 * The HTTP API: a Hono app built from its dependencies, tested with
 * `app.request()` and served by main.ts with `Deno.serve(app.fetch)`.
 *
 * Errors are JSON `{"error": "<message>"}`: expected failures (validation,
 * unknown stream or alert, conflicts) carry their status (ServiceError,
 * HTTPException); anything else is logged once with its stack and answered
 * with a generic 500 that reveals nothing of it.
 *
 * Routes, one module each: streams.ts (streams, forecast, crossing,
 * anomalies), alerts.ts (history, ack, SSE, WebSocket), ingest.ts (readings
 * over HTTP and WebSocket), health.ts (healthz, readyz, metrics).
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "../log.ts";
import { type Service, ServiceError } from "../service/service.ts";
import { alertRoutes } from "./alerts.ts";
import { healthRoutes } from "./health.ts";
import { ingestRoutes } from "./ingest.ts";
import { streamRoutes } from "./streams.ts";
import { dashboard } from "../dashboard/dashboard.ts";

/** Everything the app uses. */
export interface AppDeps {
  service: Service;
  log: Logger;
  /** Shown by /healthz and /metrics. */
  version: string;
  /** Whether Deno KV is open and the MQTT broker connected (null: no broker configured). */
  readiness: () => { kv: boolean; broker: boolean | null };
  /**
   * Aborted at shutdown: ends the live SSE streams, which would otherwise
   * keep `server.shutdown()` waiting (WebSockets are closed by Deno.serve).
   * Default: never.
   */
  signal?: AbortSignal;
  /** Interval of the SSE comment heartbeat, ms. Default 15,000. */
  heartbeatMs?: number;
  /** Largest ingest body or WebSocket message, bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** The body of the generic 500: nothing of the cause, which is in the log. */
export const INTERNAL_ERROR =
  "Cannot complete the request: the daemon failed unexpectedly; the cause is in its log";

/** Builds the API. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { log } = deps;

  app.use(async (c, next) => {
    const t0 = performance.now();
    await next();
    if (log.enabled("debug")) {
      log.debug("http.request", {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - t0) * 10) / 10,
      });
    }
  });

  healthRoutes(app, deps);
  streamRoutes(app, deps);
  alertRoutes(app, deps);
  ingestRoutes(app, deps);
  app.route("/", dashboard(deps));

  app.notFound((c) =>
    c.json({
      error: `Cannot ${c.req.method} ${c.req.path}: no such route (the API is under /v1/, ` +
        `with /healthz, /readyz and /metrics)`,
    }, 404)
  );

  app.onError((err, c) => {
    if (err instanceof ServiceError) return c.json({ error: err.message }, err.status);
    if (err instanceof HTTPException) {
      return c.json(
        { error: err.message || `Cannot ${c.req.method} ${c.req.path}` },
        err.status as ContentfulStatusCode,
      );
    }
    log.error("http.failed", { method: c.req.method, path: c.req.path, error: err });
    return c.json({ error: INTERNAL_ERROR }, 500);
  });

  return app;
}
