/**
 * The HTTP API: a Hono app built from its dependencies, tested with
 * `app.request()` and served by main.ts with `Deno.serve(app.fetch)`.
 *
 * One sub-app per route file, each made by a factory that takes only what it
 * uses, mounted here: streams.ts (streams, forecast, crossing, anomalies),
 * alerts.ts (history, one alert, ack, SSE, WebSocket), ingest.ts (readings
 * over HTTP and WebSocket), rejects.ts (the last refusals of each source),
 * auth.ts (the request's token and role), health.ts (healthz, readyz,
 * metrics). A request no route takes gets a 405
 * or a 404 from route_not_found.ts. Every input and
 * output has a zod schema; `GET /openapi.json` is the OpenAPI 3.1 document
 * generated from them. Errors are JSON `{"error": "<message>"}` (errors.ts).
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { ApiTokens } from "../auth/api_tokens.ts";
import type { Logger } from "../log.ts";
import type { Application } from "../service/application.ts";
import { alertRoutes } from "./alerts.ts";
import { authRoutes } from "./auth.ts";
import { checkHost, LOOPBACK_NAMES } from "./check_host.ts";
import { checkOrigin } from "./check_origin.ts";
import { errorHandler, errorResponses } from "./errors.ts";
import { healthRoutes } from "./health.ts";
import { ingestRoutes } from "./ingest.ts";
import { DEFAULT_MAX_BODY_BYTES, limitBody } from "./limit_body.ts";
import { rejectRoutes } from "./rejects.ts";
import { requireToken } from "./require_token.ts";
import { routeNotFound } from "./route_not_found.ts";
import { StreamCreationLimit } from "./stream_creation_limit.ts";
import type { MetricsOptions } from "./metrics.ts";
import { type ApiEnv, createRouter } from "./router.ts";
import { servicePorts } from "./service_ports.ts";
import { PEERS_HEADER, SHARD_HEADER, shardRouting } from "./shard_routing.ts";
import { shardSink } from "./shard_sink.ts";
import type { WorkerState } from "./health.ts";
import { streamRoutes } from "./streams.ts";
import type { ShardMap } from "../domain/shard_map.ts";
import { dashboard } from "../dashboard/dashboard.ts";

/** Everything the app uses. */
export interface AppDeps {
  /** The application: the in-process Service or the sharded one (src/shard/). */
  service: Application;
  /**
   * The shard workers' state, shown by /healthz; undefined when the streams
   * run on the main thread. Default undefined.
   */
  workers?: () => readonly WorkerState[];
  log: Logger;
  /** Shown by /healthz, /metrics and /openapi.json. */
  version: string;
  /** Whether Deno KV is open and the MQTT broker connected (null: no broker configured). */
  readiness: () => { kv: boolean; broker: boolean | null };
  /** The clock, ms since the epoch: the time of readings that carry none. Default Date.now. */
  now?: () => number;
  /**
   * Aborted at shutdown: ends the live SSE streams, which would otherwise
   * keep `server.shutdown()` waiting (WebSockets are closed by Deno.serve).
   * Default: never.
   */
  signal?: AbortSignal;
  /** Interval of the SSE comment heartbeat, ms. Default 15,000. */
  heartbeatMs?: number;
  /** Largest request body or WebSocket message, bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * The API tokens (require_token.ts). Default none: every request passes,
   * and the daemon then listens on loopback only.
   */
  tokens?: ApiTokens;
  /**
   * The names the Host header may give (check_host.ts); null: any. Default:
   * localhost, 127.0.0.1 and ::1.
   */
  allowedHosts?: readonly string[] | null;
  /**
   * Web origins whose pages may call the API (CORS) and open its WebSockets,
   * besides forecastd's own. Default none: no CORS headers.
   */
  corsOrigins?: readonly string[];
  /** Streams one HTTP or WebSocket client may create a minute. Default 100. */
  newStreamsPerMinute?: number;
  /** What /metrics exports (see MetricsOptions for the defaults). */
  metrics?: MetricsOptions;
  /**
   * The MQTT source's copies of messages taken again (its `stats.duplicates`),
   * exported by /metrics. Default: none (no MQTT source), not exported.
   */
  mqttDuplicates?: () => number;
  /**
   * This instance's shard among several (shard_routing.ts): calls for other
   * shards' streams are redirected, batches take only this shard's readings.
   * Default null: this instance owns every stream.
   */
  shard?: ShardMap | null;
}

const openApiRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["operations"],
  summary: "This API as an OpenAPI 3.1 document",
  responses: {
    200: {
      description: "The document",
      content: {
        "application/json": {
          schema: z.record(z.string(), z.unknown()).meta({ description: "OpenAPI 3.1" }),
        },
      },
    },
    ...errorResponses(),
  },
});

