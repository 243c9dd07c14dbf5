/**
 * No file of main.ts and src/ is longer than 500 lines unless its first
 * comment says why ("Longer than 500 lines: ..."); generated bundles
 * (*.gen.js) are left out.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const LIMIT = 500;

function* sources(dir: URL): Generator<URL> {
  for (const e of Deno.readDirSync(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* sources(url);
    else if (/\.(ts|js)$/.test(e.name) && !e.name.includes(".gen.")) yield url;
  }
}

Deno.test(`every file of main.ts and src/ over ${LIMIT} lines says why in its first comment`, () => {
  const files = [new URL("main.ts", ROOT), ...sources(new URL("src/", ROOT))];
  assert.ok(files.length > 100, `${files.length} files`);
  const unexplained: string[] = [];
  for (const f of files) {
    const text = Deno.readTextFileSync(f);
    const lines = text.split("\n").length;
    if (lines <= LIMIT) continue;
    const head = text.slice(0, text.indexOf("*/") + 2);
    if (!head.includes(`Longer than ${LIMIT} lines:`)) {
      unexplained.push(`${f.pathname.slice(ROOT.pathname.length)}: ${lines} lines`);
    }
  }
  assert.deepEqual(unexplained, []);
});
