/**
 * The MQTT source: readings in over one MQTT.js client.
 *
 * - Readings: the client subscribes (QoS 1) to the subscription filters of
 *   the topic patterns; each message goes through parseMqttMessage into
 *   `sink.ingest(readings, "mqtt")`. A message that cannot be parsed is
 *   counted with `sink.reject(reason)` and logged at debug with its reason.
 *   Topics under `ignoreTopicPrefix` (where forecastd publishes its alerts)
 *   are ignored, so a pattern such as `#` does not feed forecastd its own
 *   alerts.
 * - Sessions: the client connects with `clean: false` and a stable client id
 *   (given, or generated once and kept in `<dataDir>/mqtt-client-id`), so
 *   an external broker queues the QoS 1 readings sent while forecastd is down
 *   and delivers them when it is back.
 * - Alerts go out over the same client (one connection, one session): the
 *   source exposes it as `client`, and src/alerts/mqtt.ts publishes on it.
 *
 * `startMqtt` is the daemon's MQTT side from its own options: it starts the
 * embedded broker (broker.ts) when no `url` is given, reads the TLS files,
 * and returns what the wiring needs (URLs to print, readiness, the client,
 * close).
 */
import mqtt from "mqtt";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { maskUrlPassword } from "../domain/mask_url_password.ts";
import type { Logger } from "../log.ts";
import type { IngestSink } from "./ingest_sink.ts";
import { resolvesWithin } from "../async/resolves_within.ts";
import { parseMqttMessage } from "./parse.ts";
import { compileTopicPatterns, subscriptionFilters, type TopicPattern } from "./topics.ts";
import { BrokerListenError, type EmbeddedBroker, startEmbeddedBroker } from "./broker.ts";

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
}

/** A running MQTT source. */
export interface MqttSource {
  readonly url: string;
  readonly clientId: string;
  /** True while connected to the broker with the subscriptions granted. */
  readonly connected: boolean;
  /** Resolves at the first time the subscriptions are granted (never rejects). */
  readonly ready: Promise<void>;
  /** Messages received, and rejected (parse errors), since start. */
  readonly stats: { messages: number; rejected: number };
  /**
   * The connection, for the MQTT alert channel to publish on (close that
   * channel before the source: close() ends the connection).
   */
  readonly client: mqtt.MqttClient;
  /** Disconnects (the broker keeps the session), after unacknowledged publishes or a timeout. */
  close(): Promise<void>;
}

/** True when `topic` is `prefix` or lies under it. */
export function isUnderPrefix(topic: string, prefix: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/** Connects to the broker, subscribes, and feeds the sink. */
export function startMqttSource(opts: MqttSourceOptions): MqttSource {
  const log = opts.log.child({ source: "mqtt" });
  const sink = opts.sink;
  const now = opts.now ?? Date.now;
  const patterns: TopicPattern[] = compileTopicPatterns(opts.topics);
  const filters = subscriptionFilters(patterns);
  const ignored = opts.ignoreTopicPrefix ?? null;
  const shownUrl = maskUrlPassword(opts.url);
  const stats = { messages: 0, rejected: 0 };

  const client = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    clean: false,
    protocolVersion: 4,
    keepalive: opts.keepaliveSeconds ?? 30,
    reconnectPeriod: opts.reconnectMs ?? 2000,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
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

  client.on("message", (topic, payload) => {
    if (ignored !== null && isUnderPrefix(topic, ignored)) return;
    stats.messages++;
    try {
      onMessage(topic, payload);
    } catch (e) {
      // a bug, not a bad message: keep the client alive, say what happened once per message
      log.error("mqtt.message_failed", { topic, error: e });
    }
  });

  function onMessage(topic: string, payload: Uint8Array): void {
    const parsed = parseMqttMessage(topic, payload, patterns, { receivedAt: now() });
    if (!parsed.ok) {
      stats.rejected++;
      sink.reject(parsed.error.reason);
      log.debug("mqtt.rejected", {
        topic,
        reason: parsed.error.reason,
        message: parsed.error.message,
      });
      return;
    }
    const result = sink.ingest(parsed.readings, "mqtt");
    if (log.enabled("debug")) {
      log.debug("mqtt.readings", { topic, readings: parsed.readings, accepted: result.accepted });
      // parsed, then refused by the sink (other columns, out of order, too many streams)
      for (const r of result.rejected) {
        log.debug("mqtt.reading_rejected", {
          topic,
          stream: r.stream,
          index: r.index,
          reason: r.reason,
          message: r.message,
        });
      }
    }
  }

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
        const wasConnected = client.connected;
        const timeoutMs = opts.closeTimeoutMs ?? 2000;
        // connected: let unacknowledged alert publishes finish first
        if (!await resolvesWithin(client.endAsync(!wasConnected), timeoutMs)) {
          log.warn("mqtt.close_timeout", { url: shownUrl, timeoutMs });
          client.stream?.destroy();
        }
        connected = false;
        log.info("mqtt.closed", { url: shownUrl });
      })();
      return closing;
    },
  };
}

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

