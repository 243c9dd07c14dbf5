/**
 * deploy/prometheus/forecastd-rules.yml, the alerting rules of
 * docs/integrations.md: valid for Prometheus (`promtool check rules`, skipped,
 * saying so, without promtool: Debian `apt-get install -y prometheus`), and
 * every metric and label their expressions name present in a real scrape of
 * /metrics. Prometheus evaluating them: prometheus_test.ts.
 */
import assert from "node:assert/strict";
import { ROOT } from "../e2e/_daemon.ts";
import { busyScrape, labelNames, parseMetrics } from "../api/_metrics.ts";
import { installed, promtool } from "../_promtool.ts";
import { unknownNames } from "./_promql.ts";
import { ruleExpressions, RULES } from "./_rules.ts";

Deno.test(`every metric and label of ${RULES} is in a real scrape of /metrics`, async () => {
  const rules = ruleExpressions();
  assert.equal(rules.length, 6, "every rule's expression was read");
  const scrape = parseMetrics(await busyScrape());
  const labels = labelNames(scrape);
  const problems = rules.flatMap((r) =>
    unknownNames(r.expr, scrape, labels).map((p) => `${r.alert}: ${p}`)
  );
  assert.deepEqual(problems, []);
});

const havePromtool = await installed("promtool");
if (!havePromtool) {
  console.warn(
    "tests/deploy/prometheus_rules_test.ts: the promtool check skipped: promtool is not " +
      "installed (Debian: apt-get install -y prometheus)",
  );
}

Deno.test({
  name: `${RULES} passes promtool check rules`,
  ignore: !havePromtool,
  fn: async () => {
    const r = await promtool(["check", "rules", `${ROOT}${RULES}`]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 6 rules found/);
  },
});
