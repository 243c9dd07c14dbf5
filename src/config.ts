/**
 * The daemon's configuration: one zod schema, filled from a JSON file,
 * environment variables and command-line flags.
 *
 * Precedence, per option: flag > environment > file > default. Every option
 * has all three spellings, listed in OPTIONS (which also makes `--help` and
 * the README table): the file key is the Config field (`dataDir`, nested
 * `alertRetention.maxEvents`), the variable is `FORECASTD_` and the flag's
 * name in capitals (`FORECASTD_DATA_DIR`), the flag is kebab-case
 * (`--data-dir`). The file is named by `--config FILE` or `FORECASTD_CONFIG`;
 * without either no file is read.
 *
 * Environment variables and flags are strings, converted by the option's kind:
 * numbers must be plain decimals, booleans true/false/1/0/yes/no/on/off, lists
 * are comma-separated or a JSON array (variables) or a repeated flag
 * (`--mqtt-topic a --mqtt-topic b`). An empty variable counts as unset. Values
 * in the file must have their JSON type (`"port": 8080`, not `"8080"`); `null`
 * unsets an optional option. Unknown keys in the file, unknown `FORECASTD_*`
 * variables and unknown flags are errors, so that a typo is not silently
 * ignored.
 *
 * All problems are reported at once, each with its field, where the value
 * came from and the value:
 *
 *   Cannot start forecastd: invalid configuration:
 *     port (flag --port): must be an integer from 0 to 65535: current value is "http"
 *
 * `resolveConfig` is pure: the file is read through the function passed in.
 * Relative paths (dataDir, TLS files) are kept as given, i.e. relative to the
 * working directory.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { z } from "zod";
import { LOG_LEVELS } from "./log.ts";
import { topicPatternProblem } from "./ingest/topics.ts";
import { DECIMAL, STREAM_ID_PATTERN, STREAM_ID_RULE } from "./domain/reading.ts";

// ---------------------------------------------------------------------------
// The schema

function int(min: number, max: number) {
  const error = max === Number.MAX_SAFE_INTEGER
    ? `must be an integer of at least ${min}`
    : `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function positive(what: string) {
  const error = `must be ${what} greater than 0`;
  return z.number({ error }).gt(0, { error });
}

function text(what: string) {
  const error = `must be ${what}`;
  return z.string({ error }).min(1, { error });
}

const MQTT_PROTOCOLS = ["mqtt:", "mqtts:", "ws:", "wss:", "tcp:", "ssl:"];

function isUrl(s: string, protocols: readonly string[]): boolean {
  try {
    const u = new URL(s);
    return protocols.includes(u.protocol) && u.hostname !== "";
  } catch {
    return false;
  }
}

const port = int(0, 65535);

const mqttUrl = z.string({ error: "must be an mqtt://, mqtts://, ws:// or wss:// URL" }).refine(
  (s) => isUrl(s, MQTT_PROTOCOLS),
  { error: "must be an mqtt://, mqtts://, ws:// or wss:// URL with a host" },
);

const topicPattern = z.string({ error: "must be a topic pattern string" }).refine(
  (s) => topicPatternProblem(s) === null,
  { error: (iss) => topicPatternProblem(String(iss.input)) ?? "must be a topic pattern" },
);

const alertTopic = z.string({ error: "must be an MQTT topic" }).refine(
  (s) => s !== "" && !/[+#]/.test(s) && !s.includes("\0") && !s.endsWith("/"),
  { error: "must be an MQTT topic without +, # or a trailing /" },
);

const httpUrl = z.string({ error: "must be an http:// or https:// URL" }).refine(
  (s) => isUrl(s, ["http:", "https:"]),
  { error: "must be an http:// or https:// URL with a host" },
);

const webhook = z.strictObject({
  url: httpUrl,
  secret: text("a non-empty string (the HMAC key)").nullable().default(null),
  streams: z.array(
    z.string({ error: `must be a stream id of ${STREAM_ID_RULE}` }).regex(STREAM_ID_PATTERN, {
      error: `must be a stream id of ${STREAM_ID_RULE}`,
    }),
    { error: "must be a list of stream ids" },
  ).min(1, { error: "must list at least one stream (leave it out for every stream)" })
    .nullable().default(null),
}, { error: 'must be an object {"url": ..., "secret"?: ..., "streams"?: [...]}' });

/** The one schema of the configuration; its input is UserConfig, its output Config. */
export const configSchema = z.strictObject({
  host: text("a host name or IP address").default("127.0.0.1"),
  port: port.default(8080),
  dataDir: text("a directory path").default("./data"),
  mqttUrl: mqttUrl.nullable().default(null),
  mqttPort: port.default(1883),
  mqttUsername: text("a non-empty user name").nullable().default(null),
  mqttPassword: z.string({ error: "must be a string" }).nullable().default(null),
  mqttCa: text("a file path").nullable().default(null),
  mqttCert: text("a file path").nullable().default(null),
  mqttKey: text("a file path").nullable().default(null),
  mqttClientId: text("a non-empty client id").nullable().default(null),
  mqttTopics: z.array(topicPattern, { error: "must be a list of topic patterns" })
    .min(1, { error: "must list at least one topic pattern" })
    .default(["sensors/{stream}/{value}", "sensors/{stream}"]),
  alertTopicPrefix: alertTopic.default("forecastd/alerts"),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default(
    "info",
  ),
  defaultPreset: z.string({ error: "must be a preset name" }).regex(/^[A-Za-z0-9_-]{1,64}$/, {
    error: "must be a preset name of 1-64 letters, digits, - and _",
  }).default("default"),
  maxStreams: int(1, 1_000_000).default(1000),
  checkpointEvery: int(1, Number.MAX_SAFE_INTEGER).default(500),
  checkpointSeconds: positive("a number of seconds").default(60),
  alertRetention: z.strictObject({
    maxEvents: int(1, Number.MAX_SAFE_INTEGER).default(10_000),
    maxAgeDays: positive("a number of days").default(30),
  }).prefault({}),
  webhooks: z.array(webhook, { error: "must be a list of webhooks" }).default([]),
  demo: z.boolean({ error: "must be true or false" }).default(false),
}).superRefine((c, ctx) => {
  if ((c.mqttCert === null) !== (c.mqttKey === null)) {
    ctx.addIssue({
      code: "custom",
      path: [c.mqttCert === null ? "mqttKey" : "mqttCert"],
      message: "must be given together with " + (c.mqttCert === null ? "mqttCert" : "mqttKey"),
    });
  }
});

