/**
 * Resolving the configuration from a JSON file, environment variables and
 * command-line flags, against the schema.
 *
 * Precedence, per option: flag > environment > file > default. The file is
 * named by `--config FILE` or `FORECASTD_CONFIG`; without either no file is
 * read.
 *
 * Environment variables and flags are text, converted by the option's kind:
 * numbers must be plain decimals, booleans true/false/1/0/yes/no/on/off, lists
 * are comma-separated or a JSON array (variables) or a repeated flag
 * (`--mqtt-topic a --mqtt-topic b`). An empty variable counts as unset. Values
 * in the file must have their JSON type (`"port": 8080`, not `"8080"`); `null`
 * unsets an optional option. Unknown keys in the file, unknown `FORECASTD_*`
 * variables and unknown flags are errors, so that a typo is not silently
 * ignored; the command-line clients' own variables (`FORECASTD_URL`,
 * `FORECASTD_TOKEN`, client_variables.ts) are skipped.
 *
 * All problems are reported at once in a ConfigError. `resolveConfig` is
 * pure: the file is read through the function passed in. Relative paths
 * (dataDir, TLS files) are kept as given, i.e. relative to the working
 * directory.
 */
import type { ParseArgsOptionsConfig } from "node:util";
import { argTokens } from "../cli/args.ts";
import { MASK } from "../domain/mask_url_password.ts";
import { DECIMAL } from "../domain/reading.ts";
import { CLIENT_VARIABLES } from "./client_variables.ts";
import { fieldOf, objectShape, schemaAt, valueAt } from "./config_meta.ts";
import { ConfigError, type ConfigProblem, type ConfigSource } from "./config_error.ts";
import { maskSecrets, SECRET_NAME } from "./mask_secrets.ts";
import { type ConfigOption, type OptionKey, OPTIONS } from "./options.ts";
import { type Config, configSchema } from "./schema.ts";
import { suggest } from "./suggest.ts";

/** What resolveConfig reads. */
export interface ResolveConfigInput {
  /** The command line after the subcommand (`--port 8080 --config x.json`). */
  args: readonly string[];
  /** The environment (`Deno.env.toObject()`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Reads the configuration file as text (`Deno.readTextFileSync`); may throw. */
  readFile: (path: string) => string;
}

/**
 * Resolves the configuration: defaults, then the file, then the environment,
 * then the flags. Throws a ConfigError listing every problem.
 *
 * `--help`/`-h` and `--print-config` are accepted and ignored here: they are
 * the serve command's own flags, for the command to act on.
 */
