/**
 * GET /metrics: the Prometheus text, what each metric counts, the
 * per-stream accuracy at the exported horizons, and `promtool check
 * metrics` on a real scrape (skipped, saying so, without promtool: Debian
 * `apt-get install -y prometheus`).
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/api/app.ts";
import { DEFAULT_METRICS_HORIZONS, escapeLabel, formatMetrics } from "../../src/api/metrics.ts";
import { captureLog } from "../../src/log.ts";
import { FIVE_MIN, sineReadings, startDaemon } from "./_harness.ts";
import { busyScrape, metricsSourceOf, parseMetrics } from "./_metrics.ts";
import { installed, promtool } from "../_promtool.ts";

Deno.test("GET /metrics is Prometheus text 0.0.4 with every counter, and it counts what happened", async () => {
  const d = await startDaemon();
  try {
    const t0 = Date.now() - 400 * FIVE_MIN;
    await d.service.ingest(sineReadings("room", t0, 0, 120), "mqtt");
    await d.service.ingest(sineReadings("hall", t0, 0, 80), "ws");
    await (await d.request("POST", "/v1/readings", "{oops")).body?.cancel();
    await (await d.request("POST", "/v1/readings", "{oops")).body?.cancel();
    await d.service.ingest([{ stream: "room", ts: t0, values: { v: 1 } }], "http"); // out of order
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
        "forecastd_observed_readings_total",
        "forecastd_streams",
        "forecastd_forecast_mse",
        "forecastd_forecast_skill",
        "forecastd_interval_coverage",
        "forecastd_alerts_total",
        "forecastd_alert_failures_total",
        "forecastd_checkpoints_total",
        "forecastd_checkpoint_failures_total",
        "forecastd_checkpoint_commits_total",
        "forecastd_checkpoint_age_seconds",
      ]
    ) assert.ok(types.has(name), `${name} is exposed`);
    for (const [name, type] of types) {
      assert.equal(type, name.endsWith("_total") ? "counter" : "gauge", `the type of ${name}`);
    }

    assert.equal(get("forecastd_readings_total", '{source="mqtt"}'), 120);
    assert.equal(get("forecastd_readings_total", '{source="ws"}'), 80);
    assert.equal(get("forecastd_readings_total", '{source="http"}'), 0);
    assert.equal(get("forecastd_rejected_readings_total", '{reason="bad_json"}'), 2);
    assert.equal(get("forecastd_rejected_readings_total", '{reason="out_of_order"}'), 1);
    assert.equal(get("forecastd_training_steps_total"), 200);
    assert.equal(get("forecastd_observed_readings_total"), 200);
    assert.equal(get("forecastd_model_recoveries_total"), 0);
    assert.ok(get("forecastd_observe_seconds_total")! > 0);
    assert.equal(get("forecastd_streams"), 2);
    assert.equal(get("forecastd_alerts_total"), 0);
    assert.equal(get("forecastd_checkpoints_total"), d.service.counters.checkpoints);
    assert.ok(get("forecastd_checkpoints_total")! >= 2, "both streams were saved");
    assert.ok(get("forecastd_checkpoint_commits_total")! >= 1);
    const age = get("forecastd_checkpoint_age_seconds")!;
    assert.ok(age >= 0 && age < 60, `just saved everything: age ${age} s`);
    assert.equal(get("forecastd_build_info", '{version="0.0.0-test"}'), 1);
    const rss = get("forecastd_memory_bytes", '{kind="rss"}')!;
    const heapUsed = get("forecastd_memory_bytes", '{kind="heap_used"}')!;
    assert.ok(rss > heapUsed && heapUsed > 0, `rss ${rss} > heap_used ${heapUsed} > 0`);
    assert.ok(get("forecastd_memory_bytes", '{kind="heap_total"}')! >= heapUsed);
    assert.ok(get("forecastd_memory_bytes", '{kind="external"}')! > 0);

    // per stream, at the default horizons only (the default preset forecasts 24 steps)
    const expected = ["hall", "room"].flatMap((s) =>
      DEFAULT_METRICS_HORIZONS.map((h) => `{stream="${s}",horizon="${h}"}`)
    );
    for (const name of ["forecastd_forecast_mse", "forecastd_forecast_skill"]) {
      assert.deepEqual([...samples.get(name)!.keys()], expected, `the series of ${name}`);
    }
    const coverage = samples.get("forecastd_interval_coverage")!;
    assert.deepEqual([...coverage.keys()], expected);
    for (const [labels, v] of coverage) assert.ok(v >= 0 && v <= 1, `coverage ${labels} = ${v}`);
    for (const [labels, v] of samples.get("forecastd_forecast_mse")!) {
      assert.ok(v >= 0 && Number.isFinite(v), `mse ${labels} = ${v}`);
    }
    // the same numbers as the stream's summary
    const room = d.service.summary("room").horizons;
    assert.equal(get("forecastd_forecast_skill", '{stream="room",horizon="6"}'), room[5].skill);
    assert.equal(
      get("forecastd_interval_coverage", '{stream="room",horizon="6"}'),
      room[5].coverage,
    );
  } finally {
    await d.close();
  }
});

Deno.test("createApp({ metrics: { horizons } }) exports those horizons; one beyond a stream's forecast is left out", async () => {
  const d = await startDaemon();
  const stop = new AbortController(); // ends what the apps started (the dashboard's sampler)
  try {
    await d.service.ingest(sineReadings("room", Date.now() - 400 * FIVE_MIN, 0, 120), "mqtt");
    const app = createApp({
      service: d.service,
      log: captureLog().log,
      version: "0.0.0-test",
      readiness: () => ({ kv: true, broker: null }),
      signal: stop.signal,
      metrics: { horizons: [2, 24, 48] },
    });
    const { samples } = parseMetrics(await (await app.request("/metrics")).text());
    for (
      const name of [
        "forecastd_forecast_mse",
        "forecastd_forecast_skill",
        "forecastd_interval_coverage",
      ]
    ) {
      assert.deepEqual([...samples.get(name)!.keys()], [
        '{stream="room",horizon="2"}',
        '{stream="room",horizon="24"}',
      ], `${name}: horizon 48 is beyond the default preset's 24 steps`);
    }

    const none = createApp({
      service: d.service,
      log: captureLog().log,
      version: "0.0.0-test",
      readiness: () => ({ kv: true, broker: null }),
      signal: stop.signal,
      metrics: { horizons: [] },
    });
    const off = parseMetrics(await (await none.request("/metrics")).text());
    assert.equal(off.samples.get("forecastd_forecast_mse"), undefined, "no horizon: no series");
    assert.equal(off.types.get("forecastd_forecast_mse"), "gauge", "the family is still declared");
  } finally {
    stop.abort();
    await d.close();
  }
});

Deno.test("createApp({ mqttDuplicates }) exports the MQTT source's duplicates as a counter, read at each scrape; without a source it is left out", async () => {
  const d = await startDaemon();
  const stop = new AbortController();
  try {
    let duplicates = 0;
    const app = (mqttDuplicates?: () => number) =>
      createApp({
        service: d.service,
        log: captureLog().log,
        version: "0.0.0-test",
        readiness: () => ({ kv: true, broker: true }),
        signal: stop.signal,
        ...(mqttDuplicates ? { mqttDuplicates } : {}),
      });
    const withSource = app(() => duplicates);
    const scrape = async (a: ReturnType<typeof app>) => await (await a.request("/metrics")).text();
    let parsed = parseMetrics(await scrape(withSource));
    assert.equal(parsed.types.get("forecastd_mqtt_duplicates_total"), "counter");
    assert.equal(parsed.samples.get("forecastd_mqtt_duplicates_total")?.get(""), 0);
    duplicates = 20;
    const text = await scrape(withSource);
    parsed = parseMetrics(text);
    assert.equal(parsed.samples.get("forecastd_mqtt_duplicates_total")?.get(""), 20);
    if (havePromtool) {
      const r = await promtool(["check", "metrics"], text);
      assert.equal(r.out.trim(), "", "promtool names no problem");
      assert.equal(r.code, 0, "promtool exits 0");
    }
    const embedded = parseMetrics(await scrape(app()));
    assert.equal(embedded.types.get("forecastd_mqtt_duplicates_total"), undefined);
  } finally {
    stop.abort();
    await d.close();
  }
});

Deno.test("escapeLabel() escapes backslash, double quote and newline", () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

Deno.test("formatMetrics() gives each stream's blend at the exported horizons, leaves out what is not scored, and the checkpoint age", () => {
  const score = (horizon: number, mse: number, skill: number, coverage: number) => ({
    horizon,
    mse: { blend: mse, lstm: 99 },
    skill: { blend: skill, lstm: -5 },
    coverage,
  });
  const source = metricsSourceOf(() => [
    { stream: "b.2", horizons: [score(1, 0.4, 0.1, NaN), score(2, 0.5, NaN, 0.7)] },
    { stream: "a:1", horizons: [score(1, 0.2, 0.6, 0.8), score(2, NaN, NaN, NaN)] },
  ], 2);
  const lines = formatMetrics(source, "1.2.3", { horizons: [1, 2], now: () => 1_012_500 })
    .split("\n");
  for (
    const line of [
      'forecastd_build_info{version="1.2.3"} 1',
      'forecastd_readings_total{source="demo"} 4',
      'forecastd_rejected_readings_total{reason="bad_json"} 2',
      "forecastd_training_steps_total 9",
      "forecastd_observed_readings_total 10",
      "forecastd_model_recoveries_total 7",
      "forecastd_training_shed_total 7",
      "forecastd_training_caught_up_total 8",
      "forecastd_unhandled_rejections_total 11",
      "forecastd_ingest_queue_readings 12",
      "forecastd_streams 2",
      "forecastd_alert_subscribers 3",
      "forecastd_checkpoint_age_seconds 12.5",
    ]
  ) assert.ok(lines.includes(line), `${line} in the metrics`);
  const series = (name: string) => lines.filter((l) => l.startsWith(`${name}{`));
  assert.deepEqual(series("forecastd_forecast_mse"), [
    'forecastd_forecast_mse{stream="a:1",horizon="1"} 0.2',
    'forecastd_forecast_mse{stream="b.2",horizon="1"} 0.4',
    'forecastd_forecast_mse{stream="b.2",horizon="2"} 0.5',
  ], "streams in id order; a:1 has no score at horizon 2 yet: left out, not NaN");
  assert.deepEqual(series("forecastd_forecast_skill"), [
    'forecastd_forecast_skill{stream="a:1",horizon="1"} 0.6',
    'forecastd_forecast_skill{stream="b.2",horizon="1"} 0.1',
  ]);
  assert.deepEqual(series("forecastd_interval_coverage"), [
    'forecastd_interval_coverage{stream="a:1",horizon="1"} 0.8',
    'forecastd_interval_coverage{stream="b.2",horizon="2"} 0.7',
  ]);
  assert.deepEqual(
    formatMetrics(source, "1.2.3", { horizons: [2] }).split("\n").filter((l) =>
      l.startsWith("forecastd_forecast_mse{")
    ),
    ['forecastd_forecast_mse{stream="b.2",horizon="2"} 0.5'],
    "only the horizons asked for",
  );
});

const havePromtool = await installed("promtool");
if (!havePromtool) {
  console.warn(
    "tests/api/metrics_test.ts: promtool check skipped: promtool is not installed " +
      "(Debian: apt-get install -y prometheus)",
  );
}

Deno.test({
  name: "a real scrape of /metrics passes promtool check metrics with no problem reported",
  ignore: !havePromtool,
  fn: async () => {
    const text = await busyScrape();
    const r = await promtool(["check", "metrics"], text);
    assert.equal(r.out.trim(), "", "promtool names no problem");
    assert.equal(r.code, 0, "promtool exits 0");
  },
});

Deno.test({
  name: "promtool check metrics fails on a counter without _total, as this test relies on",
  ignore: !havePromtool,
  fn: async () => {
    const r = await promtool(
      ["check", "metrics"],
      "# HELP forecastd_observe_count Readings.\n# TYPE forecastd_observe_count counter\n" +
        "forecastd_observe_count 1\n",
    );
    assert.notEqual(r.code, 0);
    assert.match(r.out, /forecastd_observe_count counter metrics should have "_total" suffix/);
  },
});
