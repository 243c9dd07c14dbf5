/**
 * The MQTT adapter: readings in, alerts out, over one MQTT.js client.
 *
 * - Readings: the client subscribes (QoS 1) to the subscription filters of
 *   the configured topic patterns; each message goes through
 *   parseMqttMessage into `service.ingest(readings, "mqtt")`. A message that
 *   cannot be parsed is counted with `service.reject(reason)` and logged at
 *   debug with its reason. Topics under the alert prefix are ignored, so a
 *   pattern such as `#` does not feed forecastd its own alerts.
 * - Sessions: the client connects with `clean: false` and a stable client id
 *   (configured, or generated once and kept in `<dataDir>/mqtt-client-id`), so
 *   an external broker queues the QoS 1 readings sent while forecastd is down
 *   and delivers them when it is back.
 * - Alerts: every live alert is published as JSON to
 *   `<alertTopicPrefix>/<stream>` with QoS 1 (queued in memory while the
 *   broker is unreachable).
 *
 * `startMqtt` wires it all from the Config: it starts the embedded broker
 * (broker.ts) when no `mqttUrl` is set, reads the TLS files, and returns
 * what main.ts needs (URLs to print, readiness, close).
 */
import mqtt from "mqtt";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { Config } from "../config/mod.ts";
import { maskUrlPassword } from "../domain/mask_url_password.ts";
import type { Logger } from "../log.ts";
import type { Service } from "../service/service.ts";
import { parseMqttMessage } from "./parse.ts";
import { compileTopicPatterns, subscriptionFilters, type TopicPattern } from "./topics.ts";
import { BrokerListenError, type EmbeddedBroker, startEmbeddedBroker } from "./broker.ts";

/** What the MQTT source uses of the Service (a fake will do in tests). */
export type MqttServiceLike = Pick<Service, "ingest" | "reject" | "subscribe">;

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
  /** Alerts go to `<alertTopicPrefix>/<stream>`; topics under it are not read. */
  alertTopicPrefix: string;
  service: MqttServiceLike;
  log: Logger;
  /** Publish the hub's alerts. Default true. */
  publishAlerts?: boolean;
  /** Receive time of messages, ms. Default Date.now. */
  now?: () => number;
  /** Wait between reconnection attempts, ms. Default 2000. */
  reconnectMs?: number;
  /** Give up a connection attempt after this long, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Keepalive, seconds. Default 30. */
  keepaliveSeconds?: number;
  /** How long close() waits for unacknowledged publishes before dropping them, ms. Default 2000. */
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
  /** Messages received, parsed and rejected (parse errors) since start. */
  readonly stats: { messages: number; rejected: number; alertsPublished: number };
  /** Stops publishing alerts and disconnects (the broker keeps the session). */
  close(): Promise<void>;
}

