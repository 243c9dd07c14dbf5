/**
 * Alert routes: the stored history, acknowledgement, and the live feeds.
 *
 *   GET  /v1/alerts            ?stream&state&since&until&after&before&limit&order
 *   POST /v1/alerts/{id}/ack
 *   GET  /v1/alerts/events     Server-Sent Events; ?stream=a,b&after=ID, Last-Event-ID
 *   GET  /v1/alerts/ws         WebSocket, one JSON alert per message; ?stream=a,b&after=ID
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { StoredAlert } from "../domain/alert.ts";
import type { Service } from "../service/service.ts";
import type { AppDeps } from "./app.ts";
import { type AlertFeed, openAlertFeed } from "../alerts/alert_feed.ts";
import { alertEventStream } from "../alerts/sse.ts";
import { upgradeWebSocket } from "./websocket.ts";
import { alertIdParam, check, intParam, streamId, streamListParam, timeParam } from "./validate.ts";

/** The query of `GET /v1/alerts` (and, without `stream`, of a stream's anomalies). */
export const alertListQuery = z.strictObject({
  stream: streamId.optional(),
  state: z.string().regex(/^[A-Za-z_]{1,32}$/, {
    error: "must be a state such as open, acknowledged or resolved",
  }).optional(),
  since: timeParam.optional(),
  until: timeParam.optional(),
  after: alertIdParam.optional(),
  before: alertIdParam.optional(),
  limit: intParam(1, 1000).optional(),
  order: z.enum(["asc", "desc"], { error: 'must be "asc" (oldest first) or "desc"' }).optional(),
});

/** One page of alerts and the cursor of the next (`after` for asc, `before` for desc), or null. */
export async function alertPage(
  service: Pick<Service, "listAlerts">,
  q: z.output<typeof alertListQuery>,
): Promise<{ alerts: StoredAlert[]; next: string | null }> {
  const limit = q.limit ?? 100;
  const alerts = await service.listAlerts({
    stream: q.stream,
    state: q.state,
    since: q.since,
    until: q.until,
    after: q.after,
    before: q.before,
    limit,
    reverse: q.order === "desc",
  });
  return { alerts, next: alerts.length === limit ? alerts[alerts.length - 1].id : null };
}

const ackPath = z.strictObject({ id: alertIdParam });

const feedQuery = z.strictObject({
  stream: streamListParam.optional(),
  after: alertIdParam.optional(),
});

/** Alerts queued for a WebSocket client before it is dropped as too slow, bytes. */
const MAX_WS_BUFFERED = 4 * 1024 * 1024;

/** Registers the alert routes on `app`. */
export function alertRoutes(app: Hono, deps: AppDeps): void {
  const { service, log } = deps;

  app.get("/v1/alerts", async (c) => {
    const q = check(alertListQuery, c.req.query(), "list alerts", "query");
    return c.json(await alertPage(service, q));
  });

  app.post("/v1/alerts/:id/ack", async (c) => {
    const { id } = check(ackPath, c.req.param(), "acknowledge alert", "path");
    return c.json(await service.acknowledge(id));
  });

  app.get("/v1/alerts/events", (c) => {
    const action = "open alert stream";
    const q = check(feedQuery, c.req.query(), action, "query");
    // a reconnecting EventSource sends the last id it saw; it wins over ?after
    const header = c.req.header("last-event-id");
    const resume = header === undefined || header.trim() === ""
      ? q.after
      : check(alertIdParam, header.trim(), action, "header");
    return alertEventStream(service, log, {
      after: resume ?? null,
      streams: q.stream ?? null,
      heartbeatMs: deps.heartbeatMs,
      signal: deps.signal,
    });
  });

  app.get("/v1/alerts/ws", (c) => {
    const action = "open alert WebSocket";
    const q = check(feedQuery, c.req.query(), action, "query");
    const { socket, response } = upgradeWebSocket(c.req.raw, action);
    let feed: AlertFeed | undefined;
    socket.onopen = () => {
      feed = openAlertFeed(
        service,
        { after: q.after ?? null, streams: q.stream ?? null },
        (e) => {
          if (socket.readyState !== WebSocket.OPEN) return;
          if (socket.bufferedAmount > MAX_WS_BUFFERED) {
            log.warn("ws.client_too_slow", { buffered: socket.bufferedAmount });
            socket.close(1013, "client too slow: alerts were not read");
            return;
          }
          socket.send(JSON.stringify(e));
        },
        (err) => {
          log.error("ws.replay_failed", { error: err });
          socket.close(1011, "alert replay failed");
        },
      );
      log.debug("ws.alerts_opened", { after: q.after ?? null, subscribers: service.subscribers });
    };
    socket.onclose = () => feed?.close();
    socket.onerror = () => feed?.close();
    return response;
  });
}
