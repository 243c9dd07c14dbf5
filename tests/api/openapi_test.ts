/**
 * The OpenAPI document at /openapi.json: every route the app answers is in
 * it and nothing else; it is valid OpenAPI 3.1 (checked by swagger-parser,
 * which validates against the specification's JSON schema and resolves every
 * $ref); and the responses the app actually gives match the schemas it
 * declares, so the document cannot drift from the code.
 */
import assert from "node:assert/strict";
import { PAGE_ROUTES } from "../../src/dashboard/dashboard.ts";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { z } from "zod";
import { storedAlert } from "../_helpers.ts";
import { type Daemon, FIVE_MIN, json, sineReadings, startDaemon } from "./_harness.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

/** The document the app serves. */
async function documentOf(d: Daemon): Promise<Doc> {
  const r = await json(await d.request("GET", "/openapi.json"));
  assert.equal(r.status, 200);
  return r.body;
}

/** `METHOD /path/{param}` of every operation in the document. */
function documented(doc: Doc): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Doc>)) {
    for (const m of METHODS) if (item[m]) out.push(`${m.toUpperCase()} ${path}`);
  }
  return out.sort();
}

/** `METHOD /path/{param}` of every API route the app answers (middleware and the pages left out). */
function answered(d: Daemon): string[] {
  const pages = new Set(PAGE_ROUTES);
  const routes = d.app.routes
    .filter((r) => r.method !== "ALL" && !pages.has(r.path))
    .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`);
  return [...new Set(routes)].sort();
}

Deno.test("GET /openapi.json documents every route the app answers, and only those", async () => {
  const d = await startDaemon();
  try {
    const doc = await documentOf(d);
    assert.equal(doc.openapi, "3.1.0");
    assert.equal(doc.info.version, "0.0.0-test");
    assert.deepEqual(documented(doc), answered(d));
    assert.deepEqual(answered(d), [
      "DELETE /v1/streams/{id}",
      "GET /healthz",
      "GET /metrics",
      "GET /openapi.json",
      "GET /readyz",
      "GET /v1/alerts",
      "GET /v1/alerts/events",
      "GET /v1/alerts/ws",
      "GET /v1/alerts/{id}",
      "GET /v1/auth",
      "GET /v1/ingest/ws",
      "GET /v1/rejects",
      "GET /v1/streams",
      "GET /v1/streams/{id}",
      "GET /v1/streams/{id}/anomalies",
      "GET /v1/streams/{id}/crossing",
      "GET /v1/streams/{id}/forecast",
      "GET /v1/streams/{id}/recent",
      "GET /v1/streams/{id}/recent.csv",
      "POST /v1/alerts/{id}/ack",
      "POST /v1/readings",
      "POST /v1/streams/{id}/readings",
      "PUT /v1/streams/{id}",
    ]);
  } finally {
    await d.close();
  }
});

Deno.test("the OpenAPI document is valid OpenAPI 3.1 and declares every path parameter", async () => {
  const d = await startDaemon();
  try {
    const doc = await documentOf(d);
    // throws naming the first problem; it dereferences its argument, hence the copy
    await SwaggerParser.validate(structuredClone(doc));

    for (const [path, item] of Object.entries(doc.paths as Record<string, Doc>)) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const m of METHODS.filter((m) => item[m])) {
        const op = item[m];
        const declared = (op.parameters ?? [])
          .filter((p: Doc) => p.in === "path" && p.required === true)
          .map((p: Doc) => p.name);
        assert.deepEqual(declared.sort(), inPath.sort(), `${m} ${path}: path parameters`);
        assert.ok(op.summary, `${m} ${path} has a summary`);
        assert.equal(
          op.responses["500"]?.content?.["application/json"]?.schema?.$ref,
          "#/components/schemas/Error",
          `${m} ${path} documents the generic 500`,
        );
      }
    }
  } finally {
    await d.close();
  }
});

Deno.test("the document names bodies, query parameters, headers, SSE and WebSocket upgrades", async () => {
  const d = await startDaemon();
  try {
    const { paths } = await documentOf(d);
    const params = (op: Doc, where: string) =>
      op.parameters.filter((p: Doc) => p.in === where).map((p: Doc) => p.name).sort();

    const put = paths["/v1/streams/{id}"].put;
    assert.equal(
      put.requestBody.content["application/json"].schema.$ref,
      "#/components/schemas/StreamSpec",
    );
    assert.deepEqual(Object.keys(put.responses).sort(), ["200", "201", "400", "409", "415", "500"]);
    assert.ok(put.responses["201"].headers.location, "201 names its Location header");
    assert.deepEqual(params(paths["/v1/streams/{id}/forecast"].get, "query"), ["horizon"]);
    const horizon = paths["/v1/streams/{id}/forecast"].get.parameters
      .find((p: Doc) => p.name === "horizon");
    assert.deepEqual(
      [horizon.required, horizon.schema.type, horizon.schema.minimum, horizon.schema.maximum],
      [false, "integer", 1, 512],
    );
    assert.deepEqual(params(paths["/v1/alerts"].get, "query"), [
      "after",
      "before",
      "limit",
      "order",
      "since",
      "state",
      "stream",
      "until",
    ]);

    const events = paths["/v1/alerts/events"].get;
    assert.deepEqual(Object.keys(events.responses["200"].content), ["text/event-stream"]);
    assert.deepEqual(params(events, "header"), ["last-event-id"]);
    assert.deepEqual(params(events, "query"), ["after", "stream", "token"]);

    for (const ws of ["/v1/alerts/ws", "/v1/ingest/ws"]) {
      const op = paths[ws].get;
      assert.match(op.responses["101"].description, /Upgrade: websocket/, ws);
      assert.ok(op.responses["101"].headers.upgrade, `${ws}: the 101 names its Upgrade header`);
      assert.ok(op.responses["426"], `${ws}: 426 without the handshake`);
      assert.ok(params(op, "query").includes("token"), `${ws}: ?token= for browsers`);
    }

    for (const ingest of ["/v1/readings", "/v1/streams/{id}/readings"]) {
      const op = paths[ingest].post;
      assert.deepEqual(Object.keys(op.requestBody.content).sort(), [
        "application/json",
        "text/plain",
      ]);
      assert.deepEqual(Object.keys(op.responses).sort(), [
        "200",
        "400",
        "413",
        "415",
        "422",
        "500",
        "503",
      ]);
    }
    assert.deepEqual(Object.keys(paths["/v1/streams/{id}/recent"].get.responses["200"].content), [
      "application/json",
      "text/csv",
    ]);
    assert.deepEqual(
      Object.keys(paths["/v1/streams/{id}/recent.csv"].get.responses["200"].content),
      ["text/csv"],
    );
    assert.deepEqual(params(paths["/v1/streams"].get, "query"), ["after", "limit"]);
    assert.deepEqual(Object.keys(paths["/metrics"].get.responses["200"].content), [
      "text/plain; version=0.0.4",
    ]);
  } finally {
    await d.close();
  }
});

/** The zod schema a route declares for `status`, by the request's method and path. */
function declaredSchema(d: Daemon, method: string, path: string, status: number) {
  for (const def of d.app.openAPIRegistry.definitions) {
    if (def.type !== "route" || def.route.method !== method.toLowerCase()) continue;
    const pattern = new RegExp(`^${def.route.path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (!pattern.test(path)) continue;
    const response = def.route.responses[status];
    assert.ok(response, `${method} ${path} declares status ${status}`);
    const media = "content" in response ? response.content?.["application/json"] : undefined;
    return media && "schema" in media ? media.schema as z.ZodType : undefined;
  }
  assert.fail(`no route declared for ${method} ${path}`);
}

