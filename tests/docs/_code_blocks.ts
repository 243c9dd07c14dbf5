/**
 * The fenced code blocks of a Markdown file, and which of them the examples
 * test runs (the convention is written out in examples_test.ts and
 * docs/testing.md).
 */

/** One fenced code block. */
export interface CodeBlock {
  /** Line of the opening fence, 1-based. */
  line: number;
  /** The info string's first word: `sh`, `json`, `text`, ... */
  lang: string;
  /** The lines between the fences, without the fence's indentation. */
  text: string;
  /** The `json` or `text` block right after this one (only blank lines between): its output. */
  output?: CodeBlock;
}

/** What the examples test does with a `sh` block. */
export type BlockKind =
  | { kind: "start"; args: string[]; env: Record<string, string> }
  | { kind: "daemon" }
  | { kind: "offline" }
  | { kind: "none" };

/** The fenced code blocks of `markdown`, each with the output block that follows it. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  /** Index in `blocks` of the last block and the line after its closing fence. */
  let last: { block: CodeBlock; end: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j])) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
      j++;
    }
    const block: CodeBlock = { line: i + 1, lang, text: body.join("\n") };
    if (
      last && (lang === "json" || lang === "text") &&
      lines.slice(last.end, i).every((l) => l.trim() === "")
    ) {
      last.block.output = block;
    }
    blocks.push(block);
    last = { block, end: j + 1 };
    i = j;
  }
  return blocks;
}

/**
 * The commands of a shell block: continuation lines joined, blank lines and
 * comment lines dropped. (A quoted argument spanning lines stays split; only
 * single-line commands are parsed further.)
 */
export function commandLines(text: string): string[] {
  return text.replace(/\\\n\s*/g, " ").split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("#")
  );
}

/** The words of one command line, as a shell splits them (quotes, no expansion); `#` ends it. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`unbalanced ${ch} in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (ch === "#" && word === null) {
      break;
    } else word = (word ?? "") + ch;
  }
  if (word !== null) words.push(word);
  return words;
}

/** `deno task start|demo [flags]` (or via `npx -y deno@x.y.z`), with `NAME=value` before it. */
const START =
  /^((?:[A-Z][A-Z0-9_]*=\S*\s+)*)(?:npx -y deno@[\d.]+|deno) task (?:-q )?(start|demo)(?:\s|$)/;
/** Flags with which `deno task start` prints something and exits instead of serving. */
const PRINTS = new Set(["--help", "-h", "--print-config"]);
/** The daemon's default addresses, and the MQTT command-line clients. */
const DAEMON = /127\.0\.0\.1:8080|\bmosquitto_(?:pub|sub)\b/;
/** forecastd's own clients of a running daemon, from a checkout: `deno task start streams`. */
const CLIENT = /\bdeno task (?:-q )?start (?:streams|forecast|alerts|ack)\b/;
/** Commands that read only files of the repository and finish in a few seconds. */
const OFFLINE =
  /^deno task (?:-q )?replay tests\/fixtures\/|^deno run (?:--\S+ )*bench\/gradient_norms\.ts/;

/** Which kind of example a block is (only `sh` blocks run). */
export function classifyBlock(block: CodeBlock): BlockKind {
  if (block.lang !== "sh") return { kind: "none" };
  const commands = commandLines(block.text);
  const start = commands.length === 1 && !CLIENT.test(commands[0]) ? START.exec(commands[0]) : null;
  if (start && !expectedExit(block.text)) {
    const words = shellWords(commands[0]);
    const env: Record<string, string> = {};
    while (/^[A-Z][A-Z0-9_]*=/.test(words[0])) {
      const [name, ...value] = words.shift()!.split("=");
      env[name] = value.join("=");
    }
    const args = words.slice(words.indexOf(start[2]) + 1);
    if (!args.some((a) => PRINTS.has(a))) {
      return { kind: "start", args: start[2] === "demo" ? ["--demo", ...args] : args, env };
    }
  }
  // it prints and exits: a command like the offline ones
  if (start) return { kind: "offline" };
  if (DAEMON.test(block.text) || CLIENT.test(block.text)) return { kind: "daemon" };
  if (commands.length > 0 && commands.every((c) => OFFLINE.test(c))) return { kind: "offline" };
  return { kind: "none" };
}

/** The exit status a block says it ends with (a comment `# exit status 2`), or null: 0. */
export function expectedExit(text: string): number | null {
  const m = /#\s*exit status (\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

/** HTTP statuses a block says its commands get: comments such as `# 404 Not Found`. */
export function expectedStatuses(text: string): number[] {
  return [...text.matchAll(/#\s*([1-5]\d\d) [A-Z][a-z]/g)].map((m) => Number(m[1]));
}
