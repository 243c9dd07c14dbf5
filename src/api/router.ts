/**
 * How a route file makes its sub-app: an OpenAPIHono whose routes are
 * declared with `createRoute()` (zod schemas for every input and output, from
 * which /openapi.json is generated) and whose validators all answer a failed
 * check with the one house-style hook, naming the route's action.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { ApiToken } from "../auth/api_tokens.ts";
import { refuseInvalid } from "./validate.ts";
import type { WebSocketUpgrader } from "./websocket.ts";

/** What the API's middleware hands on to handlers, and what the server hands the app. */
export interface ApiEnv {
  Bindings: {
    /** The client's address, from the server (absent under `app.request()`). */
    remoteAddr?: string;
    /** Upgrades the request to a WebSocket, from the server (absent under `app.request()`). */
    upgradeWebSocket?: WebSocketUpgrader;
  };
  Variables: {
    /** What the route does, as its error messages start: "Cannot <action>: ...". */
    action: string;
    /** The API token the request carried (set by requireToken; absent without one). */
    token: ApiToken;
  };
}

/** A sub-app whose validators refuse bad input in the house style. */
export function createRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({ defaultHook: refuseInvalid });
}

/** Route middleware naming the route's action for its error messages. */
export function action(name: string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    c.set("action", name);
    await next();
  };
}
