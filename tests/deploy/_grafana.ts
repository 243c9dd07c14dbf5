/**
 * deploy/grafana/forecastd.json as the tests read it: its panels and
 * variables, and every PromQL query in it.
 */
import assert from "node:assert/strict";
import { ROOT } from "../e2e/_daemon.ts";

/** The dashboard's path in the repository. */
export const DASHBOARD = "deploy/grafana/forecastd.json";

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

export interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type: string; uid: string };
}

export interface Dashboard {
  title: string;
  uid: string;
  id: null;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  time: { from: string; to: string };
}

export const dashboard = JSON.parse(Deno.readTextFileSync(`${ROOT}${DASHBOARD}`)) as Dashboard;
/** The panels that query (not the rows). */
export const queryPanels = dashboard.panels.filter((p) => p.type !== "row");
export const variables = dashboard.templating.list;

/** A variable's query text. */
export function variableQuery(v: Variable): string {
  return typeof v.query === "string" ? v.query : v.query.query;
}

/**
 * Every PromQL query of the dashboard, with where it is and the labels its
 * legend shows; a `label_values(series, label)` variable becomes
 * `group by (label) (series)`.
 */
export function queries(): { where: string; expr: string; legendLabels: string[] }[] {
  return [
    ...queryPanels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        where: `panel "${p.title}" ${t.refId}`,
        expr: t.expr,
        legendLabels: [...(t.legendFormat ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]),
      }))
    ),
    ...variables.filter((v) => v.type === "query").map((v) => {
      const m = /^label_values\((.*),\s*([a-zA-Z_]\w*)\)$/.exec(variableQuery(v));
      assert.ok(m, `variable ${v.name}: label_values(<series>, <label>)`);
      return {
        where: `variable ${v.name}`,
        expr: `group by (${m[2]}) (${m[1]})`,
        legendLabels: [],
      };
    }),
  ];
}
