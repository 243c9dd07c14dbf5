/**
 * Ingest routes: readings over HTTP and over a WebSocket, through the same
 * parsers as MQTT (src/ingest/parse.ts) into the service.
 *
 *   POST /v1/streams/{id}/readings   the path names the stream
 *   POST /v1/readings                each reading names its stream
 *   GET  /v1/ingest/ws               WebSocket: each message a reading or a batch
 *
 * A message that cannot be parsed is rejected whole (400, or a WebSocket
 * reply with `ok: false`) and counted by reason; a parsed one is handed to
 * the service, which may still reject single readings (a stream's columns,
 * an out-of-order timestamp): those are listed in `rejected`.
 *
 * The body is the parser's to check (it names the reason of a rejection for
 * the counters), so the OpenAPI document describes it without a validator.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { Reading } from "../domain/reading.ts";
import { isStreamId, STREAM_ID_PATTERN, STREAM_ID_RULE } from "../domain/reading.ts";
import type { Logger } from "../log.ts";
import { parseHttpBodyAsync, parseWebSocketMessageAsync } from "../ingest/parse.ts";
import type { ParseResult } from "../ingest/ingest_error.ts";
import type { IngestResult, Refusal, Source } from "../service/service.ts";
import { ServiceError } from "../service/service_error.ts";
import { showValue } from "../domain/show_value.ts";
import { errorResponses, errorSchema, fail } from "./errors.ts";
import { action, type ApiEnv, createRouter } from "./router.ts";
import { DEFAULT_MAX_BODY_BYTES, drainRefusedBody, shownSize } from "./limit_body.ts";
import type { ApiEnv as Env } from "./router.ts";
import { StreamCreationLimit } from "./stream_creation_limit.ts";
import { acceptWebSocket, isTooLarge, webSocketResponses } from "./websocket.ts";
import { InOrder, type Turn } from "../async/in_order.ts";
import { tokenQuery } from "./validate.ts";
import { jsonResponse } from "./json_response.ts";

export { DEFAULT_MAX_BODY_BYTES };

/** Text of ASCII characters alone: its UTF-8 size is its length. */
const ASCII = /^\p{ASCII}*$/u;

/** The media types a JSON body may be sent as: application/json and application/*+json. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Where the ingest routes hand readings: the service. */
export interface ReadingSink {
  /** Feeds readings to their streams; the ones it cannot take are listed. */
  /**
   * Feeds readings to their streams; resolves once they are taken (then the
   * route answers), listing the ones it could not take.
   */
  ingest(readings: readonly Reading[], source: Source): Promise<IngestResult>;
  /** True when the stream exists (its readings create nothing). */
  exists(stream: string): boolean;
  /**
   * Counts a message that could not be taken, by reason, and keeps it among
   * the last refusals of its source.
   */
  reject(reason: string, refusal?: Refusal): void;
}

/** What the ingest routes use. */
export interface IngestDeps {
  sink: ReadingSink;
  log: Logger;
  /** The clock: the time of readings that carry none, ms since the epoch. */
  now: () => number;
  /** Largest body or WebSocket message, bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How fast each client may create streams. Default: 100 a minute. */
  streamLimit?: StreamCreationLimit;
}

const reason = z.string().meta({
  description: "A short code for the counters: bad_json, bad_value, out_of_order, too_large, ...",
});

const rejectionSchema = z.object({
  index: z.number().int().meta({ description: "The reading's position in the message" }),
  stream: z.string(),
  reason,
  message: z.string(),
  owner: z.string().optional().meta({
    description: "other_shard: the base URL of the instance that owns the stream; send it there",
  }),
});

/** What an ingest did: readings taken, and the ones the service refused. */
export const ingestResultSchema = z.object({
  accepted: z.number().int(),
  rejected: z.array(rejectionSchema),
}).meta({ id: "IngestResult" });

/** A message refused whole: why, and where in it (`[2].ts`, or "" for the whole payload). */
const parseErrorSchema = z.object({ error: z.string(), reason, field: z.string() }).meta({
  id: "IngestError",
});

const tooLargeSchema = z.object({ error: z.string(), reason: z.literal("too_large") });

/** Every reading of a message refused by the service: the first one's reason, and the result. */
const allRejectedSchema = ingestResultSchema.extend({ error: z.string(), reason }).meta({
  id: "IngestRejected",
});

/** The reply to every ingest WebSocket message. */
export const ingestReplySchema = z.union([
  z.object({ ok: z.literal(true), accepted: z.number().int() }),
  z.object({
    ok: z.literal(false),
    reason,
    error: z.string(),
    field: z.string().optional(),
    accepted: z.number().int().optional(),
    rejected: z.array(rejectionSchema).optional(),
  }),
]).meta({ id: "IngestReply", description: "The reply to one ingest WebSocket message" });

