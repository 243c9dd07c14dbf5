/**
 * Builds a script for the browser from forecastd's sources: `deno bundle`
 * of one entry point (and the modules it imports) as one ES module, headed
 * by lines that keep fmt, lint and check off it and say how it was built.
 * The dashboard's page (src/dashboard/build_page.ts) and the replay's HTML
 * report (src/replay/report_build.ts) are built with it; each commits its
 * output and a test fails while the committed file is not what this builds.
 */

/** The repository's root. */
const ROOT = new URL("../", import.meta.url);

/** What to build: the entry point (relative to the root), and how the built file names its build. */
export interface BrowserScript {
  /** The entry point, relative to the repository's root. */
  entry: string;
  /** The sources and the task, for the header: "src/dashboard/page/ by `deno task build:dashboard`". */
  builtFrom: string;
  /** What the error says could not be built: "the dashboard script". */
  what: string;
}

/** The first lines of a built file. */
export function bundleHeader(script: BrowserScript): string {
  return [
    "// deno-fmt-ignore-file",
    "// deno-lint-ignore-file",
    "// @ts-nocheck",
    `// Built from ${script.builtFrom} (deno bundle): do not edit.`,
    "",
  ].join("\n");
}

/** The script as built now, header first. */
export async function bundleBrowserScript(script: BrowserScript): Promise<string> {
  const out = await Deno.makeTempFile({ prefix: "forecastd-bundle-", suffix: ".js" });
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
        script.entry,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new Error(
        `Cannot build ${script.what}: deno bundle must succeed: it exited with ${r.code}: ${
          new TextDecoder().decode(r.stderr).trim()
        }`,
      );
    }
    return bundleHeader(script) + await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out);
  }
}

/** Writes the built script to `to` and says so: the body of a build task. */
export async function writeBrowserScript(script: BrowserScript, to: URL): Promise<void> {
  const text = await bundleBrowserScript(script);
  await Deno.writeTextFile(to, text);
  console.log(`wrote ${to.href.slice(ROOT.href.length)}: ${text.length} characters`);
}
