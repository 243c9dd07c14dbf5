/**
 * The layers of docs/architecture.json, enforced: every import of main.ts
 * and of every file in src/ is checked against the rules, and a broken rule
 * fails naming the file, the line and the rule. The import scanner is
 * checked against Deno's own module graph (`deno info --json`), and the
 * checker against synthetic bad imports, so neither can pass by missing
 * what it should see.
 */
import assert from "node:assert/strict";
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  formatViolation,
  globToRegExp,
  LayerChecker,
  type Rules,
  scanSource,
  type Violation,
} from "./_architecture.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * Imports that break a rule today, each fixed in another branch: empty this
 * list as those are merged. An entry that no longer occurs fails the test,
 * so the list cannot outlive its reason.
 */
const KNOWN_EXCEPTIONS: { file: string; specifier: string; rule: string; reason: string }[] = [];

async function readRules(): Promise<Rules> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}docs/architecture.json`));
}

async function importMap(): Promise<Record<string, string>> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).imports;
}

/** main.ts and every .ts file under src/, relative to the repository, sorted. */
async function sourceFiles(): Promise<string[]> {
  const out = ["main.ts"];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.isFile && e.name.endsWith(".ts")) out.push(`${dir}/${e.name}`);
    }
  };
  await walk("src");
  return out.sort();
}

async function checker(): Promise<LayerChecker> {
  return new LayerChecker(await readRules(), await importMap());
}

// ---------------------------------------------------------------------------
// the scanner

Deno.test("scanSource() finds static, multi-line, type-only and side-effect imports, re-exports and dynamic imports, with their lines", () => {
  const src = [
    'import { a } from "./a.ts";', // 1
    "import {", // 2
    "  b,", // 3
    "  type C,", // 4
    '} from "../b.ts";', // 5
    'import type { D } from "./d.ts";', // 6
    'import "./side.ts";', // 7
    'export * from "./star.ts";', // 8
    'export { e as f } from "./e.ts";', // 9
    'export type { G } from "./g.ts";', // 10
    "const m = await import('./lazy.ts');", // 11
    'import data from "./data.json" with { type: "json" };', // 12
    "import * as ns from 'node:net';", // 13
    'export * as h from "hono";', // 14
    'import { from } from "./from.ts";', // 15
  ].join("\n");
  assert.deepEqual(scanSource(src).imports, [
    { specifier: "./a.ts", line: 1, kind: "static" },
    { specifier: "../b.ts", line: 5, kind: "static" },
    { specifier: "./d.ts", line: 6, kind: "static" },
    { specifier: "./side.ts", line: 7, kind: "static" },
    { specifier: "./star.ts", line: 8, kind: "reexport" },
    { specifier: "./e.ts", line: 9, kind: "reexport" },
    { specifier: "./g.ts", line: 10, kind: "reexport" },
    { specifier: "./lazy.ts", line: 11, kind: "dynamic" },
    { specifier: "./data.json", line: 12, kind: "static" },
    { specifier: "node:net", line: 13, kind: "static" },
    { specifier: "hono", line: 14, kind: "reexport" },
    { specifier: "./from.ts", line: 15, kind: "static" },
  ]);
});

Deno.test("scanSource() skips imports in comments, strings, templates and regular expressions, and sees one inside a template's expression", () => {
  const src = [
    '// import { x } from "./comment.ts";', // 1
    "/* export * from './block.ts';", // 2
    '   import "./block2.ts"; */', // 3
    "const s = \"import { y } from './string.ts'\";", // 4
    "const t = `import z from './template.ts' ${await import('./inside.ts')} done`;", // 5
    "const r = /import \"x\" from '.\\/regex.ts'/g.test(s);", // 6
    "const u = import.meta.url;", // 7
    "const v = obj.import('./method.ts');", // 8
    "export const w = 1;", // 9
    "export { s, t };", // 10
    "const q = a / b / `c`;", // 11
    'import { late } from "./late.ts";', // 12
  ].join("\n");
  assert.deepEqual(scanSource(src).imports, [
    { specifier: "./inside.ts", line: 5, kind: "dynamic" },
    { specifier: "./late.ts", line: 12, kind: "static" },
  ]);
});

Deno.test("scanSource() reports a dynamic import with a computed specifier, and every use of Deno.*", () => {
  const src = [
    "const name = './x.ts';",
    "await import(name);",
    "await import(`./${name}`);",
    "const f = await Deno.readFile(path);",
    '// Deno.exit(1) in a comment, "Deno.exit" in a string',
    "x.Deno.y;",
    "type K = Deno.KvKey;",
  ].join("\n");
  const scan = scanSource(src);
  assert.deepEqual(scan.imports, []);
  assert.deepEqual(scan.computedImports, [2, 3]);
  assert.deepEqual(scan.denoUses, [4, 7]);
});

Deno.test("scanSource() finds exactly the imports Deno's module graph holds, in every file of main.ts and src/", async () => {
  const files = await sourceFiles();
  const graph = new Map<string, Set<string>>();
  const pending = new Set(files);
  // `deno info` lists the whole graph of its root: one call for main.ts, one per file it misses
  while (pending.size > 0) {
    const root = [...pending][0];
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, `deno info ${root}: ${new TextDecoder().decode(out.stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    for (
      const m of info.modules as { specifier: string; dependencies?: { specifier: string }[] }[]
    ) {
      if (!m.specifier.startsWith("file:")) continue;
      const path = relative(ROOT, fileURLToPath(m.specifier)).split(sep).join("/");
      if (!pending.delete(path)) continue;
      graph.set(path, new Set((m.dependencies ?? []).map((d) => d.specifier)));
    }
    assert.ok(graph.has(root), `deno info ${root} should list ${root}`);
  }
  let compared = 0;
  for (const file of files) {
    const scanned = new Set(
      scanSource(await Deno.readTextFile(`${ROOT}${file}`)).imports.map((i) => i.specifier),
    );
    assert.deepEqual(
      [...scanned].sort(),
      [...graph.get(file)!].sort(),
      `${file}: the scanner's imports differ from deno info's`,
    );
    compared += scanned.size;
  }
  assert.ok(compared > 100, `only ${compared} imports compared`);
});

