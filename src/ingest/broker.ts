/**
 * The embedded MQTT broker (MQTT 3.1.1): aedes over a node:net server, or
 * node:tls when a certificate is given, for gateways without a broker of
 * their own.
 *
 * forecastd reads it in-process: `onMessage` is called with each accepted
 * PUBLISH before the broker acknowledges it (PUBACK at QoS 1, PUBREC at QoS
 * 2), so an acknowledged reading has been handed over, and once close() has
 * begun nothing more is acknowledged. forecastd's alerts go out through
 * `publish()`, which only the daemon can do.
 *
 * What clients may do:
 *
 * - Connect: as a configured user (username and password, see
 *   broker_users.ts), or, when no users are configured, anonymously from
 *   loopback only (127.0.0.0/8, ::1). MQTT 5 clients are refused with
 *   CONNACK 1 (unacceptable protocol version): aedes 1.x serves MQTT 3.1.1
 *   and 3.1.
 * - Publish: not under a reserved prefix (`forecastd/`, where the daemon
 *   publishes alerts); a user only to its `publish` filters. Refused
 *   publishes are acknowledged and dropped, as Mosquitto does (MQTT 3.1.1
 *   §3.3.5 allows it; closing the connection would make the device send the
 *   same message again forever); each is logged and passed to `onRefused`.
 *   A topic with U+0000 or bytes that are not UTF-8 closes the sender's
 *   connection (§1.5.3). A packet larger than the payload limit plus 64 KiB
 *   closes it before it is read whole.
 * - Read: a client receives a message only when its topic matches the
 *   client's read filters (a user's `read`, else `defaultRead`: the alerts),
 *   so a client subscribed to `#` does not see readings unless allowed.
 *   A publish whose topic no client may read (with the default read filters:
 *   every reading) is acknowledged and goes nowhere else: aedes's routing
 *   (the retained store, the queues of persistent sessions, the match
 *   against every subscription) is skipped (`stats.routed` counts the rest).
 *   A client whose socket stays full (it reads nothing) for
 *   `drainTimeoutMs` is disconnected, logged as broker.client_too_slow.
 *
 * Sessions and queued messages live in memory: while forecastd is stopped
 * its embedded broker is stopped too. Use an external broker (`--mqtt-url`)
 * where readings sent during a restart must not be lost.
 *
 * ```ts
 * const broker = await startEmbeddedBroker({ port: 0, log, onMessage: (m) => ingest(m) });
 * console.log(broker.url); // mqtt://127.0.0.1:40123
 * await broker.close();
 * ```
 *
 * Longer than 500 lines: one adapter of aedes, whose hooks (authenticate,
 * authorizePublish, authorizeSubscribe, the drain of full sockets, the
 * shutdown order that stops acknowledging first) share the broker's state;
 * the pieces that stand alone are files of their own (broker_users.ts,
 * frame_limit.ts, read_whole_buffer.ts, topic_name.ts).
 */
// first: the MQTT packages' `debug` loggers made free before they load (quiet_debug.ts)
import "./quiet_debug.ts";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { Buffer } from "node:buffer";
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from "aedes";
import mqttPacket, { writeToStream } from "mqtt-packet";
import type { Logger } from "../log.ts";
import { readWholeBuffer } from "./read_whole_buffer.ts";
import { limitFrames } from "./frame_limit.ts";
import { topicNameProblem } from "./topic_name.ts";
import { topicMatchesAny, topicMatchesFilter } from "./topic_filter.ts";
import { type BrokerUser, verifyPassword } from "./broker_users.ts";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./max_payload.ts";
import { hostPort } from "./host_port.ts";
import { owePuback, writePubacksTogether } from "./puback_writer.ts";
import {
  type Parser,
  type ReadPublish,
  readPublishesInPlace,
  takePublishes,
} from "./publish_parser.ts";

export { DEFAULT_MAX_PAYLOAD_BYTES, hostPort };

/** A PUBLISH the broker accepted, as `onMessage` gets it. */
export interface BrokerMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  clientId: string;
  /** The user it connected as, or null (anonymous). */
  username: string | null;
}