Deno.test("every JSON response the app gives matches the schema the document declares for it", async () => {
  const d = await startDaemon();
  try {
    const t0 = Date.now() - 300 * FIVE_MIN;
    await d.service.ingest(sineReadings("room", t0, 0, 300), "http");
    for (let i = 1; i <= 3; i++) {
      const { id: _, ...alert } = storedAlert({ id: "", stream: "room", time: t0 + i * FIVE_MIN });
      await d.store.appendAlert(alert);
    }
    const requests: [string, string, unknown?, Record<string, string>?][] = [
      ["GET", "/healthz"],
      ["GET", "/readyz"],
      ["GET", "/v1/streams"],
      ["GET", "/v1/streams/room"],
      ["PUT", "/v1/streams/boiler", { columns: ["temp"], periodMs: 60_000 }],
      ["PUT", "/v1/streams/boiler", { frozen: true }],
      ["PUT", "/v1/streams/boiler", { columns: ["a b"] }],
      ["PUT", "/v1/streams/boiler", { frozen: true }, { "content-type": "text/plain" }],
      ["GET", "/v1/streams/room/forecast?horizon=3"],
      ["GET", "/v1/streams/boiler/forecast"],
      ["GET", "/v1/streams/room/forecast?horizon=0"],
      ["GET", "/v1/streams/room/crossing?above=21"],
      ["GET", "/v1/streams/room/anomalies?limit=2"],
      ["GET", "/v1/streams/nope/anomalies"],
      ["GET", "/v1/alerts?order=desc"],
      ["GET", "/v1/alerts/2"],
      ["GET", "/v1/alerts/99"],
      ["POST", "/v1/alerts/2/ack"],
      ["POST", "/v1/alerts/99/ack"],
      ["POST", "/v1/readings", [{ stream: "room", ts: Date.now(), v: 20 }]],
      ["POST", "/v1/readings", [{ stream: "room", ts: t0, v: 20 }]],
      ["POST", "/v1/readings", "{oops"],
      ["GET", "/v1/alerts/ws"],
      ["GET", "/v1/auth"],
      ["GET", "/v1/rejects"],
      ["GET", "/v1/rejects?source=mqtt"],
      ["GET", "/v1/rejects?source=nope"],
      ["DELETE", "/v1/streams/boiler"],
      ["DELETE", "/v1/streams/boiler"],
    ];
    const seen = new Set<number>();
    for (const [method, path, body, headers] of requests) {
      const res = await d.request(method, path, body, headers);
      const r = await json(res);
      seen.add(r.status);
      const schema = declaredSchema(d, method, path.split("?")[0], r.status);
      if (r.body === null) {
        assert.equal(schema, undefined, `${method} ${path}: ${r.status} has no body`);
        continue;
      }
      assert.ok(schema, `${method} ${path}: ${r.status} declares a JSON schema`);
      const parsed = schema.safeParse(r.body);
      assert.ok(
        parsed.success,
        `${method} ${path} ${r.status}: ${JSON.stringify(parsed.error?.issues)}`,
      );
    }
    assert.deepEqual([...seen].sort(), [200, 201, 204, 400, 404, 409, 415, 422, 426]);
  } finally {
    await d.close();
  }
});
