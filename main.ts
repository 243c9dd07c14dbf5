/**
 * forecastd: online forecasting and anomaly alerts for IoT gateways.
 *
 * Wiring only: reads the command and runs it from src/cli/ (serve, the
 * default; export and import of a stream's model; the clients of a running
 * daemon: streams, forecast, alerts, ack; the offline demo; replay; token;
 * version; help), then turns what it returned or threw into an exit status:
 * 0 on success, 2 for a mistake the user can fix (printed without a stack),
 * 1 otherwise.
 *
 * Each command's module is loaded when it runs, so a command loads only
 * what it uses: the offline demo needs no permission at all, and a command
 * run without a permission it needs says which, and the command line that
 * grants it (src/cli/command_permissions.ts).
 */
import { ConfigError } from "./src/config/mod.ts";
import { DataDirBusyError } from "./src/data_dir.ts";
import { ApiError } from "./src/cli/api_client.ts";
import { missingPermissionMessage } from "./src/cli/command_permissions.ts";
import { UsageError } from "./src/cli/usage_error.ts";

type Command = (args: string[]) => number | Promise<number>;

/** The commands by name; `forecastd` alone or with options only runs serve. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import("./src/cli/serve.ts")).serve,
  export: async () => (await import("./src/cli/export.ts")).exportCommand,
  import: async () => (await import("./src/cli/import.ts")).importCommand,
  streams: async () => (await import("./src/cli/streams.ts")).streamsCommand,
  forecast: async () => (await import("./src/cli/forecast.ts")).forecastCommand,
  alerts: async () => (await import("./src/cli/alerts.ts")).alertsCommand,
  ack: async () => (await import("./src/cli/ack.ts")).ackCommand,
  demo: async () => (await import("./src/cli/demo.ts")).demoCommand,
  replay: async () => (await import("./src/cli/replay.ts")).replayCommand,
  token: async () => (await import("./src/cli/token.ts")).tokenCommand,
  version: async () => (await import("./src/cli/version.ts")).versionCommand,
  help: async () => (await import("./src/cli/help.ts")).helpCommand,
};

/** Runs the command of `args`; resolves with the exit status. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command.startsWith("-")) return await (await COMMANDS.serve())(args);
  if (!Object.hasOwn(COMMANDS, command)) {
    throw new UsageError(
      `Cannot run forecastd: the command must be one of ${Object.keys(COMMANDS).join(", ")}: ` +
        `current value is ${JSON.stringify(command)} (forecastd help lists them)`,
    );
  }
  return await (await COMMANDS[command]())(rest);
}

/** The environment, as far as this process may read it. */
function readableEnv(): Record<string, string> {
  return Deno.permissions.querySync({ name: "env" }).state === "granted" ? Deno.env.toObject() : {};
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof DataDirBusyError) {
      console.error(e.message);
      Deno.exit(2);
    }
    if (e instanceof ApiError) {
      console.error(e.message);
      Deno.exit(e.exitStatus);
    }
    if (e instanceof Deno.errors.NotCapable) {
      console.error(missingPermissionMessage({
        args: Deno.args,
        env: readableEnv(),
        readFile: Deno.readTextFileSync,
      }, e));
      Deno.exit(2);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      // the operating system's refusal (a file's owner or mode), not Deno's
      console.error(`Cannot run forecastd: ${e.message}`);
      Deno.exit(2);
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    Deno.exit(1);
  }
}
