/**
 * The one reader of command-line arguments: node:util's parseArgs, either
 * strict (a command's own options: its refusals become a UsageError that
 * names the action) or as tokens (for parsers that check every flag
 * themselves and report all problems: the configuration, the benchmarks).
 */
import { parseArgs, type ParseArgsConfig, type ParseArgsOptionsConfig } from "node:util";
import { UsageError } from "./usage_error.ts";

/**
 * parseArgs(config), strict: an unknown option, a missing value, a value
 * that looks like an option (`--rows -5`) or a positional argument where
 * `config` allows none throws a UsageError `<action>: <what parseArgs said>`,
 * with `help` after a blank line when given.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  action: string,
  config: T,
  help?: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    if (
      e instanceof TypeError && String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")
    ) {
      throw new UsageError(`${action}: ${e.message}${help === undefined ? "" : `\n\n${help}`}`);
    }
    throw e;
  }
}

/** One argument as argTokens reads it. */
export type ArgToken =
  | {
    kind: "option";
    /** Without dashes: `port`. */
    name: string;
    /** As written: `--port`, `-h`. */
    rawName: string;
    /** The value (inline `--port=80` or the next argument), undefined for none. */
    value: string | undefined;
    /** True when the value was written `--name=value`. */
    inlineValue: boolean;
  }
  | { kind: "positional"; value: string };

/**
 * The arguments as tokens, without checking them: `options` says which
 * flags take a value (an unknown flag takes none); `--` ends the options.
 */
export function argTokens(args: readonly string[], options: ParseArgsOptionsConfig): ArgToken[] {
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: ArgToken[] = [];
  for (const t of tokens) {
    if (t.kind === "positional") out.push({ kind: "positional", value: t.value });
    else if (t.kind === "option") {
      out.push({
        kind: "option",
        name: t.name,
        rawName: t.rawName,
        value: t.value,
        inlineValue: t.inlineValue === true,
      });
    }
  }
  return out;
}

/**
 * The leading arguments that are not options (at most `max` of them), and
 * the rest. A lone `-` (stdin or stdout, as a file name) is not an option.
 */
export function leadingPositionals(args: readonly string[], max: number): [string[], string[]] {
  let n = 0;
  while (n < max && n < args.length && (!args[n].startsWith("-") || args[n] === "-")) n++;
  return [args.slice(0, n), args.slice(n)];
}
