/**
 * The MQTT source: readings in from an external broker over one MQTT.js
 * client, or in-process from the embedded broker (broker.ts).
 *
 * - Readings: the client subscribes (QoS 1) to the subscription filters of
 *   the topic patterns; each message goes through parseMqttMessageAsync into
 *   `sink.ingest(readings, "mqtt")`. A message that cannot be parsed, or
 *   whose payload is larger than `maxPayloadBytes`, is handed to
 *   `sink.reject(reason, refusal)` (counted, and kept among the last refusals
 *   the API lists). MQTT has no reply: a refusal (a message refused,
 *   `mqtt.rejected`, or a reading the sink refused, `mqtt.reading_rejected`)
 *   is logged at warn with its reason, at most 10 of each a minute, and a
 *   `..._summary` entry counts the rest by reason (limitLog; at the debug
 *   level every one is logged). Topics under
 *   `ignoreTopicPrefix` (where forecastd publishes its alerts) are ignored,
 *   so a pattern such as `#` does not feed forecastd its own alerts.
 * - Shards: with `owns` (`--shard I/N`), a reading of a stream this instance
 *   does not own is dropped and counted as `sink.reject("other_shard")`, not
 *   logged: when the topic names the stream, before the payload is read;
 *   else after parsing, reading by reading (docs/clustering.md).
 * - Sessions: the client connects with `clean: false` and a stable client id
 *   (given, or generated once and kept in `<dataDir>/mqtt-client-id`), so
 *   an external broker queues the QoS 1 readings sent while forecastd is down
 *   and delivers them when it is back.
 * - Acknowledgements: on an external broker up to `inflight` messages are
 *   taken at once and each is acknowledged (PUBACK) once its readings are
 *   taken, in the order the messages came (ack_window.ts); a full window
 *   stops reading the connection. A copy the broker sends again after a
 *   reconnection of a message already taken is not taken twice.
 * - Alerts go out over the same client (one connection, one session): the
 *   source exposes it as `client`, and src/alerts/mqtt.ts publishes on it.
 *
 * `startMqtt` is the daemon's MQTT side from its own options: with a `url`
 * it starts the source on that broker; without, it starts the embedded
 * broker (broker.ts) and takes its messages in-process, before the broker
 * acknowledges them (no client, no loopback connection). It reads the TLS
 * and users files and returns what the wiring needs (URLs to print,
 * readiness, where alerts are published, close).
 *
 * Longer than 500 lines: the two ways in (an external broker's client, the
 * embedded broker in-process) share the reading handler, the rate-limited
 * refusal log, the shard filter and the shutdown order that keeps every
 * acknowledged reading; topic matching, parsing and the broker itself are
 * files of their own.
 */
import mqtt from "mqtt";
import { writeToStream } from "mqtt-packet";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { maskUrlPassword } from "../domain/mask_url_password.ts";
import { isStreamId } from "../domain/reading.ts";
import { OTHER_SHARD } from "../domain/shard_map.ts";
import { type LimitedLog, limitLog, type Logger } from "../log.ts";
import type { IngestResult, IngestSink } from "./ingest_sink.ts";
import type { Reading } from "../domain/reading.ts";
import { InOrder } from "../async/in_order.ts";
import { AckWindow, DEFAULT_INFLIGHT } from "./ack_window.ts";
import { resolvesWithin } from "../async/resolves_within.ts";
import { parseMqttMessage, parseMqttMessageAsync } from "./parse.ts";
import type { ParseResult } from "./ingest_error.ts";
import {
  compileTopicPatterns,
  matchTopic,
  subscriptionFilters,
  type TopicPattern,
} from "./topics.ts";
import {
  BrokerListenError,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type EmbeddedBroker,
  startEmbeddedBroker,
} from "./broker.ts";
import { type BrokerUser, BrokerUsersError, parseBrokerUsers } from "./broker_users.ts";

