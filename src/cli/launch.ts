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
 *
 * Under `npx deno` (npm exec), npm runs `sh -c "deno task start"` and passes
 * a SIGTERM to that shell alone, which dies of it without passing it on:
 * `deno task` and the daemon would be left running. So there the launcher
 * watches that shell ({@link watchWrapper}) and, once it is gone, stops the
 * daemon as on SIGTERM.
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

/** Runs `cmd args`, quiet; resolves with its status and stdout, or null when it is not installed. */
async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string } | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdin: "null", stderr: "null" }).output();
    return { ok: out.success, out: new TextDecoder().decode(out.stdout).trim() };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Under npm exec (`npm_command` is "exec", as npx sets it), calls `stop` once
 * npm's shell (the parent of `deno task`, this launcher's parent) has ended.
 * Deno may not read /proc without --allow-all, so `ps` names the shell and
 * GNU `tail --pid` waits for it; without them, or elsewhere, nothing is
 * watched. Returns a function that ends the watch.
 */
export async function watchWrapper(
  env: Record<string, string | undefined>,
  stop: () => void,
): Promise<() => void> {
  if (env.npm_command !== "exec" || Deno.build.os === "windows") return () => {};
  const ps = await run("ps", ["-o", "ppid=", "-p", String(Deno.ppid)]);
  const shell = Number(ps?.out);
  if (!ps?.ok || !Number.isInteger(shell) || shell <= 1) return () => {};
  let tail: Deno.ChildProcess;
  try {
    tail = new Deno.Command("tail", {
      args: [`--pid=${shell}`, "-f", "/dev/null"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return () => {};
    throw e;
  }
  tail.unref();
  let watching = true;
  tail.status.then((status) => {
    if (watching && status.success) stop(); // the shell is gone (not: tail itself was signalled)
  });
  return () => {
    watching = false;
    try {
      tail.kill("SIGTERM");
    } catch { /* it has ended */ }
  };
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
  const env = opts.env ?? Deno.env.toObject();
  const { flags, daemon } = commandPermissions({
    args,
    env,
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
  const unwatch = daemon ? await watchWrapper(env, forward("SIGTERM")) : () => {};
  try {
    const status = await child.status;
    if (status.signal !== null) return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
    return status.code;
  } finally {
    unwatch();
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