export function resolveConfig(input: ResolveConfigInput): Config {
  const problems: ConfigProblem[] = [];
  const user: Record<string, unknown> = {};
  const sources = new Map<OptionKey, ConfigSource>();
  /** The text a variable or flag gave a scalar option, shown in its problem. */
  const texts = new Map<OptionKey, string>();
  const set = (key: OptionKey, value: unknown, source: ConfigSource, text?: string) => {
    setKey(user, key, value);
    sources.set(key, source);
    if (text === undefined) texts.delete(key);
    else texts.set(key, text);
  };

  const flags = readFlags(input.args, problems);
  const env = readEnv(input.env, problems);

  // The file: named by the flag, else by the variable.
  const fileRef = flags.config ?? env.config;
  if (fileRef) {
    for (const [key, value] of readConfigFile(fileRef, input.readFile, problems)) {
      set(key, value, { kind: "file", path: fileRef.path });
    }
  }
  for (const [key, [value, text]] of env.values) {
    set(key, value, { kind: "env", name: BY_KEY.get(key)!.env }, text);
  }
  for (const [key, [value, text]] of flags.values) {
    set(key, value, { kind: "flag", name: BY_KEY.get(key)!.flag }, text);
  }

  const parsed = configSchema.safeParse(user);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = keyOfPath(issue.path);
      const value = key !== null && texts.has(key) && issue.path.length === key.split(".").length
        ? texts.get(key)
        : valueAt(user, issue.path);
      problems.push({
        field: pathText(issue.path),
        source: (key && sources.get(key)) ?? { kind: "default" },
        message: issue.message,
        value: maskSecrets(value, schemaAt(configSchema, issue.path)),
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (parsed as { data: Config }).data;
}

// --- the three sources

interface FileRef {
  path: string;
  source: ConfigSource;
}

/** A value for an option, and the text it was read from (shown in its problem). */
type Values = Map<OptionKey, [unknown, string?]>;

const BY_FLAG = new Map(OPTIONS.map((o) => [o.flag.slice(2), o]));
const BY_ENV = new Map(OPTIONS.map((o) => [o.env, o]));
const BY_KEY = new Map(OPTIONS.filter((o) => o.key !== null).map((o) => [o.key!, o]));
/** The serve command's own flags, accepted and left to the command. */
const COMMAND_FLAGS = new Set(["help", "print-config"]);

const FLAG_TYPES: ParseArgsOptionsConfig = {
  help: { type: "boolean", short: "h" },
  "print-config": { type: "boolean" },
  ...Object.fromEntries(
    OPTIONS.map((o) => [o.flag.slice(2), { type: o.kind === "boolean" ? "boolean" : "string" }]),
  ),
};

function readFlags(
  args: readonly string[],
  problems: ConfigProblem[],
): { values: Values; config: FileRef | null } {
  const tokens = argTokens(args, FLAG_TYPES);
  const values: Values = new Map();
  let config: FileRef | null = null;
  const lists = new Map<OptionKey, string[]>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === "positional") {
      problems.push({
        field: `argument ${JSON.stringify(t.value)}`,
        source: { kind: "args" },
        message: "is not an option (options start with --)",
        value: undefined,
      });
      continue;
    }
    const option = BY_FLAG.get(t.name);
    if (!option) {
      if (COMMAND_FLAGS.has(t.name)) continue;
      // "--prot 80": report the value with the unknown flag, not as a stray argument.
      const next = tokens[i + 1];
      let value: unknown = t.value;
      if (value === undefined && next?.kind === "positional") {
        value = next.value;
        i++;
      }
      const known = [...BY_FLAG.keys(), ...COMMAND_FLAGS];
      problems.push({
        field: t.rawName,
        source: { kind: "args" },
        message: `is not a known option${suggest(t.name, known, "--")}`,
        value: value !== undefined && SECRET_NAME.test(t.name) ? MASK : value,
      });
      continue;
    }
    const source: ConfigSource = { kind: "flag", name: option.flag };
    if (option.kind === "boolean") {
      if (option.key) {
        values.set(option.key, t.value === undefined ? [true] : [toBoolean(t.value), t.value]);
      }
      continue;
    }
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith("--"))) {
      problems.push({
        field: option.key ?? "config",
        source,
        message: `needs a value (${option.flag} ${option.arg}, or ${option.flag}=${option.arg} ` +
          `for a value starting with -)`,
        value: undefined,
      });
      continue;
    }
    if (option.key === null) config = { path: t.value, source };
    else if (option.kind === "list") {
      const list = lists.get(option.key) ?? [];
      list.push(t.value);
      lists.set(option.key, list);
      values.set(option.key, [list.map(option.item)]);
    } else values.set(option.key, [fromText(option, t.value), t.value]);
  }
  return { values, config };
}

function readEnv(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): { values: Values; config: FileRef | null } {
  const values: Values = new Map();
  let config: FileRef | null = null;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("FORECASTD_") || raw === undefined || raw === "") continue;
    const option = BY_ENV.get(name);
    if (!option) {
      if (CLIENT_VARIABLES.has(name)) continue; // the clients', not the daemon's
      problems.push({
        field: name,
        source: { kind: "env", name },
        message: `is not a known option${suggest(name, [...BY_ENV.keys()], "")}`,
        value: SECRET_NAME.test(name) ? MASK : raw,
      });
      continue;
    }
    if (option.key === null) config = { path: raw, source: { kind: "env", name } };
    else if (option.kind === "list") {
      const list = splitList(raw);
      values.set(option.key, [
        Array.isArray(list) ? list.map((x) => typeof x === "string" ? option.item(x) : x) : list,
      ]);
    } else values.set(option.key, [fromText(option, raw), raw]);
  }
  return { values, config };
}

