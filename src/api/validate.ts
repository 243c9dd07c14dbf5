/**
 * The API's boundary checks: one zod schema per input (path, query, body),
 * and the 400 answer a failed check gives, naming each field, its
 * constraint and its current value:
 *
 *   Cannot forecast: 'horizon' must be an integer from 1 to 512: current value is "0"
 *
 * Expected failures are thrown as HTTPException with their status; the app's
 * error handler turns them into `{"error": message}`.
 */
import { z } from "zod";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { finiteNumber, STREAM_ID_PATTERN, STREAM_ID_RULE } from "../domain/reading.ts";
import { showValue } from "../domain/show_value.ts";
import { timestampMs, TS_RULE } from "../ingest/timestamp.ts";
import { fieldPath, valueAt } from "../ingest/schema.ts";

/** Where an input came from, for "is not a known query parameter" and the like. */
export type InputKind = "path" | "query" | "body" | "header";

/** Throws the expected failure `message` with `status` (answered as `{"error": message}`). */
export function fail(status: ContentfulStatusCode, message: string): never {
  throw new HTTPException(status, { message });
}

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
    const field = issue.path.length === 0 ? kind : `'${fieldPath("", issue.path)}'`;
    return `${field} ${issue.message}: current value is ${showValue(valueAt(input, issue.path))}`;
  });
}

/** `input` checked by `schema`, or a 400 naming every problem ("Cannot <action>: ..."). */
export function check<S extends z.ZodType>(
  schema: S,
  input: unknown,
  action: string,
  kind: InputKind,
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  fail(400, `Cannot ${action}: ${issueMessages(r.error, input, kind).join("; ")}`);
}

/** A request body as JSON, or a 400 saying it is not. */
export async function readJson(req: Request, action: string): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") {
    fail(400, `Cannot ${action}: the body must be a JSON object: it is empty`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(
      400,
      `Cannot ${action}: the body must be JSON (${(e as Error).message}): current value is ${
        showValue(text)
      }`,
    );
  }
}

// ---- schema pieces --------------------------------------------------------

/** A stream id in a path or a query. */
export const streamId = z.string().regex(STREAM_ID_PATTERN, {
  error: `must be a stream id of ${STREAM_ID_RULE}`,
});

/** An integer query parameter from `min` to `max`. */
export function intParam(min: number, max: number) {
  const error = `must be an integer from ${min} to ${max}`;
  return z.string().refine((s) => {
    if (!/^[0-9]+$/.test(s)) return false;
    const n = Number(s);
    return n >= min && n <= max;
  }, { error }).transform(Number);
}

/** A finite number query parameter ("21.5", "-3", "1e3"). */
export const numberParam = z.string().refine((s) => finiteNumber(s) !== null, {
  error: "must be a finite number",
}).transform((s) => finiteNumber(s)!);

/** A time query parameter: ms (or s) since the epoch or an RFC 3339 time with a zone -> ms. */
export const timeParam = z.string().refine((s) => timestampMs(s) !== null, {
  error: TS_RULE,
}).transform((s) => timestampMs(s)!);

/** Alert ids: 16 digits as the store makes them; shorter digit strings are padded ("0": before all). */
export const ALERT_ID_RULE = "an alert id of 1-16 decimal digits";

/** An alert id (1-16 digits), padded to the store's 16. */
export const alertIdParam = z.string().regex(/^[0-9]{1,16}$/, {
  error: `must be ${ALERT_ID_RULE}`,
}).transform((s) => s.padStart(16, "0"));

/** A comma-separated list of stream ids, as a set. */
export const streamListParam = z.string().refine(
  (s) => s.split(",").every((id) => STREAM_ID_PATTERN.test(id.trim())),
  { error: `must be a comma-separated list of stream ids of ${STREAM_ID_RULE}` },
).transform((s) => new Set(s.split(",").map((id) => id.trim())));
