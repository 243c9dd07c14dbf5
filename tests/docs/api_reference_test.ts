/**
 * docs/ against /openapi.json: the API reference pages are checked against
 * the document the app generates from the routes' zod schemas, so neither
 * can drift. Every operation is named (`METHOD /path`) in a docs page, and
 * each of its query parameters is named on that page; every `METHOD /path`
 * a docs page names is an operation of the document.
 */
import assert from "node:assert/strict";
import { json, startDaemon } from "../api/_harness.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

const METHODS = ["get", "put", "post", "delete", "patch"];
const DOCS = new URL("../../docs/", import.meta.url);

/** Every docs/*.md page, by name. */
async function pages(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(DOCS)) {
    if (e.isFile && e.name.endsWith(".md")) {
      out.set(e.name, await Deno.readTextFile(new URL(e.name, DOCS)));
    }
  }
  return out;
}

Deno.test("docs/ name every operation of /openapi.json with its query parameters, and no other", async () => {
  const d = await startDaemon();
  let doc: Doc;
  try {
    const r = await json(await d.request("GET", "/openapi.json"));
    assert.equal(r.status, 200);
    doc = r.body;
  } finally {
    await d.close();
  }
  const docs = await pages();
  const operations = new Set<string>();
  const problems: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Doc>)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const name = `${m.toUpperCase()} ${path}`;
      operations.add(name);
      const where = [...docs].filter(([, text]) => text.includes(name));
      if (where.length === 0) {
        problems.push(`${name} is in /openapi.json but no docs page names it`);
        continue;
      }
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])] as Doc[];
      for (const p of params.filter((p) => p.in === "query")) {
        const named = where.some(([, text]) =>
          text.includes(`\`${p.name}\``) || text.includes(`${p.name}=`)
        );
        if (!named) {
          problems.push(
            `${name}: its query parameter "${p.name}" is not named on ${
              where.map(([f]) => f).join(", ")
            }`,
          );
        }
      }
    }
  }
  // the other way: an endpoint a page names (in code) exists, as a template or an example
  const templates = [...operations].map((op) =>
    new RegExp(`^${op.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`)
  );
  const mention = /`(GET|PUT|POST|DELETE|PATCH) (\/[^\s`?]*)/g;
  for (const [file, text] of docs) {
    for (const m of text.matchAll(mention)) {
      const name = `${m[1]} ${m[2]}`;
      // a path with {placeholders} names an operation as it is; a concrete one is an example
      const known = name.includes("{") ? operations.has(name) : templates.some((t) => t.test(name));
      if (!known) {
        problems.push(`docs/${file} names ${name}, not in /openapi.json`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
