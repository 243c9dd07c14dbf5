/**
 * The MQTT source on an external broker: one MQTT.js client that subscribes
 * (QoS 1), feeds the sink through the reading handler (mqtt_readings.ts)
 * and acknowledges each message once its readings are taken (see mqtt.ts
 * for the whole picture). A module of its own so that MQTT.js is loaded only
 * when the daemon has a broker to connect to (`--mqtt-url`) or a client to
 * run (the demo sensor): mqtt.ts imports it when it starts the source.
 */
// first: the MQTT packages' `debug` loggers made free before they load (quiet_debug.ts)
import "./quiet_debug.ts";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { Buffer } from "node:buffer";
import { maskUrlPassword } from "../domain/mask_url_password.ts";
import { limitLog, type Logger } from "../log.ts";
import type { IngestSink } from "./ingest_sink.ts";
import { AckWindow, DEFAULT_INFLIGHT, DEFAULT_INFLIGHT_BYTES } from "./ack_window.ts";
import { resolvesWithin } from "../async/resolves_within.ts";
import { compileTopicPatterns, subscriptionFilters, type TopicPattern } from "./topics.ts";
import { readingHandler } from "./mqtt_readings.ts";
import { HeldBytes, takePublishesDirectly } from "./client_publishes.ts";
import { pubacks } from "./puback_writer.ts";

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
   * DEFAULT_INFLIGHT (1000).
   */
  inflight?: number;
  /**
   * Payload bytes of the messages in the window at most: the window is full
   * at this many too (one message is taken whatever its size). Default
   * DEFAULT_INFLIGHT_BYTES (16 MiB).
   */
  inflightBytes?: number;
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

/** What the source writes its PUBACKs to: MQTT.js's socket (node:net or node:tls). */
interface AckStream {
  write(chunk: Uint8Array): boolean;
  readonly destroyed: boolean;
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
  // Whole QoS 0 and 1 PUBLISHes are read in place and taken here, without MQTT.js's work a
  // packet (client_publishes.ts); the rest goes through MQTT.js and handleMessage below.
  const direct = takePublishesDirectly(mqttPacket, {
    ready: () => !closed && client.connected,
    take: (id, dup, retain, topic, payload) => {
      // what MQTT.js would have told its listeners (none in the daemon; tests watch the wire)
      if (client.listenerCount("packetreceive") > 0) {
        const qos = id === 0 ? 0 : 1;
        client.emit("packetreceive", {
          cmd: "publish",
          qos,
          messageId: id,
          dup,
          retain,
          topic,
          payload,
        });
      }
      const message = { id, topic, payload, dup };
      adding = true;
      room = false;
      window.add(message, () => onMessage(topic, payload), onRoom);
      adding = false;
      return room;
    },
  });
  const client = mqtt.connect(opts.url, {
    ...direct,
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
  // The PUBACKs of one turn of the event loop go out as one write of 4 bytes each, in order:
  // each write to the socket is a system call (through a Mosquitto on this machine, 63% of the
  // main thread's busy time before they were corked together; bench/broker_cost.ts
  // --part=source --via=mosquitto), and mqtt-packet's generic writer made a packet object,
  // three chunks and a Buffer a PUBACK. They are written once the turn's I/O is done
  // (setImmediate), on the connection their messages came on; close() writes them at once.
  const owed: number[] = [];
  let owedOn: AckStream | null = null;
  let ackQueued = false;
  let pingPutOff = 0;
  const writeAcks = () => {
    ackQueued = false;
    const stream = owedOn;
    if (stream === null || owed.length === 0) return;
    if (stream === (client.stream as unknown) && client.connected && !stream.destroyed) {
      stream.write(pubacks(owed));
    }
    owed.length = 0;
  };
  const window = new AckWindow({
    size: opts.inflight ?? DEFAULT_INFLIGHT,
    maxBytes: opts.inflightBytes ?? DEFAULT_INFLIGHT_BYTES,
    acknowledge: (ids) => {
      const stream = client.stream as unknown as AckStream | undefined;
      if (!stream || !client.connected) return;
      if (owedOn !== stream) {
        owed.length = 0;
        owedOn = stream;
      }
      for (const messageId of ids) owed.push(messageId);
      if (!ackQueued) {
        ackQueued = true;
        setImmediate(writeAcks);
      }
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
  client.on("close", () => {
    window.reset();
    held = null;
    heldCallback = null;
    roomLater = false;
  });
  client.on("connect", (connack) => {
    if (!connack.sessionPresent) window.reset(true);
  });

  // A PUBLISH taken directly when the window is full holds the rest of its chunk (HeldBytes):
  // read on once the window has room, then MQTT.js reads on.
  let adding = false;
  let room = false;
  let held: HeldBytes | null = null;
  let heldCallback: ((error?: Error) => void) | null = null;
  let roomLater = false;
  const readHeld = () => {
    if (!roomLater || held === null || closed) return;
    roomLater = false;
    const h = held, callback = heldCallback!;
    held = null;
    heldCallback = null;
    if (h.readOn()) callback(HOLD);
    else [held, heldCallback] = [h, callback]; // full again: take() set onRoom again
  };
  function onRoom(): void {
    if (adding) room = true;
    else {
      roomLater = true;
      readHeld();
    }
  }

  client.handleMessage = (packet, callback) => {
    // closing: left unacknowledged and not read further, the broker delivers it again
    if (closed) return;
    if (packet instanceof HeldBytes) {
      held = packet;
      heldCallback = callback;
      readHeld();
      return;
    }
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
        writeAcks();
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

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
