/**
 * Stream routes: list, get, create or change, delete; the forecast, the
 * threshold crossing and the anomaly history of a stream.
 *
 *   GET    /v1/streams                 ?after&limit (paged by id)
 *   GET    /v1/streams/{id}
 *   PUT    /v1/streams/{id}            {preset?, columns?, targets?, periodMs?, frozen?}
 *   DELETE /v1/streams/{id}
 *   GET    /v1/streams/{id}/forecast   ?horizon=N
 *   GET    /v1/streams/{id}/crossing   ?target=T&above=X | &below=X
 *   GET    /v1/streams/{id}/anomalies  ?since&until&limit&order
 *   GET    /v1/streams/{id}/recent     ?after&limit (JSON, or CSV with Accept: text/csv)
 *   GET    /v1/streams/{id}/recent.csv ?after&limit
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import {
  MAX_VALUES_LIMIT,
  PRESET_NAME_PATTERN,
  PRESET_NAME_RULE,
  valueCountProblem,
} from "../domain/reading.ts";
import { showValue } from "../domain/show_value.ts";
import type { AlertSource } from "../alerts/alert_source.ts";
import type {
  Crossing,
  StreamForecast,
  StreamRecent,
  StreamRecord,
  StreamSpec,
  StreamSummary,
} from "../service/service.ts";
import type { Context } from "hono";
import type { Awaitable } from "../service/application.ts";
import { alertListQuery, alertPage } from "./alerts.ts";
import { preferredType } from "./preferred_type.ts";
import { CSV_TYPE, RECENT_CSV_COLUMNS, recentCsv } from "./recent_csv.ts";
import { alertPageSchema } from "./alert_json.ts";
import { errorResponses, fail } from "./errors.ts";
import { action, type ApiEnv, createRouter } from "./router.ts";
import {
  crossingJson,
  crossingSchema,
  forecastJson,
  forecastSchema,
  recentJson,
  recentSchema,
  streamListSchema,
  streamSummaryJson,
  streamSummarySchema,
} from "./stream_json.ts";
import {
  intParam,
  jsonBody,
  numberParam,
  refuseInvalid,
  streamId,
  timeParam,
  valueName,
} from "./validate.ts";
import { jsonResponse } from "./json_response.ts";

/** The streams as the routes use them. */
export interface StreamsPort {
  /** Every stream's id, sorted. */
  ids(): string[];
  /** A stream's summary; a ServiceError (not_found) when there is none. */
  summary(id: string): Awaitable<StreamSummary>;
  /** A stream's record, or undefined when there is none. */
  record(id: string): StreamRecord | undefined;
  /** Creates a stream or changes one. */
  put(id: string, spec: StreamSpec): Promise<StreamSummary>;
  /** Deletes a stream: false when there was none. */
  delete(id: string): Promise<boolean>;
  forecast(id: string, horizon?: number): Awaitable<StreamForecast>;
  crossing(
    id: string,
    target: string,
    x: number,
    direction: "above" | "below",
  ): Awaitable<Crossing>;
  /** The stream's last readings with the forecasts made for them. */
  recent(id: string, query: { after?: number; limit?: number }): Awaitable<StreamRecent>;
}

/** What the stream routes use. */
export interface StreamsDeps {
  streams: StreamsPort;
  /** The alert history, for a stream's anomalies. */
  alerts: Pick<AlertSource, "listAlerts">;
}

const pathSchema = z.strictObject({ id: streamId });

// the daemon's own limit (maxValuesPerStream, at most MAX_VALUES_LIMIT) is the service's to check
const nameList = z.array(valueName, { error: "must be a list of value names" })
  .min(1, { error: "must list at least one value name" })
  .max(MAX_VALUES_LIMIT, { error: valueCountProblem(MAX_VALUES_LIMIT + 1, MAX_VALUES_LIMIT)! })
  .refine((a) => new Set(a).size === a.length, { error: "must not repeat a name" });

