/**
 * How the daemon stops on SIGINT and SIGTERM:
 *
 * - the first signal starts the graceful shutdown (sources stop, requests
 *   in flight finish, the final checkpoint, KV closed), under a hard-exit
 *   timer;
 * - a second one is logged and ignored, so the final checkpoint is not
 *   skipped: `npx deno task start` passes Ctrl-C on to Deno once more (npm
 *   forwards the signal to its child, which the terminal already signalled),
 *   and so do other wrappers;
 * - a third one exits at once, without the final checkpoint.
 *
 * A signal within `repeatMs` of the one before is the same press passed on
 * by another wrapper, not a new one: it is logged and not counted.
 */
import type { Logger } from "../log.ts";

/** Shutdown must finish within this, or the process exits anyway (default of `--shutdown-timeout`). */
export const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Of which `server.shutdown()` may take this much (open SSE/WebSocket clients). */
export const HTTP_SHUTDOWN_TIMEOUT_MS = 3_000;
/** Signals closer together than this are one press of Ctrl-C passed on by wrappers. */
export const SIGNAL_REPEAT_MS = 250;

/** Where the signals come from and what exiting is; the defaults are Deno's. */
export interface SignalOptions {
  /** Registers a listener; default `Deno.addSignalListener`. */
  listen?: (signal: Deno.Signal, fn: () => void) => void;
  /** Exits the process; default `Deno.exit`. */
  exit?: (code: number) => void;
  /** The clock, ms; default `performance.now`. */
  now?: () => number;
  /** See SIGNAL_REPEAT_MS. */
  repeatMs?: number;
}

/**
 * Starts the hard-exit timer of a shutdown: after `timeoutMs`, logs
 * `shutdown.timeout` with the timeout and what `progress()` says (how far
 * the final save got) and exits with status 1. Returns what clears it.
 */
export function startHardExit(
  log: Logger,
  timeoutMs: number,
  progress: () => Record<string, number>,
  exit: (code: number) => void = (code) => Deno.exit(code),
): () => void {
  const timer = setTimeout(() => {
    log.error("shutdown.timeout", { timeoutMs, ...progress() });
    exit(1);
  }, timeoutMs);
  return () => clearTimeout(timer);
}

/**
 * Resolves with the first SIGINT/SIGTERM; a second is logged and ignored,
 * a third exits with status 130 (see the module comment).
 */
export function waitForSignal(log: Logger, options: SignalOptions = {}): Promise<Deno.Signal> {
  const listen = options.listen ?? ((s, fn) => Deno.addSignalListener(s, fn));
  const exit = options.exit ?? ((code) => Deno.exit(code));
  const now = options.now ?? (() => performance.now());
  const repeatMs = options.repeatMs ?? SIGNAL_REPEAT_MS;
  return new Promise((resolve) => {
    let count = 0;
    let last = -Infinity;
    const on = (signal: Deno.Signal) => () => {
      const t = now();
      const repeated = t - last < repeatMs;
      last = t;
      if (count > 0 && repeated) {
        log.info("shutdown.signal_repeated", { signal, withinMs: repeatMs });
        return;
      }
      count++;
      if (count === 1) {
        resolve(signal);
      } else if (count === 2) {
        log.warn("shutdown.signal_ignored", {
          signal,
          hint: "shutting down: the final checkpoint is being saved; a third signal exits " +
            "at once without it",
        });
      } else {
        log.warn("shutdown.forced", { signal });
        exit(130);
      }
    };
    listen("SIGINT", on("SIGINT"));
    if (Deno.build.os !== "windows") listen("SIGTERM", on("SIGTERM"));
  });
}
