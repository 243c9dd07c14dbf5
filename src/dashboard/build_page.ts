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

/** The repository's root. */
const ROOT = new URL("../../", import.meta.url);
/** The page script's entry point, relative to the root. */
export const PAGE_ENTRY = "src/dashboard/page/main.ts";
/** Where the built script is kept. */
export const PAGE_BUNDLE = new URL("./page_bundle.gen.js", import.meta.url);

/** The first lines of the built file. */
export const BUNDLE_HEADER = [
  "// deno-fmt-ignore-file",
  "// deno-lint-ignore-file",
  "// @ts-nocheck",
  "// Built from src/dashboard/page/ by `deno task build:dashboard` (deno bundle): do not edit.",
  "",
].join("\n");

/** The page script as built now from page/. */
export async function bundlePage(): Promise<string> {
  const out = await Deno.makeTempFile({ prefix: "forecastd-page-", suffix: ".js" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--format",
        "esm",
        "-o",
        out,
        PAGE_ENTRY,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new Error(
        `Cannot build the dashboard script: deno bundle must succeed: it exited with ${r.code}: ${
          new TextDecoder().decode(r.stderr).trim()
        }`,
      );
    }
    return BUNDLE_HEADER + await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out);
  }
}

if (import.meta.main) {
  const text = await bundlePage();
  await Deno.writeTextFile(PAGE_BUNDLE, text);
  console.log(`wrote ${PAGE_BUNDLE.href.slice(ROOT.href.length)}: ${text.length} characters`);
}
