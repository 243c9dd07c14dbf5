/**
 * The permissions each command of forecastd runs with, as `deno run` flags:
 * what `deno task start` (launch.ts) gives the command it starts, and what
 * main.ts names when a command was run without them. Each command gets what
 * it uses and nothing more:
 *
 * - serve (the default command, `--demo` too): the network (brokers,
 *   webhooks and `--host` may be anywhere), the environment, reading and
 *   writing the data directory, reading every file an option names (the
 *   `--config` file and each option whose argument is a FILE: TLS
 *   certificates and keys, the broker's CA, ...); reading and setting a
 *   thread's priority, with which the shard workers lower their own
 *   (`--worker-nice`, unless it is 0 or `--workers` is 0: nothing is
 *   lowered then); and V8's `--optimize-for-size` (docs/deployment.md,
 *   "Memory").
 * - export: the environment, the data directory (Deno KV opens its file
 *   read-write, even to read it), the option files, and writing FILE.
 * - import: the same, reading FILE instead. Both also reach the KV Connect
 *   server of `--kv-url`, when one is set (its host and port only).
 * - streams, forecast, alerts, ack: the network of the daemon's address
 *   (`--url`, host and port) and the two variables FORECASTD_URL and
 *   FORECASTD_TOKEN.
 * - replay: reading, writing, the environment (it gives up what it does not
 *   need once it knows, src/replay/cli.ts).
 * - demo, token, version, help: nothing.
 *
 * The directories and files come from the configuration as the command
 * itself resolves it (flags, FORECASTD_* variables, the --config file); a
 * configuration with problems gets the environment and its file only, so
 * that the command can report them.
 */
import { type Config, ConfigError, OPTIONS, resolveConfig } from "../config/mod.ts";
import { TOKEN_VARIABLE, URL_VARIABLE } from "../config/client_variables.ts";
import { argTokens, leadingPositionals } from "./args.ts";
import { clientAddress } from "./client_args.ts";
import { UsageError } from "./usage_error.ts";

/** What a command is run with. */
export interface CommandPermissions {
  /** The command's name (serve when the arguments name none). */
  command: string;
  /** The flags of `deno run` before the script. */
  flags: string[];
  /** True for the daemon: it runs until a signal stops it. */
  daemon: boolean;
}

/** Where a command's configuration comes from. */
export interface PermissionsInput {
  /** The arguments of main.ts: the command, then its own. */
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Reads the --config file; may throw. */
  readFile: (path: string) => string;
}

/** The commands that talk to a daemon over its API. */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set([
  "streams",
  "forecast",
  "alerts",
  "ack",
]);

/**
 * forecastd's own modules and presets, from a checkout: the daemon's shard
 * workers load them, and Deno checks a worker's modules against the read
 * permission (docs/scaling.md). None for a compiled binary, which holds them.
 */
export const MODULE_DIRS: string[] = new URL(import.meta.url).protocol === "file:"
  ? [new URL("../", import.meta.url), new URL("../../models", import.meta.url)].map((u) =>
    decodeURIComponent(u.pathname).replace(/\/$/, "")
  )
  : [];

/** What the shard workers need to lower their threads' priority (`--worker-nice`). */
export const NICE_PERMISSION = "--allow-sys=getPriority,setPriority";

/** V8's flag for the daemon (docs/deployment.md, "Memory"). */
export const V8_FLAGS = "--v8-flags=--optimize-for-size";

/** The command `args` run and its arguments: serve when the first is an option or missing. */
export function splitCommand(args: readonly string[]): [string, string[]] {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith("-")) return ["serve", [...args]];
  return [first, rest];
}

/** The permissions of the command `input.args` runs. */
export function commandPermissions(input: PermissionsInput): CommandPermissions {
  const [command, rest] = splitCommand(input.args);
  const config = (args: readonly string[]) => configPaths(command, args, input);
  switch (command) {
    case "serve": {
      const p = config(rest);
      return {
        command,
        daemon: true,
        flags: p === null ? fallbackFlags(rest, input.env) : [
          V8_FLAGS,
          "--allow-net",
          "--allow-env",
          allow("read", [...p.dirs, ...p.files, ...MODULE_DIRS]),
          allow("write", p.dirs),
          ...(p.niceWorkers ? [NICE_PERMISSION] : []),
        ],
      };
    }
    case "export":
    case "import": {
      const [[, file], options] = leadingPositionals(rest, 2);
      const p = config(options.filter((a) => a !== "--force"));
      if (p === null) return { command, daemon: false, flags: fallbackFlags(options, input.env) };
      const named = file !== undefined && file !== "-" ? [file] : [];
      const read = [...p.dirs, ...p.files, ...(command === "import" ? named : [])];
      const write = [...p.dirs, ...(command === "export" ? named : [])];
      return {
        command,
        daemon: false,
        flags: [
          ...(p.kvHost === null ? [] : [`--allow-net=${p.kvHost}`]),
          "--allow-env",
          allow("read", read),
          allow("write", write),
        ],
      };
    }
    case "replay":
      return { command, daemon: false, flags: ["--allow-read", "--allow-write", "--allow-env"] };
  }
  if (CLIENT_COMMANDS.has(command)) {
    const address = clientAddress(rest, input.env);
    return {
      command,
      daemon: false,
      flags: [
        ...(address === null ? [] : [`--allow-net=${address}`]),
        `--allow-env=${URL_VARIABLE},${TOKEN_VARIABLE}`,
      ],
    };
  }
  return { command, daemon: false, flags: [] };
}

