/**
 * docs/configuration.md, generated from the schema: the options with their
 * flag, variable, file key, default and meaning, the fields of a webhook, an
 * example file (checked against the schema), how text becomes a value, and a
 * real error message. `deno task docs:config` writes it (this file run as a
 * script); a test fails while the committed page differs from what this
 * function returns.
 */
import { type ConfigOption, OPTIONS } from "./options.ts";
import { arrayElement, configMeta, objectShape } from "./config_meta.ts";
import { formatConfig } from "./format_config.ts";
import { resolveConfig } from "./resolve_config.ts";
import { ConfigError } from "./config_error.ts";
import { configSchema, DEFAULT_CONFIG, type UserConfig } from "./schema.ts";

/** Where the page lives, relative to the repository root. */
export const CONFIG_DOC_PATH = "docs/configuration.md";
/** The command that writes the page. */
export const CONFIG_DOC_COMMAND = "deno task docs:config";

/** A configuration file as the docs show it; formatConfigDoc refuses it unless it is valid. */
const EXAMPLE_FILE: UserConfig = {
  host: "0.0.0.0",
  port: 8080,
  dataDir: "/var/lib/forecastd",
  mqttUrl: "mqtts://broker.local:8883",
  mqttUsername: "forecastd",
  mqttCa: "/etc/forecastd/ca.pem",
  mqttTopics: ["sensors/{stream}/{value}", "sensors/{stream}", "home/+/{stream}/{value}"],
  logLevel: "info",
  alertRetention: { maxEvents: 10000, maxAgeDays: 30 },
  webhooks: [
    { url: "https://hooks.example.com/forecastd", secret: "change-me", streams: ["kitchen"] },
  ],
};

/** A wrong configuration, to show the message forecastd gives for it. */
const WRONG = {
  args: ["--port", "http", "--config", "forecastd.json"],
  env: { FORECASTD_MQTT_PORT: "-1", FORECASTD_DATADIR: "/x" },
  file: { alertRetention: { maxAgeDays: 0 } },
};

