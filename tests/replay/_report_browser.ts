/**
 * The browser side of tests/replay/report_browser_test.ts, run as its own
 * Deno process for the reason tests/e2e/_dashboard_browser.ts gives
 * (playwright-core reads files only --allow-all may read as it loads):
 *
 *   deno run --allow-all tests/replay/_report_browser.ts <chromium> <report.html> <out dir> [<copy dir>]
 *
 * It opens a replay's HTML report from its file in chromium (headless, a
 * fresh profile in the out dir) with the network cut off: every request but
 * the file itself is aborted and reported, as a report must open offline.
 * It waits for the page to say it is ready, reads what the charts drew,
 * clicks an alert, and prints one JSON line: what it saw
 * ({@link ReportBrowserReport}). A screenshot goes to the out dir, and to
 * the copy dir when one is given (how docs/replay-report.png was made).
 */
import { chromium } from "playwright-core";

/** What the browser saw. */
export interface ReportBrowserReport {
  consoleErrors: string[];
  pageErrors: string[];
  /** Requests other than the report file (aborted). */
  outsideRequests: string[];
  title: string;
  /** The summary table's rows (reported horizons). */
  horizonRows: number;
  /** The targets the selector offers. */
  targets: string[];
  chart: { bandRows: number; alertMarks: number; anomalySpans: number; canvases: number };
  steps: { count: number; series: string; canvases: number };
  alerts: number;
  /** The shown time range before and after clicking the first alert. */
  shownBefore: string;
  shownAfter: string;
  screenshots: string[];
}

async function main(
  executablePath: string,
  file: string,
  out: string,
  copyTo: string | undefined,
): Promise<ReportBrowserReport> {
  const url = new URL(`file://${file}`).href;
  const report: ReportBrowserReport = {
    consoleErrors: [],
    pageErrors: [],
    outsideRequests: [],
    title: "",
    horizonRows: 0,
    targets: [],
    chart: { bandRows: 0, alertMarks: 0, anomalySpans: 0, canvases: 0 },
    steps: { count: 0, series: "", canvases: 0 },
    alerts: 0,
    shownBefore: "",
    shownAfter: "",
    screenshots: [],
  };
  const context = await chromium.launchPersistentContext(`${out}/chromium-profile`, {
    executablePath,
    headless: true,
    offline: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    viewport: { width: 1280, height: 1100 },
  });
  try {
    await context.route("**/*", (route) => {
      const u = route.request().url();
      if (u === url) return route.continue();
      report.outsideRequests.push(u);
      return route.abort();
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") report.consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => report.pageErrors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    await page.waitForSelector("#chart[data-band-rows]", { state: "attached", timeout: 30_000 });
    report.title = await page.title();
    report.horizonRows = await page.locator("#horizons-body tr").count();
    report.targets = await page.locator("#target option").allTextContents();
    const attr = async (sel: string, name: string) =>
      Number(await page.getAttribute(sel, `data-${name}`) ?? 0);
    report.alerts = await page.locator("#alerts li").count();
    // "all": the whole file, so every alert is in view
    await page.selectOption("#span", "all");
    report.chart = {
      bandRows: await attr("#chart", "band-rows"),
      alertMarks: await attr("#chart", "alert-marks"),
      anomalySpans: await attr("#chart", "anomaly-spans"),
      canvases: await page.locator("#chart canvas").count(),
    };
    report.steps = {
      count: await attr("#steps", "steps"),
      series: await page.getAttribute("#steps", "data-series") ?? "",
      canvases: await page.locator("#steps canvas").count(),
    };
    const shot = `${out}/replay-report.png`;
    await page.screenshot({ path: shot, fullPage: true });
    report.screenshots.push(shot);
    if (copyTo) await Deno.copyFile(shot, `${copyTo}/replay-report.png`);
    // a shorter span, then an alert's time brings its part of the file into view
    const spans = await page.locator("#span option").evaluateAll((os) =>
      os.map((o) => (o as unknown as { value: string }).value)
    );
    await page.selectOption("#span", spans[0]);
    report.shownBefore = await page.locator("#shown").textContent() ?? "";
    if (report.alerts > 0) await page.locator("#alerts li button").first().click();
    report.shownAfter = await page.locator("#shown").textContent() ?? "";
  } finally {
    await context.close();
  }
  return report;
}

if (import.meta.main) {
  const [exe, file, out, copyTo] = Deno.args;
  console.log(JSON.stringify(await main(exe, file, out, copyTo)));
}
