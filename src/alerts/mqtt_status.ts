/**
 * forecastd's availability over MQTT: "online", retained, on its status
 * topic while it runs, and "offline" when it stops. A stop that is not
 * clean (a crash, a cut network) is covered by the connection's last will,
 * which the wiring sets to {@link statusWill} when the MQTT source connects:
 * the broker then publishes "offline" itself. Home Assistant's entities
 * (homeassistant.ts) use the topic as their availability, so they go
 * unavailable when forecastd is not there.
 *
 * "online" is published at start when the client is connected, and again
 * at every (re)connection: a will may have said "offline" in between. A
 * publisher without connections to follow (the embedded broker's
 * in-process one, whose clients lose it when forecastd stops) gets it once,
 * at start.
 *
 * ```ts
 * const status = startMqttStatus({ client: source.client, topic: "forecastd/status", log });
 * // ... at shutdown, before the source closes
 * await status.close();
 * ```
 */
import type { Logger } from "../log.ts";
import { resolvesWithin } from "../async/resolves_within.ts";
import { type MqttRetainClient, publishRetained } from "./mqtt_retained.ts";

/** The payload while forecastd runs. */
export const STATUS_ONLINE = "online";
/** The payload once it stopped (its close() or the will). */
export const STATUS_OFFLINE = "offline";

/** The last will that says "offline" on `topic`, for the connection's options. */
export function statusWill(
  topic: string,
): { topic: string; payload: string; qos: 1; retain: true } {
  return { topic, payload: STATUS_OFFLINE, qos: 1, retain: true };
}

/**
 * A client, with its connections to follow when it has them (MQTT.js's
 * MqttClient has them; the embedded broker's publisher has none).
 */
export interface MqttStatusClient extends MqttRetainClient {
  readonly connected?: boolean;
  on?(event: "connect", listener: () => void): unknown;
  off?(event: "connect", listener: () => void): unknown;
}

/** Options of startMqttStatus; every optional field has the default it names. */
export interface MqttStatusOptions {
  /** The client to publish on. */
  client: MqttStatusClient;
  log: Logger;
  /** The status topic. Default "forecastd/status". */
  topic?: string;
  /** How long close() waits for the broker to acknowledge "offline", ms. Default 2000. */
  closeTimeoutMs?: number;
}

/** The running status publisher. */
export interface MqttStatus {
  readonly topic: string;
  /** Publishes "offline" and waits for the acknowledgement (or the timeout). Safe to call twice. */
  close(): Promise<void>;
}

/** Publishes "online" now and at each connection, and "offline" at close(). */
export function startMqttStatus(opts: MqttStatusOptions): MqttStatus {
  const log = opts.log.child({ channel: "mqtt_status" });
  const topic = opts.topic ?? "forecastd/status";
  const client = opts.client;
  let closing: Promise<void> | null = null;
  const online = () => {
    publishRetained(client, topic, STATUS_ONLINE).then(
      () => log.debug("mqtt.status_published", { topic, status: STATUS_ONLINE }),
      (error) => {
        if (!closing) log.warn("mqtt.status_publish_failed", { topic, error });
      },
    );
  };
  if (client.on) {
    client.on("connect", online);
    if (client.connected) online();
  } else online();
  return {
    topic,
    close() {
      closing ??= (async () => {
        client.off?.("connect", online);
        const timeoutMs = opts.closeTimeoutMs ?? 2000;
        let acknowledged = false;
        const sent = publishRetained(client, topic, STATUS_OFFLINE).then(
          () => void (acknowledged = true),
          (error) => log.warn("mqtt.status_publish_failed", { topic, error }),
        );
        if (!await resolvesWithin(sent, timeoutMs)) {
          log.warn("mqtt.status_timeout", { topic, timeoutMs });
        } else if (acknowledged) {
          log.debug("mqtt.status_published", { topic, status: STATUS_OFFLINE });
        }
      })();
      return closing;
    },
  };
}