/** How to reach a broker: its URL and credentials. */
export interface BrokerConnection {
  /** mqtt://, mqtts://, ws:// or wss:// (credentials in the URL are used). */
  url: string;
  username?: string | null;
  password?: string | null;
  /** PEM contents (not paths) of the CA, client certificate and key. Default none. */
  ca?: Uint8Array | null;
  cert?: Uint8Array | null;
  key?: Uint8Array | null;
}

/** The MQTT.js options for a connection's credentials (the URL is passed apart). */
export function connectOptions(c: BrokerConnection): mqtt.IClientOptions {
  return {
    ...(c.username != null ? { username: c.username } : {}),
    ...(c.password != null ? { password: c.password } : {}),
    ...(c.ca ? { ca: toBuffer(c.ca) } : {}),
    ...(c.cert ? { cert: toBuffer(c.cert) } : {}),
    ...(c.key ? { key: toBuffer(c.key) } : {}),
  };
}

/**
 * A last will: the broker publishes it when the connection ends without a
 * DISCONNECT (a crash, a cut network), e.g. "offline" on forecastd's
 * availability topic.
 */
export interface MqttWill {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** Options of startMqttSource; every optional field has the default it names. */
export interface MqttSourceOptions extends BrokerConnection {
  /** MQTT client id; stable across restarts for the session to persist. */
  clientId: string;
  /** Topic patterns to subscribe to (see topics.ts). */
  topics: readonly string[];
  /**
   * Messages on this topic or under it are not read: forecastd's own alerts
   * (the alert topic prefix). Default null: every subscribed topic is read.
   */
  ignoreTopicPrefix?: string | null;
  /**
   * True for the streams this instance owns (`--shard`); readings of the
   * others are dropped and counted as `other_shard`. Default null: every stream.
   */
  owns?: ((stream: string) => boolean) | null;
  /** Where readings go. */
  sink: IngestSink;
  log: Logger;
  /** Receive time of messages, ms. Default Date.now. */
  now?: () => number;
  /** Wait between reconnection attempts, ms. Default 2000. */
  reconnectMs?: number;
  /** Give up a connection attempt after this long, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Keepalive, seconds. Default 30. */
  keepaliveSeconds?: number;
  /** How long close() waits for unacknowledged publishes (alerts) before dropping them, ms. Default 2000. */
  closeTimeoutMs?: number;
  /** Larger payloads are rejected as `too_large`, bytes. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** The connection's last will. Default null: none. */
  will?: MqttWill | null;
  /**
   * Messages taken at once and not yet acknowledged at most (the window,
   * ack_window.ts); a full window stops reading the connection. Default
   * DEFAULT_INFLIGHT (100).
   */
  inflight?: number;
}

/** What the source gives MQTT.js's handleMessage callback so that it reads on without a PUBACK. */
const HOLD = new Error("acknowledged by the source once taken");

/** A running MQTT source. */
export interface MqttSource {
  readonly url: string;
  readonly clientId: string;
  /** True while connected to the broker with the subscriptions granted. */
  readonly connected: boolean;
  /** Resolves at the first time the subscriptions are granted (never rejects). */
  readonly ready: Promise<void>;
  /**
   * Since start: messages received, rejected (parse errors, too large),
   * connections made, and copies of messages already taken that the broker
   * sent again after a reconnection (acknowledged, not taken again).
   */
  readonly stats: { messages: number; rejected: number; connects: number; duplicates: number };
  /**
   * The connection, for the MQTT alert channel to publish on (close that
   * channel before the source: close() ends the connection).
   */
  readonly client: mqtt.MqttClient;
  /** Disconnects (the broker keeps the session), after unacknowledged publishes or a timeout. */
  close(): Promise<void>;
}

/** What the source needs of MQTT.js's socket to hold writes back (node:stream's Writable). */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/** True when `topic` is `prefix` or lies under it. */
export function isUnderPrefix(topic: string, prefix: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/** Connects to the broker, subscribes, and feeds the sink. */
export function startMqttSource(opts: MqttSourceOptions): MqttSource {
  const log = opts.log.child({ source: "mqtt" });
  const patterns: TopicPattern[] = compileTopicPatterns(opts.topics);
  const filters = subscriptionFilters(patterns);
  const shownUrl = maskUrlPassword(opts.url);
  const stats = { messages: 0, rejected: 0, connects: 0, duplicates: 0 };
  const refusals = limitLog(log, { countBy: "reason" });
  const onMessage = readingHandler({ ...opts, patterns, log, stats, refusals });

  const keepaliveMs = (opts.keepaliveSeconds ?? 30) * 1000;
  const client = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    clean: false,
    protocolVersion: 4,
    keepalive: keepaliveMs / 1000,
    reconnectPeriod: opts.reconnectMs ?? 2000,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    ...(opts.will ? { will: { ...opts.will } } : {}),
    ...connectOptions(opts),
  });