/** The resolved configuration: every field set (null marks an option left unset). */
export type Config = z.output<typeof configSchema>;
/** The configuration as a user writes it (the file's shape): every field optional. */
export type UserConfig = z.input<typeof configSchema>;
/** One webhook of Config.webhooks. */
export type Webhook = Config["webhooks"][number];

/** The configuration with no file, variable or flag. */
export const DEFAULT_CONFIG: Config = configSchema.parse({});

/** Where the Deno KV file of `config` lives: `<dataDir>/forecastd.kv`. */
export function kvPath(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "forecastd.kv");
}

// ---------------------------------------------------------------------------
// The table of options

/** A leaf of Config that an option sets. */
export type OptionKey =
  | Exclude<keyof Config, "alertRetention">
  | `alertRetention.${keyof Config["alertRetention"]}`;

/** How a flag's or variable's string becomes the option's value. */
type Kind = "string" | "number" | "boolean" | "list" | "webhooks";

/** One row of the options table. */
export interface ConfigOption {
  /** The Config field (dotted for nested ones), or null for `--config` itself. */
  key: OptionKey | null;
  /** e.g. `--data-dir`. */
  flag: string;
  /** The flag's argument in help, e.g. `DIR`; "" for a boolean flag. */
  arg: string;
  /** e.g. `FORECASTD_DATA_DIR`. */
  env: string;
  /** The default, as text. */
  default: string;
  description: string;
  kind: Kind;
  /** Masked in messages and in formatConfig. */
  secret: boolean;
}

