/**
 * deploy/grafana/forecastd.json, the Grafana dashboard: importable as it is
 * (the JSON model Grafana reads, its data source a variable), every metric
 * and label its queries name present in a real scrape of /metrics, every
 * query valid PromQL (`promtool check rules`), and every query answered with
 * data by a real Prometheus scraping a real daemon. The last two are skipped,
 * saying so, without promtool or prometheus (Debian: `apt-get install -y
 * prometheus`).
 */
import assert from "node:assert/strict";
import { ROOT } from "../e2e/_daemon.ts";
import { withTempDir } from "../_helpers.ts";
import { busyDaemon, busyScrape, labelNames, parseMetrics } from "../api/_metrics.ts";
import { serve } from "../api/_harness.ts";
import { installed, promtool } from "../_promtool.ts";
import { startPrometheus } from "./_prometheus.ts";

const DASHBOARD = "deploy/grafana/forecastd.json";

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type: string; uid: string };
}

interface Dashboard {
  title: string;
  uid: string;
  id: null;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  time: { from: string; to: string };
}

const dashboard = JSON.parse(Deno.readTextFileSync(`${ROOT}${DASHBOARD}`)) as Dashboard;
const queryPanels = dashboard.panels.filter((p) => p.type !== "row");
const variables = dashboard.templating.list;
const variableQuery = (v: Variable) => typeof v.query === "string" ? v.query : v.query.query;

/** Every PromQL query of the dashboard, with where it is. */
function queries(): { where: string; expr: string; legend: string }[] {
  return [
    ...queryPanels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        where: `panel "${p.title}" ${t.refId}`,
        expr: t.expr,
        legend: t.legendFormat ?? "",
      }))
    ),
    ...variables.filter((v) => v.type === "query").map((v) => {
      const m = /^label_values\((.*),\s*([a-zA-Z_]\w*)\)$/.exec(variableQuery(v));
      assert.ok(m, `variable ${v.name}: label_values(<series>, <label>)`);
      return { where: `variable ${v.name}`, expr: `group by (${m[2]}) (${m[1]})`, legend: "" };
    }),
  ];
}

/** The Grafana variables of a query as PromQL can parse them: ranges, then `.*` for the rest. */
function substitute(expr: string, rateInterval: string): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replaceAll("$__interval", rateInterval)
    .replace(/\$(\w+)/g, ".*");
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = new Set(["instance", "job"]);

/**
 * The metric names of a PromQL expression, the label names each selector
 * matches on, and the label names of its `by`/`without`/`on` clauses.
 */
export function promqlNames(expr: string): {
  metrics: Set<string>;
  matchers: [string, string][];
  grouping: Set<string>;
} {
  const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const matchers: [string, string][] = [];
  for (const m of s.matchAll(/([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g)) {
    for (const l of m[2].matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
      matchers.push([m[1] ?? "", l[1]]);
    }
  }
  const grouping = new Set<string>();
  let rest = s.replace(/\{[^}]*\}/g, " ").replace(/\[[^\]]*\]/g, " ");
  rest = rest.replace(
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_, labels: string) => {
      for (const l of labels.split(",").map((x) => x.trim()).filter((x) => x)) grouping.add(l);
      return " ";
    },
  );
  const metrics = new Set<string>();
  for (const m of rest.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(?!\w)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase())) continue; // a function, or a keyword
    metrics.add(m[1]);
  }
  return { metrics, matchers, grouping };
}

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
  const parsed = parseMetrics(await busyScrape());
  const labels = labelNames(parsed);
  const problems: string[] = [];
  let checked = 0;
  for (const q of queries()) {
    const n = promqlNames(q.expr);
    if (n.metrics.size === 0) problems.push(`${q.where}: names no metric`);
    for (const m of n.metrics) {
      checked++;
      if (!parsed.samples.has(m)) problems.push(`${q.where}: ${m} has no series in the scrape`);
    }
    const known = (label: string, metrics: Iterable<string>) =>
      TARGET_LABELS.has(label) || [...metrics].some((m) => labels.get(m)?.has(label));
    for (const [metric, label] of n.matchers) {
      if (!known(label, metric === "" ? n.metrics : [metric])) {
        problems.push(`${q.where}: ${metric} has no label ${label}`);
      }
    }
    for (
      const label of [...n.grouping, ...q.legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((l) =>
        typeof l === "string" ? l : l[1]
      )
    ) {
      if (!known(label, n.metrics)) problems.push(`${q.where}: no metric has label ${label}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked >= 20, `metric names checked: ${checked}`);
});

const havePromtool = await installed("promtool");
const havePrometheus = await installed("prometheus");
if (!havePromtool || !havePrometheus) {
  console.warn(
    `tests/deploy/grafana_test.ts: the ${
      [!havePromtool && "promtool", !havePrometheus && "prometheus"].filter((x) => x).join(" and ")
    } checks skipped: not installed (Debian: apt-get install -y prometheus)`,
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

Deno.test({
  name: `a real Prometheus scraping the daemon answers every query of ${DASHBOARD} with data`,
  ignore: !havePrometheus,
  fn: async () => {
    const d = await busyDaemon();
    const server = await serve(d.app);
    try {
      await withTempDir(async (dir) => {
        const prom = await startPrometheus(dir, server.base);
        try {
          // two scrapes at least, so that rate() and increase() have something to work with
          await prom.waitFor("count_over_time(forecastd_streams[1m]) >= 3");
          const empty: string[] = [];
          for (const q of queries()) {
            const result = await prom.query(substitute(q.expr, "1m"));
            if (result.length === 0) empty.push(`${q.where}: ${q.expr}`);
          }
          assert.deepEqual(empty, [], "queries that gave no series");
          const error = queryPanels.find((p) => p.title.startsWith("Forecast error"))!;
          const series = await prom.query(substitute(error.targets![0].expr, "1m"));
          assert.equal(series.length, 2 * 4, "2 streams x the 4 default horizons");
        } finally {
          await prom.stop();
        }
      });
    } finally {
      await server.close();
      await d.close();
    }
  },
});
