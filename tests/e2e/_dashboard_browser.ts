/**
 * The browser side of tests/e2e/dashboard_test.ts, run as its own Deno
 * process: playwright-core reads the home directory, the OS release and
 * files under /proc/sys as it loads, which the test suite's permissions do
 * not allow (Deno lets only --allow-all read /proc/sys), so the test starts
 * this script with its own.
 *
 *   deno run --allow-all tests/e2e/_dashboard_browser.ts <chromium> <daemon URL> <out dir> \
 *     <read token> <write token> [<copy dir>]
 *
 * It drives the chromium given (headless, a fresh profile in the out dir)
 * through the dashboard of a daemon running `serve --demo` with a read and
 * a write API token, and the /docs page, then prints one JSON line: what it
 * saw ({@link BrowserReport}). The page asks for a token; the read token
 * shows everything but cannot acknowledge; the write token, remembered,
 * acknowledges and is still there after a reload; an alert acknowledged
 * through the API shows so without a reload. Each step waits with a
 * deadline and fails naming the step. Screenshots go to the out dir; the
 * dashboard's are also copied to the copy dir when one is given (how the
 * ones in docs/ were made).
 *
 * Only requests to the daemon are let through; any other is aborted and
 * reported. When the daemon has no /openapi.json yet, the docs page is
 * given tests/dashboard/openapi_fixture.json in its place.
 */
import { chromium, type Page } from "playwright-core";

/** What the browser saw. */
export interface BrowserReport {
  /** Console errors but the browser's note of each 401 answer. */
  consoleErrors: string[];
  /** The URLs the browser noted a 401 answer of (the page asking before it has a token). */
  unauthorized: string[];
  pageErrors: string[];
  failedRequests: string[];
  /** Requests to anything but the daemon (aborted). */
  outsideRequests: string[];
  chart: {
    /** Rows of the band, alert marks and anomaly spans the chart drew (its data-* attributes). */
    bandRows: number;
    alertMarks: number;
    anomalySpans: number;
    /** Canvas pixels of the band's colour, and of the opened-alert mark's. */
    bandPixels: number;
    markPixels: number;
  };
  /** The opened alert of the feed: its id, its text, its state after the acknowledgement. */
  alert: { id: string; text: string; stateAfterAck: string };
  /** The token flow. */
  auth: {
    /** The form showed on the first visit, and the streams, chart and alerts did not. */
    asked: boolean;
    /** With the read token: the header's badge, the notice, the Acknowledge button disabled. */
    readBadge: string;
    readNotice: string;
    ackDisabledWithRead: boolean;
    /** Where the token was kept: [sessionStorage, localStorage] hold it. */
    keptAfterRead: [boolean, boolean];
    writeBadge: string;
    keptAfterWrite: [boolean, boolean];
    /** After a reload with the remembered write token: the form showed (it should not). */
    askedAfterReload: boolean;
    streamsAfterReload: number;
  };
  /** An alert acknowledged through the API, not the page: its id and its state on the page after. */
  elsewhere: { id: string; stateShown: string };
  crossing: string;
  phone: { scrollWidth: number; innerWidth: number; chartWidth: number };
  docs: { title: string; operations: number; fixture: boolean };
  screenshots: string[];
}

