/**
 * Operational routes: liveness, readiness and metrics.
 *
 *   GET /healthz   200 {"status":"ok"} while the process serves requests
 *   GET /readyz    200 when Deno KV is open and the MQTT broker connected (or none is
 *                  configured), else 503 naming what is not ready
 *   GET /metrics   Prometheus text format 0.0.4, from a snapshot taken when it is asked
 *                  for, written in slices (metrics.ts metricsBody) so that a scrape of
 *                  10,000 streams does not hold up the other requests
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { TypedResponse } from "hono";
import { z } from "zod";
import { errorResponses } from "./errors.ts";
import {
  METRICS_CONTENT_TYPE,
  metricsBody,
  type MetricsOptions,
  type MetricsSource,
} from "./metrics.ts";
import { type ApiEnv, createRouter } from "./router.ts";
import type { ShardMap } from "../domain/shard_map.ts";
import type { WorkerIngest } from "../domain/worker_ingest.ts";
import { jsonResponse } from "./json_response.ts";

/** What the operational routes use. */
export interface HealthDeps {
  /** Shown by /healthz and /metrics. */
  version: string;
  /** Whether Deno KV is open and the MQTT broker connected (null: no broker configured). */
  readiness: () => { kv: boolean; broker: boolean | null };
  metrics: MetricsSource;
  /** HTTP requests refused by the Host, Origin and token checks, by reason. Default: none. */
  httpRefused?: () => Record<string, number>;
  /** The MQTT source's duplicates (MetricsOptions.mqttDuplicates). Default: none, not exported. */
  mqttDuplicates?: () => number;
  /** What /metrics exports (see MetricsOptions for the defaults). */
  metricsOptions?: MetricsOptions;
  /** This instance's shard, shown by /healthz and /metrics. Default null: not sharded. */
  shard?: ShardMap | null;
  /** The shard workers' state, shown by /healthz. Default: none (streams on the main thread). */
  workers?: () => readonly WorkerState[];
}

/** A shard worker's state, as /healthz shows it. */
export interface WorkerState {
  worker: number;
  /** False while it is dead or loading after a restart. */
  alive: boolean;
  /** Times it died and was started again. */
  restarts: number;
  /** Streams on it. */
  streams: number;
  /** Its last death: when (ms since the epoch) and the error, or null. */
  lastCrash: { at: number; message: string } | null;
  /**
   * Its idle time and how its batches overlapped (docs/api.md's /healthz).
   * Default: not shown.
   */
  ingest?: WorkerIngest;
}

const workerSchema = z.object({
  worker: z.number().int(),
  alive: z.boolean().meta({ description: "False while it is dead or loading after a restart" }),
  restarts: z.number().int().meta({
    description: "Times it died and was restarted from its streams' last checkpoints",
  }),
  streams: z.number().int(),
  lastCrash: z.object({ at: z.string(), error: z.string() }).nullable().meta({
    description: "When it last died (RFC 3339) and why",
  }),
  ingest: z.object({
    idleSeconds: z.number().meta({
      description: "Time it had no batch of readings to take since it started, s",
    }),
    nothingSentSeconds: z.number().meta({
      description: "Time the main thread had no batch sent to it and unanswered, s: the rest of " +
        "its idle time it waited for the main thread",
    }),
    sentBehind: z.array(z.number().int()).meta({
      description: "Batches sent to it by how many others were in flight to it then " +
        "([k]: k; the last: k or more)",
    }),
    readings: z.number().int().meta({
      description: "Readings it took since it started, from every source",
    }),
  }).optional().meta({ description: "Where its time went while readings came" }),
}).meta({ id: "WorkerHealth" });

const healthSchema = z.object({
  status: z.literal("ok"),
  version: z.string(),
  shard: z.object({
    index: z.number().int().meta({ description: "This instance's shard, 0 … count-1" }),
    count: z.number().int().meta({ description: "How many shards split the streams" }),
    peers: z.array(z.string()).meta({ description: "Each shard's base URL, in shard order" }),
  }).optional().meta({ description: "With --shard only: which streams this instance owns" }),
  workers: z.array(workerSchema).optional().meta({
    description: "The worker threads (absent when the streams run on the main thread, workers 0)",
  }),
}).meta({ id: "Health" });

