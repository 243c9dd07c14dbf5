/**
 * The live alerts of a daemon for `forecastd alerts --follow`: its
 * Server-Sent Events feed (`GET /v1/alerts/events`), resumed after a dropped
 * connection where it broke off. Every connection sends the id of the last
 * alert received as `Last-Event-ID`, so the daemon replays the alerts stored
 * since before the live ones: none is lost while the connection was down
 * (a daemon restarting, a network glitch), and none comes twice.
 */
import type { StoredAlert } from "../domain/alert.ts";
import { type ApiClient, ApiError } from "./api_client.ts";
import { sseEvents } from "./sse_events.ts";

/** What followAlerts needs; the delays have defaults. */
export interface FollowAlertsOptions {
  client: ApiClient;
  /** Only this stream's alerts. Default: every stream's. */
  stream?: string;
  /** The alert id to resume after (`"0"` replays every stored alert), or null for live ones only. */
  after: string | null;
  /** Called with each alert, in id order. */
  onAlert(alert: StoredAlert): void;
  /** Called when a connection is lost or cannot be made, before the wait to retry. */
  onRetry?(reason: string, waitMs: number): void;
  /** Called when a connection is open (the first, and each after a retry). */
  onConnected?(): void;
  /** Ends the following. Default: never. */
  signal?: AbortSignal;
  /** First wait before a retry, ms; doubled after each failed attempt. Default 1,000. */
  retryMs?: number;
  /** Longest wait before a retry, ms. Default 30,000. */
  maxRetryMs?: number;
}

const ACTION = "Cannot follow alerts";

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/**
 * Follows the alerts until `signal` aborts. A refusal the user must fix (a
 * 4xx answer: no token, an unknown stream) rejects; a connection that drops
 * or cannot be made is retried, with waits growing from `retryMs` to
 * `maxRetryMs` and back to `retryMs` once a connection opens.
 */
export async function followAlerts(opts: FollowAlertsOptions): Promise<void> {
  const first = opts.retryMs ?? 1_000;
  const most = opts.maxRetryMs ?? 30_000;
  let last = opts.after === null ? null : opts.after.padStart(16, "0");
  let wait = first;
  const query = opts.stream === undefined ? "" : `?stream=${encodeURIComponent(opts.stream)}`;
  while (!opts.signal?.aborted) {
    let reason: string;
    try {
      const res = await opts.client.request(ACTION, "GET", `/v1/alerts/events${query}`, {
        headers: {
          accept: "text/event-stream",
          ...(last === null ? {} : { "last-event-id": last }),
        },
        signal: opts.signal,
      });
      opts.onConnected?.();
      wait = first;
      for await (const e of sseEvents(res.body!)) {
        if (e.event !== "alert" && e.event !== "message") continue;
        const alert = JSON.parse(e.data) as StoredAlert;
        // ids are 16 digits: text order is id order; an id seen already is not shown again
        if (last !== null && alert.id <= last) continue;
        last = alert.id;
        opts.onAlert(alert);
      }
      reason = "the daemon closed the connection";
    } catch (e) {
      if (opts.signal?.aborted) return;
      if (e instanceof ApiError && e.status !== null && e.status < 500) throw e;
      reason = e instanceof Error ? e.message : String(e);
    }
    if (opts.signal?.aborted) return;
    opts.onRetry?.(reason, wait);
    await pause(wait, opts.signal);
    wait = Math.min(most, wait * 2);
  }
}