const STEP_MS = 90_000;
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Runs `fn`, failing with `what` when it throws or takes longer than `ms`. */
async function step<T>(what: string, fn: () => Promise<T>, ms = STEP_MS): Promise<T> {
  console.error(`browser: ${what}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } catch (e) {
    throw new Error(`Cannot ${what}: ${e instanceof Error ? e.message : e}`);
  } finally {
    clearTimeout(timer);
  }
}

/** What the pixel count reads of the chart's canvas element. */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: "2d"): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}

/**
 * Pixels of the chart's canvas of the colour `rgba` (alpha 0-1), within 8 in
 * each channel. The canvas is transparent where nothing is drawn, so a
 * translucent fill keeps its own colour and alpha there.
 */
function countPixels(page: Page, rgba: [number, number, number, number]): Promise<number> {
  const want = [rgba[0], rgba[1], rgba[2], Math.round(rgba[3] * 255)];
  return page.locator("#chart canvas").evaluate((el, want) => {
    const canvas = el as unknown as CanvasLike;
    const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (
        Math.abs(d[i] - want[0]) <= 8 && Math.abs(d[i + 1] - want[1]) <= 8 &&
        Math.abs(d[i + 2] - want[2]) <= 8 && Math.abs(d[i + 3] - want[3]) <= 8
      ) n++;
    }
    return n;
  }, want);
}

async function chartData(page: Page, key: string): Promise<number> {
  return Number(await page.getAttribute("#chart", `data-${key}`) ?? 0);
}

/** The readings of the docs' alert example (docs/alerts.md): a day and a bit, then a spike. */
function probeReadings(): { ts: number; value: number }[] {
  const out = [];
  for (let i = 0; i < 300; i++) {
    const v = 21 + 2 * Math.sin((2 * Math.PI * i) / 288) + 0.6 * Math.sin((2 * Math.PI * i) / 36);
    out.push({ ts: (1748736000 + 300 * i) * 1000, value: Math.round(v * 100) / 100 });
  }
  out.push({ ts: Date.UTC(2025, 5, 2, 1), value: 30 });
  return out;
}

/** Whether [sessionStorage, localStorage] of the page hold the dashboard's token. */
function kept(page: Page): Promise<[boolean, boolean]> {
  return page.evaluate(() =>
    [
      globalThis.sessionStorage.getItem("forecastd.token") !== null,
      globalThis.localStorage.getItem("forecastd.token") !== null,
    ] as [boolean, boolean]
  );
}

async function main(
  executablePath: string,
  http: string,
  out: string,
  tokens: { read: string; write: string },
  copyTo: string | undefined,
): Promise<BrowserReport> {
  const origin = new URL(http).origin;
  const writeHeaders = { authorization: `Bearer ${tokens.write}` };
  const report: BrowserReport = {
    consoleErrors: [],
    unauthorized: [],
    pageErrors: [],
    failedRequests: [],
    outsideRequests: [],
    chart: { bandRows: 0, alertMarks: 0, anomalySpans: 0, bandPixels: 0, markPixels: 0 },
    alert: { id: "", text: "", stateAfterAck: "" },
    auth: {
      asked: false,
      readBadge: "",
      readNotice: "",
      ackDisabledWithRead: false,
      keptAfterRead: [false, false],
      writeBadge: "",
      keptAfterWrite: [false, false],
      askedAfterReload: true,
      streamsAfterReload: 0,
    },
    elsewhere: { id: "", stateShown: "" },
    crossing: "",
    phone: { scrollWidth: 0, innerWidth: 0, chartWidth: 0 },
    docs: { title: "", operations: 0, fixture: false },
    screenshots: [],
  };
  const context = await step(
    "start chromium",
    () =>
      chromium.launchPersistentContext(`${out}/chromium-profile`, {
        executablePath,
        headless: true,
        args: FLAGS,
        viewport: { width: 1280, height: 860 },
      }),
    60_000,
  );
  try {
    const fixture =
      (await fetch(`${http}/openapi.json`, { headers: writeHeaders }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      })) === 404;
    report.docs.fixture = fixture;
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin !== origin) {
        report.outsideRequests.push(url);
        return route.abort();
      }
      if (fixture && url === `${origin}/openapi.json`) {
        return route.fulfill({
          path: new URL("../dashboard/openapi_fixture.json", import.meta.url).pathname,
          contentType: "application/json",
        });
      }
      return route.continue();
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      // the browser notes every 4xx answer: a 401 is how the page learns it needs a token
      if (/status of 401 \(Unauthorized\)/.test(m.text())) {
        report.unauthorized.push(m.location().url);
      } else report.consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => report.pageErrors.push(e.message));
    page.on("requestfailed", (r) => {
      // an EventSource or a poll cut by leaving the page is not a failure of the page
      if (r.failure()?.errorText !== "net::ERR_ABORTED") {
        report.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`);
      }
    });

    const shot = async (name: string, fullPage: boolean) => {
      const path = `${out}/${name}`;
      await page.screenshot({ path, fullPage });
      report.screenshots.push(path);
      // the dashboard's pictures for docs/ (the docs page shows a fixture until /openapi.json exists)
      if (copyTo && name.startsWith("dashboard")) await Deno.copyFile(path, `${copyTo}/${name}`);
    };
    const useToken = async (token: string, remember: boolean) => {
      await page.fill("#token-input", token);
      await page.setChecked("#token-remember", remember);
      await page.click("#token-form button[type=submit]");
    };
    const demoChosen = '#stream-rows tr[data-stream="demo"][aria-current="true"]';
    const opened = '#alerts li[data-type="opened"][data-stream="demo"]';

    await step("open the dashboard", () => page.goto(`${http}/`));
    await step("see the page ask for a token", () => page.waitForSelector("#token-input"));
    report.auth.asked = await page.isVisible("#token-panel") && !(await page.isVisible("#layout"));
    await step("take the token form's screenshot", () => shot("token.png", false));

    await step("give the read token, for this tab only", async () => {
      await useToken(tokens.read, false);
      await page.waitForSelector(demoChosen);
    });
    report.auth.keptAfterRead = await kept(page);
    report.auth.readBadge = (await page.textContent("#access")) ?? "";
    report.auth.readNotice = (await page.textContent("#access-notice")) ?? "";
    await step(
      "see the demo's fault in the alert feed, with the read token",
      () => page.waitForSelector(opened),
    );
    report.auth.ackDisabledWithRead = await page.locator(`${opened} button.ack`).first()
      .isDisabled();
    await step("take the read token's screenshot", () => shot("read-only.png", false));

    await step("change to the write token, remembered on the device", async () => {
      await page.click("#token-change");
      await page.waitForSelector("#token-input");
      await useToken(tokens.write, true);
      await page.locator("#access", { hasText: "write token" }).waitFor();
      await page.waitForSelector(`${opened} button.ack:not([disabled])`);
    });
    report.auth.keptAfterWrite = await kept(page);
    report.auth.writeBadge = (await page.textContent("#access")) ?? "";
    await step("see the demo stream chosen in the list", () => page.waitForSelector(demoChosen));
    await step(
      "see the chart draw the interval band",
      () => page.waitForSelector('#chart[data-band-rows]:not([data-band-rows="0"])'),
    );
    await step(
      "see the live feed connected",
      () => page.waitForSelector('#live[data-status="live"]'),
    );

    const item = await step(
      "see the demo's fault in the alert feed",
      () => page.waitForSelector(opened),
    );
    report.alert.id = (await item.getAttribute("data-id")) ?? "";
    report.alert.text = (await item.innerText()).replace(/\s+/g, " ").trim();
    await step("see the alert marked on the chart", () =>
      page.waitForSelector(
        '#chart[data-alert-marks]:not([data-alert-marks="0"])' +
          '[data-anomaly-spans]:not([data-anomaly-spans="0"])',
      ));

    await step("ask when the temperature will cross a threshold", async () => {
      await page.fill("#threshold", "23");
      await page.click("#crossing-form button");
      await page.locator("#crossing", { hasText: /^(Expected|Not expected|Already) / }).waitFor();
    });
    report.crossing = (await page.textContent("#crossing")) ?? "";
    // let the chart redraw with the threshold line
    await page.waitForTimeout(300);

    report.chart.bandRows = await chartData(page, "band-rows");
    report.chart.alertMarks = await chartData(page, "alert-marks");
    report.chart.anomalySpans = await chartData(page, "anomaly-spans");
    // the colours chart.ts draws with (COLORS.band, COLORS.opened)
    report.chart.bandPixels = await countPixels(page, [37, 99, 235, 0.18]);
    report.chart.markPixels = await countPixels(page, [220, 38, 38, 1]);

    // for docs/: a few more readings, so that the picture shows the anomaly's span
    if (copyTo) await page.waitForTimeout(6000);
    await step("take the desktop screenshot", () => shot("dashboard.png", false));

    await step("acknowledge the alert", async () => {
      await page.click(`${opened}[data-id="${report.alert.id}"] button.ack`);
      await page.waitForSelector(
        `#alerts li[data-id="${report.alert.id}"][data-state="acknowledged"]`,
      );
    });
    report.alert.stateAfterAck =
      (await page.getAttribute(`#alerts li[data-id="${report.alert.id}"]`, "data-state")) ?? "";

    // another stream's anomaly, acknowledged through the API: the page shows it without a reload
    const probe = '#alerts li[data-type="opened"][data-stream="probe"]';
    const probeItem = await step("see a second stream's anomaly in the feed", async () => {
      const res = await fetch(`${http}/v1/streams/probe/readings`, {
        method: "POST",
        headers: { ...writeHeaders, "content-type": "application/json" },
        body: JSON.stringify(probeReadings()),
      });
      const body = await res.json();
      if (body.accepted !== 301) throw new Error(`the probe readings: ${JSON.stringify(body)}`);
      return await page.waitForSelector(probe);
    });
    report.elsewhere.id = (await probeItem.getAttribute("data-id")) ?? "";
    await step("acknowledge it elsewhere and see it acknowledged on the page", async () => {
      const res = await fetch(`${http}/v1/alerts/${report.elsewhere.id}/ack`, {
        method: "POST",
        headers: writeHeaders,
      });
      await res.body?.cancel();
      if (res.status !== 200) throw new Error(`the acknowledgement answered ${res.status}`);
      await page.waitForSelector(
        `#alerts li[data-id="${report.elsewhere.id}"][data-state="acknowledged"]`,
      );
    });
    report.elsewhere.stateShown =
      (await page.getAttribute(`#alerts li[data-id="${report.elsewhere.id}"]`, "data-state")) ??
        "";

    await step("reload: the remembered token is used", async () => {
      await page.reload();
      await page.waitForSelector(demoChosen);
    });
    report.auth.askedAfterReload = await page.isVisible("#token-panel");
    report.auth.streamsAfterReload = await page.locator("#stream-rows tr").count();

    await step("lay the page out at phone width", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      // the chart follows its box's width (a ResizeObserver)
      for (let i = 0; i < 50; i++) {
        const box = await page.locator("#chart canvas").boundingBox();
        if (box && box.width <= 390) break;
        await page.waitForTimeout(100);
      }
    });
    report.phone = {
      scrollWidth: await page.locator("html").evaluate((el) => el.scrollWidth),
      innerWidth: page.viewportSize()!.width,
      chartWidth: (await page.locator("#chart canvas").boundingBox())?.width ?? 0,
    };
    await step("take the phone screenshot", () => shot("dashboard-phone.png", true));

    await page.setViewportSize({ width: 1280, height: 860 });
    await step("open the API docs page", () => page.goto(`${http}/docs`));
    await step(
      "see Swagger UI show the OpenAPI document",
      () => page.waitForSelector(".swagger-ui .opblock"),
    );
    report.docs.title = ((await page.textContent(".swagger-ui .info .title")) ?? "").trim();
    report.docs.operations = await page.locator(".swagger-ui .opblock").count();
    await step("take the docs screenshot", () => shot("docs.png", false));
  } finally {
    await context.close();
  }
  return report;
}

if (import.meta.main) {
  const [executablePath, http, out, read, write, copyTo] = Deno.args;
  try {
    console.log(
      JSON.stringify(await main(executablePath, http, out, { read, write }, copyTo)),
    );
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    Deno.exit(1);
  }
}