const readySchema = z.object({
  status: z.enum(["ready", "not ready"]),
  error: z.string().optional().meta({ description: "What is not ready (503 only)" }),
  checks: z.object({
    kv: z.enum(["ok", "closed"]),
    broker: z.enum(["ok", "disconnected", "not configured"]),
  }),
}).meta({ id: "Readiness" });

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness: 200 while the process serves requests",
  security: [],
  responses: {
    200: jsonResponse("Alive", healthSchema),
    ...errorResponses(),
  },
});

const readyRoute = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["operations"],
  summary: "Readiness: Deno KV open, and the MQTT broker connected when one is configured",
  security: [],
  responses: {
    200: jsonResponse("Ready", readySchema),
    503: jsonResponse("Not ready: the error names every check that fails", readySchema),
    ...errorResponses(),
  },
});

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["operations"],
  summary: "The daemon's counters in the Prometheus text format 0.0.4",
  responses: {
    200: {
      description: "The metrics",
      content: {
        "text/plain; version=0.0.4": {
          schema: z.string().meta({ examples: ['forecastd_readings_total{source="mqtt"} 120'] }),
        },
      },
    },
    ...errorResponses(),
  },
});

/** The operational routes, to mount at /. */
export function healthRoutes(deps: HealthDeps): OpenAPIHono<ApiEnv> {
  const app = createRouter();

  const shard = deps.shard
    ? { index: deps.shard.index, count: deps.shard.count, peers: [...deps.shard.peers] }
    : null;
  app.openapi(healthRoute, (c) => {
    const workers = deps.workers?.().map((w) => ({
      worker: w.worker,
      alive: w.alive,
      restarts: w.restarts,
      streams: w.streams,
      lastCrash: w.lastCrash &&
        { at: new Date(w.lastCrash.at).toISOString(), error: w.lastCrash.message },
      ...(w.ingest
        ? {
          ingest: {
            idleSeconds: Math.round(w.ingest.idleSeconds * 1000) / 1000,
            nothingSentSeconds: Math.round(w.ingest.nothingSentSeconds * 1000) / 1000,
            sentBehind: [...w.ingest.sentBehind],
            readings: w.ingest.readings,
          },
        }
        : {}),
    }));
    return c.json({
      status: "ok" as const,
      version: deps.version,
      ...(shard ? { shard } : {}),
      ...(workers ? { workers } : {}),
    }, 200);
  });

  app.openapi(readyRoute, (c) => {
    const { kv, broker } = deps.readiness();
    const checks = {
      kv: kv ? "ok" as const : "closed" as const,
      broker: broker === null
        ? "not configured" as const
        : broker
        ? "ok" as const
        : "disconnected" as const,
    };
    const problems = [
      ...(kv ? [] : ["Deno KV is not open"]),
      ...(broker === false ? ["the MQTT broker is not connected"] : []),
    ];
    if (problems.length === 0) return c.json({ status: "ready" as const, checks }, 200);
    return c.json(
      {
        status: "not ready" as const,
        error: "Cannot take traffic: Deno KV must be open and the MQTT broker connected " +
          `(when one is configured): ${problems.join(" and ")}`,
        checks,
      },
      503,
    );
  });

  // the text comes in slices, a stream: typed as the text it is, which Hono types as a string
  app.openapi(metricsRoute, () =>
    new Response(
      metricsBody(deps.metrics, deps.version, {
        ...deps.metricsOptions,
        httpRefused: deps.httpRefused?.(),
        mqttDuplicates: deps.mqttDuplicates?.(),
        ...(shard ? { shard } : {}),
      }),
      { status: 200, headers: { "content-type": METRICS_CONTENT_TYPE } },
    ) as unknown as TypedResponse<string, 200, "text">);

  return app;
}
