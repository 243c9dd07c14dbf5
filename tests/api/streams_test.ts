import assert from "node:assert/strict";
import { FIVE_MIN, json, sineReadings, startDaemon } from "./_harness.ts";

/** Every error body is exactly {"error": "Cannot ..."}; returns the message. */
function errorOf(body: unknown): string {
  assert.ok(body && typeof body === "object", `error body is an object: ${JSON.stringify(body)}`);
  assert.deepEqual(Object.keys(body), ["error"], `error body has only 'error'`);
  const msg = (body as { error: unknown }).error;
  assert.equal(typeof msg, "string");
  assert.match(msg as string, /^Cannot /, "the message starts with the action");
  return msg as string;
}

/** An RFC 3339 time in UTC with milliseconds, as Date.prototype.toISOString() writes it. */
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function includesAll(msg: string, fragments: string[]): void {
  for (const f of fragments) assert.ok(msg.includes(f), `${JSON.stringify(f)} in: ${msg}`);
}

Deno.test("PUT /v1/streams/{id} creates (201) then changes (200); GET shows the summary; DELETE removes it", async () => {
  const d = await startDaemon();
  try {
    let r = await json(
      await d.request("PUT", "/v1/streams/boiler", {
        columns: ["temp", "pressure"],
        targets: ["temp"],
        periodMs: 60_000,
      }),
    );
    assert.equal(r.status, 201);
    assert.equal(r.body.id, "boiler");
    assert.deepEqual(r.body.columns, ["temp", "pressure"]);
    assert.deepEqual(r.body.targets, ["temp"]);
    assert.equal(r.body.preset, "default");
    assert.equal(r.body.periodMs, 60_000);
    assert.equal(r.body.state, "warming_up");
    assert.equal(r.body.readings, 0);
    assert.equal(r.body.lastReading, null);
    assert.equal(r.body.horizons.length, 24, "one entry per horizon of the default preset");
    assert.deepEqual(Object.keys(r.body.horizons[0]).sort(), [
      "coverage",
      "horizon",
      "scored",
      "skill",
      "skillByExpert",
    ]);
    assert.equal(r.body.model.hidden, 32);

    const created = await d.request("PUT", "/v1/streams/other", { columns: ["v"] });
    assert.equal(created.headers.get("location"), "/v1/streams/other");
    await created.body?.cancel();

    r = await json(await d.request("GET", "/v1/streams"));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.streams.map((s: { id: string }) => s.id), ["boiler", "other"]);
    assert.equal(r.body.next, null, "one page holds them all");

    r = await json(await d.request("PUT", "/v1/streams/boiler", { frozen: true }));
    assert.equal(r.status, 200);
    assert.equal(r.body.frozen, true);
    assert.equal(r.body.state, "frozen");

    r = await json(await d.request("GET", "/v1/streams/boiler"));
    assert.equal(r.status, 200);
    assert.equal(r.body.state, "frozen");

    const del = await d.request("DELETE", "/v1/streams/boiler");
    assert.equal(del.status, 204);
    assert.equal(await del.text(), "");
    r = await json(await d.request("GET", "/v1/streams/boiler"));
    assert.equal(r.status, 404);
    includesAll(errorOf(r.body), ['"boiler"', "unknown"]);
    r = await json(await d.request("DELETE", "/v1/streams/boiler"));
    assert.equal(r.status, 404);
    errorOf(r.body);
  } finally {
    await d.close();
  }
});

