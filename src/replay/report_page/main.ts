/**
 * The page script of a replay's HTML report (report_html.ts puts it, uPlot
 * and the data into one file that opens offline). It reads the data from
 * `<script type="application/json" id="report-data">` and draws, with the
 * dashboard's own chart code (src/dashboard/page/): the readings of a target
 * against the one-step forecast made for each and its interval, the
 * alerts as spans and marks; the error at each step ahead for the blend and
 * each expert; and the list of alerts. Times are UTC, as the replay reads
 * files without a zone.
 */
import type uPlot from "uplot";
import type { StoredAlert } from "../../domain/alert.ts";
import { Chart, type Overlay } from "../../dashboard/page/chart.ts";
import { formatDuration, formatPercent, formatTime, NONE } from "../../dashboard/page/format.ts";
import { alertMarks, anomalySpans } from "../../dashboard/page/marks.ts";
import { chartData, type Kept } from "../../dashboard/page/series.ts";
import type { ReportAlert, ReportJson, ReportSeries } from "./report_json.ts";

const UTC = { timeZone: "UTC" };
const DAY = 86_400_000;

/** Colours of the step chart's lines: the blend in the forecast's blue, then each expert. */
const STEP_COLORS = ["#2563eb", "#6b7280", "#d97706", "#16a34a", "#9333ea", "#0891b2", "#be185d"];

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`Cannot draw the report: the page must have #${id}`);
  return el as T;
}

/** An element with text and attributes. */
function el(tag: string, text = "", attrs: Record<string, string> = {}): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function uPlotClass(): typeof uPlot {
  return (globalThis as unknown as { uPlot: typeof uPlot }).uPlot;
}

/** A number of an error table: 4 decimals, or a dash. */
function err(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? NONE : v.toFixed(4);
}

/** The heading and the table of the replay's own report. */
function drawSummary(r: ReportJson): void {
  const s = r.summary;
  byId("file").textContent = s.file;
  byId("meta").textContent =
    `${s.rows} rows × ${s.columns.length} columns (${s.columns.join(", ")}), targets ${
      s.targets.join(", ")
    }; preset ${s.preset}${
      s.without.length ? ` without ${s.without.join(", ")}` : ""
    }, Hmax ${s.hmax}, period ${
      formatDuration(s.periodMs)
    }, protocol ${s.protocol}, times ${s.timeForm}. ` +
    `${s.readings} readings, ${s.rejectedRows} rejected, ${s.learned} learned from, ` +
    `${s.alerts} alert events, ${s.gaps} gaps.`;
  const experts = Object.keys(s.horizons[0]?.experts ?? {});
  const head = byId("horizons-head");
  for (const t of ["H", "origins", "MSE", "MAE", "cover", "cover@H", ...experts]) {
    head.append(el("th", t, { scope: "col" }));
  }
  const body = byId("horizons-body");
  for (const h of s.horizons) {
    const tr = el("tr");
    for (
      const t of [
        String(h.horizon),
        String(h.origins),
        err(h.mse),
        err(h.mae),
        formatPercent(h.coverage),
        formatPercent(h.coverageAtH),
        ...experts.map((e) => err(h.experts[e])),
      ]
    ) tr.append(el("td", t));
    body.append(tr);
  }
}

/** A target's series as the dashboard's chart keeps readings. */
function kept(s: ReportSeries, from: number, to: number): Kept {
  const k: Kept = { ts: [], value: [], point: [], lower: [], upper: [], gap: [] };
  for (let i = 0; i < s.ts.length; i++) {
    if (s.ts[i] < from || s.ts[i] > to) continue;
    k.ts.push(s.ts[i]);
    k.value.push(s.value[i]);
    k.point.push(s.point[i]);
    k.lower.push(s.lower[i]);
    k.upper.push(s.upper[i]);
    k.gap.push(s.gap[i]);
  }
  return k;
}