/** The page's Markdown, formatted as `deno fmt` leaves it. */
export function formatConfigDoc(): string {
  const flag = (o: ConfigOption) => `\`${o.flag}${o.arg ? ` ${o.arg}` : ""}\``;
  const options = table(
    ["flag", "environment", "file key", "default", "meaning"],
    OPTIONS.map((o) => [
      flag(o),
      `\`${o.env}\``,
      o.key === null ? "" : `\`${o.key}\``,
      `\`${o.default}\``,
      o.description,
    ]),
  );
  const webhook = objectShape(arrayElement(configSchema.shape.webhooks)!)!;
  const webhookFields = table(
    ["key", "default", "meaning"],
    Object.entries(webhook).map(([key, schema]) => {
      const parsed = schema.safeParse(undefined);
      const fallback = parsed.success ? `\`${JSON.stringify(parsed.data)}\`` : "required";
      return [`\`${key}\``, fallback, configMeta.get(schema)?.description ?? ""];
    }),
  );
  const example = JSON.stringify(EXAMPLE_FILE, null, 2);
  resolveConfig({ args: ["--config", "example.json"], env: {}, readFile: () => example });
  let wrong: string;
  try {
    resolveConfig({ ...WRONG, readFile: () => JSON.stringify(WRONG.file) });
    throw new Error("Cannot document a wrong configuration: it must be refused: it was accepted");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    wrong = e.message;
  }
  return `# Configuration

<!-- Generated from src/config/schema.ts by \`${CONFIG_DOC_COMMAND}\`: edit the schema, not this page. -->

\`forecastd serve\` reads its configuration from, in increasing precedence: the built-in defaults, a
JSON file (\`--config FILE\` or \`FORECASTD_CONFIG\`; without either no file is read), environment
variables \`FORECASTD_*\`, and command-line flags. Each option is resolved on its own: a flag beats
the variable, the variable beats the file, the file beats the default. \`forecastd export\` and
\`forecastd import\` read the same configuration (they use the data directory).

## Options

${options}

\`forecastd serve --print-config\` prints the resolved configuration as JSON in the file's format (the
MQTT password, webhook secrets and any password inside a URL shown as \`********\`) and exits.
\`forecastd serve --help\` lists the same options; from a source checkout the same commands are
\`deno task start serve --print-config\` and \`deno task start --help\`.

## The file

Keys are the option names of the table's "file key" column; \`alertRetention\` is an object. Values
have their JSON type (\`"port": 8080\`, not \`"8080"\`), and \`null\` unsets an optional option. Unknown
keys are an error, so a typo is not silently ignored.

\`\`\`json
${example}
\`\`\`

Each webhook is an object of these keys:

${webhookFields}

With no file, variable or flag, \`forecastd serve --print-config\` prints the defaults:

\`\`\`json
${formatConfig(DEFAULT_CONFIG)}
\`\`\`

## Variables and flags

Variables and flags are text, converted by the option's type:

- numbers are plain decimals (\`8080\`, \`0.5\`, \`1e3\`); hex, \`Infinity\` and blanks are refused
- booleans: \`--demo\` alone is true; \`--demo=false\`; in a variable \`true\`/\`false\`, \`1\`/\`0\`,
  \`yes\`/\`no\`, \`on\`/\`off\`
- lists: repeat the flag (\`--mqtt-topic 'a/{stream}' --mqtt-topic 'b/{stream}/{value}'\`); in the
  variable, comma-separated or a JSON array
  (\`FORECASTD_MQTT_TOPICS='sensors/{stream}/{value},sensors/{stream}'\`)
- webhooks: \`--webhook URL\` per webhook; \`FORECASTD_WEBHOOKS\` holds comma-separated URLs or a JSON
  array of \`{"url", "secret", "streams"}\` objects
- an empty variable counts as unset; an unknown \`FORECASTD_*\` variable or flag is an error
- a value starting with \`-\` is given as \`--flag=value\`

Prefer \`FORECASTD_MQTT_PASSWORD\` or the file to \`--mqtt-password\`: a command line is visible to
every user of the machine.

Relative paths (\`dataDir\`, the TLS files) are relative to the working directory. The Deno KV file is
\`<dataDir>/forecastd.kv\`, unless \`--kv-url\` names a KV Connect server
([clustering.md](clustering.md#deno-kv-on-a-kv-connect-server)).

## When the configuration is wrong

forecastd does not start (exit status 2) and lists every problem at once, each with the option,
where its value came from and the value:

\`\`\`text
$ cat forecastd.json
${JSON.stringify(WRONG.file)}
$ ${Object.entries(WRONG.env).map(([k, v]) => `${k}=${v}`).join(" ")} forecastd serve ${
    WRONG.args.join(" ")
  }
${wrong}
\`\`\`

Unknown names get a suggestion when a known one is close; secrets are masked in these messages too.
`;
}

/** A Markdown table with its columns padded, as `deno fmt` writes it. */
function table(head: string[], rows: string[][]): string {
  const cells = [head, ...rows].map((r) => r.map((c) => c.replaceAll("|", "\\|")));
  const widths = head.map((_, k) => Math.max(3, ...cells.map((r) => r[k].length)));
  const line = (r: string[]) => `| ${r.map((c, k) => c.padEnd(widths[k])).join(" | ")} |`;
  return [
    line(cells[0]),
    line(widths.map((w) => "-".repeat(w))),
    ...cells.slice(1).map(line),
  ].join("\n");
}

if (import.meta.main) {
  const url = new URL(`../../${CONFIG_DOC_PATH}`, import.meta.url);
  Deno.writeTextFileSync(url, formatConfigDoc());
  console.log(`forecastd: wrote ${CONFIG_DOC_PATH}`);
}
