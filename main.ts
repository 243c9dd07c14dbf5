/**
 * forecastd: online forecasting and anomaly alerts for IoT gateways.
 *
 * Wiring only: reads the command and runs it from src/cli/ (serve, the
 * default; export and import of a stream's model; the offline demo; replay;
 * token; version; help), then turns what it returned or threw into an exit status:
 * 0 on success, 2 for a mistake the user can fix (printed without a stack),
 * 1 otherwise.
 */
import { ConfigError } from "./src/config/mod.ts";
import { DataDirBusyError } from "./src/data_dir.ts";
import { demoCommand } from "./src/cli/demo.ts";
import { exportCommand } from "./src/cli/export.ts";
import { helpCommand } from "./src/cli/help.ts";
import { importCommand } from "./src/cli/import.ts";
import { replayCommand } from "./src/cli/replay.ts";
import { serve } from "./src/cli/serve.ts";
import { tokenCommand } from "./src/cli/token.ts";
import { UsageError } from "./src/cli/usage_error.ts";
import { versionCommand } from "./src/cli/version.ts";

/** The commands by name; `forecastd` alone or with options only runs serve. */
const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  serve,
  export: exportCommand,
  import: importCommand,
  demo: demoCommand,
  replay: replayCommand,
  token: tokenCommand,
  version: versionCommand,
  help: helpCommand,
};

/** Runs the command of `args`; resolves with the exit status. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command.startsWith("-")) return await serve(args);
  if (!Object.hasOwn(COMMANDS, command)) {
    throw new UsageError(
      `Cannot run forecastd: the command must be one of ${Object.keys(COMMANDS).join(", ")}: ` +
        `current value is ${JSON.stringify(command)} (forecastd help lists them)`,
    );
  }
  return await COMMANDS[command](rest);
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof DataDirBusyError) {
      console.error(e.message);
      Deno.exit(2);
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      console.error(`Cannot run forecastd: ${e.message}`);
      Deno.exit(2);
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    Deno.exit(1);
  }
}