/** The body of `PUT /v1/streams/{id}`. */
export const streamSpecSchema = z.strictObject({
  preset: z.string({ error: "must be a preset name" }).regex(PRESET_NAME_PATTERN, {
    error: `must be ${PRESET_NAME_RULE}`,
  }).optional().meta({ description: "The preset (models/NAME.json); default: the daemon's" }),
  columns: nameList.optional().meta({
    description: "The value names of each reading (required to create a stream)",
  }),
  targets: nameList.optional().meta({ description: "The columns to forecast; default: all" }),
  periodMs: z.number({ error: "must be a positive integer number of ms, or null" })
    .int({ error: "must be a positive integer number of ms, or null" })
    .positive({ error: "must be a positive integer number of ms, or null" })
    .nullable().optional().meta({
      description: "The sampling period, ms; null: the interval between the first two readings",
    }),
  frozen: z.boolean({ error: "must be true or false" }).optional().meta({
    description: "true: forecast without learning",
  }),
}, { error: "must be a JSON object" }).superRefine((spec, ctx) => {
  if (spec.columns && spec.targets) {
    spec.targets.forEach((t, i) => {
      if (!spec.columns!.includes(t)) {
        ctx.addIssue({
          code: "custom",
          path: ["targets", i],
          message: `must be one of the columns ${JSON.stringify(spec.columns)}`,
        });
      }
    });
  }
}).meta({ id: "StreamSpec", description: "How to create or change a stream" });

/** Streams a page lists when the client names no limit. */
export const STREAM_PAGE_DEFAULT = 100;

const listQuery = z.strictObject({
  after: streamId.optional().meta({
    description: "Only streams whose id sorts after this one: the `next` of the page before",
  }),
  limit: intParam(1, 1000).optional().meta({
    description: `At most this many (default ${STREAM_PAGE_DEFAULT})`,
  }),
});

const forecastQuery = z.strictObject({
  horizon: intParam(1, 512).optional().meta({ description: "Steps ahead; default: the preset's" }),
});

const crossingQuery = z.strictObject({
  target: valueName.optional().meta({ description: "Required when the stream has several" }),
  above: numberParam.optional().meta({ description: "The threshold, crossed upwards" }),
  below: numberParam.optional().meta({ description: "The threshold, crossed downwards" }),
});

const anomaliesQuery = alertListQuery.omit({ stream: true });

const recentQuery = z.strictObject({
  after: timeParam.optional().meta({
    description: "Only readings after this time (ms, s or RFC 3339): what a page polls with",
  }),
  limit: intParam(1, 1_000_000).optional().meta({ description: "At most this many, the newest" }),
});

const summary = jsonResponse("The stream", streamSummarySchema);

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["streams"],
  summary: "The streams, a page at a time",
  description: `Sorted by id, ${STREAM_PAGE_DEFAULT} a page unless \`limit\` says otherwise; ` +
    "`next` is the cursor of the next page (give it as `after`), null on the last.",
  middleware: [action("list streams")] as const,
  request: { query: listQuery },
  responses: {
    200: jsonResponse("A page of streams, by id", streamListSchema),
    ...errorResponses(400),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["streams"],
  summary: "A stream, its model and its accuracy",
  middleware: [action("get stream")] as const,
  request: { params: pathSchema },
  responses: { 200: summary, ...errorResponses(400, 404) },
});

/** The action of a PUT's body checks: it names the stream. */
const putBodyAction = (c: { req: { param(name: "id"): string } }) =>
  `put stream ${JSON.stringify(c.req.param("id"))}`;

