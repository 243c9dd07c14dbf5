/**
 * What forecastd's retained MQTT messages need of a client: MQTT.js's
 * publish() with the retain flag (the forecasts, forecastd's status and the
 * Home Assistant discovery are retained, so a client that subscribes later
 * gets the latest at once). The channels publish on the client they are
 * given, in the daemon the MQTT source's, as the alert channel does.
 *
 * An empty retained message clears the topic's retained message.
 */

/** What the channels use of an MQTT client (MQTT.js's MqttClient has it). */
export interface MqttRetainClient {
  publish(
    topic: string,
    message: string,
    opts: { qos: 1; retain: boolean },
    callback: (error?: Error) => void,
  ): unknown;
}

/** Publishes `message` retained with QoS 1; resolves when the broker acknowledged it. */
export function publishRetained(
  client: MqttRetainClient,
  topic: string,
  message: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(topic, message, { qos: 1, retain: true }, (e) => e ? reject(e) : resolve());
  });
}
