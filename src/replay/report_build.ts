/**
 * Builds the page script of a replay's HTML report: `deno bundle` of
 * report_page/main.ts (with the dashboard's chart code it imports) into
 * report_bundle.gen.js, which report_html.ts imports as text, so that a
 * replay, a bundle of main.ts and a compiled binary all carry it. Run after
 * changing anything under report_page/ or the dashboard's page/:
 *
 *   deno task build:report
 *
 * tests/replay/report_bundle_test.ts fails while the committed file is not
 * what this builds.
 */

import {
  type BrowserScript,
  bundleBrowserScript,
  writeBrowserScript,
} from "../bundle_browser_script.ts";

/** The page script's entry point, relative to the repository's root. */
export const REPORT_ENTRY = "src/replay/report_page/main.ts";
/** Where the built script is kept. */
export const REPORT_BUNDLE = new URL("./report_bundle.gen.js", import.meta.url);

const SCRIPT: BrowserScript = {
  entry: REPORT_ENTRY,
  builtFrom: "src/replay/report_page/ by `deno task build:report`",
  what: "the report's script",
};

/** The report's page script as built now. */
export function bundleReportPage(): Promise<string> {
  return bundleBrowserScript(SCRIPT);
}

if (import.meta.main) await writeBrowserScript(SCRIPT, REPORT_BUNDLE);
