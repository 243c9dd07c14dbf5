/**
 * The Deno adapter of the WebSocket routes: the upgrade, refused with 426
 * (as JSON) when the request is not a WebSocket handshake.
 */
import { fail } from "./validate.ts";

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