/** Why a PUBLISH was refused (the reject counter's reason). */
export type BrokerRefusal = "too_large" | "bad_topic" | "not_authorized";

/** What was refused: the message, and the topic and client when the packet was read that far. */
export interface RefusedPublish {
  /** The constraint broken: "a payload must be at most 1048576 bytes: it has 2000000". */
  message: string;
  topic: string | null;
  clientId: string | null;
}

/** Options of startEmbeddedBroker; every optional field has the default it names. */
export interface EmbeddedBrokerOptions {
  /** Address to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 1883. */
  port?: number;
  log: Logger;
  /** PEM certificate chain and key: listen with TLS (mqtts). Default null: plain TCP. */
  tls?: { cert: Uint8Array; key: Uint8Array } | null;
  /** Largest payload taken, bytes. Default DEFAULT_MAX_PAYLOAD_BYTES (1 MiB). */
  maxPayloadBytes?: number;
  /** Who may connect. Default []: anonymous clients, from loopback only. */
  users?: readonly BrokerUser[];
  /** What clients read when their user names no `read` filters. Default ["forecastd/alerts/#"]. */
  defaultRead?: readonly string[];
  /** Prefixes (first levels) only the daemon publishes under. Default ["forecastd"]. */
  reservedPrefixes?: readonly string[];
  /**
   * Called with each accepted PUBLISH before it is acknowledged. A promise
   * it returns is waited for first (the PUBACK says the reading was taken);
   * when it returns false, or the promise resolves to false, the message is
   * not acknowledged (the sender's connection is closed, and it sends the
   * message again). Default: none.
   */
  onMessage?: (message: BrokerMessage) => unknown;
  /** Called with each refused PUBLISH. Default: none. */
  onRefused?: (reason: BrokerRefusal, refused: RefusedPublish) => void;
  /**
   * How long a client's socket may stay full (the client reads nothing)
   * before it is disconnected, ms. Default 10,000. Every delivery waits for
   * a full socket, so a dead subscriber holds its messages until then.
   */
  drainTimeoutMs?: number;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** The address it listens on, as configured. */
  readonly host: string;
  /** The port it is bound to (the picked one when 0 was asked for). */
  readonly port: number;
  /** `mqtt://host:port` (mqtts with TLS) for clients on this machine (a wildcard host becomes loopback). */
  readonly url: string;
  /** `mqtt://host:port` as it listens (`0.0.0.0` stays), for the start-up line. */
  readonly listenUrl: string;
  /** True when it listens on every interface. */
  readonly wildcard: boolean;
  /** Clients connected now. */
  readonly clients: number;
  /**
   * Publishes counted since start, by outcome; `routed`: the accepted ones
   * passed on to aedes's routing, because some client may read their topic
   * (the others are acknowledged and reach nobody, at no further cost).
   */
  readonly stats: {
    accepted: number;
    routed: number;
    /** Of `accepted`: taken straight from the connection's bytes, without aedes's steps a packet. */
    direct: number;
    refused: Record<BrokerRefusal, number>;
  };
  /** Credentials for the daemon's own clients (the demo sensor); no password is shown anywhere. */
  readonly internal: { username: string; password: string };
  /**
   * Publishes as the daemon (alerts, forecasts, status): MQTT.js's publish()
   * signature, for src/alerts/. With `retain` the broker keeps the message
   * for clients that subscribe later (an empty one clears it). Default: not
   * retained.
   */
  publish(
    topic: string,
    message: string,
    opts: { qos: 0 | 1 | 2; retain?: boolean },
    callback: (error?: Error) => void,
  ): void;
  /** Stops listening and acknowledging, then disconnects every client. Safe to call twice. */
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

/** The address a local client dials to reach a server listening on `host`. */
export function dialHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}

/** True for a loopback address (127.0.0.0/8, ::1, and their IPv4-mapped forms). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return a === "::1" || /^127\.\d+\.\d+\.\d+$/.test(a);
}

/** What the broker knows of a connected client. */
interface Identity {
  username: string | null;
  publish: readonly string[] | null;
  read: readonly string[];
}

