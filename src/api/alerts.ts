/**
 * Alert routes: the stored history, acknowledgement, and the live feeds.
 *
 *   GET  /v1/alerts            ?stream&state&since&until&after&before&limit&order
 *   GET  /v1/alerts/{id}
 *   POST /v1/alerts/{id}/ack   once: a second acknowledgement keeps the first time
 *   GET  /v1/alerts/events     Server-Sent Events; ?stream=a,b&after=ID, Last-Event-ID
 *   GET  /v1/alerts/ws         WebSocket, one JSON alert per message; ?stream=a,b&after=ID
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { StoredAlert } from "../domain/alert.ts";
import type { Logger } from "../log.ts";
import type { AlertSource } from "../alerts/alert_source.ts";
import { type AlertFeed, openAlertFeed } from "../alerts/alert_feed.ts";
import { alertEventStream } from "../alerts/sse.ts";
import { SlowClientGuard, type SlowClientOptions } from "../alerts/slow_client_guard.ts";
import { alertPageSchema, storedAlertSchema } from "./alert_json.ts";
import { errorResponses } from "./errors.ts";
import { action, type ApiEnv, createRouter } from "./router.ts";
import {
  ALERT_ID_RULE,
  alertIdParam,
  intParam,
  streamId,
  streamListParam,
  timeParam,
  tokenParam,
} from "./validate.ts";
import { acceptWebSocket, webSocketResponses } from "./websocket.ts";
import { jsonResponse } from "./json_response.ts";

/** The alerts as the routes use them: the port every channel reads, one alert, acknowledgement. */
export interface AlertsPort extends AlertSource {
  /** A stored alert; a ServiceError (not_found) when there is none. */
  alert(id: string): Promise<StoredAlert>;
  /**
   * Marks a stored alert acknowledged, once (an alert acknowledged before is
   * answered as it is); a ServiceError (not_found) when there is none.
   */
  acknowledge(id: string): Promise<StoredAlert>;
}

/** What the alert routes use. */
export interface AlertsDeps {
  alerts: AlertsPort;
  log: Logger;
  /** Aborted at shutdown: ends the live SSE streams. Default: never. */
  signal?: AbortSignal;
  /** Interval of the SSE comment heartbeat, ms. Default 15,000. */
  heartbeatMs?: number;
  /**
   * What one SSE or WebSocket client may hold queued before it is dropped
   * (slow_client_guard.ts): 1 MiB, or a queue not empty for 30 s, by default.
   */
  slowClients?: SlowClientOptions;
  /** Time a dropped WebSocket client gets to take the close frame before the connection is cut, ms. Default 1,000. */
  closeGraceMs?: number;
}

const TIMES = "(ms or s since 1970, or an RFC 3339 time with a zone)";

/** The states a stored alert is in; the event types are something else. */
export const ALERT_STATES = ["open", "acknowledged", "resolved"] as const;

/** The types of alert events, which a client may give as a state by mistake. */
const EVENT_TYPES: readonly string[] = ["opened", "resolved", "new_normal"];

/**
 * `?state=`: one of ALERT_STATES. An event type given as a state is
 * refused with what it means.
 */
export const alertStateParam = z.enum(ALERT_STATES, {
  error: (issue) =>
    Array.isArray(issue.input)
      ? "must be given once"
      : `must be one of ${ALERT_STATES.join(", ")}${
        EVENT_TYPES.includes(String(issue.input))
          ? ` (${issue.input} is a type of alert event, not a state: an opened event is ` +
            "open until it is acknowledged; resolved and new_normal events are resolved)"
          : ""
      }`,
}).meta({
  description: "open (an opened alert not acknowledged), acknowledged, or resolved (the " +
    "resolved and new_normal events)",
});

/** The query of `GET /v1/alerts` (and, without `stream`, of a stream's anomalies). */
export const alertListQuery = z.strictObject({
  stream: streamId.optional(),
  state: alertStateParam.optional(),
  since: timeParam.optional().meta({ description: `Only alerts at or after this time ${TIMES}` }),
  until: timeParam.optional().meta({ description: `Only alerts before this time ${TIMES}` }),
  after: alertIdParam.optional().meta({ description: "Only alerts after this id" }),
  before: alertIdParam.optional().meta({ description: "Only alerts before this id" }),
  limit: intParam(1, 1000).optional().meta({ description: "At most this many (default 100)" }),
  order: z.enum(["asc", "desc"], { error: 'must be "asc" (oldest first) or "desc"' })
    .optional().meta({ description: "asc: oldest first (default); desc: newest first" }),
});

/** One page of alerts and the cursor of the next (`after` for asc, `before` for desc), or null. */
export async function alertPage(
  alerts: Pick<AlertSource, "listAlerts">,
  q: z.output<typeof alertListQuery>,
): Promise<z.infer<typeof alertPageSchema>> {
  const limit = q.limit ?? 100;
  const page = await alerts.listAlerts({
    stream: q.stream,
    state: q.state,
    since: q.since,
    until: q.until,
    after: q.after,
    before: q.before,
    limit,
    reverse: q.order === "desc",
  });
  return { alerts: page, next: page.length === limit ? page[page.length - 1].id : null };
}

const feedQuery = z.strictObject({
  stream: streamListParam.optional().meta({ description: "Only these streams' alerts" }),
  after: alertIdParam.optional().meta({ description: "Replay the stored alerts after this id" }),
  token: tokenParam.optional(),
});

/** `Last-Event-ID`, sent by a reconnecting EventSource: blank is as if absent. */
const lastEventIdHeader = z.object({
  "last-event-id": z.string().refine((s) => s.trim() === "" || /^[0-9]{1,16}$/.test(s.trim()), {
    error: `must be ${ALERT_ID_RULE}`,
  }).transform((s) => s.trim() === "" ? undefined : s.trim().padStart(16, "0")).optional()
    .meta({
      type: "string",
      description: "The last alert id the client saw (wins over ?after)",
      examples: ["0000000000000042"],
    }),
});

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["alerts"],
  summary: "The stored alerts, filtered and paged",
  middleware: [action("list alerts")] as const,
  request: { query: alertListQuery },
  responses: {
    200: jsonResponse("A page of alerts", alertPageSchema),
    ...errorResponses(400),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["alerts"],
  summary: "One stored alert",
  description: "What a client polls to see an alert acknowledged elsewhere.",
  middleware: [action("get alert")] as const,
  request: { params: z.strictObject({ id: alertIdParam }) },
  responses: {
    200: jsonResponse("The alert", storedAlertSchema),
    ...errorResponses(400, 404),
  },
});

