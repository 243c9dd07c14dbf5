/**
 * The API's input checks: the zod pieces of the path, query, header and body
 * schemas, the one hook every validator answers a failed check with, and the
 * reading of a JSON body. A failed check is a 400 naming each field, its
 * constraint and its current value:
 *
 *   Cannot forecast: 'horizon' must be an integer from 1 to 512: current value is "0"
 *
 * The action ("forecast") is the route's, set by `action()` (router.ts).
 */
import { z } from "zod";
import type { Context, MiddlewareHandler } from "hono";
import {
  finiteNumber,
  isStreamId,
  isValueName,
  STREAM_ID_PATTERN,
  STREAM_ID_RULE,
  VALUE_NAME_PATTERN,
  VALUE_NAME_RULE,
} from "../domain/reading.ts";
import { showValue } from "../domain/show_value.ts";
import { timestampMs, TS_RULE } from "../ingest/timestamp.ts";
import { fieldPath, valueAt } from "../ingest/schema.ts";
import { fail } from "./errors.ts";
import type { ApiEnv } from "./router.ts";

/** Where an input came from, for "is not a known query parameter" and the like. */
export type InputKind = "path" | "query" | "body" | "header";

/** The validator targets of Hono, as the messages name them. */
const KIND_OF_TARGET: Record<string, InputKind> = {
  param: "path",
  query: "query",
  json: "body",
  header: "header",
};

/** One line per issue: `'field' constraint: current value is V`. */
export function issueMessages(error: z.ZodError, input: unknown, kind: InputKind): string[] {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const what = kind === "query" ? "query parameter" : "field";
      return issue.keys.map((k) => {
        const path = [...issue.path, k];
        return `'${fieldPath("", path)}' is not a known ${what}: current value is ${
          showValue(valueAt(input, path))
        }`;
      }).join("; ");
    }
    // a header is named as HTTP writes it ("the Last-Event-ID header")
    const field = kind === "header" && issue.path.length > 0
      ? `the ${headerName(String(issue.path[0]))} header`
      : issue.path.length === 0 || kind === "header"
      ? kind
      : `'${fieldPath("", issue.path)}'`;
    return `${field} ${issue.message}: current value is ${showValue(valueAt(input, issue.path))}`;
  });
}

/** Header names as HTTP documents write them, where capitalising each word is not it. */
const HEADER_NAMES: Readonly<Record<string, string>> = { "last-event-id": "Last-Event-ID" };

/** A header's name as a message shows it: `last-event-id` -> `Last-Event-ID`. */
export function headerName(key: string): string {
  const k = key.toLowerCase();
  return HEADER_NAMES[k] ?? k.replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());
}

/** What a validator hands its hook (@hono/zod-validator passes the input as `data` either way). */
export interface ValidationResult {
  target: string;
  success: boolean;
  data?: unknown;
  error?: z.ZodError;
}

/**
 * The hook of every validator: a failed check becomes the 400
 * `Cannot <action>: <issues>`; `action` defaults to the route's (or, on a
 * route that names none, its method and path).
 */
export function refuseInvalid(
  result: ValidationResult,
  c: Context<ApiEnv>,
  action: string = c.get("action") ?? `${c.req.method} ${c.req.path}`,
): undefined {
  if (result.success || !result.error) return undefined;
  const kind = KIND_OF_TARGET[result.target] ?? "body";
  fail(400, `Cannot ${action}: ${issueMessages(result.error, result.data, kind).join("; ")}`);
}

/** The media types a JSON body may be sent as: application/json and application/*+json. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Reads the request body as JSON before the body's schema checks it: a body
 * that is not JSON is refused in the house style, naming `action(c)`: 415
 * when it is not sent as JSON, 400 when it is empty or does not parse.
 */
