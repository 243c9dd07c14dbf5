/**
 * deploy/grafana/forecastd.json, the Grafana dashboard: importable as it is
 * (the JSON model Grafana reads, its data source a variable), every metric
 * and label its queries name present in a real scrape of /metrics, and every
 * query valid PromQL (`promtool check rules`, skipped, saying so, without
 * promtool: Debian `apt-get install -y prometheus`). A real Prometheus
 * answering each query: prometheus_test.ts.
 */
import assert from "node:assert/strict";
import { withTempDir } from "../_helpers.ts";
import { busyScrape, labelNames, parseMetrics } from "../api/_metrics.ts";
import { installed, promtool } from "../_promtool.ts";
import { promqlNames, substitute, unknownNames } from "./_promql.ts";
import { DASHBOARD, dashboard, queries, queryPanels, variables } from "./_grafana.ts";

Deno.test("promqlNames() finds the metrics and labels of an expression, not its functions", () => {
  const n = promqlNames(
    'sum by (source) (rate(forecastd_readings_total{instance=~"$i"}[5m])) / ' +
      'on (instance) group_left max(forecastd_streams{job!="x",a="}"}) or vector(0)',
  );
  assert.deepEqual([...n.metrics].sort(), ["forecastd_readings_total", "forecastd_streams"]);
  assert.deepEqual(n.matchers, [
    ["forecastd_readings_total", "instance"],
    ["forecastd_streams", "job"],
    ["forecastd_streams", "a"],
  ]);
  assert.deepEqual([...n.grouping].sort(), ["instance", "source"]);
});

Deno.test(`${DASHBOARD} is a Grafana dashboard that imports as it is`, () => {
  assert.equal(dashboard.title, "forecastd");
  assert.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/, "a uid Grafana accepts");
  assert.equal(dashboard.id, null, "no database id: Grafana gives one on import");
  assert.ok(dashboard.schemaVersion >= 36, "a schema Grafana 9 and later read without migrating");
  assert.ok(!("__inputs" in dashboard), "no import-time inputs: the data source is a variable");

  const ds = variables.find((v) => v.type === "datasource");
  assert.ok(ds, "a data source variable");
  assert.equal(ds.query, "prometheus");
  const names = new Set(variables.map((v) => v.name));
  for (const v of variables.filter((v) => v.type === "query")) {
    assert.deepEqual(v.datasource, { type: "prometheus", uid: `\${${ds.name}}` }, v.name);
  }

  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  for (const p of dashboard.panels) {
    const g = p.gridPos;
    assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `"${p.title}" fits 24 columns`);
  }
  assert.ok(queryPanels.length >= 10, `panels: ${queryPanels.length}`);
  for (const p of queryPanels) {
    assert.deepEqual(p.datasource, { type: "prometheus", uid: `\${${ds.name}}` }, p.title);
    assert.ok(p.targets && p.targets.length > 0, `"${p.title}" has a query`);
    const refIds = p.targets.map((t) => t.refId);
    assert.equal(new Set(refIds).size, refIds.length, `"${p.title}": refIds are unique`);
    for (const t of p.targets) {
      assert.ok(t.expr.trim() !== "", `"${p.title}" ${t.refId} has an expression`);
      for (const m of t.expr.matchAll(/\$(\w+)/g)) {
        assert.ok(
          m[1].startsWith("__") || names.has(m[1]),
          `"${p.title}" uses $${m[1]}, which is a variable of the dashboard`,
        );
      }
    }
  }

  // what the issue asks the board to show
  const all = queries().map((q) => q.expr).join("\n");
  for (
    const metric of [
      "forecastd_readings_total",
      "forecastd_rejected_readings_total",
      "forecastd_forecast_mse",
      "forecastd_interval_coverage",
      "forecastd_forecast_skill",
      "forecastd_alerts_total",
      "forecastd_checkpoint_age_seconds",
      "forecastd_memory_bytes",
    ]
  ) assert.ok(all.includes(metric), `a panel charts ${metric}`);
  assert.match(all, /sum by \(reason\)/, "rejects by reason");
  assert.match(all, /forecastd_forecast_mse\{[^}]*horizon/, "error per horizon");
});

Deno.test(`every metric and label a query of ${DASHBOARD} names is in a real scrape of /metrics`, async () => {
  const scrape = parseMetrics(await busyScrape());
  const labels = labelNames(scrape);
  const problems: string[] = [];
  let checked = 0;
  for (const q of queries()) {
    checked += promqlNames(q.expr).metrics.size;
    for (const p of unknownNames(q.expr, scrape, labels, q.legendLabels)) {
      problems.push(`${q.where}: ${p}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 20, `metric names checked: ${checked}`);
});

const havePromtool = await installed("promtool");
if (!havePromtool) {
  console.warn(
    "tests/deploy/grafana_test.ts: the promtool check skipped: promtool is not installed " +
      "(Debian: apt-get install -y prometheus)",
  );
}

Deno.test({
  name: `every query of ${DASHBOARD} is valid PromQL (promtool check rules)`,
  ignore: !havePromtool,
  fn: async () => {
    await withTempDir(async (dir) => {
      const rules = queries().map((q, i) => ({
        record: `dashboard:query_${i}`,
        expr: substitute(q.expr, "5m"),
      }));
      const file = `${dir}/rules.json`; // JSON is YAML
      await Deno.writeTextFile(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const r = await promtool(["check", "rules", file]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`SUCCESS: ${rules.length} rules found`));

      // and the check can fail
      await Deno.writeTextFile(
        file,
        JSON.stringify({ groups: [{ name: "bad", rules: [{ record: "x", expr: "sum by (" }] }] }),
      );
      assert.notEqual((await promtool(["check", "rules", file])).code, 0);
    });
  },
});