Deno.test("PUT /v1/streams/{id} answers 400 naming the field, the constraint and the current value", async () => {
  const d = await startDaemon();
  try {
    const cases: [string, unknown, string[]][] = [
      ["/v1/streams/s1", { columns: ["a b"] }, [
        "'columns[0]'",
        "value name",
        'current value is "a b"',
      ]],
      ["/v1/streams/s1", { columns: ["a"], colour: 1 }, ["'colour' is not a known field"]],
      [
        "/v1/streams/s1",
        { columns: ["a"], periodMs: -5 },
        ["'periodMs'", "positive integer", "current value is -5"],
      ],
      [
        "/v1/streams/s1",
        { columns: ["a"], targets: ["b"] },
        ["'targets[0]'", 'must be one of the columns ["a"]', 'current value is "b"'],
      ],
      ["/v1/streams/s1", { columns: ["a", "a"] }, ["'columns'", "must not repeat"]],
      ["/v1/streams/s1", { columns: [] }, ["'columns'", "at least one", "current value is []"]],
      ["/v1/streams/s1", { columns: ["a"], frozen: "yes" }, ["'frozen'", 'current value is "yes"']],
      ["/v1/streams/s1", [1, 2], ["body must be a JSON object", "current value is [1,2]"]],
      ["/v1/streams/s1", "{not json", ["body must be JSON", '"{not json"']],
      ["/v1/streams/s1", {}, ["'columns' must list", "current value is undefined"]],
      ["/v1/streams/s1", { columns: ["a"], preset: "nope" }, ["preset", '"nope"']],
      ["/v1/streams/a%20b", { columns: ["a"] }, ["'id'", "stream id", 'current value is "a b"']],
      ["/v1/streams/s1", { columns: [".."] }, [
        "'columns[0]'",
        "not only dots",
        'current value is ".."',
      ]],
      ["/v1/streams/...", { columns: ["a"] }, ["'id'", "not only dots", 'current value is "..."']],
      [
        "/v1/streams/s1",
        { columns: Array.from({ length: 257 }, (_, i) => `v${i}`) },
        ["'columns'", "must hold at most 256 values"],
      ],
      [
        "/v1/streams/s1",
        { columns: Array.from({ length: 65 }, (_, i) => `v${i}`) },
        [
          'Cannot create stream "s1": its values must hold at most 64 values (maxValuesPerStream)',
          "current count is 65",
        ],
      ],
    ];
    for (const [path, body, fragments] of cases) {
      const r = await json(await d.request("PUT", path, body));
      assert.equal(r.status, 400, `${JSON.stringify(body)}: status (${JSON.stringify(r.body)})`);
      includesAll(errorOf(r.body), fragments);
    }
    assert.equal(d.service.records.size, 0, "no stream was created by a bad request");
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/streams pages by id: limit (default 100), after, and next until the last page", async () => {
  const d = await startDaemon();
  try {
    const ids = Array.from({ length: 105 }, (_, i) => `s${String(i).padStart(3, "0")}`);
    for (const id of ids.toReversed()) await d.service.put(id, { columns: ["v"] });
    const idsOf = (body: { streams: { id: string }[] }) => body.streams.map((s) => s.id);

    let r = await json(await d.request("GET", "/v1/streams"));
    assert.equal(r.status, 200);
    assert.deepEqual(idsOf(r.body), ids.slice(0, 100), "the first 100, sorted");
    assert.equal(r.body.next, "s099");
    r = await json(await d.request("GET", `/v1/streams?after=${r.body.next}`));
    assert.deepEqual(idsOf(r.body), ids.slice(100));
    assert.equal(r.body.next, null, "the last page");

    const seen: string[] = [];
    let next: string | null = null;
    do {
      r = await json(
        await d.request("GET", `/v1/streams?limit=7${next === null ? "" : `&after=${next}`}`),
      );
      assert.ok(r.body.streams.length <= 7);
      seen.push(...idsOf(r.body));
      next = r.body.next;
    } while (next !== null);
    assert.deepEqual(seen, ids, "following next visits every stream once, in order");

    r = await json(await d.request("GET", "/v1/streams?limit=5&after=s100"));
    assert.deepEqual([idsOf(r.body), r.body.next], [["s101", "s102", "s103", "s104"], null]);
    r = await json(await d.request("GET", "/v1/streams?limit=4&after=s100"));
    assert.deepEqual([idsOf(r.body), r.body.next], [["s101", "s102", "s103", "s104"], null]);
    r = await json(await d.request("GET", "/v1/streams?after=a"));
    assert.equal(idsOf(r.body)[0], "s000", "after an id that is not a stream");
    r = await json(await d.request("GET", "/v1/streams?after=zzz"));
    assert.deepEqual([idsOf(r.body), r.body.next], [[], null]);

    r = await json(await d.request("GET", "/v1/streams?limit=0&after=a%20b"));
    assert.equal(r.status, 400);
    includesAll(errorOf(r.body), [
      "Cannot list streams:",
      "'limit' must be an integer from 1 to 1000",
      "'after' must be a stream id",
    ]);
  } finally {
    await d.close();
  }
});

Deno.test("unknown streams, alerts and routes answer 404 with a JSON error", async () => {
  const d = await startDaemon();
  try {
    for (
      const [method, path] of [
        ["GET", "/v1/streams/nope"],
        ["DELETE", "/v1/streams/nope"],
        ["GET", "/v1/streams/nope/forecast"],
        ["GET", "/v1/streams/nope/crossing?above=1"],
        ["GET", "/v1/streams/nope/anomalies"],
        ["POST", "/v1/alerts/0000000000000042/ack"],
        ["GET", "/v2/anything"],
        ["GET", "/v1/streams/nope/forecasts"],
      ]
    ) {
      const r = await json(await d.request(method, path));
      assert.equal(r.status, 404, `${method} ${path}`);
      const msg = errorOf(r.body);
      if (path.includes("nope") && !path.endsWith("forecasts")) {
        assert.ok(msg.includes('"nope"'), msg);
      }
    }
    const r = await json(await d.request("GET", "/v2/anything"));
    assert.equal(
      errorOf(r.body),
      "Cannot GET /v2/anything: no such route (the API is under /v1/, with /healthz, /readyz, " +
        "/metrics and /openapi.json; the dashboard is at / and the API's reference at /docs)",
    );
  } finally {
    await d.close();
  }
});

Deno.test("a known path asked with another method answers 405 with Allow; OPTIONS answers 204 with Allow", async () => {
  const d = await startDaemon();
  try {
    const cases: [string, string, string][] = [
      ["POST", "/v1/streams", "GET, HEAD, OPTIONS"],
      ["DELETE", "/v1/alerts", "GET, HEAD, OPTIONS"],
      ["PATCH", "/v1/streams/nope", "GET, HEAD, PUT, DELETE, OPTIONS"],
      ["GET", "/v1/alerts/42/ack", "POST, OPTIONS"],
      ["PUT", "/v1/readings", "POST, OPTIONS"],
      ["POST", "/healthz", "GET, HEAD, OPTIONS"],
      ["DELETE", "/", "GET, HEAD, OPTIONS"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await d.request(method, path);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}: Allow`);
      const r = await json(res);
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(
        errorOf(r.body),
        `Cannot ${method} ${path}: the method must be one of ${allow}: current value is "${method}"`,
      );
    }
    const options = await d.request("OPTIONS", "/v1/streams/boiler");
    assert.equal(options.status, 204);
    assert.equal(options.headers.get("allow"), "GET, HEAD, PUT, DELETE, OPTIONS");
    assert.equal(await options.text(), "");
    const head = await d.request("HEAD", "/v1/streams");
    assert.equal(head.status, 200, "HEAD is answered by the GET route");
    await head.body?.cancel();
    const unknown = await d.request("OPTIONS", "/v2/anything");
    assert.equal(unknown.status, 404, "OPTIONS of an unknown path");
    await unknown.body?.cancel();
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/streams/{id}/forecast gives steps after the last reading, with intervals once calibrated", async () => {
  const d = await startDaemon();
  try {
    const n = 300;
    const t0 = Date.now() - (n - 1) * FIVE_MIN; // the last reading is now
    const res = await d.service.ingest(sineReadings("room", t0, 0, n), "http");
    assert.equal(res.accepted, n);
    const last = t0 + (n - 1) * FIVE_MIN;

    const r = await json(await d.request("GET", "/v1/streams/room/forecast?horizon=6"));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.stream, "room");
    assert.equal(r.body.origin, new Date(last).toISOString());
    assert.equal(r.body.model.updatedAt, new Date(last).toISOString());
    assert.equal(r.body.periodMs, FIVE_MIN);
    assert.equal(r.body.timestamps.length, 6);
    r.body.timestamps.forEach((t: string, k: number) => {
      assert.match(t, ISO, `timestamps[${k}]`);
      assert.equal(Date.parse(t), last + (k + 1) * FIVE_MIN, `timestamps[${k}]`);
    });
    assert.ok(
      Date.parse(r.body.timestamps[0]) > Date.now() - 1000,
      "the forecast is of the future",
    );
    const { point, lower, upper } = r.body.targets.v;
    assert.equal(point.length, 6);
    for (let k = 0; k < 6; k++) {
      assert.ok(Number.isFinite(point[k]), `point[${k}] = ${point[k]}`);
      assert.ok(lower[k] !== null && upper[k] !== null, `interval at step ${k + 1}`);
      assert.ok(
        lower[k] <= point[k] && point[k] <= upper[k],
        `lower <= point <= upper at ${k + 1}`,
      );
      assert.ok(Math.abs(point[k] - 20) < 5, `point[${k}] = ${point[k]} near the series`);
    }
    assert.equal(r.body.coverage, 0.9);
    assert.equal(r.body.model.version, n);

    const whole = await json(await d.request("GET", "/v1/streams/room/forecast"));
    assert.equal(whole.body.timestamps.length, 24, "without horizon: the preset's Hmax");

    let bad = await json(await d.request("GET", "/v1/streams/room/forecast?horizon=0"));
    assert.equal(bad.status, 400);
    assert.equal(
      errorOf(bad.body),
      `Cannot forecast: 'horizon' must be an integer from 1 to 512: current value is "0"`,
    );
    bad = await json(await d.request("GET", "/v1/streams/room/forecast?horizn=3"));
    assert.equal(bad.status, 400);
    includesAll(errorOf(bad.body), ["'horizn' is not a known query parameter"]);

    await (await d.request("PUT", "/v1/streams/empty", { columns: ["v"] })).body?.cancel();
    bad = await json(await d.request("GET", "/v1/streams/empty/forecast"));
    assert.equal(bad.status, 409);
    includesAll(errorOf(bad.body), ["must have a reading first"]);
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/streams/{id}/crossing finds when a rising stream crosses a threshold, null when it will not", async () => {
  const d = await startDaemon();
  try {
    const n = 200;
    const t0 = Date.now() - n * FIVE_MIN;
    await d.service.ingest(
      Array.from({ length: n }, (_, i) => ({
        stream: "tank",
        ts: t0 + i * FIVE_MIN,
        values: { level: 10 + 0.05 * i },
      })),
      "http",
    );
    const lastValue = 10 + 0.05 * (n - 1);
    const origin = t0 + (n - 1) * FIVE_MIN;

    let r = await json(
      await d.request("GET", `/v1/streams/tank/crossing?above=${lastValue + 0.3}`),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.target, "level", "the only target is the default");
    assert.equal(r.body.direction, "above");
    assert.ok(Math.abs(r.body.value - lastValue) < 1e-9);
    assert.equal(r.body.origin, new Date(origin).toISOString());
    assert.notEqual(r.body.crossing, null, "a rising stream crosses last + 0.3 within 24 steps");
    assert.match(r.body.crossing, ISO);
    assert.match(r.body.horizonEnd, ISO);
    const at = Date.parse(r.body.crossing);
    assert.ok(at > origin && at <= Date.parse(r.body.horizonEnd), `crossing ${r.body.crossing}`);
    // 0.05 per step: about 6 steps ahead
    assert.ok(
      Math.abs(at - (origin + 6 * FIVE_MIN)) <= 2 * FIVE_MIN,
      `crossing ${r.body.crossing}`,
    );

    r = await json(await d.request("GET", `/v1/streams/tank/crossing?target=level&above=1000`));
    assert.equal(r.status, 200);
    assert.equal(r.body.crossing, null, "1000 is not reached within the horizon");
    r = await json(await d.request("GET", `/v1/streams/tank/crossing?below=0`));
    assert.equal(r.status, 200);
    assert.equal(r.body.direction, "below");
    assert.equal(r.body.crossing, null, "a rising stream does not fall below 0");

    for (
      const [query, fragments] of [
        ["above=1&below=2", ["exactly one of 'above' and 'below'", 'above="1", below="2"']],
        ["", ["exactly one of 'above' and 'below'", "above=missing"]],
        ["above=high", ["'above' must be a finite number", 'current value is "high"']],
        ["above=1&target=nope", ["'target' must be one of", '"nope"']],
      ] as const
    ) {
      const bad = await json(await d.request("GET", `/v1/streams/tank/crossing?${query}`));
      assert.equal(bad.status, 400, query);
      includesAll(errorOf(bad.body), [...fragments]);
    }

    await (await d.request("PUT", "/v1/streams/two", { columns: ["a", "b"] })).body?.cancel();
    const two = await json(await d.request("GET", "/v1/streams/two/crossing?above=1"));
    assert.equal(two.status, 400);
    includesAll(errorOf(two.body), ["'target' must be given", "a, b"]);
  } finally {
    await d.close();
  }
});

Deno.test("a stream with one reading forecasts with null times and has no crossing time yet", async () => {
  const d = await startDaemon();
  try {
    const ts = Date.UTC(2025, 5, 1, 12);
    await d.service.ingest([{ stream: "new", ts, values: { v: 1 } }], "http");
    const f = await json(await d.request("GET", "/v1/streams/new/forecast?horizon=2"));
    assert.equal(f.status, 200, JSON.stringify(f.body));
    assert.equal(f.body.origin, new Date(ts).toISOString());
    assert.equal(f.body.periodMs, null, "one reading gives no period");
    assert.deepEqual(f.body.timestamps, [null, null]);

    // the steps have no times: the crossing time is not known (this used to fail with a 500)
    const c = await json(await d.request("GET", "/v1/streams/new/crossing?above=1000"));
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.deepEqual(
      [c.body.horizonEnd, c.body.crossing, c.body.earliest, c.body.latest],
      [null, null, null, null],
    );
    const now = await json(await d.request("GET", "/v1/streams/new/crossing?above=0"));
    assert.equal(now.body.crossing, now.body.origin, "a value already above crosses now");
  } finally {
    await d.close();
  }
});

Deno.test("PUT refuses a body not sent as JSON (415); a repeated query parameter is refused by name", async () => {
  const d = await startDaemon();
  try {
    let r = await json(
      await d.request("PUT", "/v1/streams/s1", { columns: ["a"] }, {
        "content-type": "text/plain",
      }),
    );
    assert.equal(r.status, 415);
    assert.equal(
      errorOf(r.body),
      `Cannot put stream "s1": the body must be sent as JSON (content-type application/json): ` +
        `current value is "text/plain"`,
    );
    r = await json(await d.request("PUT", "/v1/streams/s1", "", {}));
    assert.equal(r.status, 400);
    assert.equal(
      errorOf(r.body),
      `Cannot put stream "s1": the body must be a JSON object: it is empty`,
    );
    r = await json(
      await d.request("PUT", "/v1/streams/s1", { columns: ["a"] }, {
        "content-type": "application/json; charset=utf-8",
      }),
    );
    assert.equal(r.status, 201, "a charset is fine");

    await d.service.ingest(sineReadings("room", Date.UTC(2025, 5, 1), 0, 3), "http");
    r = await json(await d.request("GET", "/v1/streams/room/forecast?horizon=1&horizon=2"));
    assert.equal(r.status, 400);
    assert.equal(
      errorOf(r.body),
      `Cannot forecast: 'horizon' must be given once: current value is ["1","2"]`,
    );
  } finally {
    await d.close();
  }
});
