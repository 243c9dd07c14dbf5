/**
 * Every relative link of README.md, BENCHMARKS.md, CHANGELOG.md and
 * docs/*.md leads to a file of the repository, and to a heading of it when
 * it names one (`api.md#get-v1streamsid`, with GitHub's heading anchors).
 * README.md's table links every page of docs/.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { ROOT } from "../e2e/_daemon.ts";

function documents(): string[] {
  const docs = [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`);
  return ["README.md", "BENCHMARKS.md", "CHANGELOG.md", ...docs].filter((f) => exists(f)).sort();
}

function exists(path: string): boolean {
  try {
    Deno.statSync(`${ROOT}${path}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The text without fenced code blocks and inline code, where brackets are not links. */
function prose(markdown: string): string {
  return markdown
    .replace(/^(\s*)(`{3,})[\s\S]*?^\s*\2\s*$/gm, "")
    .replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen. */
export function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a file's headings (a repeated one gets -1, -2, ...). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/^(\s*)(`{3,})[\s\S]*?^\s*\2\s*$/gm, "");
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = headingAnchor(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

Deno.test("headingAnchor() makes GitHub's anchors", () => {
  assert.equal(headingAnchor("`GET /v1/streams/{id}`"), "get-v1streamsid");
  assert.equal(
    headingAnchor("Running on a Raspberry Pi (64-bit OS) with systemd"),
    "running-on-a-raspberry-pi-64-bit-os-with-systemd",
  );
  assert.equal(
    headingAnchor("4. Truncated backpropagation (k1, k2)"),
    "4-truncated-backpropagation-k1-k2",
  );
});

Deno.test("every relative link of the documentation leads to a file and heading", () => {
  const broken: string[] = [];
  for (const file of documents()) {
    const text = Deno.readTextFileSync(`${ROOT}${file}`);
    for (const m of prose(text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split("#");
      const to = path === "" ? file : normalize(join(dirname(file), path));
      if (to.startsWith("..")) {
        broken.push(`${file}: ${target} leaves the repository`);
        continue;
      }
      if (!exists(to)) {
        broken.push(`${file}: ${target}: no file ${to}`);
        continue;
      }
      if (anchor !== undefined && to.endsWith(".md")) {
        if (!anchors(Deno.readTextFileSync(`${ROOT}${to}`)).has(anchor)) {
          broken.push(`${file}: ${target}: no heading #${anchor} in ${to}`);
        }
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("README.md links every page of docs/", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const pages = documents().filter((f) => f.startsWith("docs/"));
  assert.ok(pages.length > 10, `${pages.length} pages`);
  assert.deepEqual(pages.filter((p) => !readme.includes(`](${p})`)), []);
});
