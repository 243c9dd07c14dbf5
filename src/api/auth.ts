/**
 * How a request is authenticated: whether forecastd takes API tokens, and
 * the role of the one the request carried. The dashboard asks it to know
 * whether to ask for a token and whether its token may acknowledge alerts.
 *
 *   GET /v1/auth
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { ROLES } from "../auth/api_tokens.ts";
import { errorResponses } from "./errors.ts";
import { action, type ApiEnv, createRouter } from "./router.ts";
import { jsonResponse } from "./json_response.ts";

/** The body of `GET /v1/auth`. */
export const authSchema = z.object({
  required: z.boolean().meta({
    description: "Whether forecastd takes API tokens (false: every request may do anything)",
  }),
  role: z.enum(ROLES).meta({
    description: "What this request may do: read, or write (which includes read)",
  }),
  token: z.string().nullable().meta({
    description: "The token's id (sha256: and the first 8 digits of its hash), never the " +
      "token; null without tokens",
    examples: ["sha256:9f86d081"],
  }),
}).meta({ id: "Auth", description: "How the request is authenticated" });

const authRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["operations"],
  summary: "Whether tokens are required, and the role of the request's token",
  description: "With tokens configured, answers only a request that carries one (401 without, " +
    "as every route but /healthz and /readyz).",
  middleware: [action("describe authentication")] as const,
  responses: {
    200: jsonResponse("The request's authentication", authSchema),
    ...errorResponses(),
  },
});

/** The route, to mount at /v1/auth; `required`: whether forecastd is configured with tokens. */
export function authRoutes({ required }: { required: boolean }): OpenAPIHono<ApiEnv> {
  const app = createRouter();
  app.openapi(authRoute, (c) => {
    const token = c.get("token");
    return c.json(
      token === undefined
        ? { required, role: "write" as const, token: null }
        : { required, role: token.role, token: token.id },
      200,
    );
  });
  return app;
}
