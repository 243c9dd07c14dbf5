/**
 * Operational routes: liveness, readiness and metrics.
 *
 *   GET /healthz   200 {"status":"ok"} while the process serves requests
 *   GET /readyz    200 when Deno KV is open and the MQTT broker connected (or none is
 *                  configured), else 503 naming what is not ready
 *   GET /metrics   Prometheus text format 0.0.4
 */
import type { Hono } from "hono";
import type { AppDeps } from "./app.ts";
import { formatMetrics, METRICS_CONTENT_TYPE } from "./metrics.ts";

/** Registers the operational routes on `app`. */
export function healthRoutes(app: Hono, deps: AppDeps): void {
  app.get("/healthz", (c) => c.json({ status: "ok", version: deps.version }));

  app.get("/readyz", (c) => {
    const { kv, broker } = deps.readiness();
    const checks = {
      kv: kv ? "ok" : "closed",
      broker: broker === null ? "not configured" : broker ? "ok" : "disconnected",
    };
    const problems = [
      ...(kv ? [] : ["Deno KV is not open"]),
      ...(broker === false ? ["the MQTT broker is not connected"] : []),
    ];
    if (problems.length === 0) return c.json({ status: "ready", checks });
    return c.json(
      {
        status: "not ready",
        error: "Cannot take traffic: Deno KV must be open and the MQTT broker connected " +
          `(when one is configured): ${problems.join(" and ")}`,
        checks,
      },
      503,
    );
  });

  app.get("/metrics", (c) => {
    c.header("content-type", METRICS_CONTENT_TYPE);
    return c.body(formatMetrics(deps.service, deps.version));
  });
}