/** Why a PUBLISH is refused (see admit() in startEmbeddedBroker). */
interface Refusal {
  refused: BrokerRefusal;
  /** What is wrong, for the log and onRefused. */
  message: string;
  /** True when the packet breaks MQTT itself: the sender's connection is closed. */
  malformed: boolean;
}

const refusal = (refused: BrokerRefusal, message: string): Refusal => ({
  refused,
  message,
  malformed: false,
});

const IDENTITY = Symbol("forecastd.identity");
/** What the broker uses of aedes's persistence: the QoS 2 messages awaiting PUBREL. */
interface IncomingStore {
  incomingGetPacket(client: Client, packet: PublishPacket): Promise<unknown>;
}
type KnownClient = Client & { [IDENTITY]?: Identity };

/**
 * What the direct path (see `direct` in startEmbeddedBroker) uses of an
 * aedes 1.x Client beyond its typed API: its state, its parser, and the
 * count of packets of the current read still being handled, with the
 * callback that lowers it and reads on once it reaches 0.
 */
interface ClientInternals {
  connackSent: boolean;
  connected: boolean;
  connecting: boolean;
  conn: { write(chunk: Uint8Array): boolean; readonly destroyed: boolean };
  _parser: Parser;
  _parsingBatch: number;
  _nextBatch: (error?: Error | null) => void;
  _keepaliveInterval: number;
  _keepaliveTimer: { refresh(): void } | null;
}

/** Whether `client` has what the direct path uses (aedes 1.x); else its packets go aedes's way. */
function hasInternals(client: object): client is ClientInternals {
  const c = client as Partial<ClientInternals>;
  return typeof c._nextBatch === "function" && typeof c._parsingBatch === "number" &&
    typeof c.connackSent === "boolean" && typeof c._parser?.parse === "function" &&
    typeof c._keepaliveInterval === "number";
}

/** A username that is never a configured user's: the daemon's own clients. */
const INTERNAL_USER = "forecastd-internal";