/** The MQTT side of the daemon, as the wiring uses it. */
export interface Mqtt {
  /** The embedded broker, or null (external broker, or it could not listen). */
  readonly broker: EmbeddedBroker | null;
  /** Why the embedded broker is not running, or null. */
  readonly brokerError: BrokerListenError | null;
  /** The source, or null when there is no broker to connect to. */
  readonly source: MqttSource | null;
  /** The URL devices publish to (external: as given, password masked). */
  readonly brokerUrl: string | null;
  /** How a client of this daemon (the demo sensor) reaches the broker, or null. */
  readonly connection: BrokerConnection | null;
  /** For /readyz: connected to the broker (false also when the embedded one failed). */
  connected(): boolean;
  /** Closes the source, then the embedded broker. */
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
  /** Address the embedded broker listens on. Default "127.0.0.1". */
  brokerHost?: string;
  /** Port of the embedded broker; 0 picks a free one. Default 1883. */
  brokerPort?: number;
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
  /** Messages on this topic or under it are not read (the alert prefix). Default null. */
  ignoreTopicPrefix?: string | null;
  /** Receive time of messages, ms. Default Date.now. */
  now?: () => number;
  /** Wait between reconnection attempts, ms. Default 2000. */
  reconnectMs?: number;
}

/**
 * Starts the embedded broker (when no `url` is given) and the source. If the
 * embedded broker cannot listen, logs why and returns without a source
 * (forecastd keeps serving HTTP; readiness reports the broker down). Throws
 * MqttConfigError when a TLS file cannot be read.
 */
export async function startMqtt(opts: MqttOptions): Promise<Mqtt> {
  const log = opts.log;
  const [ca, cert, key] = [
    await readPem("mqttCa", opts.caFile ?? null),
    await readPem("mqttCert", opts.certFile ?? null),
    await readPem("mqttKey", opts.keyFile ?? null),
  ];
  const clientId = await resolveClientId(opts);
  let broker: EmbeddedBroker | null = null;
  let brokerError: BrokerListenError | null = null;
  let url = opts.url ?? null;
  if (url === null) {
    const host = opts.brokerHost ?? "127.0.0.1";
    const port = opts.brokerPort ?? 1883;
    try {
      broker = await startEmbeddedBroker({ host, port, log });
      url = broker.url;
      log.info("broker.listening", { host: broker.host, port: broker.port, url: broker.url });
    } catch (e) {
      if (!(e instanceof BrokerListenError)) throw e;
      brokerError = e;
      log.error("broker.listen_failed", { host, port, code: e.code, message: e.message });
    }
  }
  const connection: BrokerConnection | null = url === null ? null : {
    url,
    username: opts.username ?? null,
    password: opts.password ?? null,
    ca,
    cert,
    key,
  };
  const source = connection === null ? null : startMqttSource({
    ...connection,
    clientId,
    topics: opts.topics,
    ignoreTopicPrefix: opts.ignoreTopicPrefix,
    sink: opts.sink,
    log,
    now: opts.now,
    reconnectMs: opts.reconnectMs,
  });
  return {
    broker,
    brokerError,
    source,
    brokerUrl: broker ? broker.url : url === null ? null : maskUrlPassword(url),
    connection,
    connected: () => source?.connected ?? false,
    async close() {
      await source?.close();
      await broker?.close();
    },
  };
}
