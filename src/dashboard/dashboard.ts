/**
 * The dashboard and the API docs page: a Hono sub-app the API mounts at
 * the root (`app.route("/", dashboard())`). The chart's data comes from the
 * API (`GET /v1/streams/{id}/recent`, the forecast and the alert feed).
 *
 *   GET /                          the dashboard (docs/dashboard.md)
 *   GET /dashboard/{file}          its script, styles, uPlot, licenses.txt
 *   GET /docs                      Swagger UI showing /openapi.json
 *   GET /docs/{file}               Swagger UI's files
 *
 * Files are answered with an ETag and `cache-control: no-cache` (a browser
 * asks again and gets a 304 while the daemon is the same), and a content
 * security policy that lets a page load only from forecastd itself.
 *
 * The files (some 2 MB of text: Swagger UI, uPlot, the page) are loaded on
 * the first request for one of them, not at start: a daemon nobody browses
 * does not hold them. The import's specifier is a string literal, so a
 * `deno bundle` of main.ts and `deno compile` carry the module all the same.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Asset } from "./assets.ts";

type Assets = typeof import("./assets.ts");
let assets: Promise<Assets> | null = null;

/** The pages' files, loaded at the first call. */
function loadAssets(): Promise<Assets> {
  return assets ??= import("./assets.ts");
}

/** Pages may load scripts, styles, data and images from forecastd only. */
const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; " +
  "frame-ancestors 'none'";
/** Swagger UI sets some styles inline. */
const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; " +
  "frame-ancestors 'none'";

/**
 * The paths of the pages and their files (GET), as Hono writes them: not
 * API routes, so an OpenAPI document leaves them out.
 */
export const PAGE_ROUTES: readonly string[] = [
  "/",
  "/dashboard/:file",
  "/docs",
  "/docs/",
  "/docs/:file",
];

/** The pages and their files. */
export function dashboard(): Hono {
  const app = new Hono();

  app.get("/", async (c) => serveAsset(c, (await loadAssets()).DASHBOARD_PAGE, DASHBOARD_CSP));
  app.get("/dashboard/:file", async (c) => {
    const file = c.req.param("file");
    const table = (await loadAssets()).DASHBOARD_ASSETS;
    return serveAsset(c, lookup(table, file, "/dashboard"), DASHBOARD_CSP);
  });

  app.get("/docs", async (c) => serveAsset(c, (await loadAssets()).DOCS_PAGE, DOCS_CSP));
  // the page's relative links need /docs without the slash
  app.get("/docs/", (c) => c.redirect("../docs", 301));
  app.get("/docs/:file", async (c) => {
    const file = c.req.param("file");
    return serveAsset(c, lookup((await loadAssets()).DOCS_ASSETS, file, "/docs"), DOCS_CSP);
  });

  return app;
}

/** The asset named `file` of `table`, or a 404 naming the files there are. */
function lookup(table: Readonly<Record<string, Asset>>, file: string, prefix: string): Asset {
  if (!Object.hasOwn(table, file)) {
    throw new HTTPException(404, {
      message: `Cannot GET ${prefix}/${file}: the file must be one of ${
        Object.keys(table).join(", ")
      }: current value is "${file}"`,
    });
  }
  return table[file];
}

const etags = new WeakMap<Asset, string>();

/** A weak ETag of the asset's text: its length and FNV-1a hash, computed once. */
export function etagOf(asset: Asset): string {
  let tag = etags.get(asset);
  if (tag === undefined) {
    let h = 0x811c9dc5;
    for (let i = 0; i < asset.body.length; i++) {
      h ^= asset.body.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    tag = `W/"${asset.body.length.toString(16)}-${(h >>> 0).toString(16)}"`;
    etags.set(asset, tag);
  }
  return tag;
}

function serveAsset(c: Context, asset: Asset, csp: string): Response {
  const etag = etagOf(asset);
  const headers: Record<string, string> = {
    etag,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  };
  if (asset.type.startsWith("text/html")) headers["content-security-policy"] = csp;
  const match = c.req.header("if-none-match");
  if (match && match.split(",").some((t) => t.trim() === etag)) {
    return c.body(null, 304, headers);
  }
  return c.body(asset.body, 200, { ...headers, "content-type": asset.type });
}
