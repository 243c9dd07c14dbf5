import assert from "node:assert/strict";
import { INTERNAL_ERROR } from "../../src/api/errors.ts";
import { json, startDaemon } from "./_harness.ts";

Deno.test("GET /healthz is 200 {status: ok}; /readyz is 200 only when KV is open and the broker connected or absent", async () => {
  const d = await startDaemon();
  try {
    let r = await json(await d.request("GET", "/healthz"));
    assert.equal(r.status, 200);
    assert.equal(r.body.status, "ok");
    assert.equal(r.body.version, "0.0.0-test");

    r = await json(await d.request("GET", "/readyz"));
    assert.equal(r.status, 200, "no broker configured");
    assert.equal(r.body.status, "ready");
    assert.deepEqual(r.body.checks, { kv: "ok", broker: "not configured" });

    d.ready.broker = true;
    assert.equal((await json(await d.request("GET", "/readyz"))).status, 200);

    d.ready.broker = false;
    r = await json(await d.request("GET", "/readyz"));
    assert.equal(r.status, 503);
    assert.equal(r.body.checks.broker, "disconnected");
    assert.match(r.body.error, /^Cannot take traffic: .*: the MQTT broker is not connected$/);

    d.ready.kv = false;
    r = await json(await d.request("GET", "/readyz"));
    assert.equal(r.status, 503);
    assert.match(
      r.body.error,
      /: Deno KV is not open and the MQTT broker is not connected$/,
      "every check that fails is named",
    );
    assert.equal((await json(await d.request("GET", "/healthz"))).status, 200, "still alive");
  } finally {
    await d.close();
  }
});

Deno.test("an unexpected failure is logged once with its cause and answered with a generic 500", async () => {
  const d = await startDaemon();
  try {
    await d.service.put("boiler", { columns: ["v"] });
    d.service.summary = () => {
      throw new Error("disk on fire at /secret/path");
    };
    const r = await json(await d.request("GET", "/v1/streams"));
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { error: INTERNAL_ERROR });
    const logged = d.log.entries().filter((e) => e.event === "http.failed");
    assert.equal(logged.length, 1);
    assert.equal((logged[0].error as { message: string }).message, "disk on fire at /secret/path");
    assert.equal(logged[0].path, "/v1/streams");
  } finally {
    await d.close();
  }
});
