/**
 * The layer checker of tests/architecture_test.ts: finds every import of a
 * TypeScript file (a small lexer, so imports in comments and strings do not
 * count and none in code is missed), and checks each against the rules of
 * docs/architecture.json.
 *
 * Rules: every file of the tree belongs to the first layer one of whose
 * `paths` globs matches it. A file may import
 *
 * - a file of its own layer, or of a layer its `imports` names;
 * - an npm package its layer's `npm` names (bare specifiers through the
 *   import map of deno.json, or `npm:` ones);
 * - a `node:` module its layer's `node` names;
 *
 * and, in a layer with `"io": false`, it may not use `Deno.*`. Anything
 * else (a `jsr:` or `https:` import, a file in no layer, a dynamic import
 * whose specifier is computed) is a violation too.
 */
import { posix } from "node:path";

/** One layer of docs/architecture.json. */
export interface Layer {
  name: string;
  /** Globs relative to the repository (`*` within a path segment, `**` across segments). */
  paths: string[];
  /** Layers it may import besides itself. */
  imports: string[];
  /** npm packages it may import. */
  npm: string[];
  /** node: built-in modules it may import (`node:net`). */
  node: string[];
  /** Whether it may use Deno.* (files, network, KV, the process). */
  io: boolean;
  /** Why the layer sits where it does (for people; not checked). */
  why?: string;
}

/** docs/architecture.json. */
export interface Rules {
  layers: Layer[];
}

/** An import found in a file. */
export interface ImportRef {
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
  kind: "static" | "reexport" | "dynamic";
}

/** What a scan of one file finds. */
export interface Scan {
  imports: ImportRef[];
  /** Lines of `import(...)` whose specifier is not a string literal (cannot be checked). */
  computedImports: number[];
  /** Lines where `Deno.` is used. */
  denoUses: number[];
}

/** A broken rule, named for the person who must fix it. */
export interface Violation {
  /** The importing file, relative to the repository. */
  file: string;
  line: number;
  /** The specifier as written ("" for Deno.* uses and unlayered files). */
  specifier: string;
  /** The rule broken: `layer ingest may not import layer store`, ... */
  rule: string;
}

type Token = { kind: "id" | "str" | "punct" | "tmpl" | "regex"; value: string; line: number };

/** Words after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/** Splits TypeScript source into tokens; comments and white space are dropped. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0, line = 1;
  /** Open braces: "{" for code, "${" for a template's expression. */
  const braces: string[] = [];
  const isIdChar = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
  const push = (kind: Token["kind"], value: string, at: number) =>
    out.push({ kind, value, line: at });

  /** Reads a template's text from i (after ` or }) to its end or to a `${`. */
  const template = () => {
    const at = line;
    while (i < src.length) {
      const c = src[i];
      if (c === "\\") {
        if (src[i + 1] === "\n") line++;
        i += 2;
      } else if (c === "`") {
        i++;
        push("tmpl", "", at);
        return;
      } else if (c === "$" && src[i + 1] === "{") {
        i += 2;
        braces.push("${");
        push("tmpl", "", at);
        return;
      } else {
        if (c === "\n") line++;
        i++;
      }
    }
  };

  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (let j = i; j < stop; j++) if (src[j] === "\n") line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      const at = line;
      let value = "";
      i++;
      while (i < src.length && src[i] !== c && src[i] !== "\n") {
        if (src[i] === "\\") {
          value += src[i + 1];
          i += 2;
        } else value += src[i++];
      }
      i++;
      push("str", value, at);
    } else if (c === "`") {
      i++;
      template();
    } else if (c === "}" && braces[braces.length - 1] === "${") {
      braces.pop();
      i++;
      template();
    } else if (c === "/" && startsRegex(out[out.length - 1])) {
      const at = line;
      let inClass = false;
      i++;
      while (i < src.length && src[i] !== "\n") {
        const r = src[i];
        if (r === "\\") i++;
        else if (r === "[") inClass = true;
        else if (r === "]") inClass = false;
        else if (r === "/" && !inClass) break;
        i++;
      }
      i++;
      while (i < src.length && isIdChar(src[i])) i++; // flags
      push("regex", "", at);
    } else if (isIdChar(c)) {
      const start = i;
      while (i < src.length && isIdChar(src[i])) i++;
      push("id", src.slice(start, i), line);
    } else {
      if (c === "{") braces.push("{");
      else if (c === "}") braces.pop();
      push("punct", c, line);
      i++;
    }
  }
  return out;
}

function startsRegex(prev: Token | undefined): boolean {
  if (!prev) return true;
  if (prev.kind === "id") return BEFORE_REGEX.has(prev.value);
  if (prev.kind === "punct") {
    return !(prev.value === ")" || prev.value === "]" || prev.value === "}");
  }
  return false; // after a string, template or regex: a division
}