const ackRoute = createRoute({
  method: "post",
  path: "/{id}/ack",
  tags: ["alerts"],
  summary: "Acknowledge an alert",
  description: "Sets `state` to acknowledged and `acknowledgedAt`. Acknowledging an alert " +
    "again answers it as it is: `acknowledgedAt` stays the time of the first acknowledgement.",
  middleware: [action("acknowledge alert")] as const,
  request: { params: z.strictObject({ id: alertIdParam }) },
  responses: {
    200: jsonResponse("The alert, acknowledged", storedAlertSchema),
    ...errorResponses(400, 404),
  },
});

const eventsRoute = createRoute({
  method: "get",
  path: "/events",
  tags: ["alerts"],
  summary: "Live alerts as Server-Sent Events",
  description: "Each alert is one event: `id: <alert id>`, `event: alert`, `data: <StoredAlert " +
    "as JSON>`; a `: ping` comment keeps the connection alive. A reconnecting client resumes " +
    "after the last id it saw (`Last-Event-ID`, or `?after=`): the stored alerts since are " +
    "replayed, then the live ones follow.",
  middleware: [action("open alert stream")] as const,
  request: { query: feedQuery, headers: lastEventIdHeader },
  responses: {
    200: {
      description: "The event stream (it stays open)",
      content: {
        "text/event-stream": {
          schema: z.string().meta({
            description: "Server-Sent Events; each `data` is a StoredAlert",
            examples: [
              'id: 0000000000000042\nevent: alert\ndata: {"id":"0000000000000042",...}\n\n',
            ],
          }),
        },
      },
    },
    ...errorResponses(400),
  },
});

const wsRoute = createRoute({
  method: "get",
  path: "/ws",
  tags: ["alerts"],
  summary: "Live alerts over a WebSocket",
  description: "After the upgrade the server sends each alert as one text message, a " +
    "StoredAlert as JSON (#/components/schemas/StoredAlert): first the stored ones after " +
    "`?after=`, then the live ones, at the pace the client reads. A client that does not read " +
    "(over 1 MiB queued, or a queue not empty for 30 s) is closed with 1013.",
  middleware: [action("open alert WebSocket")] as const,
  request: { query: feedQuery },
  responses: webSocketResponses("Upgraded: the server sends StoredAlert messages", 400),
});

/** The alert routes, to mount at /v1/alerts. */
export function alertRoutes(deps: AlertsDeps): OpenAPIHono<ApiEnv> {
  const { alerts, log } = deps;
  const app = createRouter();

  app.openapi(listRoute, async (c) => c.json(await alertPage(alerts, c.req.valid("query")), 200));

  app.openapi(
    ackRoute,
    async (c) => c.json(await alerts.acknowledge(c.req.valid("param").id), 200),
  );

  app.openapi(eventsRoute, (c) => {
    const q = c.req.valid("query");
    // a reconnecting EventSource sends the last id it saw; it wins over ?after
    const resume = c.req.valid("header")["last-event-id"] ?? q.after;
    return alertEventStream(alerts, log, {
      after: resume ?? null,
      streams: q.stream ?? null,
      heartbeatMs: deps.heartbeatMs,
      signal: deps.signal,
      maxQueuedBytes: deps.slowClients?.maxBytes,
      drainTimeoutMs: deps.slowClients?.drainTimeoutMs,
    });
  });

  app.openapi(wsRoute, (c) => {
    const q = c.req.valid("query");
    return acceptWebSocket(c, c.get("action"), (socket) => {
      let cut: ReturnType<typeof setTimeout> | undefined;
      const guard = new SlowClientGuard(
        () => socket.bufferedAmount,
        deps.slowClients ?? {},
        (why) => {
          log.warn("ws.client_too_slow", { ...why });
          feed.close();
          socket.close(1013, `client too slow: ${why.reason}`);
          // a client that does not read will not take the close frame either
          cut = setTimeout(() => socket.terminate(), deps.closeGraceMs ?? 1000);
        },
      );
      const feed: AlertFeed = openAlertFeed(
        alerts,
        { after: q.after ?? null, streams: q.stream ?? null, room: () => guard.room() },
        (e) => {
          if (socket.readyState !== WebSocket.OPEN) return;
          socket.send(JSON.stringify(e));
          guard.check();
        },
        (err) => {
          log.error("ws.replay_failed", { error: err });
          socket.close(1011, "alert replay failed");
        },
      );
      log.debug("ws.alerts_opened", { after: q.after ?? null, subscribers: alerts.subscribers });
      const end = () => {
        guard.stop();
        feed.close();
        clearTimeout(cut);
      };
      socket.onclose = end;
      socket.onerror = end;
    });
  });

  // after /events and /ws, which its {id} would otherwise take
  app.openapi(getRoute, async (c) => c.json(await alerts.alert(c.req.valid("param").id), 200));

  return app;
}
