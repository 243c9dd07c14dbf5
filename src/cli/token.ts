/**
 * `forecastd token`: makes an API token and prints it with the line that
 * configures forecastd with its hash. The token goes to the client; the
 * daemon keeps only the hash, so the token is shown once.
 */
import { type Role, ROLES } from "../auth/api_tokens.ts";
import { createToken, hashToken } from "../auth/token_hash.ts";
import { print } from "../log.ts";
import { parseCommandArgs } from "./args.ts";
import { UsageError } from "./usage_error.ts";

/** The command's help. */
export const TOKEN_HELP = `Usage: forecastd token [--role read|write]

Makes a random API token and prints it, then its hash as forecastd is configured with it
(--api-token ROLE:HASH, FORECASTD_API_TOKENS or "apiTokens" in the configuration file).
Give the token to the client, which sends it as Authorization: Bearer <token>; forecastd keeps
only the hash, so the token is not shown again.

Options:
  --role ROLE   read (streams, forecasts, alerts, metrics) or write (also readings, stream
                changes, acknowledgements); default write
`;

/** Prints a new token and its configuration line; returns the exit status. */
export function tokenCommand(args: string[]): number {
  const { values } = parseCommandArgs("Cannot make a token", {
    args,
    options: { help: { type: "boolean", short: "h" }, role: { type: "string" } },
    strict: true,
    allowPositionals: false,
  }, TOKEN_HELP);
  if (values.help) {
    print(TOKEN_HELP);
    return 0;
  }
  const role = values.role ?? "write";
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new UsageError(
      `Cannot make a token: --role must be read or write: current value is ${JSON.stringify(role)}`,
    );
  }
  const token = createToken();
  const spec = `${role as Role}:${hashToken(token)}`;
  print(`token: ${token}`);
  print(`api-token: ${spec}`);
  print("");
  print("Give the token to the client (Authorization: Bearer <token>). Configure forecastd with");
  print(`  --api-token ${spec}`);
  print(`or FORECASTD_API_TOKENS=${spec} (comma-separated for several), or in the file:`);
  print(`  "apiTokens": ["${spec}"]`);
  print("forecastd keeps only the hash: the token is not shown again.");
  return 0;
}
