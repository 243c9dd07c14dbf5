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

/** The repository's root. */
const ROOT = new URL("../../", import.meta.url);
/** The page script's entry point, relative to the root. */
export const REPORT_ENTRY = "src/replay/report_page/main.ts";
/** Where the built script is kept. */
export const REPORT_BUNDLE = new URL("./report_bundle.gen.js", import.meta.url);

/** The first lines of the built file. */
export const REPORT_BUNDLE_HEADER = [
  "// deno-fmt-ignore-file",
  "// deno-lint-ignore-file",
  "// @ts-nocheck",
  "// Built from src/replay/report_page/ by `deno task build:report` (deno bundle): do not edit.",
  "",
].join("\n");

/** The report's page script as built now. */
export async function bundleReportPage(): Promise<string> {
  const out = await Deno.makeTempFile({ prefix: "forecastd-report-", suffix: ".js" });
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
        REPORT_ENTRY,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new Error(
        `Cannot build the report's script: deno bundle must succeed: it exited with ${r.code}: ${
          new TextDecoder().decode(r.stderr).trim()
        }`,
      );
    }
    return REPORT_BUNDLE_HEADER + await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out);
  }
}

if (import.meta.main) {
  const text = await bundleReportPage();
  await Deno.writeTextFile(REPORT_BUNDLE, text);
  console.log(`wrote ${REPORT_BUNDLE.href.slice(ROOT.href.length)}: ${text.length} characters`);
}
