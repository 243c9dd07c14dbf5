/**
 * Compares the output a document shows for an example with the output the
 * example gave. The rules (also in docs/testing.md):
 *
 * - `...` leaves something out: as a JSON value (any value), as the last
 *   element of a JSON array (any further elements), as a member of a JSON
 *   object (any further members), inside a string or a line of text (any
 *   characters), or alone on a line of text (any lines).
 * - Without `...`, a JSON object must have exactly the members shown, an
 *   array exactly the elements shown, and text exactly the lines shown, in
 *   order.
 * - A number written with decimals matches the actual number rounded to as
 *   many decimals (`0.0915` matches 0.09149522); an integer matches only
 *   itself. Runs of spaces in text match any run of spaces.
 * - `null`, `true`, `false` and strings match only themselves. So a time
 *   that depends on the clock must be left out with `...`.
 *
 * matchOutput returns null when the output matches, else what differs.
 */

/** Markers that stand for `...` once the shown JSON is parsed. */
const ANY = "\u0000any";
const MORE = "\u0000more";
const NUM = "\u0000num:";

/** A number in a line of text: not part of a word. */
const NUMBER_IN_TEXT = /(?<![\w.])-?\d+(?:\.\d+)?(?![\w])/g;

/** Compares `actual` with the `shown` output of a `json` or `text` block. */
export function matchOutput(lang: string, shown: string, actual: string): string | null {
  return lang === "json" ? matchJsonText(shown, actual) : matchText(shown, actual);
}

// ---------------------------------------------------------------------------
// JSON

/**
 * The shown JSON with `...` and numbers turned into strings JSON.parse keeps
 * (a number keeps the digits it was written with).
 */
export function parseShownJson(text: string): unknown[] {
  let out = "";
  const stack: string[] = [];
  let prev = ""; // the last significant character written
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
      prev = '"';
    } else if (text.startsWith("...", i)) {
      const member = stack.at(-1) === "{" && (prev === "{" || prev === ",");
      out += member ? `${JSON.stringify(MORE)}: 0` : JSON.stringify(ANY);
      i += 2;
      prev = '"';
    } else if (/[-\d]/.test(ch)) {
      const m = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(text.slice(i))!;
      out += JSON.stringify(NUM + m[0]);
      i += m[0].length - 1;
      prev = '"';
    } else {
      if (ch === "{" || ch === "[") stack.push(ch);
      if (ch === "}" || ch === "]") stack.pop();
      out += ch;
      if (!/\s/.test(ch)) prev = ch;
    }
  }
  return parseJsonValues(out);
}

/** One JSON value, or else one per non-empty line (JSON lines). */
function parseJsonValues(text: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch (whole) {
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    if (lines.length < 2) throw whole;
    return lines.map((l) => JSON.parse(l));
  }
}

function matchJsonText(shown: string, actual: string): string | null {
  const want = parseShownJson(shown);
  let got: unknown[];
  try {
    got = parseJsonValues(actual);
  } catch {
    return `the output is not JSON: ${JSON.stringify(actual.slice(0, 400))}`;
  }
  if (want.length !== got.length) {
    return `the output has ${got.length} JSON values, the document shows ${want.length}`;
  }
  for (let k = 0; k < want.length; k++) {
    const d = matchJson(want[k], got[k], want.length > 1 ? `[line ${k + 1}]` : "$");
    if (d) return d;
  }
  return null;
}

