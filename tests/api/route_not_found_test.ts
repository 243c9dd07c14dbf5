import assert from "node:assert/strict";
import { allowedMethods, pathMethods, pathPattern } from "../../src/api/route_not_found.ts";

Deno.test("pathPattern() reads Hono's params, custom patterns and wildcards, and escapes the rest", () => {
  const cases: [string, string[], string[]][] = [
    ["/v1/streams/:id", ["/v1/streams/a", "/v1/streams/a.b:c"], ["/v1/streams", "/v1/streams/a/b"]],
    ["/v1/alerts/:id{[0-9]+}", ["/v1/alerts/42"], ["/v1/alerts/events"]],
    ["/docs/*", ["/docs/", "/docs/a/b"], ["/docs"]],
    ["/openapi.json", ["/openapi.json"], ["/openapiXjson"]],
  ];
  for (const [path, yes, no] of cases) {
    const re = pathPattern(path);
    for (const p of yes) assert.ok(re.test(p), `${path} matches ${p}`);
    for (const p of no) assert.ok(!re.test(p), `${path} does not match ${p}`);
  }
});

Deno.test("allowedMethods() merges the routes of a path, adds HEAD to GET and OPTIONS, leaves middleware out", () => {
  const paths = pathMethods([
    { method: "ALL", path: "/*" },
    { method: "GET", path: "/v1/streams/:id" },
    { method: "PUT", path: "/v1/streams/:id" },
    { method: "GET", path: "/v1/streams/:id" },
    { method: "DELETE", path: "/v1/streams/:id" },
    { method: "POST", path: "/v1/alerts/:id/ack" },
  ]);
  assert.deepEqual(allowedMethods(paths, "/v1/streams/x"), [
    "GET",
    "HEAD",
    "PUT",
    "DELETE",
    "OPTIONS",
  ]);
  assert.deepEqual(allowedMethods(paths, "/v1/alerts/7/ack"), ["POST", "OPTIONS"]);
  assert.deepEqual(allowedMethods(paths, "/v1/nothing"), [], "the middleware's /* is no route");
});