/** The reply to every ingest WebSocket message. */
export type IngestReply = z.infer<typeof ingestReplySchema>;

/** The forms a body may take, for the document (the parser checks them). */
const readingForms = {
  description: 'A reading or a batch: `{"stream"?, "ts"?, "values": {...}}`, ' +
    '`{"stream"?, "ts"?, "value": 21.5}`, named values `{"temperature": 21.5, "ts"?}`, ' +
    'an array of those or `{"readings": [...]}`, or a SenML pack. Values are finite numbers ' +
    "or decimal strings; `ts` is ms or s since the epoch or an RFC 3339 time (default: now).",
  oneOf: [
    { type: "number" as const },
    { type: "object" as const, additionalProperties: true },
    { type: "array" as const, items: { type: "object" as const, additionalProperties: true } },
  ],
};

const ingestResponses = {
  200: jsonResponse(
    "Parsed; the readings the service refused, if any, are listed",
    ingestResultSchema,
  ),
  400: jsonResponse("The message could not be parsed: nothing was taken", parseErrorSchema),
  413: jsonResponse("The body is larger than the limit", tooLargeSchema),
  415: jsonResponse("Without an API token, the body is not sent as JSON", errorSchema),
  422: jsonResponse("Every reading was refused by the service", allRejectedSchema),
  503: jsonResponse(
    "Not now: the reading queue is full, or the daemon is shutting down; retry later",
    errorSchema,
  ),
  ...errorResponses(),
};

function tooLarge(max: number, size: number | string): string {
  return `Cannot ingest reading: payload must be at most ${max} bytes: current size is ${size} bytes`;
}

/** The stream a request's path names (`/v1/streams/{id}/readings`), when it is a valid id. */
function pathStream(c: Context): string | null {
  const id = c.req.param("id");
  return id !== undefined && isStreamId(id) ? id : null;
}

/** Who sent a request, for the stream creation limit: its token, else its address. */
export function clientOf(c: Context<Env>): string {
  const token = c.get("token");
  return token !== undefined ? token.id : (c.env?.remoteAddr ?? "local");
}

/**
 * Ingests `readings` from `client`, refusing those that would create a
 * stream once the client's creations are used up (reason stream_rate);
 * the rest go to the sink, and every rejection keeps its index.
 */
export async function ingestLimited(
  deps: Pick<IngestDeps, "sink" | "log"> & { streamLimit: StreamCreationLimit },
  readings: readonly Reading[],
  source: Source,
  client: string,
): Promise<IngestResult> {
  const { sink, streamLimit } = deps;
  // the usual case, every stream known (a big batch is of a few): the readings go as they are,
  // without a copy of them and of their indices (20,000 array slots of a 10,000-reading body
  // that lived, and were copied by the collector, until its last piece was taken); the copy,
  // `kept` and their indices `keptAt`, is made once a reading is refused
  let kept: Reading[] | null = null;
  let keptAt: number[] | null = null;
  const refused: IngestResult["rejected"] = [];
  const created = new Set<string>();
  /** The stream of the reading before, known or created: a run of one stream's asks once. */
  let last: string | null = null;
  for (let index = 0; index < readings.length; index++) {
    const r = readings[index];
    if (r.stream === last) {
      kept?.push(r);
      keptAt?.push(index);
      continue;
    }
    if (created.has(r.stream) || sink.exists(r.stream) || streamLimit.take(client)) {
      if (!sink.exists(r.stream)) created.add(r.stream);
      last = r.stream;
      kept?.push(r);
      keptAt?.push(index);
      continue;
    }
    if (kept === null || keptAt === null) {
      kept = readings.slice(0, index);
      keptAt = Array.from({ length: index }, (_, i) => i);
    }
    const message = `Cannot create stream ${JSON.stringify(r.stream)}: a client may create at ` +
      `most ${streamLimit.perMinute} streams a minute (--new-streams-per-minute): current value ` +
      `is over the limit; the next in ${streamLimit.waitSeconds(client)} s`;
    sink.reject("stream_rate", { source, stream: r.stream, message });
    refused.push({ index, stream: r.stream, reason: "stream_rate", message });
  }
  if (refused.length > 0) {
    deps.log.warn("ingest.stream_rate_limited", {
      source,
      client,
      refused: refused.length,
      perMinute: streamLimit.perMinute,
    });
  }
  const taken = kept ?? readings;
  const result = taken.length > 0
    ? await sink.ingest(taken, source)
    : { accepted: 0, rejected: [] };
  const at = keptAt;
  const rejected = [
    ...(at === null ? result.rejected : result.rejected.map((r) => ({ ...r, index: at[r.index] }))),
    ...refused,
  ].sort((a, b) => a.index - b.index);
  return { accepted: result.accepted, rejected };
}

