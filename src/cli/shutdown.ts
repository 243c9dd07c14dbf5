/**
 * How the daemon stops: on the first SIGINT or SIGTERM, gracefully, under a
 * hard-exit timer; on a second signal, at once.
 */
import type { Logger } from "../log.ts";

/** Shutdown must finish within this, or the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Of which `server.shutdown()` may take this much (open SSE/WebSocket clients). */
export const HTTP_SHUTDOWN_TIMEOUT_MS = 3_000;

/** Resolves with the first SIGINT/SIGTERM; a second one exits at once. */
export function waitForSignal(log: Logger): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    let received = false;
    const on = (signal: Deno.Signal) => () => {
      if (received) {
        log.warn("shutdown.forced", { signal });
        Deno.exit(130);
      }
      received = true;
      resolve(signal);
    };
    Deno.addSignalListener("SIGINT", on("SIGINT"));
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", on("SIGTERM"));
  });
}