const putRoute = createRoute({
  method: "put",
  path: "/{id}",
  tags: ["streams"],
  summary: "Create a stream, or change one",
  description: "A change of preset, columns, targets or period rebuilds the model.",
  middleware: [action("put stream"), jsonBody(putBodyAction)] as const,
  request: {
    params: pathSchema,
    body: { required: true, content: { "application/json": { schema: streamSpecSchema } } },
  },
  responses: {
    200: { ...summary, description: "The stream, changed" },
    201: {
      ...summary,
      description: "The stream, created",
      headers: z.object({ location: z.string().meta({ examples: ["/v1/streams/boiler"] }) }),
    },
    ...errorResponses(400, 409, 415),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["streams"],
  summary: "Delete a stream and its model (its alert history stays)",
  middleware: [action("delete stream")] as const,
  request: { params: pathSchema },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 404) },
});

const forecastRoute = createRoute({
  method: "get",
  path: "/{id}/forecast",
  tags: ["streams"],
  summary: "The forecast from the newest reading, with intervals",
  middleware: [action("forecast")] as const,
  request: { params: pathSchema, query: forecastQuery },
  responses: {
    200: jsonResponse("The forecast", forecastSchema),
    ...errorResponses(400, 404, 409),
  },
});

const crossingRoute = createRoute({
  method: "get",
  path: "/{id}/crossing",
  tags: ["streams"],
  summary: "When a target's forecast crosses a threshold",
  description: "Exactly one of `above` and `below` is given.",
  middleware: [action("compute crossing")] as const,
  request: { params: pathSchema, query: crossingQuery },
  responses: {
    200: jsonResponse("The crossing", crossingSchema),
    ...errorResponses(400, 404, 409),
  },
});

const anomaliesRoute = createRoute({
  method: "get",
  path: "/{id}/anomalies",
  tags: ["streams"],
  summary: "The stream's stored alerts, filtered and paged",
  middleware: [action("list anomalies")] as const,
  request: { params: pathSchema, query: anomaliesQuery },
  responses: {
    200: jsonResponse("A page of alerts", alertPageSchema),
    ...errorResponses(400, 404),
  },
});

/** The CSV form of the recent readings, as /openapi.json shows it. */
const recentCsvContent = {
  "text/csv": {
    schema: z.string().meta({
      description:
        `One row per reading and target, oldest first: ${
          RECENT_CSV_COLUMNS.join(", ")
        } (time in RFC 3339; forecast, lower, upper and residual = value - forecast empty where ` +
        "no forecast was made); a header row, CRLF line ends",
      examples: [
        "time,target,value,forecast,lower,upper,residual\r\n" +
        "2025-06-02T00:25:00.000Z,temperature,25.5,24.5,22.75,26.25,1\r\n",
      ],
    }),
  },
};

const recentRoute = createRoute({
  method: "get",
  path: "/{id}/recent",
  tags: ["streams"],
  summary: "The stream's last readings, each with the forecast made for it",
  description: "Kept in memory since the daemon started (`recentReadings` per stream). JSON in " +
    "columns, or CSV rows when `Accept` prefers `text/csv` (or ask `/recent.csv`).",
  middleware: [action("list recent readings")] as const,
  request: { params: pathSchema, query: recentQuery },
  responses: {
    200: {
      description: "The readings, oldest first: in columns (JSON) or in rows (CSV)",
      content: { "application/json": { schema: recentSchema }, ...recentCsvContent },
    },
    ...errorResponses(400, 404),
  },
});

const recentCsvRoute = createRoute({
  method: "get",
  path: "/{id}/recent.csv",
  tags: ["streams"],
  summary: "The stream's last readings, forecasts and residuals as CSV",
  description: "The readings of `/recent` as a CSV file to download: time, target, value, " +
    "forecast, lower, upper, residual.",
  middleware: [action("export recent readings")] as const,
  request: { params: pathSchema, query: recentQuery },
  responses: {
    200: {
      description: "The readings, oldest first, one row per reading and target",
      headers: z.object({
        "content-disposition": z.string().meta({
          examples: ['attachment; filename="boiler.recent.csv"'],
        }),
      }),
      content: recentCsvContent,
    },
    ...errorResponses(400, 404),
  },
});

