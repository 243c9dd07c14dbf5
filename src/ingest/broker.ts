/**
 * The embedded MQTT broker: aedes over a node:net server, for gateways
 * without a broker of their own. main.ts starts it when no `mqttUrl` is
 * configured, and the MQTT source (mqtt.ts) connects to it like any client.
 *
 * Sessions and queued messages live in memory: while forecastd is stopped
 * its embedded broker is stopped too, so a device publishing then has
 * nowhere to send. Use an external broker (`--mqtt-url`) where readings sent
 * during a restart must not be lost.
 *
 * ```ts
 * const broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, log });
 * console.log(broker.url); // mqtt://127.0.0.1:40123
 * await broker.close();
 * ```
 */
import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import type { Logger } from "../log.ts";
import { readWholeBuffer } from "./read_whole_buffer.ts";

/** Options of startEmbeddedBroker. */
export interface EmbeddedBrokerOptions {
  /** Address to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 1883. */
  port?: number;
  log: Logger;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** The address it listens on, as configured. */
  readonly host: string;
  /** The port it is bound to (the picked one when 0 was asked for). */
  readonly port: number;
  /** `mqtt://host:port` for clients on this machine (a wildcard host becomes 127.0.0.1). */
  readonly url: string;
  /** Clients connected now. */
  readonly clients: number;
  /** Disconnects every client and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/** The embedded broker could not listen; `code` is the system's (EADDRINUSE, EACCES, ...). */
export class BrokerListenError extends Error {
  override name = "BrokerListenError";
  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** `host:port` as the authority of a URL (IPv6 literals in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The address a local client dials to reach a server listening on `host`. */
export function dialHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}

/**
 * Starts aedes on `host:port`. Throws BrokerListenError, with a message
 * saying what to do, when the port is taken or may not be used.
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 1883;
  const log = opts.log;
  const aedes = await Aedes.createBroker({
    // a client id derived by forecastd is 22 characters; devices may use longer ones
    maxClientsIdLength: 256,
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // Deno's read() leaves chunks behind, which stalls large publishes (read_whole_buffer.ts)
    aedes.handle(readWholeBuffer(socket));
  });
  aedes.on("clientError", (client, error) => {
    log.debug("broker.client_error", { client: client?.id, error: error.message });
  });
  aedes.on("connectionError", (client, error) => {
    log.debug("broker.connection_error", { client: client?.id, error: error.message });
  });

  let bound: number;
  try {
    bound = await new Promise<number>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once("error", onError);
      server.listen({ host, port }, () => {
        server.off("error", onError);
        const addr = server.address();
        resolve(typeof addr === "object" && addr !== null ? addr.port : port);
      });
    });
  } catch (e) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (e as { code?: string }).code ?? "ERROR";
    const where = hostPort(host, port);
    const hint = code === "EADDRINUSE"
      ? `it is in use (another MQTT broker such as mosquitto may be running: subscribe to it ` +
        `with --mqtt-url mqtt://${hostPort(dialHost(host), port)}, or pick another port with ` +
        `--mqtt-port)`
      : code === "EACCES"
      ? "permission denied (ports below 1024 need privileges; pick another with --mqtt-port)"
      : (e as Error).message;
    throw new BrokerListenError(
      `Cannot start the embedded MQTT broker: ${where} must be free to listen on: ${hint}`,
      code,
      { cause: e },
    );
  }
  server.on("error", (e) => log.error("broker.server_error", { error: e }));

  let closing: Promise<void> | null = null;
  return {
    host,
    port: bound,
    url: `mqtt://${hostPort(dialHost(host), bound)}`,
    get clients() {
      return aedes.connectedClients ?? 0;
    },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // aedes closed its clients; drop any socket still half-open
        for (const s of sockets) s.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}
