/**
 * The dashboard's routes: through the daemon's app (createApp, as main.ts
 * serves it: errors as the API's JSON) and on their own (dashboard()), on a
 * real Service over a `:memory:` KV.
 */
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createApp } from "../../src/api/app.ts";
import { dashboard, etagOf, PAGE_ROUTES } from "../../src/dashboard/dashboard.ts";
import { DASHBOARD_ASSETS, DOCS_ASSETS } from "../../src/dashboard/assets.ts";
import type { Service } from "../../src/service/service.ts";
import { captureLog } from "../../src/log.ts";
import { openService } from "./_service.ts";

const T0 = Date.UTC(2025, 5, 2);
const STEP = 300_000;
const temperature = (i: number) => 21 + 2 * Math.sin((2 * Math.PI * i) / 288) + 0.3 * Math.sin(i);

interface Setup {
  service: Service;
  /** The daemon's app (createApp). */
  app: ReturnType<typeof createApp>;
  /** dashboard() alone. */
  alone: Hono;
  feed(from: number, to: number, stream?: string): Promise<void>;
}

async function withDaemon(fn: (s: Setup) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const { log } = captureLog();
  const service = openService(kv, log);
  const shutdown = new AbortController();
  const app = createApp({
    service,
    log,
    version: "0.0.0-test",
    readiness: () => ({ kv: true, broker: null }),
    signal: shutdown.signal,
  });
  const alone = dashboard();
  const feed = async (from: number, to: number, stream = "room") => {
    const readings = [];
    for (let i = from; i < to; i++) {
      readings.push({ stream, ts: T0 + i * STEP, values: { temperature: temperature(i) } });
    }
    assert.equal((await service.ingest(readings, "http")).accepted, to - from);
  };
  try {
    await fn({ service, app, alone, feed });
  } finally {
    shutdown.abort();
    await service.close();
    kv.close();
  }
}

/** The src and href of a page's elements that point at a file of the daemon. */
function links(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    .filter((u) => !u.startsWith("data:") && !u.startsWith("#"));
}

Deno.test("the sub-app answers GET on its pages (PAGE_ROUTES), nothing else", async () => {
  await withDaemon(({ alone }) => {
    assert.deepEqual(
      alone.routes.map((r) => `${r.method} ${r.path}`),
      PAGE_ROUTES.map((p) => `GET ${p}`),
    );
    return Promise.resolve();
  });
});

Deno.test("GET / is the dashboard page, under a policy that lets it load from forecastd only", async () => {
  await withDaemon(async ({ app }) => {
    const res = await app.request("/");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const d of ["default-src 'self'", "script-src 'self'", "connect-src 'self'"]) {
      assert.ok(csp.includes(d), `${d} in ${csp}`);
    }
    const html = await res.text();
    assert.match(html, /<title>forecastd<\/title>/);
    assert.deepEqual(links(html), [
      "dashboard/uplot.css",
      "dashboard/page.css",
      "dashboard/uplot.js",
      "dashboard/page.js",
      "docs",
      "dashboard/licenses.txt",
    ]);
  });
});

Deno.test("every file the dashboard and the docs page link to is served, with its type", async () => {
  await withDaemon(async ({ app }) => {
    const types: Record<string, string> = {
      js: "text/javascript; charset=utf-8",
      css: "text/css; charset=utf-8",
      txt: "text/plain; charset=utf-8",
    };
    const docs = await (await app.request("/docs")).text();
    const files = [
      ...links(await (await app.request("/")).text()).filter((u) => u !== "docs"),
      // the docs page's own links; /openapi.json belongs to the API
      ...links(docs).filter((u) => u !== "./" && u !== "openapi.json"),
    ];
    assert.equal(files.length, 8);
    for (const file of files) {
      const res = await app.request(`/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get("content-type"), types[file.split(".").pop()!], file);
      assert.ok((await res.text()).length > 100, `${file} has a body`);
    }
  });
});

Deno.test("the files are uPlot's and Swagger UI's from npm, the built page script, and their licenses", async () => {
  await withDaemon(async ({ app }) => {
    const text = async (path: string) => await (await app.request(path)).text();
    assert.match(await text("/dashboard/uplot.js"), /^\/\*! https:\/\/github.com\/leeoniya\/uPlot/);
    assert.match(await text("/docs/swagger-ui-bundle.js"), /SwaggerUIBundle/);
    assert.match(await text("/dashboard/page.js"), /^\/\/ Built from src\/dashboard\/page\//m);
    assert.match(await text("/docs/init.js"), /validatorUrl: null/);
    const licenses = await text("/dashboard/licenses.txt");
    assert.match(licenses, /Copyright \(c\) 2022 Leon Sorokin/);
    assert.match(licenses, /Apache License/);
    assert.match(licenses, /SmartBear Software/);
  });
});

Deno.test("a file is answered 304 while the browser's ETag matches", async () => {
  await withDaemon(async ({ app }) => {
    const first = await app.request("/dashboard/page.js");
    const etag = first.headers.get("etag")!;
    await first.body?.cancel();
    assert.equal(etag, etagOf(DASHBOARD_ASSETS["page.js"]));
    assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    const again = await app.request("/dashboard/page.js", { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    const other = await app.request("/dashboard/page.js", {
      headers: { "if-none-match": etagOf(DOCS_ASSETS["init.js"]) },
    });
    assert.equal(other.status, 200);
    await other.body?.cancel();
  });
});

Deno.test("an unknown file is a 404 naming the files there are; other unknown paths stay the API's 404", async () => {
  await withDaemon(async ({ app }) => {
    const res = await app.request("/dashboard/constructor");
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: "Cannot GET /dashboard/constructor: the file must be one of page.js, page.css, " +
        'uplot.js, uplot.css, licenses.txt: current value is "constructor"',
    });
    const docs = await app.request("/docs/swagger-ui.js.map");
    assert.equal(docs.status, 404);
    assert.match((await docs.json()).error, /^Cannot GET \/docs\/swagger-ui.js.map: the file must/);
    const api = await app.request("/nothing/here");
    assert.equal(api.status, 404);
    assert.match((await api.json()).error, /^Cannot GET \/nothing\/here: no such route/);
  });
});

Deno.test("GET /docs is Swagger UI reading the daemon's /openapi.json; /docs/ sends the browser there", async () => {
  await withDaemon(async ({ app }) => {
    const res = await app.request("/docs");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-security-policy") ?? "", /connect-src 'self'/);
    const html = await res.text();
    assert.match(html, /<div id="swagger-ui"><\/div>/);
    assert.match(await (await app.request("/docs/init.js")).text(), /"openapi.json"/);
    const slash = await app.request("/docs/");
    assert.equal(slash.status, 301);
    assert.equal(slash.headers.get("location"), "../docs");
  });
});