  let connected = false;
  let subscribed = false;
  let closed = false;
  let lastError = "";
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => markReady = resolve);

  client.on("connect", (connack) => {
    lastError = "";
    stats.connects++;
    log.info("mqtt.connected", {
      url: shownUrl,
      clientId: opts.clientId,
      sessionPresent: connack.sessionPresent,
    });
    if (subscribed) {
      // MQTT.js subscribes again by itself when the broker lost the session
      connected = true;
      return;
    }
    // Once per process, even when the session is present: the configured
    // patterns may have changed since the session was made.
    client.subscribeAsync(filters, { qos: 1 })
      .then((granted) => {
        const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) {
          log.error("mqtt.subscribe_refused", {
            url: shownUrl,
            filters: refused,
            hint: "the broker's access control must allow this client to subscribe",
          });
        }
        subscribed = true;
        connected = client.connected;
        log.info("mqtt.subscribed", { filters, qos: granted.map((g) => g.qos) });
        markReady();
      })
      .catch((e) => {
        if (!closed) log.error("mqtt.subscribe_failed", { url: shownUrl, filters, error: e });
      });
  });
  client.on("close", () => {
    if (connected && !closed) log.warn("mqtt.disconnected", { url: shownUrl });
    connected = false;
  });
  client.on("reconnect", () => log.debug("mqtt.reconnecting", { url: shownUrl }));
  client.on("error", (e) => {
    // the same error on every reconnection attempt is logged once
    const text = e instanceof Error ? e.message : String(e);
    if (text === lastError) {
      log.debug("mqtt.error", { url: shownUrl, error: text });
      return;
    }
    lastError = text;
    log.warn("mqtt.error", {
      url: shownUrl,
      error: text,
      retryInSeconds: (opts.reconnectMs ?? 2000) / 1000,
    });
  });

  // A message is acknowledged (PUBACK) once the sink has taken its readings, so an
  // acknowledged reading is in its model, in the order the messages came; up to `inflight`
  // messages are taken at once (ack_window.ts). MQTT.js reads a connection's next packet once
  // handleMessage's callback is called, and writes the PUBACK then unless the callback is given
  // an error: the source calls it with HOLD as soon as the window has room and writes the
  // PUBACKs itself, in order, once their messages are taken.
  //
  // The PUBACKs of one turn of the event loop go out in one write: each write to the socket is a
  // system call (through a Mosquitto on this machine, 63% of the main thread's busy time before;
  // bench/broker_cost.ts --part=source --via=mosquitto). The socket is corked at the first
  // acknowledgement of a turn and uncorked once the turn's I/O is done (setImmediate).
  let corked: Corkable | null = null;
  let pingPutOff = 0;
  const uncork = () => {
    const stream = corked;
    corked = null;
    stream?.uncork();
  };
  const window = new AckWindow({
    size: opts.inflight ?? DEFAULT_INFLIGHT,
    acknowledge: (ids) => {
      const stream = client.stream;
      if (!stream || !client.connected) return;
      const corkable = stream as unknown as Partial<Corkable>;
      if (corked === null && typeof corkable.cork === "function") {
        corkable.cork();
        corked = corkable as Corkable;
        setImmediate(uncork);
      }
      for (const messageId of ids) writeToStream({ cmd: "puback", messageId }, stream);
      // MQTT.js counts only the broker's acknowledgements and PINGRESPs as signs of life: while
      // the window is full its PINGRESP waits behind the publishes not read yet. A quarter of
      // the keep-alive apart at most (each time a timer cleared and set again)
      const now = Date.now();
      if (now - pingPutOff >= keepaliveMs / 4) {
        pingPutOff = now;
        client.reschedulePing();
      }
    },
    // the daemon could not take a message (a worker down): handed over again after a while
    retryMs: opts.reconnectMs ?? 2000,
    notTaken: () =>
      refusals.log("warn", "mqtt.not_taken", {
        reason: "unavailable",
        retryInMs: opts.reconnectMs ?? 2000,
      }),
    duplicate: (m) => {
      stats.duplicates++;
      if (log.enabled("debug")) log.debug("mqtt.duplicate", { topic: m.topic, id: m.id });
    },
  });
  client.on("close", () => window.reset());
  client.on("connect", (connack) => {
    if (!connack.sessionPresent) window.reset(true);
  });
  client.handleMessage = (packet, callback) => {
    // closing: left unacknowledged and not read further, the broker delivers it again
    if (closed) return;
    if (packet.qos === 2) {
      // subscribed at QoS 1, a broker sends none; MQTT.js's own PUBCOMP, once taken
      const taken = onMessage(packet.topic, packet.payload as Uint8Array);
      if (taken === true) callback();
      else if (taken !== false) taken.then((ok) => ok && callback());
      return;
    }
    const message = {
      id: packet.qos > 0 ? packet.messageId ?? 0 : 0,
      topic: packet.topic,
      payload: packet.payload as Uint8Array,
      dup: packet.dup === true,
    };
    window.add(message, () => onMessage(message.topic, message.payload), () => callback(HOLD));
  };

  let closing: Promise<void> | null = null;
  return {
    url: opts.url,
    clientId: opts.clientId,
    get connected() {
      return connected && client.connected;
    },
    ready,
    stats,
    client,
    close() {
      closing ??= (async () => {
        closed = true;
        window.close();
        const wasConnected = client.connected;
        const timeoutMs = opts.closeTimeoutMs ?? 2000;
        // the messages being taken are acknowledged first
        if (!await resolvesWithin(window.settled(), timeoutMs)) {
          log.warn("mqtt.close_timeout", { url: shownUrl, timeoutMs, inflight: window.length });
        }
        // connected: let unacknowledged alert publishes finish first
        if (!await resolvesWithin(client.endAsync(!wasConnected), timeoutMs)) {
          log.warn("mqtt.close_timeout", { url: shownUrl, timeoutMs });
          client.stream?.destroy();
        }
        connected = false;
        refusals.close();
        log.info("mqtt.closed", { url: shownUrl });
      })();
      return closing;
    },
  };
}

