/**
 * Reading PromQL in tests: the metric and label names an expression uses,
 * checked against a real scrape of /metrics, and Grafana's variables
 * replaced so that Prometheus can parse a dashboard's query.
 */
import type { ParsedMetrics } from "../api/_metrics.ts";

/** A Grafana query as PromQL can parse it: its range variables, then `.*` for the others. */
export function substitute(expr: string, rateInterval: string): string {
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

/**
 * What `expr` names that a real scrape does not have: a metric without a
 * series, a label no series of its metric carries (those of `extraLabels`,
 * such as a legend's, too). Prometheus' own instance and job are known.
 */
export function unknownNames(
  expr: string,
  scrape: ParsedMetrics,
  labels: Map<string, Set<string>>,
  extraLabels: string[] = [],
): string[] {
  const problems: string[] = [];
  const n = promqlNames(expr);
  if (n.metrics.size === 0) problems.push("names no metric");
  for (const m of n.metrics) {
    if (!scrape.samples.has(m)) problems.push(`${m} has no series in the scrape`);
  }
  const known = (label: string, metrics: Iterable<string>) =>
    TARGET_LABELS.has(label) || [...metrics].some((m) => labels.get(m)?.has(label));
  for (const [metric, label] of n.matchers) {
    if (!known(label, metric === "" ? n.metrics : [metric])) {
      problems.push(`${metric} has no label ${label}`);
    }
  }
  for (const label of [...n.grouping, ...extraLabels]) {
    if (!known(label, n.metrics)) problems.push(`no metric has label ${label}`);
  }
  return problems;
}