/** The stream routes, to mount at /v1/streams. */
export function streamRoutes({ streams, alerts }: StreamsDeps): OpenAPIHono<ApiEnv> {
  const app = createRouter();

  /** The stream's record, or a 404 naming `action`. */
  const record = (id: string, action: string) => {
    const rec = streams.record(id);
    if (!rec) fail(404, `Cannot ${action}: stream must exist: "${id}" is unknown`);
    return rec;
  };

  app.openapi(listRoute, async (c) => {
    const { after, limit = STREAM_PAGE_DEFAULT } = c.req.valid("query");
    const ids = streams.ids();
    let start = 0;
    if (after !== undefined) { while (start < ids.length && ids[start] <= after) start++; }
    const page = ids.slice(start, start + limit);
    return c.json({
      streams: (await Promise.all(page.map((id) => streams.summary(id)))).map(streamSummaryJson),
      next: start + limit < ids.length ? page[page.length - 1] : null,
    }, 200);
  });

  app.openapi(
    getRoute,
    async (c) => c.json(streamSummaryJson(await streams.summary(c.req.valid("param").id)), 200),
  );

  app.openapi(
    putRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const created = streams.record(id) === undefined;
      const body = streamSummaryJson(await streams.put(id, c.req.valid("json")));
      if (created) {
        c.header("location", `/v1/streams/${encodeURIComponent(id)}`);
        return c.json(body, 201);
      }
      return c.json(body, 200);
    },
    (result, c) =>
      refuseInvalid(result, c, result.target === "json" ? putBodyAction(c) : undefined),
  );

  app.openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await streams.delete(id))) {
      fail(404, `Cannot delete stream: id must exist: "${id}" is unknown`);
    }
    return c.body(null, 204);
  });

  /** The recent readings of `id` as CSV; `/recent.csv` answers a file named after the stream. */
  const csv = (c: Context<ApiEnv>, id: string, recent: StreamRecent, file: boolean) =>
    c.body(
      recentCsv(recent),
      200,
      file
        ? {
          "content-type": CSV_TYPE,
          "content-disposition": `attachment; filename="${id}.recent.csv"`,
        }
        : { "content-type": CSV_TYPE, vary: "accept" },
    );

  app.openapi(recentRoute, async (c) => {
    const { id } = c.req.valid("param");
    const recent = await streams.recent(id, c.req.valid("query"));
    if (preferredType(c.req.header("accept"), ["application/json", "text/csv"]) === "text/csv") {
      return csv(c, id, recent, false);
    }
    c.header("vary", "accept");
    return c.json(recentJson(id, recent), 200);
  });

  app.openapi(recentCsvRoute, async (c) => {
    const { id } = c.req.valid("param");
    return csv(c, id, await streams.recent(id, c.req.valid("query")), true);
  });

  app.openapi(forecastRoute, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(forecastJson(await streams.forecast(id, c.req.valid("query").horizon)), 200);
  });

  app.openapi(crossingRoute, async (c) => {
    const action = c.get("action");
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    if ((q.above === undefined) === (q.below === undefined)) {
      const raw = c.req.query();
      fail(
        400,
        `Cannot ${action}: exactly one of 'above' and 'below' must be given: current values are ` +
          `above=${showValue(raw.above)}, below=${showValue(raw.below)}`,
      );
    }
    const { targets } = record(id, action);
    let target = q.target;
    if (target === undefined) {
      if (targets.length !== 1) {
        fail(
          400,
          `Cannot ${action}: 'target' must be given when the stream has several targets (${
            targets.join(", ")
          }): current value is missing`,
        );
      }
      target = targets[0];
    }
    const [direction, x] = q.above !== undefined
      ? ["above" as const, q.above]
      : ["below" as const, q.below!];
    return c.json(crossingJson(await streams.crossing(id, target, x, direction)), 200);
  });

  app.openapi(anomaliesRoute, async (c) => {
    const { id } = c.req.valid("param");
    record(id, c.get("action"));
    return c.json(await alertPage(alerts, { ...c.req.valid("query"), stream: id }), 200);
  });

  return app;
}