/** Every import, re-export and dynamic import of `src`, and every use of Deno.*. */
export function scanSource(src: string): Scan {
  const t = tokenize(src);
  const scan: Scan = { imports: [], computedImports: [], denoUses: [] };
  const is = (k: number, kind: Token["kind"], value?: string) =>
    t[k] !== undefined && t[k].kind === kind && (value === undefined || t[k].value === value);
  /** From k, over an import or export clause, to `from "x"`: the string's index, or -1. */
  const fromClause = (k: number): number => {
    for (; k < t.length; k++) {
      if (is(k, "id", "from") && is(k + 1, "str")) return k + 1;
      const ok = is(k, "id") || ["{", "}", ",", "*"].some((p) => is(k, "punct", p));
      if (!ok) return -1;
    }
    return -1;
  };
  for (let k = 0; k < t.length; k++) {
    if (is(k - 1, "punct", ".")) continue; // x.import, x.Deno
    if (is(k, "id", "Deno") && is(k + 1, "punct", ".")) scan.denoUses.push(t[k].line);
    if (is(k, "id", "import")) {
      if (is(k + 1, "punct", ".")) continue; // import.meta
      if (is(k + 1, "punct", "(")) {
        if (is(k + 2, "str") && (is(k + 3, "punct", ")") || is(k + 3, "punct", ","))) {
          scan.imports.push({ specifier: t[k + 2].value, line: t[k + 2].line, kind: "dynamic" });
        } else scan.computedImports.push(t[k].line);
        continue;
      }
      if (is(k + 1, "str")) {
        scan.imports.push({ specifier: t[k + 1].value, line: t[k + 1].line, kind: "static" });
        continue;
      }
      const s = fromClause(k + 1);
      if (s >= 0) scan.imports.push({ specifier: t[s].value, line: t[s].line, kind: "static" });
    } else if (is(k, "id", "export")) {
      const next = is(k + 1, "id", "type") ? k + 2 : k + 1;
      if (!is(next, "punct", "{") && !is(next, "punct", "*")) continue;
      const s = fromClause(next);
      if (s >= 0) scan.imports.push({ specifier: t[s].value, line: t[s].line, kind: "reexport" });
    }
  }
  return scan;
}

/** A glob as a regular expression over repository paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else re += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** A checker for a set of rules and an import map (deno.json "imports"). */
export class LayerChecker {
  readonly rules: Rules;
  readonly #globs: { layer: Layer; re: RegExp }[];
  readonly #importMap: Record<string, string>;
  /** Imports checked per layer (a file's own-layer imports included). */
  readonly checked = new Map<string, number>();
  /** Files checked per layer. */
  readonly files = new Map<string, number>();

  constructor(rules: Rules, importMap: Record<string, string>) {
    this.rules = rules;
    this.#importMap = importMap;
    const names = new Set(rules.layers.map((l) => l.name));
    for (const l of rules.layers) {
      for (const other of l.imports) {
        if (!names.has(other)) {
          throw new Error(
            `Cannot read the architecture rules: layer ${l.name} imports an unknown layer: ` +
              `current value is ${JSON.stringify(other)}`,
          );
        }
      }
      for (const p of l.npm) {
        if (!(p in importMap)) {
          throw new Error(
            `Cannot read the architecture rules: layer ${l.name}'s npm packages must be in ` +
              `deno.json "imports": current value is ${JSON.stringify(p)}`,
          );
        }
      }
    }
    this.#globs = rules.layers.flatMap((layer) =>
      layer.paths.map((g) => ({ layer, re: globToRegExp(g) }))
    );
  }

  /** The layer of a repository path, or null. */
  layerOf(path: string): Layer | null {
    return this.#globs.find((g) => g.re.test(path))?.layer ?? null;
  }

  /** The violations of one file (`file` relative to the repository, `/`-separated). */
  check(file: string, scan: Scan): Violation[] {
    const layer = this.layerOf(file);
    if (!layer) {
      return [{ file, line: 1, specifier: "", rule: "every file must belong to a layer" }];
    }
    this.files.set(layer.name, (this.files.get(layer.name) ?? 0) + 1);
    const out: Violation[] = [];
    const v = (line: number, specifier: string, rule: string) =>
      out.push({ file, line, specifier, rule });
    for (const ref of scan.imports) {
      this.checked.set(layer.name, (this.checked.get(layer.name) ?? 0) + 1);
      const s = ref.specifier;
      if (s.startsWith("./") || s.startsWith("../")) {
        const target = posix.normalize(posix.join(posix.dirname(file), s));
        const to = this.layerOf(target);
        if (!to) v(ref.line, s, `the imported file ${target} must belong to a layer`);
        else if (to !== layer && !layer.imports.includes(to.name)) {
          v(ref.line, s, `layer ${layer.name} may not import layer ${to.name}`);
        }
      } else if (s.startsWith("node:")) {
        if (!layer.node.includes(s)) v(ref.line, s, `layer ${layer.name} may not import ${s}`);
      } else {
        const pkg = this.#npmPackage(s);
        if (pkg === null) {
          v(
            ref.line,
            s,
            `layer ${layer.name} may import only files, npm packages and node: modules`,
          );
        } else if (!layer.npm.includes(pkg)) {
          v(ref.line, s, `layer ${layer.name} may not import npm package ${pkg}`);
        }
      }
    }
    for (const line of scan.computedImports) {
      v(line, "", "a dynamic import must name its module with a string literal");
    }
    if (!layer.io) {
      for (const line of scan.denoUses) {
        v(line, "", `layer ${layer.name} does no I/O: it may not use Deno.*`);
      }
    }
    return out;
  }

  /** The npm package a specifier names (through the import map), or null. */
  #npmPackage(specifier: string): string | null {
    const npmName = (s: string) => {
      const parts = s.slice("npm:".length).split("/");
      const name = parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
      return name.replace(/(.)@.*$/, "$1"); // drop a version
    };
    if (specifier.startsWith("npm:")) return npmName(specifier);
    const parts = specifier.split("/");
    const key = specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
    const mapped = this.#importMap[key];
    return mapped?.startsWith("npm:") ? npmName(mapped) : null;
  }
}

/** `Violation` as one line: `src/ingest/x.ts:3: "../store/store.ts": layer ingest may not ...`. */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${
    v.specifier === "" ? "" : `${JSON.stringify(v.specifier)}: `
  }${v.rule}`;
}