/** Builds the API. */
export function createApp(deps: AppDeps): OpenAPIHono<ApiEnv> {
  const { log } = deps;
  const ports = servicePorts(deps.service);
  const shard = deps.shard ?? null;
  const app = createRouter();

  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const corsOrigins = deps.corsOrigins ?? [];
  const refused: Record<string, number> = {};
  const count = (reason: string) => (refused[reason] = (refused[reason] ?? 0) + 1);

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

  // before any route: the Host (DNS rebinding), CORS, the Origin of browsers' requests that
  // change something or open a WebSocket, the token, the body's size
  const counted =
    (reason: string, mw: ReturnType<typeof checkHost>): typeof mw => async (c, next) => {
      try {
        return await mw(c, next);
      } catch (e) {
        if (e instanceof HTTPException && (e.status === 421 || e.status === 403)) count(reason);
        throw e;
      }
    };
  app.use(
    counted(
      "host",
      checkHost(deps.allowedHosts === undefined ? LOOPBACK_NAMES : deps.allowedHosts),
    ),
  );
  if (corsOrigins.length > 0) {
    app.use(cors({
      origin: [...corsOrigins],
      allowMethods: ["GET", "HEAD", "POST", "PUT", "DELETE"],
      allowHeaders: ["authorization", "content-type", "last-event-id"],
      ...(shard ? { exposeHeaders: [SHARD_HEADER, PEERS_HEADER] } : {}),
      maxAge: 600,
    }));
  }
  app.use(counted("origin", checkOrigin(corsOrigins)));
  const tokens = deps.tokens ?? new ApiTokens([]);
  app.use(requireToken({
    tokens,
    refused: (reason) => count(`auth_${reason}`),
  }));
  // another shard's stream: to its owner, before anything reads the body
  if (shard) {
    app.use(shardRouting(shard, { holds: (id) => ports.streams.record(id) !== undefined }));
  }
  // the ingest routes limit their bodies themselves, counting refusals as too_large
  app.use(limitBody(
    maxBodyBytes,
    (c) => c.req.method === "POST" && /^\/v1\/(streams\/[^/]+\/)?readings$/.test(c.req.path),
  ));

  app.route(
    "/",
    healthRoutes({
      version: deps.version,
      readiness: deps.readiness,
      metrics: ports.metrics,
      workers: deps.workers,
      httpRefused: () => ({ ...refused }),
      metricsOptions: deps.metrics,
      mqttDuplicates: deps.mqttDuplicates,
      shard,
    }),
  );
  app.route("/v1/streams", streamRoutes({ streams: ports.streams, alerts: ports.alerts }));
  app.route(
    "/v1/alerts",
    alertRoutes({
      alerts: ports.alerts,
      log,
      signal: deps.signal,
      heartbeatMs: deps.heartbeatMs,
    }),
  );
  app.route(
    "/v1",
    ingestRoutes({
      sink: shard ? shardSink(ports.sink, shard) : ports.sink,
      log,
      now: deps.now ?? Date.now,
      maxBodyBytes,
      streamLimit: new StreamCreationLimit({
        perMinute: deps.newStreamsPerMinute,
        now: deps.now,
      }),
    }),
  );

  app.route("/v1/rejects", rejectRoutes({ rejects: ports.rejects }));
  app.route("/v1/auth", authRoutes({ required: tokens.enabled }));

  app.route("/", dashboard());
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerToken", {
    type: "http",
    scheme: "bearer",
    description: "An API token (forecastd token makes one): read, or write which includes " +
      "read. Required when forecastd is configured with tokens; /healthz and /readyz are open.",
  });

  // made on first request, when every route is registered; the routes do not change after
  let document: Record<string, unknown> | undefined;
  app.openapi(openApiRoute, (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "forecastd",
        version: deps.version,
        description: "Forecasts, intervals, threshold crossings and anomaly alerts of " +
          'sensor streams. Errors are `{"error": "Cannot <action>: <constraint>: ' +
          'current value is <value>"}`.',
      },
      tags: [
        { name: "streams", description: "Streams, their forecasts and their anomalies" },
        { name: "alerts", description: "The alert history and the live feeds" },
        { name: "ingest", description: "Readings over HTTP and WebSocket" },
        { name: "operations", description: "Health, readiness, metrics and this document" },
      ],
      security: [{ bearerToken: [] }],
    }) as unknown as Record<string, unknown>;
    return c.json(document, 200);
  });

  // a known path with another method: 405 with Allow; an unknown path: 404
  app.notFound(routeNotFound(app));

  app.onError(errorHandler(log));

  return app;
}
