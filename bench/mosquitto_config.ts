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
 *
 * A bench run with the daemon's window set (`FORECASTD_MQTT_INFLIGHT=N`, which
 * bench/scale.ts's daemon inherits; bench/broker_cost.ts `--inflight=N`) gives
 * Mosquitto the same `max_inflight_messages N`: with only the daemon's smaller,
 * Mosquitto would still send up to 1,000 and the daemon's window would hold
 * the connection instead (the eleventh round's runs at 100 did so).
 */
import { DEFAULT_INFLIGHT } from "../src/ingest/ack_window.ts";

/**
 * The settings for a daemon's window of `inflight` messages (0: the daemon's
 * default); what `FORECASTD_MQTT_INFLIGHT` says when unset. A value that is
 * not a window (`--mqtt-inflight` takes 1 to 65,535) is an error here, as the
 * daemon would refuse it.
 */
export function mosquittoConfig(inflight = fromEnvironment()): string[] {
  const n = inflight === 0 ? DEFAULT_INFLIGHT : inflight;
  if (!Number.isSafeInteger(n) || n < 1 || n > 65_535) {
    throw new RangeError(
      `Cannot configure the bench's Mosquitto: the window must be an integer from 1 to 65535: ` +
        `current value is ${inflight}`,
    );
  }
  return ["max_queued_messages 0", `max_inflight_messages ${n}`];
}

/** FORECASTD_MQTT_INFLIGHT as a number, 0 when unset or not readable (no --allow-env). */
function fromEnvironment(): number {
  let text: string | undefined;
  try {
    text = Deno.env.get("FORECASTD_MQTT_INFLIGHT");
  } catch {
    return 0;
  }
  return text === undefined || text.trim() === "" ? 0 : Number(text);
}

/** The settings for the window FORECASTD_MQTT_INFLIGHT names, or the daemon's default. */
export const MOSQUITTO_CONFIG: string[] = mosquittoConfig();