// ---------------------------------------------------------------------------
// the checker

Deno.test("globToRegExp() takes * within a segment and ** across segments", () => {
  assert.ok(globToRegExp("src/model/**").test("src/model/lstm.ts"));
  assert.ok(globToRegExp("src/model/**").test("src/model/experts/rls.ts"));
  assert.ok(!globToRegExp("src/model/**").test("src/modelx/lstm.ts"));
  assert.ok(globToRegExp("models/*.json").test("models/default.json"));
  assert.ok(!globToRegExp("models/*.json").test("models/x/default.json"));
  assert.ok(globToRegExp("main.ts").test("main.ts"));
  assert.ok(!globToRegExp("main.ts").test("mainxts"));
});

Deno.test("the checker fails a synthetic bad import, naming the file, the line and the rule", async () => {
  const c = await checker();
  const bad = [
    'import type { Logger } from "../log.ts";',
    'import type { Config } from "../config.ts";',
    'import { Store } from "../store/store.ts";',
    'import { Hono } from "hono";',
    'import { readFile } from "node:fs";',
    'import { delay } from "jsr:@std/async";',
    'import { parse } from "./parse.ts";',
  ].join("\n");
  const found = c.check("src/ingest/bad_source.ts", scanSource(bad));
  assert.deepEqual(found.map(formatViolation), [
    'src/ingest/bad_source.ts:2: "../config.ts": layer ingest may not import layer wiring',
    'src/ingest/bad_source.ts:3: "../store/store.ts": layer ingest may not import layer store',
    'src/ingest/bad_source.ts:4: "hono": layer ingest may not import npm package hono',
    'src/ingest/bad_source.ts:5: "node:fs": layer ingest may not import node:fs',
    'src/ingest/bad_source.ts:6: "jsr:@std/async": layer ingest may import only files, npm ' +
    "packages and node: modules",
  ]);
  assert.equal(c.checked.get("ingest"), 7, "every import was checked");
});

