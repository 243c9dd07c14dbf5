import assert from "node:assert/strict";
import { bundleReportPage, REPORT_BUNDLE } from "../../src/replay/report_build.ts";

Deno.test("report_bundle.gen.js is what src/replay/report_page/ builds to (else: deno task build:report)", async () => {
  const committed = await Deno.readTextFile(REPORT_BUNDLE);
  const built = await bundleReportPage();
  if (committed !== built) {
    const a = committed.split("\n"), b = built.split("\n");
    let line = 0;
    while (line < a.length && a[line] === b[line]) line++;
    assert.fail(
      `src/replay/report_bundle.gen.js is stale from line ${line + 1}: it has ` +
        `${JSON.stringify(a[line] ?? "(end)")}, report_page/ builds ${
          JSON.stringify(b[line] ?? "(end)")
        }; run deno task build:report`,
    );
  }
});
