/**
 * The Deno adapter of the WebSocket routes: the upgrade, refused with 426
 * (as JSON) when the request is not a WebSocket handshake, and the responses
 * such a route documents.
 */
import { z } from "zod";
import { errorResponses, fail } from "./errors.ts";

/** Upgrades `req` (from Deno.serve) to a WebSocket, or throws a 426 naming `action`. */
export function upgradeWebSocket(req: Request, action: string): Deno.WebSocketUpgrade {
  const upgrade = req.headers.get("upgrade");
  if (upgrade?.toLowerCase() !== "websocket") {
    fail(
      426,
      `Cannot ${action}: the request must be a WebSocket handshake (Upgrade: websocket): current value is ${
        upgrade === null ? "missing" : JSON.stringify(upgrade)
      }`,
    );
  }
  const ws = Deno.upgradeWebSocket(req);
  ws.socket.binaryType = "arraybuffer";
  return ws;
}

/** The OpenAPI responses of a WebSocket route: 101 with the upgrade, 426 without one. */
export function webSocketResponses(description: string, ...errors: 400[]) {
  return {
    101: {
      description: `Switching Protocols (a GET with \`Upgrade: websocket\`). ${description}`,
      headers: z.object({
        upgrade: z.literal("websocket"),
        connection: z.literal("Upgrade"),
      }),
    },
    ...errorResponses(...errors, 426),
  };
}