/** Where a shown JSON value and the actual one differ, or null. */
export function matchJson(want: unknown, got: unknown, path = "$"): string | null {
  const show = (v: unknown) => JSON.stringify(v)?.slice(0, 200);
  if (want === ANY) return null;
  if (typeof want === "string" && want.startsWith(NUM)) {
    const text = want.slice(NUM.length);
    return typeof got === "number" && numberMatches(text, got)
      ? null
      : `${path}: the document shows ${text}, the output has ${show(got)}`;
  }
  if (typeof want === "string") {
    return typeof got === "string" && stringMatches(want, got)
      ? null
      : `${path}: the document shows ${show(want)}, the output has ${show(got)}`;
  }
  if (want === null || typeof want !== "object") {
    return want === got
      ? null
      : `${path}: the document shows ${show(want)}, the output has ${show(got)}`;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) {
      return `${path}: the document shows an array, the output has ${show(got)}`;
    }
    const open = want.at(-1) === ANY;
    const items = open ? want.slice(0, -1) : want;
    if (open ? got.length < items.length : got.length !== items.length) {
      return `${path}: the document shows ${items.length}${
        open ? " or more" : ""
      } elements, the output has ${got.length}`;
    }
    for (let k = 0; k < items.length; k++) {
      const d = matchJson(items[k], got[k], `${path}[${k}]`);
      if (d) return d;
    }
    return null;
  }
  if (got === null || typeof got !== "object" || Array.isArray(got)) {
    return `${path}: the document shows an object, the output has ${show(got)}`;
  }
  const w = want as Record<string, unknown>, g = got as Record<string, unknown>;
  for (const key of Object.keys(w)) {
    if (key === MORE) continue;
    if (!Object.hasOwn(g, key)) {
      return `${path}: the document shows a field ${
        show(key)
      } that the output does not have (it has ${Object.keys(g).join(", ")})`;
    }
    const d = matchJson(w[key], g[key], `${path}.${key}`);
    if (d) return d;
  }
  if (!Object.hasOwn(w, MORE)) {
    const extra = Object.keys(g).filter((k) => !Object.hasOwn(w, k));
    if (extra.length) {
      return `${path}: the output has fields the document does not show (and no "..."): ${
        extra.join(", ")
      }`;
    }
  }
  return null;
}

/** A shown number (its digits as written) against an actual one. */
export function numberMatches(text: string, got: number): boolean {
  const want = Number(text);
  if (/^-?\d+$/.test(text)) return got === want;
  const decimals = /\.(\d+)/.exec(text)?.[1].length ?? 0;
  const exponent = Number(/[eE]([-+]?\d+)/.exec(text)?.[1] ?? 0);
  const half = 0.5 * 10 ** (exponent - decimals);
  return Math.abs(got - want) <= half * (1 + 1e-9);
}

function stringMatches(want: string, got: string): boolean {
  if (!want.includes("...")) return want === got;
  const re = new RegExp(`^${want.split("...").map(escapeRegExp).join("[\\s\\S]*")}$`);
  return re.test(got);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---------------------------------------------------------------------------
// Text

/** A shown line as a regular expression, and the numbers it shows (in order). */
function linePattern(line: string): { re: RegExp; numbers: string[] } {
  const numbers: string[] = [];
  let src = "";
  // split off "..." and numbers; the rest is literal, runs of spaces match any run
  const token = new RegExp(`\\.\\.\\.|${NUMBER_IN_TEXT.source}`, "g");
  let at = 0;
  for (const m of line.matchAll(token)) {
    src += literal(line.slice(at, m.index));
    if (m[0] === "...") src += "[\\s\\S]*?";
    else {
      numbers.push(m[0]);
      src += "(-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)";
    }
    at = m.index! + m[0].length;
  }
  src += literal(line.slice(at));
  return { re: new RegExp(`^${src}$`), numbers };
}

function literal(s: string): string {
  return s.split(/ +/).map(escapeRegExp).join(" +");
}

function lineMatches(shown: string, got: string): boolean {
  const { re, numbers } = linePattern(shown.trimEnd());
  const m = re.exec(got.trimEnd());
  return m !== null && numbers.every((n, k) => numberMatches(n, Number(m[k + 1])));
}

function matchText(shown: string, actual: string): string | null {
  const want = trimLines(shown);
  const got = trimLines(actual);
  // glob matching over lines: "..." alone matches any run of lines
  const memo = new Map<string, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    if (memo.has(key)) return memo.get(key)!;
    let r: boolean;
    if (i === want.length) r = j === got.length;
    else if (want[i].trim() === "...") r = match(i + 1, j) || (j < got.length && match(i, j + 1));
    else r = j < got.length && lineMatches(want[i], got[j]) && match(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  if (match(0, 0)) return null;
  // name the first shown line that is not in the output, for the message
  let j = 0;
  for (const line of want) {
    if (line.trim() === "...") continue;
    const k = got.findIndex((g, n) => n >= j && lineMatches(line, g));
    if (k < 0) {
      return `the output has no line like ${JSON.stringify(line)} (after line ${j}); it is:\n${
        got.join("\n")
      }`;
    }
    j = k + 1;
  }
  return `the output has other lines than the document shows (and no "..." line); it is:\n${
    got.join("\n")
  }`;
}

function trimLines(s: string): string[] {
  const lines = s.replace(/\r/g, "").split("\n").map((l) => l.trimEnd());
  while (lines.length && lines[0] === "") lines.shift();
  while (lines.length && lines.at(-1) === "") lines.pop();
  return lines;
}
