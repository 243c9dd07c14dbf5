/**
 * The launcher behind `deno task start` (and `demo`, `export`, `import`):
 * runs `deno run <permissions> main.ts <args>` with exactly the permissions
 * the command needs (command_permissions.ts), so that `deno task start
 * --data-dir /var/lib/forecastd` works for any directory without the daemon
 * being allowed to write anything else.
 *
 * It reads the configuration as the command will (flags, FORECASTD_*
 * variables, the --config file) to learn the data directory and the files,
 * and needs `--allow-read` (the --config file may be anywhere), `--allow-env`
 * and `--allow-run` (the Deno it runs: a task cannot name its path, which is
 * not `deno` on PATH under `npx deno`). It writes nothing and opens no socket.
 *
 * Signals: the daemon (serve) runs in a process group of its own, and the
 * launcher forwards SIGINT and SIGTERM to it, and SIGHUP as SIGTERM (a closed
 * SSH session then stops the daemon cleanly instead of killing it). A Ctrl-C
 * reaches the launcher by several paths at once (the terminal signals the
 * whole foreground group; `deno task` and a Node wrapper such as `npx deno`
 * forward what they get): copies within {@link REPEAT_MS} of a forwarded
 * signal are the same Ctrl-C and are not forwarded again. So one Ctrl-C is one
 * signal to the daemon (a clean shutdown with its final checkpoint), and a
 * second one later is a second (the daemon then exits at once). The other
 * commands stay in the launcher's group, as a shell would run them: they end
 * at the first signal, so a copy does no harm, and they go with the group
 * (Ctrl-C, or a kill of the group) even when the launcher cannot forward
 * (SIGKILL). The launcher exits with the command's status, or 128 + the
 * signal's number when a signal ended it.
 */
import { commandPermissions } from "./command_permissions.ts";
import { UsageError } from "./usage_error.ts";

/** Copies of a signal within this many ms of the last one forwarded are not forwarded. */
export const REPEAT_MS = 300;

/** main.ts, which the launcher runs. */
export const MAIN = decodeURIComponent(new URL("../../main.ts", import.meta.url).pathname);
/** The project's deno.json (its imports), named so that any working directory will do. */
const DENO_JSON = decodeURIComponent(new URL("../../deno.json", import.meta.url).pathname);

/** The numbers of the signals a command may end with, for the exit status. */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
};

/** How a launch runs. */
export interface LaunchOptions {
  /** The Deno to run. Default: this one (`Deno.execPath()`). */
  deno?: string;
  /** The variables the configuration is read from. Default: this process's environment. */
  env?: Record<string, string | undefined>;
  /** Reads the --config file. Default: Deno.readTextFileSync. */
  readFile?: (path: string) => string;
}

/** The `deno run` arguments that run main.ts `args` with its command's permissions. */
export function launchArgs(
  args: readonly string[],
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): string[] {
  const { flags } = commandPermissions({ args, env, readFile });
  return runArguments(flags, args);
}

function runArguments(flags: readonly string[], args: readonly string[]): string[] {
  return ["run", `--config=${DENO_JSON}`, ...flags, MAIN, ...args];
}

/** Runs main.ts `args` with its command's permissions; resolves with the exit status. */
export async function launch(args: readonly string[], opts: LaunchOptions = {}): Promise<number> {
  const { flags, daemon } = commandPermissions({
    args,
    env: opts.env ?? Deno.env.toObject(),
    readFile: opts.readFile ?? Deno.readTextFileSync,
  });
  const child = new Deno.Command(opts.deno ?? Deno.execPath(), {
    args: runArguments(flags, args),
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    // the daemon in a process group of its own: a signal reaches it from here only, once
    detached: daemon,
  }).spawn();

  let last = -Infinity;
  const forward = (signal: Deno.Signal) => () => {
    const now = performance.now();
    if (now - last < REPEAT_MS) return;
    last = now;
    try {
      child.kill(signal === "SIGHUP" ? "SIGTERM" : signal);
    } catch { /* it has just ended */ }
  };
  const listeners: [Deno.Signal, () => void][] = Deno.build.os === "windows"
    ? [["SIGINT", forward("SIGINT")]]
    : [
      ["SIGINT", forward("SIGINT")],
      ["SIGTERM", forward("SIGTERM")],
      ["SIGHUP", forward("SIGHUP")],
    ];
  for (const [signal, fn] of listeners) Deno.addSignalListener(signal, fn);
  try {
    const status = await child.status;
    if (status.signal !== null) return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
    return status.code;
  } finally {
    for (const [signal, fn] of listeners) Deno.removeSignalListener(signal, fn);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await launch(Deno.args));
  } catch (e) {
    // a path Deno's permission flags cannot hold: the user's to fix, as in main.ts
    if (e instanceof UsageError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
}
