/**
 * The process never ends on a rejected promise that nobody handled (Deno's
 * default is to exit with status 1, which took the whole daemon and every
 * stream's unsaved readings down with one failed save).
 */
import type { Logger } from "../log.ts";

/**
 * Keeps a rejected promise that nobody handled from ending the process:
 * each is logged (`process.unhandled_rejection`) and counted by `count`, and
 * the daemon goes on. Returns a function that removes the guard.
 */
export function guardUnhandledRejections(log: Logger, count: () => void): () => void {
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    count();
    log.error("process.unhandled_rejection", { error: e.reason });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () => globalThis.removeEventListener("unhandledrejection", onRejection);
}
