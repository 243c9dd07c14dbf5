/**
 * Waiting for something at most so long: the one timeout race of forecastd
 * (closing an MQTT client, the demo's backlog, the HTTP server's shutdown).
 *
 * ```ts
 * if (!await resolvesWithin(server.shutdown(), 3000)) log.warn("http.shutdown_timeout");
 * ```
 */

/**
 * Resolves with true when `promise` resolves within `ms` milliseconds, with
 * false when the time runs out first (`promise` is left to finish on its
 * own); rejects with `promise`'s error when it rejects first. The timer is
 * always cleared, so nothing is left pending.
 */
export async function resolvesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