/** The file's options as (key, value) pairs; problems for what cannot be used. */
function readConfigFile(
  ref: FileRef,
  readFile: (path: string) => string,
  problems: ConfigProblem[],
): [OptionKey, unknown][] {
  const fail = (message: string) =>
    problems.push({ field: "config", source: ref.source, message, value: ref.path });
  let textContent: string;
  try {
    textContent = readFile(ref.path);
  } catch (e) {
    fail(`must name a readable file (${e instanceof Error ? e.message : String(e)})`);
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(textContent);
  } catch (e) {
    fail(`must name a JSON file (${e instanceof Error ? e.message : String(e)})`);
    return [];
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    fail("must name a file holding a JSON object of options");
    return [];
  }
  const out: [OptionKey, unknown][] = [];
  const source: ConfigSource = { kind: "file", path: ref.path };
  const unknown = (field: string, name: string, known: string[], prefix: string, v: unknown) =>
    problems.push({
      field,
      source,
      message: `is not a known option${suggest(name, known, prefix)}`,
      value: SECRET_NAME.test(name) ? MASK : maskSecrets(v, null),
    });
  for (const [k, v] of Object.entries(json)) {
    // a field that is no option but an object is a group of options (alertRetention)
    const field = fieldOf(configSchema, k);
    const group = field && objectShape(field);
    if (BY_KEY.has(k as OptionKey)) out.push([k as OptionKey, v]);
    else if (group !== null) {
      const keys = Object.keys(group);
      if (v === null || typeof v !== "object" || Array.isArray(v)) {
        problems.push({
          field: k,
          source,
          message: `must be an object {${keys.map((g) => `"${g}": ...`).join(", ")}}`,
          value: v,
        });
        continue;
      }
      for (const [sub, sv] of Object.entries(v)) {
        const key = `${k}.${sub}`;
        if (BY_KEY.has(key as OptionKey)) out.push([key as OptionKey, sv]);
        else unknown(key, sub, keys, `${k}.`, sv);
      }
    } else unknown(k, k, Object.keys(configSchema.shape), "", v);
  }
  return out;
}

// --- text conversion (variables and flags)

/** A number, a boolean or the text itself, which then fails validation with its own text. */
function fromText(option: ConfigOption, s: string): unknown {
  if (option.kind === "number") return DECIMAL.test(s.trim()) ? Number(s.trim()) : s;
  if (option.kind === "boolean") return toBoolean(s);
  return s;
}

function toBoolean(s: string): boolean | string {
  const v = s.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  return s;
}

/** A JSON array when it looks like one, else comma-separated items (blank ones dropped). */
function splitList(s: string): unknown {
  const t = s.trim();
  if (t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      return s; // fails validation as "must be a list", showing the text
    }
  }
  return t.split(",").map((x) => x.trim()).filter((x) => x !== "");
}

// --- paths

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (o[p] === null || typeof o[p] !== "object") o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = value;
}

/** The option a problem's path lies in: `alertRetention.maxEvents`, `webhooks` for `webhooks[0].url`. */
function keyOfPath(path: readonly PropertyKey[]): OptionKey | null {
  if (path.length === 0) return null;
  const two = `${String(path[0])}.${String(path[1])}`;
  if (BY_KEY.has(two as OptionKey)) return two as OptionKey;
  return BY_KEY.has(String(path[0]) as OptionKey) ? String(path[0]) as OptionKey : null;
}

function pathText(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    s += typeof p === "number" ? `[${p}]` : s === "" ? String(p) : `.${String(p)}`;
  }
  return s === "" ? "configuration" : s;
}
