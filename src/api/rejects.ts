/**
 * The last refusals of each source: what a device that publishes over MQTT
 * (no reply channel) or anyone else can read of why its readings were not
 * taken. The counts by reason are in /metrics.
 *
 *   GET /v1/rejects   ?source&stream
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { RejectEntry } from "../service/service.ts";
import { errorResponses } from "./errors.ts";
import { action, type ApiEnv, createRouter } from "./router.ts";
import { streamId } from "./validate.ts";
import { jsonResponse } from "./json_response.ts";

/** The refusals as the route reads them. */
export interface RejectsPort {
  /** Per source that refused something, newest first, and how many a source keeps. */
  lastRejects(): { capacity: number; sources: Record<string, RejectEntry[]> };
}

/** The sources readings come from, each listed even when it refused nothing. */
export const SOURCES = ["mqtt", "http", "ws", "demo"] as const;

const rejectSchema = z.object({
  time: z.number().meta({ description: "When it was refused, ms since the epoch" }),
  stream: z.string().nullable().meta({
    description: "The stream it named, or null when it named none or could not be read so far",
  }),
  reason: z.string().meta({
    description: "The reason, as /metrics counts it (bad_json, out_of_order, too_large, ...)",
    examples: ["bad_value"],
  }),
  message: z.string().meta({
    examples: [`Cannot ingest reading: 'value' must be a finite number: current value is "warm"`],
  }),
  topic: z.string().optional().meta({ description: "The MQTT topic it was published to" }),
}).meta({ id: "Reject", description: "A message or reading forecastd refused" });

/** The body of `GET /v1/rejects`. */
export const rejectsSchema = z.object({
  capacity: z.number().int().meta({ description: "Refusals kept per source at most" }),
  sources: z.partialRecord(z.enum(SOURCES), z.array(rejectSchema)).meta({
    description: "Per source (each, or the one asked for), its last refusals, newest first",
  }),
}).meta({ id: "Rejects", description: "The last refusals of each source" });

const rejectsQuery = z.strictObject({
  source: z.enum(SOURCES, { error: `must be one of ${SOURCES.join(", ")}` }).optional().meta({
    description: "Only this source",
  }),
  stream: streamId.optional().meta({ description: "Only the refusals that named this stream" }),
});

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["ingest"],
  summary: "The last messages and readings refused, per source",
  description: "Kept in memory since the daemon started: the last `capacity` (20) of each " +
    "source (MQTT, HTTP, WebSocket, the demo sensor), with why. MQTT has no reply channel: " +
    "this is where a device's author reads what went wrong.",
  middleware: [action("list refusals")] as const,
  request: { query: rejectsQuery },
  responses: {
    200: jsonResponse("The refusals", rejectsSchema),
    ...errorResponses(400),
  },
});

/** The route of the last refusals, to mount at /v1/rejects. */
export function rejectRoutes({ rejects }: { rejects: RejectsPort }): OpenAPIHono<ApiEnv> {
  const app = createRouter();
  app.openapi(listRoute, (c) => {
    const q = c.req.valid("query");
    const last = rejects.lastRejects();
    const sources: Partial<Record<(typeof SOURCES)[number], Omit<RejectEntry, "source">[]>> = {};
    for (const source of SOURCES) {
      if (q.source !== undefined && source !== q.source) continue;
      sources[source] = (last.sources[source] ?? [])
        .filter((e) => q.stream === undefined || e.stream === q.stream)
        .map(({ source: _, ...e }) => e);
    }
    return c.json({ capacity: last.capacity, sources }, 200);
  });
  return app;
}
