/**
 * A real Prometheus scraping a real daemon every second, with forecastd's
 * alerting rules loaded: every query of the Grafana dashboard gives data,
 * and every rule evaluates without an error. Skipped, saying so, without
 * prometheus (Debian: `apt-get install -y prometheus`).
 */
import assert from "node:assert/strict";
import { ROOT } from "../e2e/_daemon.ts";
import { withTempDir } from "../_helpers.ts";
import { busyDaemon } from "../api/_metrics.ts";
import { serve } from "../api/_harness.ts";
import { installed } from "../_promtool.ts";
import { substitute } from "./_promql.ts";
import { DASHBOARD, queries, queryPanels } from "./_grafana.ts";
import { RULES } from "./_rules.ts";
import { startPrometheus } from "./_prometheus.ts";

const havePrometheus = await installed("prometheus");
if (!havePrometheus) {
  console.warn(
    "tests/deploy/prometheus_test.ts: skipped: prometheus is not installed " +
      "(Debian: apt-get install -y prometheus)",
  );
}

Deno.test({
  name:
    `a real Prometheus scraping the daemon answers every query of ${DASHBOARD} with data and evaluates ${RULES} without an error`,
  ignore: !havePrometheus,
  fn: async () => {
    const d = await busyDaemon();
    const server = await serve(d.app);
    try {
      await withTempDir(async (dir) => {
        const prom = await startPrometheus(dir, server.base, [`${ROOT}${RULES}`]);
        try {
          // a few scrapes, so that rate() and increase() have something to work with
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

          const rules = await prom.rules();
          assert.equal(rules.length, 6, "every rule is loaded");
          await prom.waitFor("count_over_time(forecastd_streams[1m]) >= 5"); // evaluated since
          for (const r of await prom.rules()) {
            assert.equal(r.health, "ok", `${r.name}: ${r.lastError}`);
          }
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