/** The chart of actual against forecast, with its target, span and position. */
function drawSeries(r: ReportJson): (ts: number) => void {
  const chart = new Chart(byId("chart"), UTC);
  const target = byId<HTMLSelectElement>("target");
  const span = byId<HTMLSelectElement>("span");
  const from = byId<HTMLInputElement>("from");
  const shown = byId("shown");
  for (const s of r.series) target.append(el("option", s.target, { value: s.target }));
  const first = r.series[0]?.ts[0] ?? 0;
  const last = r.series[0]?.ts.at(-1) ?? 0;
  const length = last - first;
  for (const [label, ms] of [["1 day", DAY], ["1 week", 7 * DAY], ["4 weeks", 28 * DAY]] as const) {
    if (ms < length) span.append(el("option", label, { value: String(ms) }));
  }
  span.append(el("option", "all", { value: "all" }));
  // a long file opens on its first week, where the models learn
  span.value = span.querySelector('option[value="604800000"]') ? "604800000" : "all";
  const alerts = r.alerts as unknown as StoredAlert[];
  const overlay = (stream: string): Overlay => ({
    now: null,
    spans: anomalySpans(alerts, stream),
    marks: alertMarks(alerts, stream),
    threshold: null,
    crossing: null,
  });
  const draw = () => {
    const s = r.series.find((x) => x.target === target.value) ?? r.series[0];
    if (!s) return;
    const width = span.value === "all" ? length : Number(span.value);
    const room = Math.max(0, length - width);
    from.disabled = room === 0;
    const start = first + room * Number(from.value) / 1000;
    const end = start + width;
    shown.textContent = `${formatTime(start, UTC)} to ${formatTime(end, UTC)} UTC`;
    chart.update(
      chartData(kept(s, start, end), null, s.target),
      overlay(r.alerts[0]?.stream ?? ""),
      s.target,
    );
  };
  target.addEventListener("change", draw);
  span.addEventListener("change", draw);
  from.addEventListener("input", draw);
  draw();
  // shows the span around `ts`
  return (ts: number) => {
    const width = span.value === "all" ? length : Number(span.value);
    const room = Math.max(0, length - width);
    from.value = room === 0
      ? "0"
      : String(Math.round(1000 * Math.min(1, Math.max(0, (ts - width / 2 - first) / room))));
    draw();
    byId("chart").scrollIntoView({ block: "center" });
  };
}

/** The error at each step ahead: a line per expert and the blend. */
function drawSteps(r: ReportJson): void {
  const box = byId("steps");
  const names = Object.keys(r.steps[0]?.mse ?? {});
  const order = ["blend", ...names.filter((n) => n !== "blend")];
  const data = [
    r.steps.map((s) => s.step),
    ...order.map((n) => r.steps.map((s) => s.mse[n] ?? null)),
  ] as uPlot.AlignedData;
  const width = () => Math.max(240, Math.floor(box.clientWidth));
  const plot = new (uPlotClass())(
    {
      width: width(),
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: "steps ahead" }, { label: "MSE (z-scored)" }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: "step" },
        ...order.map((n, k) => ({
          label: n,
          stroke: STEP_COLORS[k % STEP_COLORS.length],
          width: n === "blend" ? 2.5 : 1.25,
          points: { show: r.steps.length <= 48 },
        })),
      ],
    },
    data,
    box,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 260 })).observe(box);
  box.dataset.steps = String(r.steps.length);
  box.dataset.series = order.join(",");
  const cover = r.steps.map((s) => s.coverage);
  byId("steps-note").textContent = `${r.steps.length} steps; the interval held ` +
    `${formatPercent(cover[0])} of the readings one step ahead and ${
      formatPercent(cover.at(-1))
    } at step ${r.steps.length}.`;
}

/** The alerts, each a link that shows it on the chart. */
function drawAlerts(alerts: ReportAlert[], show: (ts: number) => void): void {
  const list = byId("alerts");
  byId("no-alerts").hidden = alerts.length > 0;
  for (const a of alerts) {
    const li = el("li", "", { "data-type": a.type });
    const when = el("button", `${formatTime(a.ts, UTC)} UTC`, { type: "button" });
    when.addEventListener("click", () => show(a.ts));
    li.append(when, el("span", ` ${a.type.replace("_", " ")} `, { class: "type" }));
    li.append(el("span", `line ${a.line}: ${a.message}`));
    list.append(li);
  }
}

function main(): void {
  const r = JSON.parse(byId("report-data").textContent ?? "") as ReportJson;
  drawSummary(r);
  const show = drawSeries(r);
  drawSteps(r);
  drawAlerts(r.alerts, show);
  byId("made").textContent = `Made by ${r.made.by} at ${r.made.at}. Times are UTC.`;
  document.body.dataset.ready = "true";
}

main();
