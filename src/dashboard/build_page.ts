/**
 * Builds the dashboard's script for the browser: `deno bundle` of
 * page/main.ts (and the modules it imports) into page_bundle.gen.js, which
 * assets.ts imports as text, so the daemon, a bundle of it and a compiled
 * binary all carry it. Run after changing anything under page/:
 *
 *   deno task build:dashboard
 *
 * tests/dashboard/page_bundle_test.ts fails while the committed file is not
 * what this builds.
 */

import {
  type BrowserScript,
  bundleBrowserScript,
  writeBrowserScript,
} from "../bundle_browser_script.ts";

/** The page script's entry point, relative to the repository's root. */
export const PAGE_ENTRY = "src/dashboard/page/main.ts";
/** Where the built script is kept. */
export const PAGE_BUNDLE = new URL("./page_bundle.gen.js", import.meta.url);

const SCRIPT: BrowserScript = {
  entry: PAGE_ENTRY,
  builtFrom: "src/dashboard/page/ by `deno task build:dashboard`",
  what: "the dashboard script",
};

/** The page script as built now from page/. */
export function bundlePage(): Promise<string> {
  return bundleBrowserScript(SCRIPT);
}

if (import.meta.main) await writeBrowserScript(SCRIPT, PAGE_BUNDLE);
