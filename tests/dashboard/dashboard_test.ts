/**
 * The dashboard's routes: through the daemon's app (createApp, as main.ts
 * serves it: errors as the API's JSON) and on their own (dashboard(), with
 * a fast sampler), on a real Service over a `:memory:` KV.
 */
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createApp } from "../../src/api/app.ts";
import { dashboard, etagOf, PAGE_ROUTES } from "../../src/dashboard/dashboard.ts";
import { DASHBOARD_ASSETS, DOCS_ASSETS } from "../../src/dashboard/assets.ts";
import type { Service } from "../../src/service/service.ts";
import { captureLog } from "../../src/log.ts";
import type { RecentJson } from "../../src/dashboard/recent_json.ts";
import { openService } from "./_service.ts";

const T0 = Date.UTC(2025, 5, 2);
const STEP = 300_000;
const temperature = (i: number) => 21 + 2 * Math.sin((2 * Math.PI * i) / 288) + 0.3 * Math.sin(i);

interface Setup {
  service: Service;
  /** The daemon's app (createApp). */
  app: ReturnType<typeof createApp>;
  /** dashboard() alone, sampling every 5 ms. */
  alone: Hono;
  feed(from: number, to: number, stream?: string): void;
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
  const alone = dashboard({ service, log, signal: shutdown.signal, sampleEveryMs: 5 });
  const feed = (from: number, to: number, stream = "room") => {
    const readings = [];
    for (let i = from; i < to; i++) {
      readings.push({ stream, ts: T0 + i * STEP, values: { temperature: temperature(i) } });
    }
    assert.equal(service.ingest(readings, "http").accepted, to - from);
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

/** What the helpers below need of an app: createApp()'s, or dashboard() alone. */
interface Requester {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

async function recent(app: Requester, query = "", stream = "room"): Promise<RecentJson> {
  const res = await app.request(`/v1/streams/${stream}/recent${query}`);
  assert.equal(res.status, 200);
  return await res.json();
}

/** Polls the recent readings until `cond` holds (the sampler runs every 5 ms). */
async function recentUntil(
  app: Requester,
  cond: (r: RecentJson) => boolean,
  stream = "room",
): Promise<RecentJson> {
  const end = Date.now() + 5000;
  for (;;) {
    const r = await recent(app, "", stream);
    if (cond(r)) return r;
    if (Date.now() > end) throw new Error(`timed out: recent readings are ${JSON.stringify(r)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("the sub-app answers GET on its pages (PAGE_ROUTES) and the recent readings, nothing else", async () => {
  await withDaemon(({ alone }) => {
    assert.deepEqual(
      alone.routes.map((r) => `${r.method} ${r.path}`),
      [...PAGE_ROUTES, "/v1/streams/:id/recent"].map((p) => `GET ${p}`),
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

Deno.test("GET /v1/streams/{id}/recent gives the kept readings in columns, each with the forecast made for it", async () => {
  await withDaemon(async ({ service, alone, feed }) => {
    feed(0, 60);
    await recentUntil(alone, (r) => r.timestamps.length === 1);
    const made: number[] = [];
    for (let i = 60; i < 63; i++) {
      made.push(service.engine.get("room")!.forecast(1)!.targets.temperature.point[0]);
      feed(i, i + 1);
      await recentUntil(alone, (r) => r.timestamps.length === i - 58);
    }
    const r = await recent(alone);
    assert.equal(r.stream, "room");
    assert.equal(r.capacity, 288);
    assert.deepEqual(
      r.timestamps,
      [59, 60, 61, 62].map((i) => new Date(T0 + i * STEP).toISOString()),
    );
    assert.deepEqual(r.missed, [0, 0, 0, 0]);
    assert.deepEqual(r.targets.temperature.value, [59, 60, 61, 62].map(temperature));
    assert.deepEqual(r.targets.temperature.point, [null, ...made]);
    assert.equal(r.targets.temperature.lower.length, 4);

    const after = await recent(alone, `?after=${new Date(T0 + 60 * STEP).toISOString()}`);
    assert.deepEqual(after.targets.temperature.value, [61, 62].map(temperature));
    const last = await recent(alone, `?after=${T0 + 59 * STEP}&limit=1`);
    assert.deepEqual(last.targets.temperature.value, [temperature(62)]);
  });
});

Deno.test("GET /v1/streams/{id}/recent of a stream with nothing kept yet has empty columns", async () => {
  await withDaemon(async ({ service, app }) => {
    await service.put("room", { columns: ["temperature", "humidity"], targets: ["temperature"] });
    assert.deepEqual(await recent(app), {
      stream: "room",
      capacity: 288,
      timestamps: [],
      missed: [],
      targets: { temperature: { value: [], point: [], lower: [], upper: [] } },
    });
  });
});

Deno.test("GET /v1/streams/{id}/recent refuses an unknown stream and bad parameters as the API does", async () => {
  await withDaemon(async ({ app, feed }) => {
    feed(0, 3);
    const cases: [string, number, string][] = [
      [
        "/v1/streams/nope/recent",
        404,
        'Cannot list recent readings: stream must exist: "nope" is unknown',
      ],
      [
        "/v1/streams/room/recent?limit=0",
        400,
        "Cannot list recent readings: 'limit' must be an integer from 1 to 288: current value is \"0\"",
      ],
      [
        "/v1/streams/room/recent?after=yesterday",
        400,
        "Cannot list recent readings: 'after' must be milliseconds or seconds since 1970 or an " +
        'RFC 3339 time with a zone: current value is "yesterday"',
      ],
      [
        "/v1/streams/room/recent?horizon=3",
        400,
        "Cannot list recent readings: 'horizon' is not a known query parameter: current value is \"3\"",
      ],
      [
        "/v1/streams/r%20m/recent",
        400,
        "Cannot list recent readings: 'id' must be a stream id of 1-128 characters of " +
        'A-Z a-z 0-9 _ . : -: current value is "r m"',
      ],
    ];
    for (const [path, status, error] of cases) {
      const res = await app.request(path);
      assert.equal(res.status, status, path);
      assert.deepEqual(await res.json(), { error }, path);
    }
  });
});

/** Whether curl is installed (the example below uses it). */
function hasCurl(): boolean {
  try {
    return new Deno.Command("curl", { args: ["--version"], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Asserts that `actual` is the JSON `shown`: the same members and elements;
 * a number shown with decimals is the actual one rounded to two of them.
 */
function assertShown(actual: unknown, shown: unknown, path = "$"): void {
  if (typeof shown === "number" && !Number.isInteger(shown)) {
    assert.ok(
      typeof actual === "number" && Math.abs(actual - shown) <= 0.005 + 1e-12,
      `${path}: ${actual} is not ${shown}`,
    );
  } else if (Array.isArray(shown)) {
    assert.ok(Array.isArray(actual) && actual.length === shown.length, `${path}: ${actual}`);
    shown.forEach((x, i) => assertShown((actual as unknown[])[i], x, `${path}[${i}]`));
  } else if (shown !== null && typeof shown === "object") {
    const a = actual as Record<string, unknown>;
    assert.deepEqual(Object.keys(a ?? {}).sort(), Object.keys(shown).sort(), path);
    for (const [k, x] of Object.entries(shown)) assertShown(a[k], x, `${path}.${k}`);
  } else {
    assert.equal(actual, shown, path);
  }
}

Deno.test({
  name: "the recent-readings example of docs/dashboard.md prints what it shows",
  ignore: !hasCurl(),
  async fn() {
    const doc = await Deno.readTextFile(new URL("../../docs/dashboard.md", import.meta.url));
    const example = /```sh\n(for i in [\s\S]*?\/recent[^\n]*)\n```\n\n```json\n([\s\S]*?)\n```/
      .exec(doc);
    assert.ok(example, "docs/dashboard.md has the example of GET /v1/streams/{id}/recent");
    await withDaemon(async ({ app }) => {
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
      try {
        const script = example[1].replaceAll("127.0.0.1:8080", `127.0.0.1:${server.addr.port}`);
        const r = await new Deno.Command("bash", {
          args: ["-c", script],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
        assertShown(JSON.parse(new TextDecoder().decode(r.stdout)), JSON.parse(example[2]));
      } finally {
        await server.shutdown();
      }
    });
  },
});
