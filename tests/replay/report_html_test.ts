import assert from "node:assert/strict";
import { reportHtml } from "../../src/replay/report_html.ts";
import type { ReportJson } from "../../src/replay/report_page/report_json.ts";

/** A small report whose file name tries to close the script element it is written in. */
function sample(): ReportJson {
  return {
    summary: {
      file: "data/</script><script>alert(1)</script>.csv",
      rows: 2,
      columns: ["v"],
      targets: ["v"],
      timeForm: "iso",
      protocol: "online",
      preset: "default",
      without: [],
      hmax: 1,
      periodMs: 60_000,
      readings: 2,
      rejectedRows: 0,
      learned: 2,
      alerts: 0,
      gaps: 0,
      horizons: [{
        horizon: 1,
        origins: 1,
        mse: 0.5,
        mae: 0.5,
        coverage: null,
        coverageAtH: null,
        experts: { blend: 0.5 },
      }],
    },
    series: [{
      target: "v",
      ts: [0, 60_000],
      value: [1, 2],
      point: [null, 1.5],
      lower: [null, null],
      upper: [null, null],
      gap: [false, false],
    }],
    alerts: [],
    steps: [{ step: 1, n: 1, mse: { blend: 0.5 }, mae: 0.5, coverage: null }],
    made: { by: "forecastd 0.0.0", at: "2026-01-01T00:00:00.000Z" },
  };
}

Deno.test("reportHtml() is one file that loads nothing: styles, uPlot, its script and the data inside", () => {
  const html = reportHtml(sample());
  assert.ok(html.startsWith("<!doctype html>\n"));
  // no file or address is named: every src and href is inline data
  assert.deepEqual([...html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]), [
    "data:,",
  ]);
  assert.doesNotMatch(html, /<link rel="stylesheet"|@import|url\(\s*["']?https?:/i);
  // three scripts: the data, uPlot (with its license), the page
  assert.equal(html.match(/<script\b/gi)?.length, 3);
  assert.equal(html.match(/<\/script>/gi)?.length, 3);
  assert.match(html, /uPlot \(npm uplot\), the chart library:\nThe MIT License \(MIT\)/);
  assert.match(html, /Copyright \(c\) 20\d\d Leon Sorokin/);
  assert.match(html, /Built from src\/replay\/report_page\/ by `deno task build:report`/);
});

Deno.test("reportHtml() keeps the data intact and inert: a file name cannot close its script", () => {
  const data = sample();
  const html = reportHtml(data);
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, "the data's script element");
  assert.doesNotMatch(m[1], /</, "no < inside: it cannot end the element");
  assert.deepEqual(JSON.parse(m[1]), data);
  assert.match(
    html,
    /<title>forecastd replay: data\/&lt;\/script>&lt;script>alert\(1\)&lt;\/script>\.csv<\/title>/,
  );
});
