/**
 * The options every command-line client shares (`forecastd streams`,
 * `forecast`, `alerts`, `ack`): where the daemon is, the token, JSON output,
 * help; and the width their tables fit.
 */
import { type ParseArgsOptionsConfig } from "node:util";
import { TOKEN_VARIABLE, URL_VARIABLE } from "../config/client_variables.ts";
import { ApiClient } from "./api_client.ts";
import { argTokens } from "./args.ts";
import { UsageError } from "./usage_error.ts";

/** The daemon's address when neither --url nor FORECASTD_URL names one. */
export const DEFAULT_URL = "http://127.0.0.1:8080";

/** The options of every client, for parseArgs. */
export const CLIENT_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

/** The help lines of {@link CLIENT_OPTIONS}. */
export const CLIENT_OPTIONS_HELP =
  `  --url URL       the daemon's API (env ${URL_VARIABLE}, default ${DEFAULT_URL})
  --token TOKEN   API token, sent as Authorization: Bearer (env ${TOKEN_VARIABLE}; prefer the
                  variable: a command line is visible to other users of the machine)
  --json          JSON for scripts instead of the table
  -h, --help      print this help`;

/** The clients' variables from the environment (only these two are read). */
export function clientEnv(): Record<string, string | undefined> {
  return {
    [URL_VARIABLE]: Deno.env.get(URL_VARIABLE),
    [TOKEN_VARIABLE]: Deno.env.get(TOKEN_VARIABLE),
  };
}

/** The client options as parsed. */
export interface ClientValues {
  url?: string;
  token?: string;
}

/** The daemon's URL from --url, else FORECASTD_URL, else the default; checked. */
export function clientUrl(
  action: string,
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const fromEnv = env[URL_VARIABLE];
  const [text, source] = flag !== undefined
    ? [flag, "--url"]
    : fromEnv !== undefined && fromEnv !== ""
    ? [fromEnv, URL_VARIABLE]
    : [DEFAULT_URL, "the default URL"];
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch { /* refused below */ }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new UsageError(
      `${action}: ${source} must be an http:// or https:// URL of forecastd's API: ` +
        `current value is ${JSON.stringify(text)}`,
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw new UsageError(
      `${action}: ${source} must name the API without a query or fragment: ` +
        `current value is ${JSON.stringify(text)}`,
    );
  }
  return url.href.replace(/\/+$/, "");
}

/** The client of the daemon the options name. */
export function apiClient(
  action: string,
  values: ClientValues,
  env: Readonly<Record<string, string | undefined>>,
): ApiClient {
  const fromEnv = env[TOKEN_VARIABLE];
  const token = values.token ?? (fromEnv === undefined || fromEnv === "" ? null : fromEnv);
  if (token !== null && !/^\S+$/.test(token)) {
    throw new UsageError(
      `${action}: the API token must be one word without spaces: current value has ` +
        `${token.length} characters`,
    );
  }
  return new ApiClient({ url: clientUrl(action, values.url, env), token });
}

/**
 * The `host:port` the client arguments `args` connect to (what Deno's
 * --allow-net takes), or null when they name no valid URL (the command then
 * says so itself).
 */
export function clientAddress(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  let flag: string | undefined;
  for (const t of argTokens(args, CLIENT_OPTIONS)) {
    if (t.kind === "option" && t.name === "url") flag = t.value;
  }
  let url: URL;
  try {
    url = new URL(clientUrl("", flag, env));
  } catch {
    return null;
  }
  const port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
  return `${url.hostname}:${port}`;
}

/** The width a client's tables fit: the terminal's, or 80 columns when the output is not one. */
export function outputWidth(): number {
  if (!Deno.stdout.isTerminal()) return 80;
  try {
    return Math.max(40, Deno.consoleSize().columns);
  } catch {
    return 80;
  }
}
