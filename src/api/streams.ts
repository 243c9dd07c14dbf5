/**
 * Stream routes: list, get, create or change, delete; the forecast, the
 * threshold crossing and the anomaly history of a stream.
 *
 *   GET    /v1/streams
 *   GET    /v1/streams/{id}
 *   PUT    /v1/streams/{id}            {preset?, columns?, targets?, periodMs?, frozen?}
 *   DELETE /v1/streams/{id}
 *   GET    /v1/streams/{id}/forecast   ?horizon=N
 *   GET    /v1/streams/{id}/crossing   ?target=T&above=X | &below=X
 *   GET    /v1/streams/{id}/anomalies  ?since&until&limit&order
 */
import type { Hono } from "hono";
import { z } from "zod";
import { isValueName, VALUE_NAME_RULE } from "../domain/reading.ts";
import type { AppDeps } from "./app.ts";
import { alertListQuery, alertPage } from "./alerts.ts";
import { crossingJson, forecastJson, streamSummaryJson } from "./stream_json.ts";
import { check, fail, intParam, numberParam, readJson, streamId } from "./validate.ts";

const pathSchema = z.strictObject({ id: streamId });

const valueName = z.string({ error: `must be a value name of ${VALUE_NAME_RULE}` }).refine(
  isValueName,
  { error: `must be a value name of ${VALUE_NAME_RULE}` },
);
const nameList = z.array(valueName, { error: "must be a list of value names" })
  .min(1, { error: "must list at least one value name" })
  .max(256, { error: "must list at most 256 value names" })
  .refine((a) => new Set(a).size === a.length, { error: "must not repeat a name" });

/** The body of `PUT /v1/streams/{id}`. */
export const streamSpecSchema = z.strictObject({
  preset: z.string({ error: "must be a preset name" }).regex(/^[A-Za-z0-9_-]{1,64}$/, {
    error: "must be a preset name of 1-64 letters, digits, - and _",
  }).optional(),
  columns: nameList.optional(),
  targets: nameList.optional(),
  periodMs: z.number({ error: "must be a positive integer number of ms, or null" })
    .int({ error: "must be a positive integer number of ms, or null" })
    .positive({ error: "must be a positive integer number of ms, or null" })
    .nullable().optional(),
  frozen: z.boolean({ error: "must be true or false" }).optional(),
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
});

const forecastQuery = z.strictObject({ horizon: intParam(1, 512).optional() });

const crossingQuery = z.strictObject({
  target: valueName.optional(),
  above: numberParam.optional(),
  below: numberParam.optional(),
});

const anomaliesQuery = alertListQuery.omit({ stream: true });

/** Registers the stream routes on `app`. */
export function streamRoutes(app: Hono, deps: AppDeps): void {
  const { service } = deps;

  app.get("/v1/streams", (c) => c.json({ streams: service.list().map(streamSummaryJson) }));

  app.get("/v1/streams/:id", (c) => {
    const { id } = check(pathSchema, c.req.param(), "get stream", "path");
    return c.json(streamSummaryJson(service.summary(id)));
  });

  app.put("/v1/streams/:id", async (c) => {
    const { id } = check(pathSchema, c.req.param(), "put stream", "path");
    const action = `put stream "${id}"`;
    const spec = check(streamSpecSchema, await readJson(c.req.raw, action), action, "body");
    const created = !service.records.has(id);
    const summary = streamSummaryJson(await service.put(id, spec));
    if (created) {
      c.header("location", `/v1/streams/${encodeURIComponent(id)}`);
      return c.json(summary, 201);
    }
    return c.json(summary);
  });

  app.delete("/v1/streams/:id", async (c) => {
    const { id } = check(pathSchema, c.req.param(), "delete stream", "path");
    if (!(await service.delete(id))) {
      fail(404, `Cannot delete stream: id must exist: "${id}" is unknown`);
    }
    return c.body(null, 204);
  });

  app.get("/v1/streams/:id/forecast", (c) => {
    const { id } = check(pathSchema, c.req.param(), "forecast", "path");
    const { horizon } = check(forecastQuery, c.req.query(), "forecast", "query");
    return c.json(forecastJson(service.forecast(id, horizon)));
  });

  app.get("/v1/streams/:id/crossing", (c) => {
    const action = "compute crossing";
    const { id } = check(pathSchema, c.req.param(), action, "path");
    const q = check(crossingQuery, c.req.query(), action, "query");
    if ((q.above === undefined) === (q.below === undefined)) {
      fail(
        400,
        `Cannot ${action}: exactly one of 'above' and 'below' must be given: current values are above=${
          show(c.req.query("above"))
        }, below=${show(c.req.query("below"))}`,
      );
    }
    const { targets } = streamRecord(deps, id, action);
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
    const [direction, x] = q.above !== undefined ? ["above" as const, q.above] : [
      "below" as const,
      q.below!,
    ];
    return c.json(crossingJson(service.crossing(id, target, x, direction)));
  });

  app.get("/v1/streams/:id/anomalies", async (c) => {
    const action = "list anomalies";
    const { id } = check(pathSchema, c.req.param(), action, "path");
    const q = check(anomaliesQuery, c.req.query(), action, "query");
    streamRecord(deps, id, action);
    return c.json(await alertPage(service, { ...q, stream: id }));
  });
}

/** The stream's record, or a 404. */
function streamRecord({ service }: AppDeps, id: string, action: string) {
  const rec = service.records.get(id);
  if (!rec) fail(404, `Cannot ${action}: stream must exist: "${id}" is unknown`);
  return rec;
}

function show(v: string | undefined): string {
  return v === undefined ? "missing" : JSON.stringify(v);
}
