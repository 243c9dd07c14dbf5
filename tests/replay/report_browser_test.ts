/**
 * A replay's HTML report in a real browser: `deno task replay --report`
 * writes it, and Debian's chromium, driven by playwright-core in its own
 * process (_report_browser.ts), opens the file with the network cut off.
 *
 * REPLAY_REPORT_SCREENSHOTS=<dir> also copies its screenshot there
 * (docs/replay-report.png was made so).
 */
import assert from "node:assert/strict";
import { withTempDir } from "../_helpers.ts";
// only the type: the module loads playwright-core, which needs more permissions than tests have
import type { ReportBrowserReport } from "./_report_browser.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CHROMIUM = "/usr/bin/chromium";

function missingChromium(): string | null {
  try {
    const r = new Deno.Command(CHROMIUM, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return r.success ? null : `${CHROMIUM} --version failed`;
  } catch {
    return `${CHROMIUM} is not installed (Debian package chromium; .ci/run installs it)`;
  }
}

const missing = missingChromium();
if (missing) console.warn(`tests/replay/report_browser_test.ts skipped: ${missing}`);

Deno.test({
  name:
    "replay --report writes one HTML file that opens offline in chromium: the readings against the forecast, the alerts, the error by step",
  ignore: missing !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const file = `${dir}/replay.html`;
      const replay = await new Deno.Command(Deno.execPath(), {
        args: [
          ...["task", "-q", "replay", "tests/fixtures/replay_small.csv", "--protocol", "fsnet"],
          ...["--rows", "all", "--horizons", "1,6,12", "--report", file],
        ],
        cwd: ROOT,
        stdin: "null",
        env: { NO_COLOR: "1" },
      }).output();
      assert.equal(replay.code, 0, new TextDecoder().decode(replay.stderr));
      assert.match(new TextDecoder().decode(replay.stdout), /^forecastd replay tests\/fixtures/);

      const copyTo = Deno.env.get("REPLAY_REPORT_SCREENSHOTS");
      const r = await new Deno.Command(Deno.execPath(), {
        // why --allow-all: see tests/e2e/dashboard_test.ts; the browser loads nothing but the file
        args: [
          ...["run", "--allow-all", "tests/replay/_report_browser.ts", CHROMIUM, file, dir],
          ...(copyTo ? [copyTo] : []),
        ],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(r.stderr).trim();
      assert.equal(r.code, 0, `the browser side failed:\n${stderr}`);
      const lines = new TextDecoder().decode(r.stdout).trim().split("\n");
      const seen: ReportBrowserReport = JSON.parse(lines[lines.length - 1]);

      assert.deepEqual(seen.outsideRequests, [], "it loads nothing");
      assert.deepEqual(seen.consoleErrors, []);
      assert.deepEqual(seen.pageErrors, []);
      assert.equal(seen.title, "forecastd replay: tests/fixtures/replay_small.csv");
      assert.equal(seen.horizonRows, 3, "a row per reported horizon");
      assert.deepEqual(seen.targets, ["temp", "load"]);
      // fsnet scores rows 150..599; the interval is calibrated soon after
      assert.equal(seen.chart.canvases, 1);
      assert.ok(seen.chart.bandRows > 400 && seen.chart.bandRows <= 450, `${seen.chart.bandRows}`);
      assert.equal(seen.alerts, 2, "opened and resolved");
      assert.equal(seen.chart.alertMarks, 2);
      assert.equal(seen.chart.anomalySpans, 1);
      assert.deepEqual(seen.steps, {
        count: 12,
        series: "blend,persistence,seasonal,linear,lstm",
        canvases: 1,
      });
      assert.equal(seen.shownBefore, "2021-03-01 00:00 to 2021-03-02 00:00 UTC");
      assert.notEqual(seen.shownAfter, seen.shownBefore, "an alert's time moves the chart to it");
      assert.match(seen.shownAfter, /^2021-03-19 \d\d:\d\d to 2021-03-20 \d\d:\d\d UTC$/);
    });
  },
});
