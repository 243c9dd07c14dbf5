/**
 * How the API fails: every error is JSON `{"error": "Cannot <action>: ..."}`.
 * Expected failures carry their status: an HTTPException thrown by a route or
 * a validator, or a ServiceError whose kind is mapped to a status here, in one
 * place. Anything else is logged once with its stack and answered with a
 * generic 500 that reveals nothing of it.
 */
import { z } from "zod";
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "../log.ts";
import { ServiceError, type ServiceErrorKind } from "../service/service_error.ts";
import { type JsonResponse, jsonResponse } from "./json_response.ts";

/** The body of the generic 500: nothing of the cause, which is in the log. */
export const INTERNAL_ERROR =
  "Cannot complete the request: the daemon failed unexpectedly; the cause is in its log";

/** The HTTP status of each kind of ServiceError. */
export const STATUS_OF_KIND: Readonly<Record<ServiceErrorKind, ContentfulStatusCode>> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** Throws the expected failure `message` with `status` (answered as `{"error": message}`). */
export function fail(status: ContentfulStatusCode, message: string): never {
  throw new HTTPException(status, { message });
}

/** The body of every error the API answers. */
export const errorSchema = z.object({
  error: z.string().meta({
    description: "What could not be done, the constraint and the current value",
    examples: [
      `Cannot forecast: 'horizon' must be an integer from 1 to 512: current value is "0"`,
    ],
  }),
}).meta({ id: "Error", description: "An error: `Cannot <action>: <constraint>: <current value>`" });

/** The error statuses a route may answer, each with what it means. */
const ERROR_DESCRIPTIONS = {
  400: "The request is invalid: the message names each field, its constraint and its value",
  404: "The stream or alert does not exist",
  409: "The request conflicts with the present state (a limit is reached, no reading yet)",
  415: "The body is not sent as JSON",
  426: "The request is not a WebSocket handshake",
  500: "The daemon failed unexpectedly; the cause is in its log",
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/** The OpenAPI responses of `statuses` (and of 500, which any route may answer). */
export function errorResponses<S extends ErrorStatus = never>(...statuses: S[]) {
  const out = {} as Record<S | 500, JsonResponse<typeof errorSchema>>;
  for (const status of [...statuses, 500 as const]) {
    out[status] = jsonResponse(ERROR_DESCRIPTIONS[status], errorSchema);
  }
  return out;
}

/** The app's error handler: expected failures with their status, the rest as a logged 500. */
export function errorHandler(log: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ServiceError) {
      return c.json({ error: err.message }, STATUS_OF_KIND[err.kind]);
    }
    if (err instanceof HTTPException) {
      return c.json(
        { error: err.message || `Cannot ${c.req.method} ${c.req.path}` },
        err.status as ContentfulStatusCode,
      );
    }
    log.error("http.failed", { method: c.req.method, path: c.req.path, error: err });
    return c.json({ error: INTERNAL_ERROR }, 500);
  };
}