/**
 * Starts aedes on `host:port`. Throws BrokerListenError, with a message
 * saying what to do, when the port is taken or may not be used.
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 1883;
  const log = opts.log;
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  const users = new Map((opts.users ?? []).map((u) => [u.username, u]));
  const defaultRead = opts.defaultRead ?? ["forecastd/alerts/#"];
  const reserved = opts.reservedPrefixes ?? ["forecastd"];
  const internal = {
    username: INTERNAL_USER,
    password: [...crypto.getRandomValues(new Uint8Array(24))]
      .map((b) => b.toString(16).padStart(2, "0")).join(""),
  };
  const stats = {
    accepted: 0,
    routed: 0,
    direct: 0,
    refused: { too_large: 0, bad_topic: 0, not_authorized: 0 },
  };
  /** Publishes refused but acknowledged: aedes.publish must not deliver them. */
  const dropped = new WeakSet<object>();
  /** Warnings said once per key (a device retrying every second says it once). */
  const warned = new Set<string>();
  const warnOnce = (key: string, event: string, fields: Record<string, unknown>) => {
    if (warned.has(key)) return log.debug(event, fields);
    if (warned.size > 1000) warned.clear();
    warned.add(key);
    log.warn(event, fields);
  };
  let closing = false;
  /** Each connection's remote address, taken when it is accepted (a closed socket forgets it). */
  const remotes = new WeakMap<object, string | undefined>();
  const remoteOf = (client: Client | null | undefined) =>
    client?.conn ? remotes.get(client.conn) : undefined;

  const refuse = (
    client: Client,
    packet: PublishPacket,
    reason: BrokerRefusal,
    message: string,
  ) => {
    stats.refused[reason]++;
    opts.onRefused?.(reason, { message, topic: packet.topic, clientId: client.id });
    warnOnce(`${client.id}\u0000${reason}`, "broker.publish_refused", {
      client: client.id,
      topic: JSON.stringify(packet.topic).slice(1, -1).slice(0, 200),
      bytes: packet.payload?.length ?? 0,
      reason,
      message,
    });
  };

  /** Refused but acknowledged, as Mosquitto does; aedes.publish must not deliver it. */
  const drop = (
    client: Client,
    packet: PublishPacket,
    reason: BrokerRefusal,
    message: string,
    done: (error?: Error | null) => void,
  ) => {
    refuse(client, packet, reason, message);
    packet.retain = false;
    dropped.add(packet);
    done(null);
  };

  /** The reserved first level `topic` is under, or null (no array per message). */
  const reservedLevel = (topic: string): string | null => {
    for (let i = 0; i < reserved.length; i++) {
      const r = reserved[i];
      if (topic.startsWith(r) && (topic.length === r.length || topic[r.length] === "/")) return r;
    }
    return null;
  };

  /**
   * Whether a client (`who`: its identity) may publish to `topic` a payload
   * of `bytes`: the identity it publishes as, or why the message is refused.
   * The checks of authorizePublish, which refuses, logs and counts, and of
   * the direct path, which leaves any refusal to it (an accepted message
   * costs no object).
   */
  const admit = (who: Identity | undefined, topic: string, bytes: number): Identity | Refusal => {
    const problem = topicNameProblem(topic);
    if (problem) return { refused: "bad_topic", ...problem };
    if (bytes > maxPayload) {
      return refusal("too_large", `a payload must be at most ${maxPayload} bytes: it has ${bytes}`);
    }
    const first = reservedLevel(topic);
    if (first !== null) {
      return refusal("not_authorized", `only forecastd publishes under ${first}/`);
    }
    if (!who || (who.publish !== null && !topicMatchesAny(who.publish, topic))) {
      return refusal("not_authorized", "the user may not publish to this topic");
    }
    return who;
  };

  /** Hands an accepted PUBLISH to onMessage; acknowledges once it is taken. */
  const hand = (
    client: Client,
    packet: PublishPacket,
    payload: Buffer,
    who: Identity,
    done: (error?: Error | null) => void,
  ) => {
    stats.accepted++;
    let taken: unknown;
    try {
      taken = opts.onMessage?.({
        topic: packet.topic,
        payload,
        qos: packet.qos,
        clientId: client.id,
        username: who.username,
      });
    } catch (e) {
      return handFailed(packet, e, done);
    }
    if (!(taken instanceof Promise)) {
      return done(taken === false ? new Error("not taken: forecastd is shutting down") : null);
    }
    taken.then(
      (ack) => done(ack === false ? new Error("not taken: forecastd is shutting down") : null),
      (e) => handFailed(packet, e, done),
    );
  };

  /** A bug, not a bad message: the message is acknowledged, the error said once each. */
  const handFailed = (packet: PublishPacket, e: unknown, done: (error?: Error | null) => void) => {
    log.error("broker.on_message_failed", { topic: packet.topic, error: e });
    done(null);
  };

  // mqtt-packet (aedes's and MQTT.js's writer) otherwise builds 65,536 two-byte Buffers for packet
  // ids at its first packet: 7.7 MB of heap built in one piece (over 100 ms here), every full GC
  // marks it after; without it, a PUBACK allocates its 2 bytes (no slower, measured)
  writeToStream.cacheNumbers = false;
  // a connection's PUBACKs of one turn of the event loop as one write (puback_writer.ts)
  writePubacksTogether(mqttPacket);
  // a whole PUBLISH read in place from the socket's bytes, not through a BufferList (publish_parser.ts)
  readPublishesInPlace(mqttPacket);
  const aedes = await Aedes.createBroker({
    // a client id derived by forecastd is 22 characters; devices may use longer ones
    maxClientsIdLength: 256,
    // aedes's default of 60 s lets a subscriber that stopped reading hold its queue that long
    drainTimeout: drainTimeoutMs,
    authenticate(client, username, password, done) {
      const remote = remoteOf(client);
      const deny = (returnCode: 4 | 5, why: string) => {
        warnOnce(`${remote}\u0000${username}\u0000${why}`, "broker.connect_refused", {
          client: client.id,
          username: username ?? null,
          remote,
          reason: why,
        });
        const e = new Error(why) as AuthenticateError;
        e.returnCode = returnCode;
        done(e, false);
      };
      if (username === undefined || username === null) {
        if (users.size > 0) return deny(5, "anonymous clients are refused: users are configured");
        if (!isLoopback(remote)) {
          return deny(5, "anonymous clients are accepted from loopback only: configure users");
        }
        (client as KnownClient)[IDENTITY] = { username: null, publish: null, read: defaultRead };
        return done(null, true);
      }
      const secret = password ?? Buffer.alloc(0);
      if (username === INTERNAL_USER) {
        const ok = secret.length === internal.password.length &&
          secret.toString("utf8") === internal.password;
        if (!ok) return deny(4, "bad user name or password");
        (client as KnownClient)[IDENTITY] = { username, publish: null, read: defaultRead };
        return done(null, true);
      }
      const user = users.get(username);
      // an unknown user costs the same hash as a known one
      verifyPassword(user?.password ?? DUMMY_HASH, secret).then((ok) => {
        if (!user || !ok) return deny(4, "bad user name or password");
        (client as KnownClient)[IDENTITY] = {
          username,
          publish: user.publish,
          read: user.read ?? defaultRead,
        };
        done(null, true);
      }, (e) => {
        log.error("broker.auth_failed", { client: client.id, username, error: e });
        deny(4, "bad user name or password");
      });
    },
    authorizePublish(client, packet, done) {
      const payload = typeof packet.payload === "string"
        ? Buffer.from(packet.payload, "utf8")
        : packet.payload;
      // a will of a client that is gone: nobody to check it against
      if (client === null) return done(new Error("a will without its client is not published"));
      if (closing) return done(new Error("the broker is closing"));
      const who = admit((client as KnownClient)[IDENTITY], packet.topic, payload.length);
      if ("refused" in who) {
        if (!who.malformed) return drop(client, packet, who.refused, who.message, done);
        refuse(client, packet, who.refused, who.message);
        return done(new Error(`malformed topic: ${who.message}`));
      }
      if (packet.qos !== 2) return hand(client, packet, payload, who, done);
      // QoS 2: a PUBLISH sent again before PUBREL is the same message, handed over once
      (aedes as unknown as { persistence: IncomingStore }).persistence
        .incomingGetPacket(client, packet).then(
          () => done(null),
          () => hand(client, packet, payload, who, done),
        );
    },
    authorizeForward(client, packet) {
      const who = (client as KnownClient)[IDENTITY];
      return who && topicMatchesAny(who.read, packet.topic) ? packet : null;
    },
  });

  // a refused publish is acknowledged (the PUBACK precedes this call) but reaches nobody; so
  // does a client's publish no client may read (aedes's routing is then skipped: the retained
  // store, the offline queues of persistent sessions, the subscriptions' match)
  // (aedes calls publish(packet, client, done) itself; the typed API is publish(packet, done))
  const publishPacket = aedes.publish.bind(aedes) as unknown as (
    packet: PublishPacket,
    client: Client | null,
    done?: (e?: Error) => void,
  ) => void;
  const mayBeRead = readableBy(defaultRead, [...users.values()], reserved);
  aedes.publish = ((packet: PublishPacket, client: unknown, done?: (e?: Error) => void) => {
    if (typeof client === "function") return publishPacket(packet, null, client as () => void);
    if (dropped.has(packet)) return done?.();
    if (client !== null) {
      if (!mayBeRead(packet.topic)) return done?.();
      stats.routed++;
    }
    publishPacket(packet, client as Client | null, done);
  }) as typeof aedes.publish;

  /**
   * The direct path: a connected client's whole QoS 0 or 1 PUBLISH (not
   * retained), read in place from its bytes (publish_parser.ts), that the
   * broker accepts and no client may read, is taken here instead of by
   * aedes. aedes would check its topic, call authorizePublish (the same
   * admit(), then `hand`), write the PUBACK, wait a setImmediate,
   * then call publish(), which routes it nowhere: some 10 objects and a
   * turn of the event loop a packet. Here it is the same `hand`, the PUBACK
   * owed once the message is taken (puback_writer.ts), and aedes's own
   * count of the read's packets in progress raised and lowered, so that
   * the connection's next read waits for every packet of this one, as it
   * does in aedes; the keep-alive timer is refreshed as aedes does for every
   * packet. Anything else (QoS 2, retained, a topic some client may read,
   * one refused for any reason, a client not yet connected) goes aedes's
   * way, which refuses, logs and counts it as before.
   */
  const maxTopicLevels = (aedes as unknown as { maxTopicLevels?: number }).maxTopicLevels ?? 100;
  const direct = (client: KnownClient & ClientInternals, packet: ReadPublish): boolean => {
    if (closing || packet.qos > 1 || packet.retain || !client.connackSent || !client.connected) {
      return false;
    }
    const topic = packet.topic;
    const who = admit(client[IDENTITY], topic, packet.payload.length);
    if ("refused" in who || mayBeRead(topic) || levels(topic) > maxTopicLevels) return false;
    if (client._keepaliveInterval > 0) client._keepaliveTimer?.refresh();
    // the read's packets in progress: the next read waits until every one is done (aedes's enqueue)
    client._parsingBatch++;
    stats.direct++;
    hand(client, packet, packet.payload, who, (error) => taken(client, packet, error ?? null));
    return true;
  };
  /**
   * A message of the direct path taken (or not: `error`): its PUBACK owed at once, the read's
   * count lowered at the next setImmediate, as aedes does after its write, one setImmediate for
   * all the messages done meanwhile (aedes: one a packet); so a read is never parsed within the
   * one before it, and the next reads of every connection are parsed after the answers at hand.
   */
  const taken = (client: ClientInternals, packet: ReadPublish, error: Error | null) => {
    if (error === null && packet.qos === 1) {
      // what aedes's write() does for a connection that is gone
      if (client.connecting || client.connected) owePuback(client.conn, packet.messageId!);
      else error = new Error("connection closed");
    }
    doneClients.push(client);
    doneErrors.push(error);
    if (!doneQueued) {
      doneQueued = true;
      setImmediate(allDone);
    }
  };
  /** The messages done and their errors (null: none), in order, until allDone. */
  let doneClients: ClientInternals[] = [];
  let doneErrors: (Error | null)[] = [];
  let spareClients: ClientInternals[] = [];
  let spareErrors: (Error | null)[] = [];
  let doneQueued = false;
  const allDone = () => {
    doneQueued = false;
    const clients = doneClients, errors = doneErrors;
    // (messages done while these are handled wait for the next setImmediate)
    doneClients = spareClients;
    doneErrors = spareErrors;
    for (let i = 0; i < clients.length; i++) {
      // with an error, aedes's callback emits it on the client (which closes it), as aedes would
      clients[i]._nextBatch(errors[i]);
    }
    clients.length = 0;
    errors.length = 0;
    spareClients = clients;
    spareErrors = errors;
  };

  const sockets = new Set<Socket>();
  const frameLimit = maxPayload + 65_536;
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    remotes.set(socket, socket.remoteAddress);
    socket.once("close", () => sockets.delete(socket));
    // Deno's read() leaves chunks behind, which stalls large publishes (read_whole_buffer.ts)
    const guarded = limitFrames(readWholeBuffer(socket), frameLimit, (bytes) => {
      stats.refused.too_large++;
      opts.onRefused?.("too_large", {
        message: `a packet must be at most ${frameLimit} bytes: it has ${bytes}; the ` +
          "connection is closed",
        topic: null,
        clientId: null,
      });
      warnOnce(`${socket.remoteAddress}\u0000frame`, "broker.packet_too_large", {
        remote: socket.remoteAddress,
        bytes,
        limit: frameLimit,
        message: "the connection is closed",
      });
      socket.destroy();
    });
    const client = aedes.handle(guarded) as unknown as KnownClient;
    if (hasInternals(client)) {
      takePublishes(client._parser, (packet) => direct(client, packet));
    }
  };
  const server: Server = opts.tls
    ? createTlsServer(
      { cert: Buffer.from(opts.tls.cert), key: Buffer.from(opts.tls.key) },
      (s) => onConnection(s),
    )
    : createTcpServer(onConnection);
  const tooSlow = new WeakSet<object>();
  aedes.on("clientError", (client, error) => {
    if (error.message === "drain timeout") {
      // aedes may report the destroyed socket's error twice: say it once
      if (tooSlow.has(client)) return;
      tooSlow.add(client);
      log.warn("broker.client_too_slow", {
        client: client?.id,
        remote: remoteOf(client),
        message: `the client read nothing for ${drainTimeoutMs} ms: it is disconnected`,
      });
      return;
    }
    log.debug("broker.client_error", { client: client?.id, error: error.message });
  });
  aedes.on("connectionError", (client, error) => {
    if ((error as { errorCode?: number }).errorCode === 1) {
      const remote = remoteOf(client);
      warnOnce(`${remote}\u0000protocol`, "broker.protocol_refused", {
        remote,
        message: "the embedded broker serves MQTT 3.1.1 and 3.1, not MQTT 5: connect with " +
          "protocol version 4, or run an external broker (--mqtt-url)",
      });
      return;
    }
    log.debug("broker.connection_error", { client: client?.id, error: error.message });
  });
  if (opts.tls) {
    server.on("tlsClientError", (e: Error) => log.debug("broker.tls_error", { error: e.message }));
  }

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
  if (users.size === 0) {
    log.info("broker.anonymous_loopback_only", {
      message: "no broker users are configured: anonymous clients are accepted from loopback " +
        "only, and they read the alerts, not the readings",
    });
  }

  const scheme = opts.tls ? "mqtts" : "mqtt";
  let closed: Promise<void> | null = null;
  return {
    host,
    port: bound,
    url: `${scheme}://${hostPort(dialHost(host), bound)}`,
    listenUrl: `${scheme}://${hostPort(host, bound)}`,
    wildcard: dialHost(host) !== host,
    get clients() {
      return aedes.connectedClients ?? 0;
    },
    stats,
    internal,
    publish(topic, message, { qos, retain }, callback) {
      if (closing) return callback(new Error("the broker is closed"));
      aedes.publish({
        cmd: "publish",
        topic,
        payload: Buffer.from(message, "utf8"),
        qos,
        retain: retain ?? false,
        dup: false,
      }, (e) => callback(e ?? undefined));
    },
    close() {
      closed ??= (async () => {
        // from here on nothing is acknowledged, then the connections end
        closing = true;
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // aedes closed its clients; drop any socket still half-open
        for (const s of sockets) s.destroy();
        await serverClosed;
      })();
      return closed;
    },
  };
}