type Row = [
  key: OptionKey | null,
  flag: string,
  arg: string,
  env: string,
  kind: Kind,
  description: string,
];

const ROWS: Row[] = [
  [null, "--config", "FILE", "FORECASTD_CONFIG", "string", "JSON configuration file to read"],
  ["host", "--host", "HOST", "FORECASTD_HOST", "string", "address the HTTP API listens on"],
  ["port", "--port", "PORT", "FORECASTD_PORT", "number", "HTTP API port; 0 picks a free port"],
  [
    "dataDir",
    "--data-dir",
    "DIR",
    "FORECASTD_DATA_DIR",
    "string",
    "directory of the state; the Deno KV file is DIR/forecastd.kv",
  ],
  [
    "mqttUrl",
    "--mqtt-url",
    "URL",
    "FORECASTD_MQTT_URL",
    "string",
    "MQTT broker to subscribe to (mqtt://, mqtts://, ws://, wss://); unset: run an embedded broker",
  ],
  [
    "mqttPort",
    "--mqtt-port",
    "PORT",
    "FORECASTD_MQTT_PORT",
    "number",
    "port of the embedded broker (without --mqtt-url); 0 picks a free port",
  ],
  [
    "mqttUsername",
    "--mqtt-username",
    "USER",
    "FORECASTD_MQTT_USERNAME",
    "string",
    "user name for the broker at --mqtt-url",
  ],
  [
    "mqttPassword",
    "--mqtt-password",
    "PASSWORD",
    "FORECASTD_MQTT_PASSWORD",
    "string",
    "password for the broker at --mqtt-url (prefer the variable or the file: a command line is visible to other users)",
  ],
  [
    "mqttCa",
    "--mqtt-ca",
    "FILE",
    "FORECASTD_MQTT_CA",
    "string",
    "CA certificate (PEM) that the broker's certificate must chain to",
  ],
  [
    "mqttCert",
    "--mqtt-cert",
    "FILE",
    "FORECASTD_MQTT_CERT",
    "string",
    "client certificate (PEM) for the broker, with --mqtt-key",
  ],
  [
    "mqttKey",
    "--mqtt-key",
    "FILE",
    "FORECASTD_MQTT_KEY",
    "string",
    "private key (PEM) of --mqtt-cert",
  ],
  [
    "mqttClientId",
    "--mqtt-client-id",
    "ID",
    "FORECASTD_MQTT_CLIENT_ID",
    "string",
    "MQTT client id; unset: a generated one",
  ],
  [
    "mqttTopics",
    "--mqtt-topic",
    "PATTERN",
    "FORECASTD_MQTT_TOPICS",
    "list",
    "topic pattern to subscribe to, with {stream} and {value} levels (repeat the flag; comma-separated in the variable)",
  ],
  [
    "alertTopicPrefix",
    "--alert-topic-prefix",
    "TOPIC",
    "FORECASTD_ALERT_TOPIC_PREFIX",
    "string",
    "MQTT topic prefix of published alerts",
  ],
  [
    "logLevel",
    "--log-level",
    "LEVEL",
    "FORECASTD_LOG_LEVEL",
    "string",
    "least severe log level written: debug, info, warn or error",
  ],
  [
    "defaultPreset",
    "--default-preset",
    "NAME",
    "FORECASTD_DEFAULT_PRESET",
    "string",
    "model preset of new streams (models/NAME.json)",
  ],
  [
    "maxStreams",
    "--max-streams",
    "N",
    "FORECASTD_MAX_STREAMS",
    "number",
    "most streams learned at once; readings of further streams are rejected",
  ],
  [
    "checkpointEvery",
    "--checkpoint-every",
    "N",
    "FORECASTD_CHECKPOINT_EVERY",
    "number",
    "save a stream's model after N updates",
  ],
  [
    "checkpointSeconds",
    "--checkpoint-seconds",
    "S",
    "FORECASTD_CHECKPOINT_SECONDS",
    "number",
    "save a changed model at least every S seconds",
  ],
  [
    "alertRetention.maxEvents",
    "--alert-max-events",
    "N",
    "FORECASTD_ALERT_MAX_EVENTS",
    "number",
    "alert events kept (oldest dropped first)",
  ],
  [
    "alertRetention.maxAgeDays",
    "--alert-max-age-days",
    "DAYS",
    "FORECASTD_ALERT_MAX_AGE_DAYS",
    "number",
    "alert events older than DAYS are dropped",
  ],
  [
    "webhooks",
    "--webhook",
    "URL",
    "FORECASTD_WEBHOOKS",
    "webhooks",
    'URL to POST alerts to (repeat the flag; the variable: comma-separated URLs or a JSON array of {"url", "secret", "streams"})',
  ],
  [
    "demo",
    "--demo",
    "",
    "FORECASTD_DEMO",
    "boolean",
    'also learn a simulated sensor (stream "demo")',
  ],
];

