import assert from "node:assert/strict";
import { bundlePage, PAGE_BUNDLE } from "../../src/dashboard/build_page.ts";

Deno.test("page_bundle.gen.js is what src/dashboard/page/ builds to (else: deno task build:dashboard)", async () => {
  const committed = await Deno.readTextFile(PAGE_BUNDLE);
  const built = await bundlePage();
  if (committed !== built) {
    const a = committed.split("\n"), b = built.split("\n");
    let line = 0;
    while (line < a.length && a[line] === b[line]) line++;
    assert.fail(
      `src/dashboard/page_bundle.gen.js is stale from line ${line + 1}: it has ` +
        `${JSON.stringify(a[line] ?? "(end)")}, page/ builds ${
          JSON.stringify(b[line] ?? "(end)")
        }; ` +
        "run deno task build:dashboard",
    );
  }
});