/** What readingHandler needs. */
interface ReadingHandlerOptions {
  patterns: readonly TopicPattern[];
  sink: IngestSink;
  log: Logger;
  stats: { messages: number; rejected: number };
  /** Where refusals are logged: at warn, limited (limitLog). */
  refusals: LimitedLog;
  ignoreTopicPrefix?: string | null;
  owns?: ((stream: string) => boolean) | null;
  now?: () => number;
  maxPayloadBytes?: number;
}

/**
 * The source's message handling, the same for an external broker's client
 * and the embedded broker. Says, at once or through a promise once the
 * message is done with, whether it may be acknowledged: true when its
 * readings were taken, or it was refused for good; false when the sink
 * cannot take it now (shutting down): then it stays unacknowledged and the
 * sender sends it again. One promise per message at most (the sink's): this
 * runs once per reading.
 */
function readingHandler(
  opts: ReadingHandlerOptions,
): (topic: string, payload: Uint8Array) => boolean | Promise<boolean> {
  const { patterns, sink, log, stats } = opts;
  const ignored = opts.ignoreTopicPrefix ?? null;
  const owns = opts.owns ?? null;
  const now = opts.now ?? Date.now;
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  /** The messages' order while a big one is parsed in slices (see in_order.ts). */
  const order = new InOrder();

  const reject = (topic: string, reason: string, message: string): true => {
    stats.rejected++;
    // the stream the topic names, when it names a valid one: what the refusal is listed under
    const named = matchTopic(patterns, topic)?.stream ?? null;
    const stream = named !== null && isStreamId(named) ? named : null;
    sink.reject(reason, { source: "mqtt", stream, message, topic });
    opts.refusals.log("warn", "mqtt.rejected", { topic, reason, message });
    return true;
  };

  const failed = (topic: string, e: unknown): boolean => {
    if ((e as { kind?: string }).kind === "unavailable") return false;
    // a bug, not a bad message: keep the client alive, say what happened once per message
    log.error("mqtt.message_failed", { topic, error: e });
    return true;
  };

  const taken = (topic: string, readings: readonly Reading[], result: IngestResult): true => {
    if (log.enabled("debug")) {
      log.debug("mqtt.readings", { topic, readings, accepted: result.accepted });
    }
    // parsed, then refused by the sink (other columns, out of order, too many streams)
    for (const r of result.rejected) {
      opts.refusals.log("warn", "mqtt.reading_rejected", {
        topic,
        stream: r.stream,
        index: r.index,
        reason: r.reason,
        message: r.message,
      });
    }
    return true;
  };

  return (topic, payload) => {
    if (ignored !== null && isUnderPrefix(topic, ignored)) return true;
    stats.messages++;
    try {
      // another shard's stream, named by the topic: dropped before the payload is read
      if (owns !== null) {
        const named = matchTopic(patterns, topic)?.stream ?? null;
        if (named !== null && !owns(named)) {
          sink.reject(OTHER_SHARD);
          return true;
        }
      }
      if (payload.length > maxPayload) {
        return reject(
          topic,
          "too_large",
          `Cannot ingest message: the payload must be at most ${maxPayload} bytes: ` +
            `current value is ${payload.length} bytes`,
        );
      }
      // a small payload (one reading is some 40 bytes) at once, a big one in slices (parse.ts)
      const small = payload.length <= SYNC_PARSE_BYTES;
      if (small && order.idle) {
        return take(topic, parseMqttMessage(topic, payload, patterns, { receivedAt: now() }));
      }
      // Behind a big message still being parsed, a message waits for its turn:
      // readings reach the sink in the order their messages came, so a small
      // message cannot overtake a batch of the same stream.
      const turn = order.next();
      const parsed = small
        ? Promise.resolve(parseMqttMessage(topic, payload, patterns, { receivedAt: now() }))
        : parseMqttMessageAsync(topic, payload, patterns, { receivedAt: now() });
      return Promise.all([parsed, turn.ready]).then(
        ([p]) => {
          const result = take(topic, p); // hands the readings to the sink before returning
          turn.done();
          return result;
        },
        (e) => {
          turn.done();
          return failed(topic, e);
        },
      );
    } catch (e) {
      return failed(topic, e);
    }
  };

  /** Hands a parsed message to the sink; says whether it may be acknowledged, as above. */
  function take(topic: string, parsed: ParseResult): boolean | Promise<boolean> {
    try {
      if (!parsed.ok) return reject(topic, parsed.error.reason, parsed.error.message);
      let readings = parsed.readings;
      if (owns !== null) {
        // streams named in the payload: each reading of another shard dropped
        readings = readings.filter((r) => owns(r.stream));
        for (let i = readings.length; i < parsed.readings.length; i++) sink.reject(OTHER_SHARD);
        if (readings.length === 0) return true;
      }
      return sink.ingest(readings, "mqtt").then((result) => {
        try {
          return taken(topic, readings, result);
        } catch (e) {
          return failed(topic, e);
        }
      }, (e) => failed(topic, e));
    } catch (e) {
      return failed(topic, e);
    }
  }
}