const SECRET_KEYS = new Set<OptionKey | null>(["mqttPassword"]);
const MASK = "********";
/** Unknown names that look like they hold a secret get their value masked too. */
const SECRET_NAME = /pas|pwd|secret|token|key/i;

/** Every option: flag, variable, default and meaning (for --help and the README). */
export const OPTIONS: readonly ConfigOption[] = ROWS.map((
  [key, flag, arg, env, kind, description],
) => ({
  key,
  flag,
  arg,
  env,
  kind,
  description,
  default: key === null ? "none" : showDefault(getPath(DEFAULT_CONFIG, key)),
  secret: SECRET_KEYS.has(key),
}));

function showDefault(v: unknown): string {
  if (v === null) return "unset";
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.join(", ");
  return String(v);
}

/** The options as help text, two lines each. */
export function formatOptionsHelp(): string {
  const width = Math.max(...OPTIONS.map((o) => o.flag.length + o.arg.length + 1)) + 4;
  const pad = " ".repeat(width);
  return OPTIONS.map((o) => {
    const left = `  ${o.flag}${o.arg ? ` ${o.arg}` : ""}`.padEnd(width);
    const lines = wrap(o.description, 100 - width);
    const details = `env ${o.env}, default ${o.default}`;
    if (width + details.length <= 100) lines.push(details);
    else lines.push(`env ${o.env}`, `default ${o.default}`);
    return lines.map((l, i) => (i === 0 ? left : pad) + l).join("\n");
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

/** The options as a Markdown table: flag, variable, file key, default, meaning. */
export function formatOptionsMarkdown(): string {
  const lines = [
    "| flag | environment | file key | default | meaning |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const o of OPTIONS) {
    const flag = `\`${o.flag}${o.arg ? ` ${o.arg}` : ""}\``;
    const key = o.key === null ? "" : `\`${o.key}\``;
    const cells = [flag, `\`${o.env}\``, key, `\`${o.default}\``, o.description];
    lines.push(`| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Resolving

/** Where an option's value came from. */
export type ConfigSource =
  | { kind: "default" }
  | { kind: "file"; path: string }
  | { kind: "env"; name: string }
  | { kind: "flag"; name: string };

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** The field (`port`, `webhooks[0].url`) or the unknown name. */
  field: string;
  source: ConfigSource | { kind: "args" };
  /** The constraint: `must be an integer from 0 to 65535`. */
  message: string;
  /** The value as given (secrets masked); undefined when there is none. */
  value: unknown;
}

/** An invalid configuration: every problem found, one per line of the message. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(
      "Cannot start forecastd: invalid configuration:\n" +
        problems.map((p) => `  ${formatProblem(p)}`).join("\n"),
    );
    this.problems = problems;
  }
}

/** `field (source): constraint: current value is value`. */
export function formatProblem(p: ConfigProblem): string {
  const src = p.source.kind === "default"
    ? "default"
    : p.source.kind === "file"
    ? `file ${p.source.path}`
    : p.source.kind === "env"
    ? p.source.name === p.field ? "env" : `env ${p.source.name}`
    : p.source.kind === "flag"
    ? `flag ${p.source.name}`
    : "command line";
  const value = p.value === undefined ? "" : `: current value is ${showValue(p.value)}`;
  return `${p.field} (${src}): ${p.message}${value}`;
}

function showValue(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

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
 * the serve command's own flags, for main.ts to act on.
 */
export function resolveConfig(input: ResolveConfigInput): Config {
  const problems: ConfigProblem[] = [];
  const user: Record<string, unknown> = {};
  const sources = new Map<OptionKey, ConfigSource>();
  /** The text a variable or flag gave a scalar option, shown in its problem. */
  const texts = new Map<OptionKey, string>();
  const set = (key: OptionKey, value: unknown, source: ConfigSource, text?: string) => {
    setPath(user, key, value);
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
    set(key, value, { kind: "env", name: optionOf(key).env }, text);
  }
  for (const [key, [value, text]] of flags.values) {
    set(key, value, { kind: "flag", name: optionOf(key).flag }, text);
  }

  const parsed = configSchema.safeParse(user);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = keyOfPath(issue.path);
      const option = key === null ? null : optionOf(key);
      let value = key !== null && texts.has(key) && issue.path.length === key.split(".").length
        ? texts.get(key)
        : getPath(user, issue.path);
      if (option?.secret || issue.path.includes("secret")) {
        value = value === undefined ? value : MASK;
      } else value = maskSecrets(value);
      problems.push({
        field: pathText(issue.path),
        source: (key && sources.get(key)) ?? { kind: "default" },
        message: issue.message,
        value,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (parsed as { data: Config }).data;
}

/**
 * The configuration as JSON (`forecastd serve --print-config`), in the file's
 * format, with the MQTT password, webhook secrets and any password inside
 * mqttUrl shown as ********.
 */
export function formatConfig(config: Config): string {
  const shown = {
    ...config,
    mqttUrl: config.mqttUrl === null ? null : maskUrl(config.mqttUrl),
    mqttPassword: config.mqttPassword === null ? null : MASK,
    webhooks: config.webhooks.map((w) => ({
      ...w,
      url: maskUrl(w.url),
      secret: w.secret === null ? null : MASK,
    })),
  };
  return JSON.stringify(shown, null, 2);
}

function maskUrl(s: string): string {
  try {
    const u = new URL(s);
    if (u.password === "") return s;
    u.password = MASK;
    return u.toString();
  } catch {
    return s;
  }
}

function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === "secret" && x != null ? MASK : maskSecrets(x)]),
    );
  }
  return v;
}

// --- the three sources

interface FileRef {
  path: string;
  source: ConfigSource;
}

const BY_FLAG = new Map(OPTIONS.map((o) => [o.flag.slice(2), o]));
const BY_ENV = new Map(OPTIONS.map((o) => [o.env, o]));
const BY_KEY = new Map(OPTIONS.filter((o) => o.key !== null).map((o) => [o.key!, o]));
/** The serve command's own flags, accepted and left to main.ts. */
const COMMAND_FLAGS = new Set(["help", "print-config"]);

function optionOf(key: OptionKey): ConfigOption {
  return BY_KEY.get(key)!;
}

function readFlags(
  args: readonly string[],
  problems: ConfigProblem[],
): { values: Map<OptionKey, [unknown, string?]>; config: FileRef | null } {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {
    help: { type: "boolean", short: "h" },
    "print-config": { type: "boolean" },
  };
  for (const o of OPTIONS) {
    options[o.flag.slice(2)] = {
      type: o.kind === "boolean" ? "boolean" : "string",
      multiple: o.kind === "list" || o.kind === "webhooks",
    };
  }
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<OptionKey, [unknown, string?]>();
  let config: FileRef | null = null;
  const lists = new Map<OptionKey, string[]>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === "option-terminator") continue;
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
    else if (option.kind === "list" || option.kind === "webhooks") {
      const list = lists.get(option.key) ?? [];
      list.push(t.value);
      lists.set(option.key, list);
      values.set(option.key, [option.kind === "webhooks" ? list.map((url) => ({ url })) : list]);
    } else values.set(option.key, [fromString(option.kind, t.value), t.value]);
  }
  return { values, config };
}

function readEnv(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): { values: Map<OptionKey, [unknown, string?]>; config: FileRef | null } {
  const values = new Map<OptionKey, [unknown, string?]>();
  let config: FileRef | null = null;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("FORECASTD_") || raw === undefined || raw === "") continue;
    const option = BY_ENV.get(name);
    if (!option) {
      problems.push({
        field: name,
        source: { kind: "env", name },
        message: `is not a known option${suggest(name, [...BY_ENV.keys()], "")}`,
        value: SECRET_NAME.test(name) ? MASK : raw,
      });
      continue;
    }
    if (option.key === null) config = { path: raw, source: { kind: "env", name } };
    else if (option.kind === "list") values.set(option.key, [splitList(raw)]);
    else if (option.kind === "webhooks") {
      const list = splitList(raw);
      const hooks = Array.isArray(list)
        ? list.map((w) => typeof w === "string" ? { url: w } : w)
        : list;
      values.set(option.key, [hooks]);
    } else values.set(option.key, [fromString(option.kind, raw), raw]);
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
  const topKeys = [...new Set([...BY_KEY.keys()].map((k) => k.split(".")[0]))];
  for (const [k, v] of Object.entries(json)) {
    if (k === "alertRetention") {
      if (v === null || typeof v !== "object" || Array.isArray(v)) {
        problems.push({
          field: k,
          source,
          message: 'must be an object {"maxEvents": ..., "maxAgeDays": ...}',
          value: v,
        });
        continue;
      }
      for (const [sub, sv] of Object.entries(v)) {
        const key = `${k}.${sub}`;
        if (BY_KEY.has(key as OptionKey)) out.push([key as OptionKey, sv]);
        else {
          const known = ["maxEvents", "maxAgeDays"];
          problems.push({
            field: key,
            source,
            message: `is not a known option${suggest(sub, known, `${k}.`)}`,
            value: sv,
          });
        }
      }
    } else if (BY_KEY.has(k as OptionKey)) out.push([k as OptionKey, v]);
    else {
      problems.push({
        field: k,
        source,
        message: `is not a known option${suggest(k, topKeys, "")}`,
        value: maskSecrets(v),
      });
    }
  }
  return out;
}

// --- string conversion (variables and flags)

/** A number, a boolean or the string itself, which then fails validation with its own text. */
function fromString(kind: Kind, s: string): unknown {
  if (kind === "number") return DECIMAL.test(s.trim()) ? Number(s.trim()) : s;
  if (kind === "boolean") return toBoolean(s);
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

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (o[p] === null || typeof o[p] !== "object") o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = value;
}

function getPath(obj: unknown, path: string | readonly PropertyKey[]): unknown {
  const parts = typeof path === "string" ? path.split(".") : path;
  let v = obj;
  for (const p of parts) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

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

/** ` (did you mean X?)` for the closest known name within edit distance 2, else "". */
function suggest(name: string, known: readonly string[], prefix: string): string {
  let best = "", bestD = 3;
  const n = name.toLowerCase();
  for (const k of known) {
    const d = editDistance(n, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best ? ` (did you mean ${prefix}${best}?)` : "";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
