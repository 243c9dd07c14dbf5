/**
 * The Mosquitto settings of the benches that start one (bench/scale.ts
 * `--broker=mosquitto`, bench/broker_cost.ts `--via=mosquitto`), beyond a
 * listener and no persistence. The daemon's one subscription takes every
 * reading, and Mosquitto keeps at most 1,000 QoS 1 messages queued for a
 * client by default and drops the rest: a second's readings of thousands of
 * streams would be lost. The window of unacknowledged messages matches the
 * daemon's (`--mqtt-inflight`, 1000 by default since the eleventh round, 100
 * before; Mosquitto's own is 20): the daemon takes that many at once and
 * acknowledges each once taken, so the connection carries that many per
 * round trip to the workers. It does
 * not bound what Mosquitto takes from a publisher: an MQTT 3.1.1 client's
 * QoS 1 publishes are acknowledged on receipt, however many are in flight
 * (tests/bench/raw_mqtt_test.ts sends 3,000 on one connection unawaited).
 */
export const MOSQUITTO_CONFIG = [
  "max_queued_messages 0",
  "max_inflight_messages 1000",
];