/** The ingest routes, to mount at /v1. */
export function ingestRoutes(deps: IngestDeps): OpenAPIHono<ApiEnv> {
  const { sink, log, now } = deps;
  const streamLimit = deps.streamLimit ?? new StreamCreationLimit();
  const maxBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: async (c) => {
      const error = tooLarge(maxBytes, shownSize(c, maxBytes));
      sink.reject("too_large", { source: "http", stream: pathStream(c), message: error });
      await drainRefusedBody(c); // see limit_body.ts
      c.header("Connection", "close", { append: false });
      return c.json({ error, reason: "too_large" }, 413);
    },
  });
  const body = {
    content: {
      "application/json": { schema: readingForms },
      "text/plain": {
        schema: {
          type: "string" as const,
          description: "A bare number (with an API token only; without one, send it as JSON)",
        },
      },
    },
  };

  const streamRoute = createRoute({
    method: "post",
    path: "/streams/{id}/readings",
    tags: ["ingest"],
    summary: "Readings of one stream",
    middleware: [limit] as const,
    request: {
      // the parser checks the id, answering 400 with reason bad_stream
      params: z.object({
        id: z.string().meta({
          description: `A stream id: ${STREAM_ID_RULE}`,
          pattern: STREAM_ID_PATTERN.source,
        }),
      }),
      body,
    },
    responses: ingestResponses,
  });

  const readingsRoute = createRoute({
    method: "post",
    path: "/readings",
    tags: ["ingest"],
    summary: "Readings that each name their stream",
    middleware: [limit] as const,
    request: { body },
    responses: ingestResponses,
  });

  const wsRoute = createRoute({
    method: "get",
    path: "/ingest/ws",
    tags: ["ingest"],
    summary: "Readings over a WebSocket",
    description: "Each message (text or binary) is a reading or a batch in the forms of " +
      "`POST /v1/readings`; the server answers each with one IngestReply " +
      "(#/components/schemas/IngestReply).",
    middleware: [action("open ingest WebSocket")] as const,
    request: { query: tokenQuery },
    responses: webSocketResponses(
      "Upgraded: send readings, read one IngestReply per message. A message over the body " +
        "limit closes the socket with 1009, an unmasked frame with 1002.",
      400,
    ),
  });

  const app = createRouter();
  app.openAPIRegistry.register("IngestReply", ingestReplySchema);

  /**
   * Without a token, a body must be sent as JSON: a page of another site can
   * POST text/plain or a form without a preflight, but not JSON (nor a token).
   */
  const checkType = (c: Context<ApiEnv>) => {
    if (c.get("token") !== undefined) return;
    const type = c.req.header("content-type");
    if (type === undefined || !JSON_MEDIA_TYPE.test(type.split(";")[0].trim())) {
      const message = "Cannot ingest reading: the body must be sent as JSON (content-type " +
        "application/json; a bare number is JSON too) when the request carries no API token: " +
        `current value is ${showValue(type)}`;
      sink.reject("bad_content_type", { source: "http", stream: pathStream(c), message });
      fail(415, message);
    }
  };

  /** Parsed readings into the service, or the 400 of the parse error. */
  const answer = async (c: Context<Env>, parsed: ParseResult) => {
    if (!parsed.ok) {
      const e = parsed.error;
      sink.reject(e.reason, { source: "http", stream: pathStream(c), message: e.message });
      log.debug("ingest.rejected", { source: "http", reason: e.reason, error: e.message });
      return c.json({ error: e.message, reason: e.reason, field: e.field }, 400);
    }
    const result = await ingestLimited(
      { sink, log, streamLimit },
      parsed.readings,
      "http",
      clientOf(c),
    );
    if (result.accepted === 0 && result.rejected.length > 0) {
      const first = result.rejected[0];
      return c.json({ error: first.message, reason: first.reason, ...result }, 422);
    }
    return c.json(result, 200);
  };

  app.openapi(streamRoute, async (c) => {
    checkType(c);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const stream = c.req.valid("param").id;
    return answer(c, await parseHttpBodyAsync(bytes, { receivedAt: now(), stream }));
  });

  app.openapi(readingsRoute, async (c) => {
    checkType(c);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    return answer(c, await parseHttpBodyAsync(bytes, { receivedAt: now() }));
  });

  app.openapi(wsRoute, (c) => {
    const client = clientOf(c);
    return acceptWebSocket(c, c.get("action"), (socket) => {
      const reply = (r: IngestReply) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(r));
      };
      // messages are parsed in slices, side by side: their readings go in in the order sent
      const order = new InOrder();
      // a text message as its UTF-8 bytes: decoded piece by piece as it is parsed, not whole in
      // the task that got it (1 MiB of text was 3 to 4 ms of that task here)
      socket.on("message", async (data) => {
        const turn = order.next();
        try {
          reply(
            await ingestMessage({ sink, log, now, streamLimit, client, turn }, data, maxBytes),
          );
        } catch (e) {
          if (e instanceof ServiceError && e.kind === "unavailable") {
            reply({ ok: false, reason: "unavailable", error: e.message });
            return;
          }
          log.error("ingest.failed", { source: "ws", error: e });
          reply({
            ok: false,
            reason: "error",
            error: "Cannot ingest reading: the daemon failed unexpectedly; see its log",
          });
        }
      });
      socket.onerror = (ev) => {
        // the server refused the message while reading its header, and closes with 1009
        if (isTooLarge(ev)) {
          sink.reject("too_large", {
            source: "ws",
            stream: null,
            message: tooLarge(maxBytes, `more than ${maxBytes}`) + "; the socket is closed (1009)",
          });
          log.debug("ingest.rejected", { source: "ws", reason: "too_large", maxBytes });
        }
      };
    });
  });

  return app;
}