/** True when `topic` is `prefix` or lies under it. */
export function isUnderPrefix(topic: string, prefix: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/** Connects to the broker, subscribes, feeds the service, publishes its alerts. */
export function startMqttSource(opts: MqttSourceOptions): MqttSource {
  const log = opts.log.child({ source: "mqtt" });
  const service = opts.service;
  const now = opts.now ?? Date.now;
  const patterns: TopicPattern[] = compileTopicPatterns(opts.topics);
  const filters = subscriptionFilters(patterns);
  const prefix = opts.alertTopicPrefix;
  const shownUrl = maskUrlPassword(opts.url);
  const stats = { messages: 0, rejected: 0, alertsPublished: 0 };

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
    if (isUnderPrefix(topic, prefix)) return;
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
      service.reject(parsed.error.reason);
      log.debug("mqtt.rejected", {
        topic,
        reason: parsed.error.reason,
        message: parsed.error.message,
      });
      return;
    }
    const result = service.ingest(parsed.readings, "mqtt");
    if (log.enabled("debug")) {
      log.debug("mqtt.readings", { topic, readings: parsed.readings, accepted: result.accepted });
      // parsed, then refused by the service (other columns, out of order, too many streams)
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

  const unsubscribeAlerts = opts.publishAlerts === false ? () => {} : service.subscribe({
    send(event) {
      const topic = `${prefix}/${event.stream}`;
      client.publish(topic, JSON.stringify(event), { qos: 1 }, (err) => {
        if (err) {
          if (!closed) log.warn("mqtt.alert_publish_failed", { topic, id: event.id, error: err });
        } else {
          stats.alertsPublished++;
          log.debug("mqtt.alert_published", { topic, id: event.id });
        }
      });
    },
  });

  let closing: Promise<void> | null = null;
  return {
    url: opts.url,
    clientId: opts.clientId,
    get connected() {
      return connected && client.connected;
    },
    ready,
    stats,
    close() {
      closing ??= (async () => {
        closed = true;
        unsubscribeAlerts();
        const wasConnected = client.connected;
        const timeoutMs = opts.closeTimeoutMs ?? 2000;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const gave = await Promise.race([
          // connected: let unacknowledged alert publishes finish first
          client.endAsync(!wasConnected).then(() => "ended" as const),
          new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs)),
        ]).finally(() => clearTimeout(timer));
        if (gave === "timeout") {
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
// From the configuration

/** The file in the data directory that keeps the generated client id. */
export function clientIdPath(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "mqtt-client-id");
}

/**
 * The MQTT client id: the configured one, else the one kept in
 * `<dataDir>/mqtt-client-id`, else a new `forecastd-<12 hex digits>` written
 * there. Two gateways with the same data directory path still get different
 * ids, and a restart on the same data directory resumes the same session.
 * The data directory must exist.
 */
export async function resolveClientId(
  config: Pick<Config, "dataDir" | "mqttClientId">,
): Promise<string> {
  if (config.mqttClientId !== null) return config.mqttClientId;
  const path = clientIdPath(config);
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

/** A file the MQTT configuration names cannot be used (a person must fix it). */
export class MqttConfigError extends Error {
  override name = "MqttConfigError";
}

/** Reads one PEM file of the configuration, naming the option when it cannot. */
async function readPem(option: string, path: string | null): Promise<Uint8Array | null> {
  if (path === null) return null;
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new MqttConfigError(
      `Cannot start the MQTT source: ${option} must name a readable PEM file: ` +
        `current value is ${JSON.stringify(path)} (${e instanceof Error ? e.message : e})`,
    );
  }
}

/** The MQTT side of the daemon, as main.ts uses it. */
export interface Mqtt {
  /** The embedded broker, or null (external broker, or it could not listen). */
  readonly broker: EmbeddedBroker | null;
  /** Why the embedded broker is not running, or null. */
  readonly brokerError: BrokerListenError | null;
  /** The source, or null when there is no broker to connect to. */
  readonly source: MqttSource | null;
  /** The URL devices publish to (external: as configured, password masked). */
  readonly brokerUrl: string | null;
  /** How a client of this daemon (the demo sensor) reaches the broker, or null. */
  readonly connection: BrokerConnection | null;
  /** For /readyz: connected to the broker (false also when the embedded one failed). */
  connected(): boolean;
  /** Closes the source, then the embedded broker. */
  close(): Promise<void>;
}

/** Options of startMqtt, mostly for tests. */
export interface StartMqttOptions {
  now?: () => number;
  reconnectMs?: number;
}

/**
 * Starts the embedded broker (when `config.mqttUrl` is null) and the source.
 * If the embedded broker cannot listen, logs why and returns without a source
 * (forecastd keeps serving HTTP; readiness reports the broker down). Throws
 * MqttConfigError when a TLS file cannot be read.
 */
export async function startMqtt(
  service: MqttServiceLike,
  config: Config,
  log: Logger,
  opts: StartMqttOptions = {},
): Promise<Mqtt> {
  const [ca, cert, key] = [
    await readPem("mqttCa", config.mqttCa),
    await readPem("mqttCert", config.mqttCert),
    await readPem("mqttKey", config.mqttKey),
  ];
  const clientId = await resolveClientId(config);
  let broker: EmbeddedBroker | null = null;
  let brokerError: BrokerListenError | null = null;
  let url = config.mqttUrl;
  if (url === null) {
    try {
      broker = await startEmbeddedBroker({ host: config.host, port: config.mqttPort, log });
      url = broker.url;
      log.info("broker.listening", { host: broker.host, port: broker.port, url: broker.url });
    } catch (e) {
      if (!(e instanceof BrokerListenError)) throw e;
      brokerError = e;
      log.error("broker.listen_failed", {
        host: config.host,
        port: config.mqttPort,
        code: e.code,
        message: e.message,
      });
    }
  }
  const connection: BrokerConnection | null = url === null ? null : {
    url,
    username: config.mqttUsername,
    password: config.mqttPassword,
    ca,
    cert,
    key,
  };
  const source = connection === null ? null : startMqttSource({
    ...connection,
    clientId,
    topics: config.mqttTopics,
    alertTopicPrefix: config.alertTopicPrefix,
    service,
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
