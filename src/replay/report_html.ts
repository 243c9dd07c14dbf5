/**
 * A replay's report as one HTML file (`forecastd replay --report FILE.html`)
 * that opens offline, from a disk or a mail attachment: the styles, uPlot
 * (npm `uplot`, with its license), the page script (report_page/, built into
 * report_bundle.gen.js with the dashboard's chart code) and the data are all
 * inside it; it loads nothing.
 *
 * Everything is imported as text (`with { type: "text" }`), so that a
 * replay, a bundle of main.ts and a compiled binary all carry it.
 */
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotLicense from "uplot/LICENSE" with { type: "text" };
import pageJs from "./report_bundle.gen.js" with { type: "text" };
import type { ReportJson } from "./report_page/report_json.ts";

/** The report's own styles. */
const CSS = `
:root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f3f4f6; --accent: #2563eb;
  --anomaly: #dc2626; --ok: #16a34a; --warn: #d97706;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; }
.top { padding: 0.6rem 1rem; background: var(--fg); color: #fff; }
.top h1 { margin: 0; font-size: 1.15rem; }
.top .file { color: #bfdbfe; font-family: ui-monospace, monospace; font-size: 0.9rem; }
main { display: grid; gap: 1rem; padding: 1rem; max-width: 1200px; margin: 0 auto; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem;
  min-width: 0; }
.panel h2 { margin: 0 0 0.5rem; font-size: 1rem; }
.meta, .note, footer { color: var(--muted); font-size: 0.9rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; text-align: right; border-bottom: 1px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
.controls { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center;
  margin-bottom: 0.5rem; font-size: 0.9rem; }
.controls input[type="range"] { width: min(24rem, 60vw); }
.chart { width: 100%; min-height: 240px; }
.legend { font-size: 0.85rem; color: var(--muted); }
.legend b { font-weight: 600; }
#alerts { margin: 0; padding-left: 1.2rem; font-size: 0.9rem; }
#alerts li { margin: 0.3rem 0; }
#alerts button { font: inherit; color: var(--accent); background: none; border: 0; padding: 0;
  cursor: pointer; text-decoration: underline; }
#alerts li[data-type="opened"] .type { color: var(--anomaly); font-weight: 600; }
#alerts li[data-type="resolved"] .type { color: var(--ok); font-weight: 600; }
#alerts li[data-type="new_normal"] .type { color: var(--warn); font-weight: 600; }
footer { padding: 0 1rem 1rem; text-align: center; }
`;

/** The page's elements, which the script fills. */
const BODY = `<header class="top">
  <h1>forecastd replay</h1>
  <span id="file" class="file"></span>
</header>
<main>
  <section class="panel" aria-labelledby="summary-heading">
    <h2 id="summary-heading">Summary</h2>
    <p id="meta" class="meta"></p>
    <div class="table-wrap">
      <table>
        <thead><tr id="horizons-head"></tr></thead>
        <tbody id="horizons-body"></tbody>
      </table>
    </div>
    <p class="note">Errors of z-scored values over origins × steps 1..H × targets: MSE and MAE of
    the blend (the forecast the daemon serves) and MSE of each expert; cover: the share of values
    inside the 90% interval over steps 1..H, cover@H at step H alone.</p>
  </section>
  <section class="panel" aria-labelledby="series-heading">
    <h2 id="series-heading">Readings and forecasts</h2>
    <div class="controls">
      <label>Target <select id="target"></select></label>
      <label>Show <select id="span"></select></label>
      <label>from <input id="from" type="range" min="0" max="1000" value="0"></label>
      <span id="shown"></span>
    </div>
    <div id="chart" class="chart"></div>
    <p class="legend"><b>Black</b>: the readings. <b>Dashed blue</b>: the forecast made one step
    before each, and the 90% interval around it (once calibrated). <b>Red spans</b>: anomalies,
    from the reading that opened an alert to the one that ended it; the triangles on the time axis
    mark each alert.</p>
  </section>
  <section class="panel" aria-labelledby="steps-heading">
    <h2 id="steps-heading">Error by step ahead</h2>
    <div id="steps" class="chart"></div>
    <p id="steps-note" class="note"></p>
  </section>
  <section class="panel" aria-labelledby="alerts-heading">
    <h2 id="alerts-heading">Alerts</h2>
    <p id="no-alerts" class="note">No alert: no reading was unusual enough.</p>
    <ol id="alerts"></ol>
  </section>
</main>
<footer id="made"></footer>`;

/** Text inside a `<script>` or `<style>` element: nothing in it may close the element. */
function inert(text: string, tag: "script" | "style"): string {
  return text.replace(new RegExp(`</(${tag})`, "gi"), "<\\/$1");
}

/** The report as one self-contained HTML document. */
export function reportHtml(data: ReportJson): string {
  // JSON in a script element: "<" escaped, so that no "</script>" or "<!--" can occur in it
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const title = `forecastd replay: ${data.summary.file}`.replace(
    /[<&]/g,
    (c) => c === "<" ? "&lt;" : "&amp;",
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${data.made.by.replace(/[<&"]/g, "")}">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>
${inert(uplotCss, "style")}
${inert(CSS, "style")}
</style>
</head>
<body>
${BODY}
<script type="application/json" id="report-data">${json}</script>
<script>
/* uPlot (npm uplot), the chart library:
${uplotLicense.trim().replaceAll("*/", "* /")}
*/
${inert(uplotJs, "script")}
</script>
<script type="module">
${inert(pageJs, "script")}
</script>
</body>
</html>
`;
}