/**
 * Whether a client may read a message of `topic` published by a client: a
 * topic some client's read filters match (a user's `read`, else
 * `defaultRead`: broker users are fixed at start). A filter whose first level
 * is a reserved prefix matches only topics clients may not publish to, so
 * with the defaults (`forecastd/alerts/#`) no reading is ever read and the
 * answer is false without a look at the topic.
 */
export function readableBy(
  defaultRead: readonly string[],
  users: readonly Pick<BrokerUser, "read">[],
  reserved: readonly string[],
): (topic: string) => boolean {
  const filters = new Set([defaultRead, ...users.map((u) => u.read ?? defaultRead)].flat());
  const open = [...filters].filter((f) => !reserved.includes(f.split("/")[0]));
  if (open.length === 0) return () => false;
  // a filter whose first level is a name matches only topics under it: no split for the others
  const under = (f: string) => {
    const first = f.split("/")[0];
    return first === "+" || first === "#" ? null : `${first}/`;
  };
  const rules = open.map((f) => ({ filter: f, under: under(f) }));
  return (topic) =>
    rules.some((r) =>
      (r.under === null || topic.startsWith(r.under) || `${topic}/` === r.under) &&
      topicMatchesFilter(r.filter, topic)
    );
}

/** The levels of a topic name, as aedes counts them against its maxTopicLevels. */
function levels(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) n++;
  return n;
}

/** A valid hash of a random password: an unknown user's password is checked against it. */
const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" +
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
