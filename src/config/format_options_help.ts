/** The options as `--help` lists them, generated from the schema. */
import { type ConfigOption, OPTIONS } from "./options.ts";

/** Help lines stay within this many columns. */
const COLUMNS = 100;

/** A flag of the command itself (not a configuration option): `["--help, -h", "print this help"]`. */
export type CommandFlag = readonly [flag: string, description: string];

/**
 * The command's own flags, then `options`, in two columns: the flag with
 * its argument, then its meaning (wrapped), and under it the option's
 * variable and default. Every line fits in 100 columns.
 */
export function formatOptionsHelp(
  options: readonly ConfigOption[] = OPTIONS,
  commandFlags: readonly CommandFlag[] = [],
): string {
  const rows = [
    ...commandFlags.map(([left, description]) => ({ left, description, option: null })),
    ...options.map((o) => ({
      left: `${o.flag}${o.arg ? ` ${o.arg}` : ""}`,
      description: o.description,
      option: o,
    })),
  ];
  // the meanings start after the longest flag and its argument
  const width = Math.max(...rows.map((r) => r.left.length)) + 4;
  const pad = " ".repeat(width);
  return rows.map(({ left, description, option }) => {
    const lines = wrap(description, COLUMNS - width);
    if (option !== null) {
      const details = `env ${option.env}, default ${option.default}`;
      if (width + details.length <= COLUMNS) lines.push(details);
      else lines.push(`env ${option.env}`, `default ${option.default}`);
    }
    return lines.map((l, i) => (i === 0 ? `  ${left}`.padEnd(width) : pad) + l).join("\n");
  }).join("\n");
}

function wrap(s: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of s.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}
