import assert from "node:assert/strict";
import { Hono } from "hono";
import { errorHandler, INTERNAL_ERROR, STATUS_OF_KIND } from "../../src/api/errors.ts";
import { captureLog } from "../../src/log.ts";
import { ServiceError, type ServiceErrorKind } from "../../src/service/service.ts";

Deno.test("errorHandler() answers each kind of ServiceError with its status and its message", async () => {
  const expected: Record<ServiceErrorKind, number> = {
    invalid: 400,
    not_found: 404,
    conflict: 409,
    unavailable: 503,
  };
  assert.deepEqual(STATUS_OF_KIND, expected);
  const log = captureLog("debug");
  for (const kind of Object.keys(expected) as ServiceErrorKind[]) {
    const app = new Hono();
    app.get("/", () => {
      throw new ServiceError(kind, `Cannot test: the kind must be ${kind}: current value is x`);
    });
    app.onError(errorHandler(log.log));
    const res = await app.request("/");
    assert.equal(res.status, expected[kind], kind);
    assert.deepEqual(await res.json(), {
      error: `Cannot test: the kind must be ${kind}: current value is x`,
    });
  }
  assert.equal(log.entries().length, 0, "expected failures are not logged");

  const app = new Hono();
  app.get("/", () => {
    throw new TypeError("x is undefined");
  });
  app.onError(errorHandler(log.log));
  const res = await app.request("/");
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: INTERNAL_ERROR });
  assert.equal(log.entries().filter((e) => e.event === "http.failed").length, 1);
});
