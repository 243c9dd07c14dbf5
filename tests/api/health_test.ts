import assert from "node:assert/strict";
import { INTERNAL_ERROR } from "../../src/api/errors.ts";
import { escapeLabel, formatMetrics, type MetricsSource } from "../../src/api/metrics.ts";
import { FIVE_MIN, json, sineReadings, startDaemon } from "./_harness.ts";

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

/** The samples of a metrics text: name -> label text -> value; every line checked. */
function parseMetrics(text: string) {
  const samples = new Map<string, Map<string, number>>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  assert.ok(text.endsWith("\n"), "the text ends with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      helps.add(line.split(" ")[2]);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      assert.ok(["counter", "gauge"].includes(type), line);
      types.set(name, type);
      continue;
    }
    const m = line.match(
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/,
    );
    assert.ok(m, `a sample line 'name{labels} value': ${JSON.stringify(line)}`);
    const [, name, labels = "", value] = m;
    assert.ok(!Number.isNaN(Number(value)) || value === "NaN", `value of ${line}`);
    assert.ok(types.has(name) && helps.has(name), `${name} has HELP and TYPE before its samples`);
    if (!samples.has(name)) samples.set(name, new Map());
    samples.get(name)!.set(labels, Number(value));
  }
  return { samples, types };
}

Deno.test("GET /metrics is Prometheus text 0.0.4 with every counter, and it counts what happened", async () => {
  const d = await startDaemon();
  try {
    const t0 = Date.now() - 400 * FIVE_MIN;
    d.service.ingest(sineReadings("room", t0, 0, 120), "mqtt");
    d.service.ingest(sineReadings("hall", t0, 0, 80), "ws");
    await (await d.request("POST", "/v1/readings", "{oops")).body?.cancel();
    await (await d.request("POST", "/v1/readings", "{oops")).body?.cancel();
    d.service.ingest([{ stream: "room", ts: t0, values: { v: 1 } }], "http"); // out of order
    await d.service.checkpoint();

    const res = await d.app.request("/metrics");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const { samples, types } = parseMetrics(await res.text());
    const get = (name: string, labels = "") => samples.get(name)?.get(labels);

    for (
      const name of [
        "forecastd_readings_total",
        "forecastd_rejected_readings_total",
        "forecastd_training_steps_total",
        "forecastd_observe_seconds_total",
        "forecastd_observe_count",
        "forecastd_streams",
        "forecastd_forecast_mse",
        "forecastd_interval_coverage",
        "forecastd_alerts_total",
        "forecastd_alert_failures_total",
        "forecastd_checkpoints_total",
        "forecastd_checkpoint_failures_total",
        "forecastd_checkpoint_commits_total",
      ]
    ) assert.ok(types.has(name), `${name} is exposed`);
    assert.equal(types.get("forecastd_streams"), "gauge");
    assert.equal(types.get("forecastd_readings_total"), "counter");

    assert.equal(get("forecastd_readings_total", '{source="mqtt"}'), 120);
    assert.equal(get("forecastd_readings_total", '{source="ws"}'), 80);
    assert.equal(get("forecastd_readings_total", '{source="http"}'), 0);
    assert.equal(get("forecastd_rejected_readings_total", '{reason="bad_json"}'), 2);
    assert.equal(get("forecastd_rejected_readings_total", '{reason="out_of_order"}'), 1);
    assert.equal(get("forecastd_training_steps_total"), 200);
    assert.equal(get("forecastd_observe_count"), 200);
    assert.ok(get("forecastd_observe_seconds_total")! > 0);
    assert.equal(get("forecastd_streams"), 2);
    assert.equal(get("forecastd_alerts_total"), 0);
    assert.equal(get("forecastd_checkpoints_total"), d.service.counters.checkpoints);
    assert.ok(get("forecastd_checkpoints_total")! >= 2, "both streams were saved");
    assert.ok(get("forecastd_checkpoint_commits_total")! >= 1);
    assert.equal(get("forecastd_build_info", '{version="0.0.0-test"}'), 1);
    assert.equal(types.get("forecastd_memory_bytes"), "gauge");
    const rss = get("forecastd_memory_bytes", '{kind="rss"}')!;
    const heapUsed = get("forecastd_memory_bytes", '{kind="heap_used"}')!;
    assert.ok(rss > heapUsed && heapUsed > 0, `rss ${rss} > heap_used ${heapUsed} > 0`);
    assert.ok(get("forecastd_memory_bytes", '{kind="heap_total"}')! >= heapUsed);
    assert.ok(get("forecastd_memory_bytes", '{kind="external"}')! > 0);

    const mse = samples.get("forecastd_forecast_mse")!;
    const coverage = samples.get("forecastd_interval_coverage")!;
    assert.equal(mse.size, 24, "one series per horizon of the default preset");
    assert.ok(mse.has('{horizon="1"}') && mse.has('{horizon="24"}'));
    for (const [labels, v] of coverage) assert.ok(v >= 0 && v <= 1, `coverage ${labels} = ${v}`);
    for (const [labels, v] of mse) assert.ok(v >= 0 && Number.isFinite(v), `mse ${labels} = ${v}`);
  } finally {
    await d.close();
  }
});

Deno.test("escapeLabel() escapes backslash, double quote and newline", () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

Deno.test("formatMetrics() averages each horizon over the streams that scored it and leaves out the rest", () => {
  const score = (horizon: number, mse: number, coverage: number) => ({
    horizon,
    mse: { blend: mse, lstm: 99 },
    coverage,
  });
  const source: MetricsSource = {
    counters: {
      readings: { mqtt: 1, ws: 2, http: 3, demo: 4 },
      rejects: {},
      checkpoints: 5,
      checkpointFailures: 0,
      checkpointCommits: 1,
      alertsStored: 6,
      alertFailures: 0,
    },
    rejects: () => ({ bad_json: 2 }),
    learning: { readings: 10, learned: 9, observeSeconds: 0.5 },
    streams: 2,
    horizonStats: () => [
      [score(1, 0.2, 0.8), score(2, NaN, NaN)],
      [score(1, 0.4, NaN), score(2, NaN, NaN)],
    ],
    subscribers: 3,
  };
  const lines = formatMetrics(source, "1.2.3").split("\n");
  for (
    const line of [
      'forecastd_build_info{version="1.2.3"} 1',
      'forecastd_readings_total{source="demo"} 4',
      'forecastd_rejected_readings_total{reason="bad_json"} 2',
      "forecastd_training_steps_total 9",
      "forecastd_observe_count 10",
      "forecastd_streams 2",
      "forecastd_alert_subscribers 3",
      'forecastd_interval_coverage{horizon="1"} 0.8',
    ]
  ) assert.ok(lines.includes(line), `${line} in the metrics`);
  const mse = lines.filter((l) => l.startsWith("forecastd_forecast_mse{"));
  assert.equal(mse.length, 1, "horizon 2 has no score yet: left out, not NaN");
  assert.match(mse[0], /^forecastd_forecast_mse\{horizon="1"\} /);
  const mean = Number(mse[0].split(" ")[1]);
  assert.ok(Math.abs(mean - 0.3) < 1e-12, `the mean of 0.2 and 0.4: ${mean}`);
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
