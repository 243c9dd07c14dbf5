/**
 * Command-line flags of every benchmark script, one parser for all of them:
 * the daemon's argTokens (src/cli/args.ts, over node:util's parseArgs)
 * splits the arguments (`--name=value`, or `--name value`), then each flag's
 * value is checked against its spec. An unknown flag, a flag without a value,
 * a stray argument or a value out of range is an error that names the flag
 * and its value; a script given one prints it and exits with status 2
 * (`exitOnFlagError`).
 *
 * The workload benchmark's flags (bench/main.ts):
 *
 *   --H=32,64,128     hidden sizes to run (default 32,64,128)
 *   --dtype=f32|f64   float type of the whole run (default f32); run each in
 *                     its own process so V8's type feedback stays monomorphic
 *   --loops=false     skip the typed-array loop reference (default true)
 *   --kernels=wasm|ts the model's kernels (default wasm, src/model/kernels.ts)
 */
import { argTokens } from "../src/cli/args.ts";

/** A flag's value is missing, unknown or out of range; scripts exit with status 2 on it. */
export class FlagError extends RangeError {
  override name = "FlagError";
}

/** How one `--name=value` flag is read. */
export interface Flag<T> {
  /** What the value must be, as error messages say it: "an integer >= 1". */
  must: string;
  /** The value `text` names, or undefined when it does not name one. */
  read: (text: string) => T | undefined;
  /** The value when the flag is absent; without one the flag is required. */
  fallback?: T;
}

/** The resolved values of a set of flags. */
export type FlagValues<S> = { [K in keyof S]: S[K] extends Flag<infer T> ? T : never };

/**
 * Reads `argv` against `specs` (flag name -> spec); every flag of `specs` has
 * a value in the result. `action` opens each error message.
 */
export function parseFlags<S extends Record<string, Flag<unknown>>>(
  argv: readonly string[],
  specs: S,
  action = "Cannot parse benchmark flags",
): FlagValues<S> {
  const names = Object.keys(specs);
  const options = Object.fromEntries(names.map((n) => [n, { type: "string" as const }]));
  const known = names.map((n) => `--${n}`).join(", ");
  const texts = new Map<string, string>();
  for (const token of argTokens(argv, options)) {
    if (token.kind === "positional") {
      throw new FlagError(
        `${action}: each argument must look like --name=value: current value is "${token.value}"`,
      );
    }
    if (!Object.hasOwn(specs, token.name)) {
      throw new FlagError(
        `${action}: the flag must be one of ${known}: current value is "${token.rawName}"`,
      );
    }
    if (token.value === undefined) {
      throw new FlagError(
        `${action}: ${token.rawName} must be given a value (--${token.name}=VALUE): current value is none`,
      );
    }
    texts.set(token.name, token.value);
  }
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const spec = specs[name];
    const text = texts.get(name);
    if (text === undefined) {
      if (spec.fallback === undefined) {
        throw new FlagError(`${action}: --${name} must be ${spec.must}: current value is none`);
      }
      values[name] = spec.fallback;
      continue;
    }
    const value = spec.read(text);
    if (value === undefined) {
      throw new FlagError(`${action}: --${name} must be ${spec.must}: current value is "${text}"`);
    }
    values[name] = value;
  }
  return values as FlagValues<S>;
}

/**
 * Runs `read` (a script's flag parsing); a FlagError it throws is printed on
 * stderr and ends the process with status 2, as a usage error.
 */
export function exitOnFlagError<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
}

/** An integer >= `min` (counts: streams, rounds, readings); `why` explains the minimum. */
export function integer(fallback: number | undefined, min = 1, why?: string): Flag<number> {
  return {
    must: `an integer >= ${min}${why ? ` (${why})` : ""}`,
    read: (text) => {
      const n = text.trim() === "" ? NaN : Number(text);
      return Number.isInteger(n) && n >= min ? n : undefined;
    },
    fallback,
  };
}

/** A finite number > 0 (rates, durations). */
export function positive(fallback: number | undefined): Flag<number> {
  return {
    must: "a number > 0",
    read: (text) => {
      const n = text.trim() === "" ? NaN : Number(text);
      return Number.isFinite(n) && n > 0 ? n : undefined;
    },
    fallback,
  };
}

/** A comma-separated list of one or more values, each read by `item`. */
function list<T>(must: string, item: (text: string) => T | undefined, fallback?: T[]): Flag<T[]> {
  return {
    must,
    read: (text) => {
      const out: T[] = [];
      for (const part of text.split(",")) {
        const v = item(part);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    },
    fallback,
  };
}

/** A comma-separated list of integers from `min` to `max` (hidden sizes). */
export function integerList(
  fallback: number[] | undefined,
  min: number,
  max: number,
): Flag<number[]> {
  const one = integer(undefined, min);
  return list(
    `a comma-separated list of integers from ${min} to ${max}`,
    (t) => {
      const n = one.read(t);
      return n !== undefined && n <= max ? n : undefined;
    },
    fallback,
  );
}

/** A comma-separated list of numbers > 0 (offered rates). */
export function positiveList(fallback: number[] | undefined): Flag<number[]> {
  return list("a comma-separated list of numbers > 0", positive(undefined).read, fallback);
}

/** One of `choices`. */
export function oneOf<const C extends string>(choices: readonly C[], fallback?: C): Flag<C> {
  return {
    must: `one of ${choices.join(", ")}`,
    read: (text) => choices.find((c) => c === text),
    fallback,
  };
}

/** A comma-separated set of some of `choices` (at least one). */
export function someOf<const C extends string>(
  choices: readonly C[],
  fallback?: readonly C[],
): Flag<Set<C>> {
  const inner = list(
    `a comma-separated list of ${choices.join(", ")}`,
    (t) => choices.find((c) => c === t),
  );
  return {
    must: inner.must,
    read: (t) => {
      const items = inner.read(t);
      return items && new Set(items);
    },
    fallback: fallback && new Set(fallback),
  };
}

/** true or false. */
export function boolean(fallback?: boolean): Flag<boolean> {
  return {
    must: "true or false",
    read: (text) => text === "true" ? true : text === "false" ? false : undefined,
    fallback,
  };
}

/** Any text, described by `must`; the empty text only with `allowEmpty`. */
export function text(must: string, fallback?: string, allowEmpty = false): Flag<string> {
  return { must, read: (t) => t !== "" || allowEmpty ? t : undefined, fallback };
}

/** The resolved benchmark settings. */
export interface BenchConfig {
  hidden: number[];
  dtype: "f32" | "f64";
  loops: boolean;
  kernels: "wasm" | "ts";
}

/** The hidden sizes a benchmark accepts: --H. */
export const HIDDEN_SIZES = { min: 1, max: 4096 } as const;

/** Reads bench/main.ts's flags; throws a FlagError naming the flag and its value when one is bad. */
export function parseBenchArgs(argv: readonly string[]): BenchConfig {
  const f = parseFlags(argv, {
    H: integerList([32, 64, 128], HIDDEN_SIZES.min, HIDDEN_SIZES.max),
    dtype: oneOf(["f32", "f64"], "f32"),
    loops: boolean(true),
    kernels: oneOf(["wasm", "ts"], "wasm"),
  });
  return { hidden: f.H, dtype: f.dtype, loops: f.loops, kernels: f.kernels };
}