Deno.test("the checker fails I/O in a pure layer, a computed import, a file in no layer, and an upward import of the core", async () => {
  const c = await checker();
  const v = (file: string, src: string): string[] =>
    c.check(file, scanSource(src)).map(formatViolation);
  assert.deepEqual(v("src/stream/bad.ts", "\nconst t = Deno.readTextFileSync('x');"), [
    "src/stream/bad.ts:2: layer stream does no I/O: it may not use Deno.*",
  ]);
  assert.deepEqual(v("src/service/bad.ts", "const m = await import(name);"), [
    "src/service/bad.ts:1: a dynamic import must name its module with a string literal",
  ]);
  assert.deepEqual(v("src/misc/bad.ts", ""), [
    "src/misc/bad.ts:1: every file must belong to a layer",
  ]);
  assert.deepEqual(v("src/model/bad.ts", 'import { Engine } from "../stream/engine.ts";'), [
    'src/model/bad.ts:1: "../stream/engine.ts": layer model may not import layer stream',
  ]);
  assert.deepEqual(v("src/alerts/bad.ts", 'import { x } from "../nowhere/x.ts";'), [
    'src/alerts/bad.ts:1: "../nowhere/x.ts": the imported file src/nowhere/x.ts must belong to a layer',
  ]);
  assert.deepEqual(
    v("src/domain/bad.ts", 'import type { Service } from "../service/service.ts";'),
    [
      'src/domain/bad.ts:1: "../service/service.ts": layer domain may not import layer service',
    ],
  );
  // the service knows nothing of workers; the API reaches them only through the service
  assert.deepEqual(
    v("src/service/bad.ts", 'import { ShardedService } from "../shard/sharded_service.ts";'),
    [
      'src/service/bad.ts:1: "../shard/sharded_service.ts": layer service may not import layer shard',
    ],
  );
  assert.deepEqual(
    v("src/api/bad.ts", 'import { ShardedService } from "../shard/sharded_service.ts";'),
    ['src/api/bad.ts:1: "../shard/sharded_service.ts": layer api may not import layer shard'],
  );
  // what the rules allow passes
  assert.deepEqual(
    v("src/alerts/ok.ts", 'import type { AlertSource } from "./alert_source.ts";'),
    [],
  );
  assert.deepEqual(
    v("src/ingest/ok.ts", 'import type { IngestSink } from "./ingest_sink.ts";'),
    [],
  );
  assert.deepEqual(
    v("src/service/ok.ts", 'import type { IngestSink } from "../ingest/ingest_sink.ts";'),
    [],
  );
  assert.deepEqual(
    v("src/api/ok.ts", 'import { Hono } from "hono";\nimport "hono/http-exception";'),
    [],
  );
});

Deno.test("the rules refuse a layer importing an unknown layer, and an npm package deno.json does not have", async () => {
  const rules = await readRules();
  const map = await importMap();
  const withLayer = (patch: Partial<Rules["layers"][number]>): Rules => ({
    layers: rules.layers.map((l) => (l.name === "ingest" ? { ...l, ...patch } : l)),
  });
  assert.throws(
    () => new LayerChecker(withLayer({ imports: ["storage"] }), map),
    /^Error: Cannot read the architecture rules: layer ingest imports an unknown layer: current value is "storage"$/,
  );
  assert.throws(
    () => new LayerChecker(withLayer({ npm: ["left-pad"] }), map),
    /^Error: Cannot read the architecture rules: layer ingest's npm packages must be in deno.json "imports": current value is "left-pad"$/,
  );
});

// ---------------------------------------------------------------------------
// the tree

Deno.test("every import of main.ts and src/ keeps to the layers of docs/architecture.json", async () => {
  const c = await checker();
  const files = await sourceFiles();
  const violations: Violation[] = [];
  for (const file of files) {
    violations.push(...c.check(file, scanSource(await Deno.readTextFile(`${ROOT}${file}`))));
  }
  const isKnown = (v: Violation) =>
    KNOWN_EXCEPTIONS.some((k) =>
      k.file === v.file && k.specifier === v.specifier && k.rule === v.rule
    );
  const report = c.rules.layers.map((l) =>
    `  ${l.name.padEnd(10)} ${String(c.files.get(l.name) ?? 0).padStart(3)} files ` +
    `${String(c.checked.get(l.name) ?? 0).padStart(4)} imports checked`
  );
  console.log(`architecture: ${files.length} files\n${report.join("\n")}`);

  const broken = violations.filter((v) => !isKnown(v));
  assert.deepEqual(broken.map(formatViolation), [], "imports that break docs/architecture.json");
  const stale = KNOWN_EXCEPTIONS.filter((k) =>
    !violations.some((v) => k.file === v.file && k.specifier === v.specifier && k.rule === v.rule)
  );
  assert.deepEqual(stale, [], "known exceptions that no longer occur: remove them");

  // no rule may go stale either: each layer holds a file (the data layers aside, which are
  // imported, not scanned), and the imports checked are the scanner's
  const total = [...c.checked.values()].reduce((a, b) => a + b, 0);
  assert.ok(total > 0, "no import was checked");
  for (const l of c.rules.layers) {
    if (l.name === "presets" || l.name === "manifest") continue;
    assert.ok((c.files.get(l.name) ?? 0) > 0, `layer ${l.name} matches no file`);
  }
  for (
    const name of [
      "service",
      "shard",
      "ingest",
      "alerts",
      "api",
      "stream",
      "model",
      "store",
      "wiring",
    ]
  ) {
    assert.ok((c.checked.get(name) ?? 0) > 0, `no import of layer ${name} was checked`);
  }
});
