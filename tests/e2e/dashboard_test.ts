/**
 * The dashboard in a real browser: Debian's chromium, driven by
 * playwright-core, against the real daemon (`serve --demo`) on 127.0.0.1
 * port 0. The browser side runs in its own process
 * (_dashboard_browser.ts, which says why); this test starts the daemon and
 * that process, and checks what it reports and what the daemon stored.
 *
 * DASHBOARD_SCREENSHOTS=<dir> also copies the dashboard's screenshots there
 * (docs/ holds the ones made so, see docs/dashboard.md).
 */
import assert from "node:assert/strict";
import { hashToken } from "../../src/auth/token_hash.ts";
import { ROOT, startDaemon, withTempDir } from "./_daemon.ts";
// only the type: the module loads playwright-core, which needs more permissions than tests have
import type { BrowserReport } from "./_dashboard_browser.ts";

/** Where Debian installs chromium. */
const CHROMIUM = "/usr/bin/chromium";

/** Why the browser test cannot run here, or null when it can. */
function missingChromium(): string | null {
  try {
    const r = new Deno.Command(CHROMIUM, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return r.success ? null : `${CHROMIUM} --version failed`;
  } catch {
    return `${CHROMIUM} is not installed (Debian package chromium; .ci/run installs it)`;
  }
}

/** The daemon's API tokens in this test. */
const READ = "fcd_e2e-dashboard-read-000000000000000000000000";
const WRITE = "fcd_e2e-dashboard-write-00000000000000000000000";

/** Runs the browser side against `http`, screenshots into `dir`; its report. */
async function runBrowser(http: string, dir: string): Promise<BrowserReport> {
  const copyTo = Deno.env.get("DASHBOARD_SCREENSHOTS");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      // playwright-core looks for /proc/sys/fs/binfmt_misc/WSLInterop as it loads, which Deno
      // lets only --allow-all read; the browser it drives is not bound by Deno's permissions
      // anyway: the driver lets only requests to the daemon through
      "--allow-all",
      "tests/e2e/_dashboard_browser.ts",
      CHROMIUM,
      http,
      dir,
      READ,
      WRITE,
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
  return JSON.parse(lines[lines.length - 1]);
}

/** Width and height of a PNG file, from its IHDR chunk. */
async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const b = await Deno.readFile(path);
  assert.deepEqual([...b.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${path} is a PNG`);
  const v = new DataView(b.buffer, b.byteOffset);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

const missing = missingChromium();
Deno.test({
  name:
    "the dashboard in chromium: it asks for a token, a read token cannot acknowledge, the chart draws the band, the fault shows in the feed and on the chart, ack works here and elsewhere, no console error",
  ignore: missing !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const d = await startDaemon({
        dataDir: `${dir}/data`,
        args: [
          "--demo",
          ...["--api-token", `read:${hashToken(READ)}`],
          ...["--api-token", `write:${hashToken(WRITE)}`],
        ],
      });
      let report: BrowserReport;
      try {
        report = await runBrowser(d.http, dir);
        // both acknowledgements reached the daemon's store, the page's and the one made elsewhere
        const res = await fetch(`${d.http}/v1/alerts?state=acknowledged`, {
          headers: { authorization: `Bearer ${READ}` },
        });
        assert.equal(res.status, 200);
        const { alerts } = await res.json() as { alerts: { id: string }[] };
        assert.deepEqual(alerts.map((a) => a.id), [report.alert.id, report.elsewhere.id].sort());
      } finally {
        const status = await d.stop("SIGTERM");
        assert.equal(status.code, 0);
      }

      assert.deepEqual(report.consoleErrors, [], "no console error");
      assert.deepEqual(
        report.unauthorized,
        [`${d.http}/v1/auth`],
        "one 401: the page's first question, before it had a token",
      );

      const { auth } = report;
      assert.ok(auth.asked, "the first visit shows the token form, not the streams and alerts");
      assert.equal(auth.readBadge, "read-only token");
      assert.match(auth.readNotice, /^This token can read but not write: acknowledging an alert/);
      assert.ok(auth.ackDisabledWithRead, "a read token's Acknowledge button is disabled");
      assert.deepEqual(auth.keptAfterRead, [true, false], "not remembered: the tab's session");
      assert.equal(auth.writeBadge, "write token");
      assert.deepEqual(auth.keptAfterWrite, [false, true], "remembered: the device, only there");
      assert.equal(auth.askedAfterReload, false, "a remembered token is used after a reload");
      assert.ok(
        auth.streamsAfterReload >= 2,
        `streams after the reload: ${auth.streamsAfterReload}`,
      );
      assert.match(report.elsewhere.id, /^\d{16}$/);
      assert.notEqual(report.elsewhere.id, report.alert.id);
      assert.equal(report.elsewhere.stateShown, "acknowledged");
      assert.deepEqual(report.pageErrors, [], "no uncaught error in the page");
      assert.deepEqual(report.failedRequests, [], "no failed request");
      assert.deepEqual(report.outsideRequests, [], "no request left the daemon");

      const { chart } = report;
      assert.ok(chart.bandRows > 24, `band rows: ${chart.bandRows}`);
      assert.ok(chart.bandPixels > 2000, `band pixels drawn: ${chart.bandPixels}`);
      assert.ok(chart.alertMarks >= 1 && chart.anomalySpans >= 1, JSON.stringify(chart));
      assert.ok(chart.markPixels > 20, `alert mark pixels drawn: ${chart.markPixels}`);

      assert.match(report.alert.id, /^\d{16}$/);
      assert.match(report.alert.text, /^Anomaly demo \d{4}-\d\d-\d\d \d\d:\d\d open temperature/);
      assert.match(report.alert.text, /is outside the expected/, "the alert's context is shown");
      assert.equal(report.alert.stateAfterAck, "acknowledged");
      assert.match(
        report.crossing,
        /^(Expected to go|Not expected to go|Already) (above|below) 23/,
      );

      assert.ok(
        report.phone.scrollWidth <= report.phone.innerWidth,
        `no sideways scrolling at phone width: ${JSON.stringify(report.phone)}`,
      );
      assert.ok(report.phone.chartWidth > 300 && report.phone.chartWidth <= 390);

      assert.ok(report.docs.operations >= 2, `operations shown: ${report.docs.operations}`);
      if (report.docs.fixture) {
        assert.equal(report.docs.title, "forecastd API (test fixture) 0.0.0 OAS 3.1");
      }

      const [token, readOnly, desktop, phone, docs] = report.screenshots;
      assert.deepEqual(await pngSize(token), { width: 1280, height: 860 });
      assert.deepEqual(await pngSize(readOnly), { width: 1280, height: 860 });
      assert.deepEqual(await pngSize(desktop), { width: 1280, height: 860 });
      assert.equal((await pngSize(phone)).width, 390);
      assert.deepEqual(await pngSize(docs), { width: 1280, height: 860 });
    });
  },
});
if (missing !== null) console.warn(`skipping the dashboard browser test: ${missing}`);