/**
 * Payloads up to this size are parsed at once, without a promise (a
 * one-reading message is about 40 bytes; 16 KiB parse in well under a
 * slice); larger ones in slices (parseMqttMessageAsync).
 */
const SYNC_PARSE_BYTES = 16_384;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---------------------------------------------------------------------------
// The daemon's MQTT side

/** The file in the data directory that keeps the generated client id. */
export function clientIdPath(dataDir: string): string {
  return join(dataDir, "mqtt-client-id");
}

/**
 * The MQTT client id: `clientId` when given, else the one kept in
 * `<dataDir>/mqtt-client-id`, else a new `forecastd-<12 hex digits>` written
 * there. Two gateways with the same data directory path still get different
 * ids, and a restart on the same data directory resumes the same session.
 * The data directory must exist.
 */
export async function resolveClientId(
  opts: { dataDir: string; clientId?: string | null },
): Promise<string> {
  if (opts.clientId != null) return opts.clientId;
  const path = clientIdPath(opts.dataDir);
  try {
    const id = (await Deno.readTextFile(path)).trim();
    if (/^[A-Za-z0-9_-]{1,23}$/.test(id)) return id;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const id = `forecastd-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  await Deno.writeTextFile(path, `${id}\n`);
  return id;
}

/** A file the MQTT options name cannot be used (a person must fix it). */
export class MqttConfigError extends Error {
  override name = "MqttConfigError";
}

/** Reads one PEM file, naming the setting when it cannot. */
async function readPem(setting: string, path: string | null): Promise<Uint8Array | null> {
  if (path === null) return null;
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new MqttConfigError(
      `Cannot start the MQTT source: ${setting} must name a readable PEM file: ` +
        `current value is ${JSON.stringify(path)} (${e instanceof Error ? e.message : e})`,
    );
  }
}

/** What publishes forecastd's own messages: MQTT.js's publish() signature. */
export interface Publisher {
  publish(
    topic: string,
    message: string,
    opts: { qos: 1; retain?: boolean },
    callback: (error?: Error) => void,
  ): unknown;
}

/** The MQTT side of the daemon, as the wiring uses it. */
export interface Mqtt {
  /** The embedded broker, or null (external broker, or it could not listen). */
  readonly broker: EmbeddedBroker | null;
  /** Why the embedded broker is not running, or null. */
  readonly brokerError: BrokerListenError | null;
  /** The source on an external broker, or null (embedded broker: messages come in-process). */
  readonly source: MqttSource | null;
  /**
   * Where alerts are published (src/alerts/mqtt.ts takes it): the embedded
   * broker, or the source's client; null: nowhere.
   */
  readonly publisher: Publisher | null;
  /** The URL devices publish to (external: as given, password masked). */
  readonly brokerUrl: string | null;
  /** How a client of this daemon (the demo sensor) reaches the broker, or null. */
  readonly connection: BrokerConnection | null;
  /** Resolves once readings can arrive (subscribed, or the embedded broker listening). */
  readonly ready: Promise<void>;
  /** For /readyz: connected to the broker (embedded: listening; false when it failed). */
  connected(): boolean;
  /** Closes the source, or stops the embedded broker acknowledging and closes it. */
  close(): Promise<void>;
}

/** Options of startMqtt; every optional field has the default it names. */
export interface MqttOptions {
  /** Where readings go. */
  sink: IngestSink;
  log: Logger;
  /** The data directory (it must exist): a generated client id is kept there. */
  dataDir: string;
  /** Topic patterns to subscribe to (see topics.ts). */
  topics: readonly string[];
  /** The broker to subscribe to; null: start the embedded broker and use it. Default null. */
  url?: string | null;
  /** Address the embedded broker listens on. Default "127.0.0.1" (the daemon passes its HTTP host). */
  brokerHost?: string;
  /** Port of the embedded broker; 0 picks a free one. Default 1883. */
  brokerPort?: number;
  /**
   * The embedded broker's users as JSON (see broker_users.ts), from a file or
   * a variable: `{ path }` or `{ text, where }`. Default null: no users,
   * anonymous clients from loopback only. Unreadable or invalid: MqttConfigError.
   */
  brokerUsers?: { path: string } | { text: string; where: string } | null;
  /** PEM certificate and key files: the embedded broker listens with TLS. Default none. */
  brokerCertFile?: string | null;
  brokerKeyFile?: string | null;
  /** Largest payload taken, bytes (embedded broker and source). Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Credentials for the broker. Default none. */
  username?: string | null;
  password?: string | null;
  /**
   * PEM files: the CA, the client certificate and its key. Default none. A
   * file that cannot be read is refused with MqttConfigError naming the
   * setting (mqttCa, mqttCert, mqttKey).
   */
  caFile?: string | null;
  certFile?: string | null;
  keyFile?: string | null;
  /** The client id. Default null: the one kept in the data directory (see resolveClientId). */
  clientId?: string | null;
  /**
   * Messages on this topic or under it are not read (the alert prefix); on
   * the embedded broker clients read it by default and only the daemon
   * publishes under its first level. Default null.
   */
  ignoreTopicPrefix?: string | null;
  /**
   * True for the streams this instance owns (`--shard`); readings of the
   * others are dropped and counted as `other_shard`. Default null: every stream.
   */
  owns?: ((stream: string) => boolean) | null;
  /**
   * Further topic filters the embedded broker's clients read by default
   * (those without a user's own `read`), besides the alerts: forecastd's
   * other topics, such as its forecasts and status. Default none.
   */
  readTopics?: readonly string[];
  /** Receive time of messages, ms. Default Date.now. */
  now?: () => number;
  /** Wait between reconnection attempts, ms. Default 2000. */
  reconnectMs?: number;
  /** The source connection's last will on an external broker (see MqttWill). Default null: none. */
  will?: MqttWill | null;
  /**
   * Messages from an external broker taken at once and not yet acknowledged
   * at most (MqttSourceOptions.inflight). Default DEFAULT_INFLIGHT.
   */
  inflight?: number;
}

/**
 * Starts the embedded broker (when no `url` is given) or the source. If the
 * embedded broker cannot listen, logs why and returns without it (forecastd
 * keeps serving HTTP; readiness reports the broker down). Throws
 * MqttConfigError when a TLS or users file cannot be used.
 */
export async function startMqtt(opts: MqttOptions): Promise<Mqtt> {
  const log = opts.log;
  const url = opts.url ?? null;
  if (url !== null) return await startExternal(url, opts);

  const [cert, key] = [
    await readPem("brokerCert", opts.brokerCertFile ?? null),
    await readPem("brokerKey", opts.brokerKeyFile ?? null),
  ];
  if ((cert === null) !== (key === null)) {
    throw new MqttConfigError(
      "Cannot start the embedded MQTT broker: brokerCert and brokerKey must be given together: " +
        `current value gives only ${cert === null ? "brokerKey" : "brokerCert"}`,
    );
  }
  const users = await readUsers(opts.brokerUsers ?? null);
  const patterns = compileTopicPatterns(opts.topics);
  const alertPrefix = opts.ignoreTopicPrefix ?? null;
  const host = opts.brokerHost ?? "127.0.0.1";
  const port = opts.brokerPort ?? 1883;
  const sourceLog = log.child({ source: "mqtt" });
  const stats = { messages: 0, rejected: 0 };
  const refusals = limitLog(sourceLog, { countBy: "reason" });
  const onMessage = readingHandler({ ...opts, patterns, log: sourceLog, stats, refusals });
  let broker: EmbeddedBroker | null = null;
  let brokerError: BrokerListenError | null = null;
  try {
    broker = await startEmbeddedBroker({
      host,
      port,
      log,
      tls: cert && key ? { cert, key } : null,
      maxPayloadBytes: opts.maxPayloadBytes,
      users,
      defaultRead: [
        ...(alertPrefix === null ? [] : [`${alertPrefix}/#`]),
        ...opts.readTopics ?? [],
      ],
      reservedPrefixes: ["forecastd", ...(alertPrefix ? [alertPrefix.split("/")[0]] : [])],
      // a topic no pattern matches is not a reading: devices may talk among themselves
      // acknowledged once taken: a device's next message waits for it
      onMessage: (m) =>
        matchTopic(patterns, m.topic) !== null ? onMessage(m.topic, m.payload) : true,
      onRefused: (reason, refused) =>
        opts.sink.reject(reason, {
          source: "mqtt",
          stream: null,
          message: `Cannot ingest message${
            refused.clientId === null ? "" : ` from client ${JSON.stringify(refused.clientId)}`
          }: ${refused.message}`,
          ...(refused.topic === null ? {} : { topic: refused.topic }),
        }),
    });
    log.info("broker.listening", {
      host: broker.host,
      port: broker.port,
      url: broker.listenUrl,
      tls: cert !== null,
      users: users.length,
    });
    // what the e2e tests and operators wait for: readings can come in from here on
    sourceLog.info("mqtt.subscribed", { filters: subscriptionFilters(patterns), embedded: true });
  } catch (e) {
    if (!(e instanceof BrokerListenError)) throw e;
    brokerError = e;
    log.error("broker.listen_failed", { host, port, code: e.code, message: e.message });
  }
  let open = broker !== null;
  return {
    broker,
    brokerError,
    source: null,
    publisher: broker,
    brokerUrl: broker ? broker.url : null,
    connection: broker === null ? null : {
      url: broker.url,
      username: broker.internal.username,
      password: broker.internal.password,
      ca: cert,
    },
    ready: Promise.resolve(),
    connected: () => open,
    async close() {
      open = false;
      await broker?.close();
      refusals.close();
    },
  };
}