export function jsonBody(action: (c: Context<ApiEnv>) => string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const text = await c.req.text();
    if (text.trim() === "") {
      fail(400, `Cannot ${action(c)}: the body must be a JSON object: it is empty`);
    }
    const type = c.req.header("content-type");
    if (type === undefined || !JSON_MEDIA_TYPE.test(type.split(";")[0].trim())) {
      fail(
        415,
        `Cannot ${action(c)}: the body must be sent as JSON (content-type application/json): ` +
          `current value is ${showValue(type)}`,
      );
    }
    try {
      JSON.parse(text);
    } catch (e) {
      fail(
        400,
        `Cannot ${action(c)}: the body must be JSON (${(e as Error).message}): current value is ${
          showValue(text)
        }`,
      );
    }
    await next();
  };
}

// ---- schema pieces --------------------------------------------------------

/**
 * A query parameter given once (Hono hands a repeated one over as an array,
 * which this refuses by name).
 */
function queryString() {
  return z.string({ error: "must be given once" });
}

/**
 * `?token=`: the API token, on the live feeds only (a browser's EventSource
 * and WebSocket cannot send headers); require_token.ts checks it.
 */
export const tokenParam = queryString().meta({
  description: "The API token, for browsers' EventSource and WebSocket, which cannot send " +
    "Authorization: Bearer; other clients send the header",
});

/** The query of a route whose only parameter is `?token=`. */
export const tokenQuery = z.strictObject({ token: tokenParam.optional() });

/** A stream id in a path or a query. */
export const streamId = z.string({ error: `must be a stream id of ${STREAM_ID_RULE}` }).refine(
  isStreamId,
  {
    error: `must be a stream id of ${STREAM_ID_RULE}`,
  },
).meta({ description: `A stream id: ${STREAM_ID_RULE}`, pattern: STREAM_ID_PATTERN.source });

/** A value name, in a query or a body. */
export const valueName = z.string({ error: `must be a value name of ${VALUE_NAME_RULE}` })
  .refine(isValueName, { error: `must be a value name of ${VALUE_NAME_RULE}` })
  .meta({ description: `A value name: ${VALUE_NAME_RULE}`, pattern: VALUE_NAME_PATTERN.source });

/** An integer query parameter from `min` to `max`. */
export function intParam(min: number, max: number) {
  const error = `must be an integer from ${min} to ${max}`;
  return queryString().refine((s) => {
    if (!/^[0-9]+$/.test(s)) return false;
    const n = Number(s);
    return n >= min && n <= max;
  }, { error }).transform(Number).meta({ type: "integer", minimum: min, maximum: max });
}

/** A finite number query parameter ("21.5", "-3", "1e3"). */
export const numberParam = queryString().refine((s) => finiteNumber(s) !== null, {
  error: "must be a finite number",
}).transform((s) => finiteNumber(s)!).meta({ type: "number" });

/** A time query parameter: ms (or s) since the epoch or an RFC 3339 time with a zone -> ms. */
export const timeParam = queryString().refine((s) => timestampMs(s) !== null, {
  error: TS_RULE,
}).transform((s) => timestampMs(s)!).meta({
  type: "string",
  description: `A time: ${TS_RULE}`,
  examples: ["2025-06-01T00:00:00Z", "1748736000000"],
});

/** Alert ids: 16 digits as the store makes them; shorter digit strings are padded ("0": before all). */
export const ALERT_ID_RULE = "an alert id of 1-16 decimal digits";

/** An alert id (1-16 digits), padded to the store's 16. */
export const alertIdParam = queryString().regex(/^[0-9]{1,16}$/, {
  error: `must be ${ALERT_ID_RULE}`,
}).transform((s) => s.padStart(16, "0")).meta({
  type: "string",
  pattern: "^[0-9]{1,16}$",
  description: "An alert id: 1-16 decimal digits (shorter ones are padded with zeros)",
  examples: ["0000000000000042"],
});

/** A comma-separated list of stream ids, as a set. */
export const streamListParam = queryString().refine(
  (s) => s.split(",").every((id) => isStreamId(id.trim())),
  { error: `must be a comma-separated list of stream ids of ${STREAM_ID_RULE}` },
).transform((s) => new Set(s.split(",").map((id) => id.trim()))).meta({
  type: "string",
  description: `Comma-separated stream ids (${STREAM_ID_RULE})`,
  examples: ["boiler,room"],
});
