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
 *   reconnection of a message already taken is not taken twice. The
 *   client's whole QoS 0 and 1 PUBLISHes are read in place from its socket's
 *   bytes and taken without MQTT.js's work a packet (client_publishes.ts);
 *   the PUBACKs of a turn of the event loop go out as one write.
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
 * The two ways in share the reading handler (mqtt_readings.ts: the
 * rate-limited refusal log, the shard filter, parsing in order); the
 * external broker's client is mqtt_source.ts, the embedded broker
 * broker.ts. Each is imported when it starts, so a daemon loads MQTT.js
 * only with `url` and the broker (Aedes) only without; topic matching and
 * parsing are files of their own.
 */
import { join } from "node:path";
import { maskUrlPassword } from "../domain/mask_url_password.ts";
import { limitLog, type Logger } from "../log.ts";
import type { IngestSink } from "./ingest_sink.ts";
import { compileTopicPatterns, matchTopic, subscriptionFilters } from "./topics.ts";
import type { BrokerListenError, EmbeddedBroker } from "./broker.ts";
import { type BrokerUser, BrokerUsersError, parseBrokerUsers } from "./broker_users.ts";
import { readingHandler } from "./mqtt_readings.ts";
import type { BrokerConnection, MqttSource, MqttWill } from "./mqtt_source.ts";

export { isUnderPrefix } from "./mqtt_readings.ts";
export type { BrokerConnection, MqttSource, MqttSourceOptions, MqttWill } from "./mqtt_source.ts";

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
  // the broker (Aedes) is loaded only when the daemon runs it
  const { BrokerListenError, startEmbeddedBroker } = await import("./broker.ts");
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
  // MQTT.js is loaded only when the daemon connects to a broker
  const { startMqttSource } = await import("./mqtt_source.ts");
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
