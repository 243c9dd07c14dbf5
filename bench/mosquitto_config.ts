/**
 * The Mosquitto settings of the benches that start one (bench/scale.ts
 * `--broker=mosquitto`, bench/broker_cost.ts `--via=mosquitto`), beyond a listener and
 * no persistence: the daemon's one subscription takes every reading, so its
 * queue and its window of unacknowledged QoS 1 messages must hold a second's
 * readings of 10,000 streams; Mosquitto's defaults (1,000 queued, 20 in
 * flight) drop the rest of a burst (a queued QoS 1 message over the limit is
 * discarded) and hold the daemon to 20 messages a round trip.
 */
export const MOSQUITTO_CONFIG = [
  "max_queued_messages 0",
  "max_inflight_messages 0",
];