/**
 * What one WebSocket message does: parse (in slices), ingest, reply. With a
 * `turn`, its readings go to the sink only once the earlier turns' have,
 * and the turn is done once they went (or the message was refused).
 */
export async function ingestMessage(
  { sink, log, now, streamLimit, client, turn }: Pick<IngestDeps, "sink" | "log" | "now"> & {
    /** How fast the client may create streams. Default: 100 a minute. */
    streamLimit?: StreamCreationLimit;
    /** Who sent it (clientOf). Default "local". */
    client?: string;
    /** The message's place among the socket's messages (InOrder). Default: none. */
    turn?: Turn;
  },
  data: unknown,
  maxBytes: number,
): Promise<IngestReply> {
  const handed = turn ?? { ready: Promise.resolve(), done: () => {} };
  try {
    return await ingestInTurn({ sink, log, now, streamLimit, client }, data, maxBytes, handed);
  } finally {
    handed.done();
  }
}

async function ingestInTurn(
  { sink, log, now, streamLimit, client }: Pick<IngestDeps, "sink" | "log" | "now"> & {
    streamLimit?: StreamCreationLimit;
    client?: string;
  },
  data: unknown,
  maxBytes: number,
  turn: Turn,
): Promise<IngestReply> {
  const message = typeof data === "string"
    ? data
    : data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : data instanceof Uint8Array
    ? data
    : new Uint8Array(0);
  // a string's UTF-8 size is 1-3 bytes per UTF-16 unit: encode only when it may matter, and not an
  // ASCII one (its size is its length: encoding 1 MiB was 3 ms of the task that got the message)
  const size = typeof message === "string"
    ? (message.length * 3 > maxBytes && !ASCII.test(message)
      ? new TextEncoder().encode(message).length
      : message.length)
    : message.byteLength;
  if (size > maxBytes) {
    const error = tooLarge(maxBytes, size);
    sink.reject("too_large", { source: "ws", stream: null, message: error });
    return { ok: false, reason: "too_large", error };
  }
  const parsed = await parseWebSocketMessageAsync(message, { receivedAt: now() });
  await turn.ready;
  if (!parsed.ok) {
    const e = parsed.error;
    sink.reject(e.reason, { source: "ws", stream: null, message: e.message });
    log.debug("ingest.rejected", { source: "ws", reason: e.reason, error: e.message });
    return { ok: false, reason: e.reason, error: e.message, field: e.field };
  }
  const taking = ingestLimited(
    { sink, log, streamLimit: streamLimit ?? new StreamCreationLimit() },
    parsed.readings,
    "ws",
    client ?? "local",
  );
  turn.done(); // handed to the sink (ingestLimited calls it at once): the next message may go
  const result = await taking;
  if (result.rejected.length === 0) return { ok: true, accepted: result.accepted };
  const first = result.rejected[0];
  return {
    ok: false,
    reason: first.reason,
    error: first.message,
    accepted: result.accepted,
    rejected: result.rejected,
  };
}