/** The source on an external broker. */
async function startExternal(url: string, opts: MqttOptions): Promise<Mqtt> {
  const [ca, cert, key] = [
    await readPem("mqttCa", opts.caFile ?? null),
    await readPem("mqttCert", opts.certFile ?? null),
    await readPem("mqttKey", opts.keyFile ?? null),
  ];
  const clientId = await resolveClientId(opts);
  const connection: BrokerConnection = {
    url,
    username: opts.username ?? null,
    password: opts.password ?? null,
    ca,
    cert,
    key,
  };
  const source = startMqttSource({
    ...connection,
    clientId,
    topics: opts.topics,
    ignoreTopicPrefix: opts.ignoreTopicPrefix,
    owns: opts.owns,
    sink: opts.sink,
    log: opts.log,
    now: opts.now,
    reconnectMs: opts.reconnectMs,
    maxPayloadBytes: opts.maxPayloadBytes,
    will: opts.will,
    inflight: opts.inflight,
  });
  return {
    broker: null,
    brokerError: null,
    source,
    publisher: source.client,
    brokerUrl: maskUrlPassword(url),
    connection,
    ready: source.ready,
    connected: () => source.connected,
    close: () => source.close(),
  };
}

/** The embedded broker's users, from their file or text; [] when none are configured. */
async function readUsers(
  from: { path: string } | { text: string; where: string } | null,
): Promise<BrokerUser[]> {
  if (from === null) return [];
  let text: string, where: string;
  if ("path" in from) {
    where = from.path;
    try {
      text = await Deno.readTextFile(from.path);
    } catch (e) {
      throw new MqttConfigError(
        `Cannot start the embedded MQTT broker: brokerUsers must name a readable file: ` +
          `current value is ${JSON.stringify(from.path)} (${e instanceof Error ? e.message : e})`,
      );
    }
  } else {
    ({ text, where } = from);
  }
  try {
    return parseBrokerUsers(text, where);
  } catch (e) {
    if (e instanceof BrokerUsersError) throw new MqttConfigError(e.message);
    throw e;
  }
}
