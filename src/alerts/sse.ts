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
 * idle connection and lets the server notice a client that went away.
 *
 * What waits for a client is bounded in bytes (slow_client_guard.ts): a
 * client with more than `maxQueuedBytes` queued, or whose queue has not been
 * empty for `drainTimeoutMs`, is dropped (its queue discarded, the
 * connection closed) and `sse.client_too_slow` is logged with the reason.
 * The replay of stored alerts goes at the pace the client reads.
 */
import type { StoredAlert } from "../domain/alert.ts";
import type { Logger } from "../log.ts";
import type { AlertSource } from "./alert_source.ts";
import { type AlertFeed, openAlertFeed } from "./alert_feed.ts";
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_BYTES,
  SlowClientGuard,
} from "./slow_client_guard.ts";

/** How an SSE alert stream runs. */
export interface SseOptions {
  /** Resume after this alert id (16 digits); null: live only. */
  after: string | null;
  /** Only these streams' alerts; null: all. */
  streams: ReadonlySet<string> | null;
  /** Comment heartbeat interval, ms. Default 15,000. */
  heartbeatMs?: number;
  /** Bytes queued for a client before it is dropped. Default 1 MiB (DEFAULT_MAX_QUEUED_BYTES). */
  maxQueuedBytes?: number;
  /** How long a client's queue may stay non-empty before it is dropped, ms. Default 30,000. */
  drainTimeoutMs?: number;
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
  let cleanup = () => {};

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      // made below; `end` may run first (an aborted signal)
      const live: { feed?: AlertFeed; timer?: ReturnType<typeof setInterval> } = {};
      // the bytes queued in the stream: its desired size counts down from 0 (size = bytes)
      const guard = new SlowClientGuard(
        () => Math.max(0, -(controller.desiredSize ?? 0)),
        {
          maxBytes: opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
          drainTimeoutMs: opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
        },
        (why) => {
          log.warn("sse.client_too_slow", { ...why });
          end(
            "drop",
            `Cannot send alerts: an SSE client must read them (at most ${why.limit} bytes queued, ` +
              `emptied within ${why.timeoutMs} ms): current value is ${why.reason}, ${why.queued} bytes queued`,
          );
        },
      );
      // close: the end of the stream after what is queued; drop: the queue discarded
      const end = (how: "close" | "drop" | "cancelled", why = "") => {
        if (!open) return;
        open = false;
        clearInterval(live.timer);
        guard.stop();
        live.feed?.close();
        opts.signal?.removeEventListener("abort", onAbort);
        log.debug("sse.closed", { subscribers: source.subscribers });
        try {
          if (how === "close") controller.close();
          // an error discards the queue and makes the server cut the connection
          else if (how === "drop") {
            controller.error(new Error(why));
          }
        } catch { /* already cancelled */ }
      };
      const onAbort = () => end("close");
      cleanup = () => end("cancelled");
      const write = (text: string) => {
        if (!open) return;
        controller.enqueue(encoder.encode(text));
        guard.check();
      };

      write(`retry: ${opts.retryMs ?? 3000}\n: forecastd alerts\n\n`);
      live.feed = openAlertFeed(
        source,
        { after: opts.after, streams: opts.streams, room: () => guard.room() },
        (e) => write(formatSseEvent(e)),
        (err) => {
          log.error("sse.replay_failed", { error: err });
          end("close");
        },
      );
      live.timer = setInterval(() => write(": ping\n\n"), heartbeatMs);
      if (opts.signal?.aborted) end("close");
      else opts.signal?.addEventListener("abort", onAbort, { once: true });
      log.debug("sse.opened", { after: opts.after, subscribers: source.subscribers });
    },
    // the client went away (Deno.serve cancels the body), or the app dropped the response
    cancel() {
      cleanup();
    },
  }, { highWaterMark: 0, size: (chunk) => chunk.byteLength });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