/** The data directory (read and written) and the files an option names (read). */
interface ConfigPaths {
  dirs: string[];
  files: string[];
  /** The host and port of the KV Connect server of --kv-url, or null. */
  kvHost: string | null;
  /** True when the daemon would lower its workers' priority (--worker-nice, --workers). */
  niceWorkers: boolean;
}

/** The paths of the configuration of `args`, or null when it has problems. */
function configPaths(
  command: string,
  args: readonly string[],
  input: PermissionsInput,
): ConfigPaths | null {
  let cfg: Config;
  try {
    cfg = resolveConfig({ args, env: input.env, readFile: input.readFile });
  } catch (e) {
    if (e instanceof ConfigError) return null;
    throw e;
  }
  const dirs: string[] = [], files: string[] = [];
  const file = configFile(args, input.env);
  if (file !== null) files.push(file);
  for (const o of OPTIONS) {
    if (o.key === null || (o.arg !== "DIR" && o.arg !== "FILE")) continue;
    const value = o.key.split(".").reduce<unknown>(
      (v, k) => (v as Record<string, unknown> | null)?.[k],
      cfg,
    );
    if (typeof value !== "string") continue;
    (o.arg === "DIR" ? dirs : files).push(checkPath(command, o.flag, value));
  }
  const kv = cfg.kvUrl === null ? null : new URL(cfg.kvUrl);
  const kvHost = kv === null
    ? null
    : `${kv.hostname}:${kv.port === "" ? (kv.protocol === "https:" ? "443" : "80") : kv.port}`;
  return { dirs, files, kvHost, niceWorkers: cfg.workerNice > 0 && cfg.workers !== 0 };
}

/** The --config file the arguments or FORECASTD_CONFIG name, or null. */
function configFile(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  let file: string | null = null;
  for (const t of argTokens(args, { config: { type: "string" } })) {
    if (t.kind === "option" && t.name === "config" && t.value !== undefined) file = t.value;
  }
  const fromEnv = env.FORECASTD_CONFIG;
  return file ?? (fromEnv === undefined || fromEnv === "" ? null : fromEnv);
}

/** For a configuration with problems: what the command needs to report them. */
function fallbackFlags(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const file = configFile(args, env);
  return ["--allow-env", ...(file === null || file.includes(",") ? [] : [`--allow-read=${file}`])];
}

/** `--allow-read=a,b` with each path once. */
function allow(what: "read" | "write", paths: readonly string[]): string {
  return `--allow-${what}=${[...new Set(paths)].join(",")}`;
}

/** A path as a permission list holds it: Deno separates the list with commas. */
function checkPath(command: string, flag: string, path: string): string {
  if (!path.includes(",")) return path;
  throw new UsageError(
    `Cannot run forecastd ${command}: the path of ${flag} must not hold a comma (Deno's ` +
      `permission flags separate paths with commas): current value is ${JSON.stringify(path)}`,
  );
}

/** An argument as a POSIX shell reads it back: quoted when it must be. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * What main.ts says when a command was run without a permission it needs:
 * the permission, and the two commands that run it with what it needs.
 */
export function missingPermissionMessage(input: PermissionsInput, error: Error): string {
  const [command] = splitCommand(input.args);
  let flags: string[];
  try {
    flags = commandPermissions(input).flags;
  } catch {
    flags = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];
  }
  const args = input.args.map(shellQuote).join(" ");
  return `Cannot run forecastd ${command}: Deno must grant the permission it asked for: ` +
    `${error.message.replace(/\.$/, "")}. Run it as\n` +
    `  deno task start${args ? ` ${args}` : ""}\n` +
    `which grants what the command needs and nothing more, or as\n` +
    `  deno run ${[...flags, "main.ts", ...input.args].map(shellQuote).join(" ")}`;
}
