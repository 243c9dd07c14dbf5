/**
 * MQTT alerts: every live alert published as JSON (the stored alert, as SSE
 * and webhooks send it) to `<topicPrefix>/<stream>` with QoS 1. The client
 * queues publishes while the broker is unreachable.
 *
 * It publishes on a client it is given: in the daemon the MQTT source's
 * (src/ingest/mqtt.ts), so forecastd holds one connection and one session
 * per broker. Close this channel before the source, whose close() waits for
 * unacknowledged publishes and then ends the connection.
 *
 * ```ts
 * const alerts = startMqttAlerts(service, { client: source.client, log });
 * // ... at shutdown
 * alerts.close();
 * await source.close();
 * ```
 */
import type { Logger } from "../log.ts";
import type { AlertSource } from "./alert_source.ts";

/** What the channel uses of an MQTT client (MQTT.js's MqttClient has it). */
export interface MqttPublishClient {
  publish(
    topic: string,
    message: string,
    opts: { qos: 1 },
    callback: (error?: Error) => void,
  ): unknown;
}

/** Options of startMqttAlerts; every optional field has the default it names. */
export interface MqttAlertOptions {
  /** The connected client to publish on. */
  client: MqttPublishClient;
  log: Logger;
  /** Alerts of stream S go to `<topicPrefix>/S`. Default "forecastd/alerts". */
  topicPrefix?: string;
}

/** The running channel. */
export interface MqttAlerts {
  /** Alerts the broker acknowledged, and publishes that failed, since start. */
  readonly stats: { published: number; failed: number };
  /** Stops publishing (publishes in flight finish with the client). Safe to call twice. */
  close(): void;
}

/** Subscribes to the live alerts of `source` and publishes each one. */
export function startMqttAlerts(
  source: Pick<AlertSource, "subscribe">,
  opts: MqttAlertOptions,
): MqttAlerts {
  const log = opts.log.child({ channel: "mqtt" });
  const prefix = opts.topicPrefix ?? "forecastd/alerts";
  const stats = { published: 0, failed: 0 };
  let closed = false;
  const unsubscribe = source.subscribe({
    send(event) {
      const topic = `${prefix}/${event.stream}`;
      opts.client.publish(topic, JSON.stringify(event), { qos: 1 }, (err) => {
        if (err) {
          stats.failed++;
          // after close() the connection ends: a publish cut short then is expected
          if (!closed) log.warn("mqtt.alert_publish_failed", { topic, id: event.id, error: err });
        } else {
          stats.published++;
          log.debug("mqtt.alert_published", { topic, id: event.id });
        }
      });
    },
  });
  return {
    stats,
    close() {
      closed = true;
      unsubscribe();
    },
  };
}
