/**
 * Server-Sent Events of stored alerts (`GET /v1/alerts/events`).
 *
 * Each alert is one event whose id is the alert's id, so a reconnecting
 * client (EventSource sends `Last-Event-ID` by itself) resumes after the last
 * alert it saw:
 *
 *   id: 0000000000000042
 *   event: alert
 *   data: {"id":"0000000000000042","stream":"boiler","type":"opened",...}
 *
 * A comment line (`: ping`) every `heartbeatMs` keeps proxies from closing an
 * idle connection and lets the server notice a client that went away. A
 * client that stops reading is dropped once `maxQueued` events wait for it.
 */
import type { StoredAlert } from "../domain/alert.ts";
import type { Logger } from "../log.ts";
import type { AlertSource } from "./alert_source.ts";
import { type AlertFeed, openAlertFeed } from "./alert_feed.ts";

/** How an SSE alert stream runs. */
export interface SseOptions {
  /** Resume after this alert id (16 digits); null: live only. */
  after: string | null;
  /** Only these streams' alerts; null: all. */
  streams: ReadonlySet<string> | null;
  /** Comment heartbeat interval, ms. Default 15,000. */
  heartbeatMs?: number;
  /** Events queued for a slow client before it is dropped. Default 1,000. */
  maxQueued?: number;
  /** Ends the stream when aborted (daemon shutdown). */
  signal?: AbortSignal;
  /** Reconnection delay the client is told (`retry:`), ms. Default 3,000. */
  retryMs?: number;
}

/** One alert as an SSE event. */
export function formatSseEvent(e: StoredAlert): string {
  // JSON.stringify escapes newlines inside strings, so `data` is one line
  return `id: ${e.id}\nevent: alert\ndata: ${JSON.stringify(e)}\n\n`;
}

/** The `text/event-stream` response of an alert feed. */
export function alertEventStream(
  source: AlertSource,
  log: Logger,
  opts: SseOptions,
): Response {
  const encoder = new TextEncoder();
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxQueued = opts.maxQueued ?? 1000;
  let cleanup = () => {};

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      // made below; `end` may run first (an aborted signal)
      const live: { feed?: AlertFeed; timer?: ReturnType<typeof setInterval> } = {};
      const end = (close: boolean) => {
        if (!open) return;
        open = false;
        clearInterval(live.timer);
        live.feed?.close();
        opts.signal?.removeEventListener("abort", onAbort);
        log.debug("sse.closed", { subscribers: source.subscribers });
        if (close) {
          try {
            controller.close();
          } catch { /* already cancelled */ }
        }
      };
      const onAbort = () => end(true);
      cleanup = () => end(false);
      const write = (text: string) => {
        if (!open) return;
        if ((controller.desiredSize ?? 0) < -maxQueued) {
          log.warn("sse.client_too_slow", { queued: -(controller.desiredSize ?? 0) });
          end(true);
          return;
        }
        controller.enqueue(encoder.encode(text));
      };

      write(`retry: ${opts.retryMs ?? 3000}\n: forecastd alerts\n\n`);
      live.feed = openAlertFeed(
        source,
        { after: opts.after, streams: opts.streams },
        (e) => write(formatSseEvent(e)),
        (err) => {
          log.error("sse.replay_failed", { error: err });
          end(true);
        },
      );
      live.timer = setInterval(() => write(": ping\n\n"), heartbeatMs);
      if (opts.signal?.aborted) end(true);
      else opts.signal?.addEventListener("abort", onAbort, { once: true });
      log.debug("sse.opened", { after: opts.after, subscribers: source.subscribers });
    },
    // the client went away (Deno.serve cancels the body), or the app dropped the response
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
