/**
 * Every file the dashboard and the API docs page serve, imported as text so
 * that they are part of the module graph: `deno run`, a `deno bundle` of
 * main.ts and a `deno compile`d binary all carry them, and no page asks the
 * internet for anything. The chart library (uPlot) and Swagger UI come from
 * their npm packages (deno.json "imports"); the page's own script is built
 * from page/ into page_bundle.gen.js (build_page.ts).
 *
 * Text imports (`with { type: "text" }`) need no unstable flag in Deno 2.9
 * (`type: "bytes"` still does: nothing here is binary).
 */
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotLicense from "uplot/LICENSE" with { type: "text" };
import swaggerJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import swaggerJsLicense from "swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt" with {
  type: "text",
};
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import swaggerLicense from "swagger-ui-dist/LICENSE" with { type: "text" };
import swaggerNotice from "swagger-ui-dist/NOTICE" with { type: "text" };
import pageHtml from "./page.html" with { type: "text" };
import pageCss from "./page.css" with { type: "text" };
import pageJs from "./page_bundle.gen.js" with { type: "text" };
import docsHtml from "./docs.html" with { type: "text" };
import docsJs from "./docs_init.js" with { type: "text" };

/** A served file. */
export interface Asset {
  body: string;
  type: string;
}

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const TEXT = "text/plain; charset=utf-8";

/** The licenses of the third-party code the pages carry. */
const LICENSES = [
  "forecastd's dashboard serves the following third-party code.",
  "",
  "== uPlot (npm uplot), the chart ==",
  uplotLicense.trim(),
  "",
  "== Swagger UI (npm swagger-ui-dist), the API docs page ==",
  swaggerLicense.trim(),
  "",
  swaggerNotice.trim(),
  "",
  "== Code bundled into swagger-ui-bundle.js ==",
  swaggerJsLicense.trim(),
  "",
].join("\n");

/** The dashboard page, at `/`. */
export const DASHBOARD_PAGE: Asset = { body: pageHtml, type: HTML };

/** The API docs page, at `/docs`. */
export const DOCS_PAGE: Asset = { body: docsHtml, type: HTML };

/** The dashboard's files, at `/dashboard/{name}`. */
export const DASHBOARD_ASSETS: Readonly<Record<string, Asset>> = {
  "page.js": { body: pageJs, type: JS },
  "page.css": { body: pageCss, type: CSS },
  "uplot.js": { body: uplotJs, type: JS },
  "uplot.css": { body: uplotCss, type: CSS },
  "licenses.txt": { body: LICENSES, type: TEXT },
};

/** The API docs page's files, at `/docs/{name}`. */
export const DOCS_ASSETS: Readonly<Record<string, Asset>> = {
  "init.js": { body: docsJs, type: JS },
  "swagger-ui-bundle.js": { body: swaggerJs, type: JS },
  "swagger-ui-bundle.js.LICENSE.txt": { body: swaggerJsLicense, type: TEXT },
  "swagger-ui.css": { body: swaggerCss, type: CSS },
};
