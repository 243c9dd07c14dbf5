/**
 * `GET /v1/rejects`: the last refusals of each source, fed by the ingest
 * routes, by the service's own refusals and by any source through the
 * IngestSink port (MQTT's end to end: tests/e2e/embedded_broker_test.ts).
 */
import assert from "node:assert/strict";
import { json, serve, startDaemon, WsClient } from "./_harness.ts";

const T0 = Date.UTC(2025, 5, 2);

Deno.test("GET /v1/rejects lists each source's last refusals, newest first, with time, stream, reason and message", async () => {
  const d = await startDaemon({ maxBodyBytes: 1000 });
  const server = await serve(d.app);
  try {
    let r = await json(await d.request("GET", "/v1/rejects"));
    assert.deepEqual(r, {
      status: 200,
      body: { capacity: 20, sources: { mqtt: [], http: [], ws: [], demo: [] } },
    });

    const before = Date.now();
    const post = (path: string, body: string, type = "application/json") =>
      d.request("POST", path, body, { "content-type": type }).then(json);
    assert.equal((await post("/v1/streams/kitchen/readings", `{"ts": ${T0}, "v": 1}`)).status, 200);
    const stale = await post("/v1/streams/kitchen/readings", `{"ts": ${T0 - 1}, "v": 2}`);
    assert.equal(stale.status, 422);
    const bad = await post("/v1/streams/kitchen/readings", '{"v": "warm"}');
    assert.equal(bad.status, 400);
    const text = await post("/v1/readings", "21.5", "text/plain");
    assert.equal(text.status, 415);
    const large = await post("/v1/readings", JSON.stringify({ stream: "x", v: "y".repeat(2000) }));
    assert.equal(large.status, 413);
    d.service.reject("bad_json", {
      source: "mqtt",
      stream: null,
      topic: "sensors/garage",
      message: "Cannot ingest reading: payload must be JSON",
    });
    const ws = new WsClient(`ws://${server.base}/v1/ingest/ws`);
    await ws.opened;
    assert.equal((await ws.ask('{"stream": "attic", "ts": "yesterday", "v": 1}')).ok, false);
    await ws.close();
    const after = Date.now();

    r = await json(await d.request("GET", "/v1/rejects"));
    assert.equal(r.status, 200);
    const { sources } = r.body;
    assert.deepEqual(Object.keys(sources), ["mqtt", "http", "ws", "demo"]);
    for (const list of Object.values(sources) as { time: number }[][]) {
      for (const e of list) assert.ok(e.time >= before && e.time <= after, JSON.stringify(e));
    }
    const shape = (list: { stream: string | null; reason: string; message: string }[]) =>
      list.map((e) => [e.stream, e.reason, e.message]);
    assert.deepEqual(shape(sources.http), [
      [null, "too_large", large.body.error],
      [null, "bad_content_type", text.body.error],
      ["kitchen", "bad_value", bad.body.error],
      ["kitchen", stale.body.reason, stale.body.error],
    ], "newest first, each as the client was told");
    assert.deepEqual(sources.mqtt.map((e: object) => ({ ...e, time: 0 })), [{
      time: 0,
      stream: null,
      reason: "bad_json",
      message: "Cannot ingest reading: payload must be JSON",
      topic: "sensors/garage",
    }]);
    assert.deepEqual(shape(sources.ws).map(([s, reason]) => [s, reason]), [[null, "bad_ts"]]);
    assert.deepEqual(sources.demo, []);

    r = await json(await d.request("GET", "/v1/rejects?source=http&stream=kitchen"));
    assert.deepEqual(Object.keys(r.body.sources), ["http"]);
    assert.deepEqual(shape(r.body.sources.http), shape(sources.http).slice(2));
    r = await json(await d.request("GET", "/v1/rejects?source=smtp&stream=a%20b"));
    assert.equal(r.status, 400);
    assert.equal(
      r.body.error,
      "Cannot list refusals: 'source' must be one of mqtt, http, ws, demo: current value is " +
        `"smtp"; 'stream' must be a stream id of 1-128 characters of A-Z a-z 0-9 _ . : -, not only dots: ` +
        'current value is "a b"',
    );
  } finally {
    await server.close();
    await d.close();
  }
});

Deno.test("GET /v1/rejects keeps the last 20 of a source", async () => {
  const d = await startDaemon();
  try {
    for (let i = 0; i < 25; i++) {
      d.service.reject("bad_value", { source: "mqtt", stream: `s${i}`, message: `m${i}` });
    }
    const r = await json(await d.request("GET", "/v1/rejects?source=mqtt"));
    assert.deepEqual(
      r.body.sources.mqtt.map((e: { stream: string }) => e.stream),
      Array.from({ length: 20 }, (_, i) => `s${24 - i}`),
    );
  } finally {
    await d.close();
  }
});
