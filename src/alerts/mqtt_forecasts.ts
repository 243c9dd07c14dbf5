/**
 * Forecasts over MQTT: each stream's latest forecast, retained, on
 * `<topicPrefix>/<stream>`, so Node-RED, Home Assistant and any MQTT client
 * have it without polling the HTTP API. The payload is the body of `GET
 * /v1/streams/{id}/forecast` (times in RFC 3339, null where not known) with
 * `crossings`: when the forecast crosses each configured threshold of the
 * stream's targets.
 *
 * Rate: a stream is published when it has a forecast newer than the one on
 * the broker and its last publish is at least `intervalSeconds` old, checked
 * every second (or every interval, when shorter); an alert of the stream
 * (an anomaly opened or ended) publishes it at once, so the state in the
 * payload follows the alerts. A deleted stream's retained forecast is
 * cleared (an empty retained message).
 *
 * It publishes on a client it is given: in the daemon the MQTT source's, as
 * the alert channel does (src/alerts/mqtt.ts). Close it before the source.
 *
 * ```ts
 * const forecasts = startMqttForecasts(service, { client: source.client, log });
 * // ... at shutdown
 * forecasts.close();
 * await source.close();
 * ```
 */
import type { Logger } from "../log.ts";
import type { AlertSource } from "./alert_source.ts";
import type { MqttRetainClient } from "./mqtt_retained.ts";

/** A stream's forecast as the application gives it: times in ms, NaN where not known. */
export interface ForecastView {
  stream: string;
  /** Time of the reading the forecast starts from, ms. */
  origin: number;
  periodMs: number | null;
  /** Times of the steps, ms (NaN while the sampling period is not known). */
  timestamps: readonly number[];
  coverage: number;
  targets: Readonly<
    Record<
      string,
      {
        point: readonly number[];
        lower: readonly (number | null)[];
        upper: readonly (number | null)[];
      }
    >
  >;
  model: { version: number; updatedAt: number | null; state: string };
}

/** When a target's forecast crosses a threshold, ms (null: not within the horizon; NaN: not known). */
export interface CrossingView {
  crossing: number | null;
  earliest: number | null;
  latest: number | null;
}

/** A threshold whose crossing is published: of `target` in every stream that forecasts it, or in one. */
export interface CrossingRule {
  /** The stream, or null: every stream with this target. */
  stream: string | null;
  target: string;
  threshold: number;
  direction: "above" | "below";
}

/** What the publisher reads of the application (the service has it). */
export interface ForecastSource extends Pick<AlertSource, "subscribe"> {
  /** The streams now, by id, with the values they forecast. */
  readonly records: ReadonlyMap<string, { readonly targets: readonly string[] }>;
  /** Time of the stream's newest reading, ms (null: unknown stream, or no reading yet). */
  lastReading(id: string): number | null;
  /** The forecast from the newest reading; throws for an unknown stream or before a reading. */
  forecast(id: string): ForecastView;
  /** When the forecast of `target` crosses `x`; throws like forecast(). */
  crossing(id: string, target: string, x: number, direction: "above" | "below"): CrossingView;
}

/** Options of startMqttForecasts; every optional field has the default it names. */
export interface MqttForecastOptions {
  /** The connected client to publish on. */
  client: MqttRetainClient;
  log: Logger;
  /** The forecast of stream S goes to `<topicPrefix>/S`. Default "forecastd/forecasts". */
  topicPrefix?: string;
  /** At most one publish per stream per this many seconds (alerts aside). Default 10. */
  intervalSeconds?: number;
  /** Thresholds whose crossing times go with the forecasts. Default none. */
  crossings?: readonly CrossingRule[];
  /** A monotonic clock, ms, for the rate. Default performance.now. */
  now?: () => number;
}

/** One crossing as published. */
export interface PublishedCrossing {
  target: string;
  threshold: number;
  direction: "above" | "below";
  crossing: string | null;
  earliest: string | null;
  latest: string | null;
}

/** The payload of a forecast message. */
export interface ForecastMessage {
  stream: string;
  origin: string;
  periodMs: number | null;
  timestamps: (string | null)[];
  coverage: number;
  targets: ForecastView["targets"];
  model: { version: number; updatedAt: string | null; state: string };
  crossings: PublishedCrossing[];
}

/** The running publisher. */
export interface MqttForecasts {
  /** Forecasts the broker acknowledged, retained forecasts cleared, and publishes that failed. */
  readonly stats: { published: number; cleared: number; failed: number };
  /**
   * Publishes every stream that is due now (the timer calls it); returns how
   * many it published.
   */
  flush(): number;
  /** Stops publishing (publishes in flight finish with the client). Safe to call twice. */
  close(): void;
}

/** `ms` as an RFC 3339 time in UTC, or null when it is not a finite number. */
function isoOrNull(ms: number | null): string | null {
  return ms !== null && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** The message of forecast `f` with its crossings: the API's forecast body plus `crossings`. */
export function forecastMessage(f: ForecastView, crossings: PublishedCrossing[]): ForecastMessage {
  return {
    stream: f.stream,
    origin: new Date(f.origin).toISOString(),
    periodMs: f.periodMs,
    timestamps: f.timestamps.map(isoOrNull),
    coverage: f.coverage,
    targets: f.targets,
    model: { ...f.model, updatedAt: isoOrNull(f.model.updatedAt) },
    crossings,
  };
}

/** Publishes each stream's latest forecast, retained, at most once per interval. */
export function startMqttForecasts(
  source: ForecastSource,
  opts: MqttForecastOptions,
): MqttForecasts {
  const log = opts.log.child({ channel: "mqtt_forecasts" });
  const prefix = opts.topicPrefix ?? "forecastd/forecasts";
  const intervalMs = (opts.intervalSeconds ?? 10) * 1000;
  const rules = opts.crossings ?? [];
  const now = opts.now ?? (() => performance.now());
  const stats = { published: 0, cleared: 0, failed: 0 };
  /** Streams with a retained forecast: the origin published and when. */
  const published = new Map<string, { origin: number; at: number }>();
  let closed = false;

  const send = (topic: string, message: string, what: "published" | "cleared") => {
    opts.client.publish(topic, message, { qos: 1, retain: true }, (error) => {
      if (error) {
        stats.failed++;
        // after close() the connection ends: a publish cut short then is expected
        if (!closed) log.warn("mqtt.forecast_publish_failed", { topic, error });
      } else {
        stats[what]++;
        log.debug(`mqtt.forecast_${what}`, { topic });
      }
    });
  };

  const crossingsOf = (id: string, targets: readonly string[]): PublishedCrossing[] => {
    const out: PublishedCrossing[] = [];
    for (const r of rules) {
      if ((r.stream !== null && r.stream !== id) || !targets.includes(r.target)) continue;
      const c = source.crossing(id, r.target, r.threshold, r.direction);
      out.push({
        target: r.target,
        threshold: r.threshold,
        direction: r.direction,
        crossing: isoOrNull(c.crossing),
        earliest: isoOrNull(c.earliest),
        latest: isoOrNull(c.latest),
      });
    }
    return out;
  };

  /** Publishes stream `id`'s forecast; false when it has none (deleted, no reading yet). */
  const publish = (id: string): boolean => {
    const rec = source.records.get(id);
    if (!rec || source.lastReading(id) === null) return false;
    let message: ForecastMessage;
    try {
      const f = source.forecast(id);
      message = forecastMessage(f, crossingsOf(id, rec.targets));
      published.set(id, { origin: f.origin, at: now() });
    } catch (error) {
      log.warn("mqtt.forecast_failed", { stream: id, error });
      return false;
    }
    send(`${prefix}/${id}`, JSON.stringify(message), "published");
    return true;
  };

  const flush = (): number => {
    if (closed) return 0;
    let n = 0;
    const t = now();
    for (const id of source.records.keys()) {
      const last = source.lastReading(id);
      if (last === null) continue;
      const p = published.get(id);
      if (p && (p.origin === last || t - p.at < intervalMs)) continue;
      if (publish(id)) n++;
    }
    for (const id of [...published.keys()]) {
      if (source.records.has(id)) continue;
      published.delete(id);
      send(`${prefix}/${id}`, "", "cleared");
    }
    return n;
  };

  const unsubscribe = source.subscribe({
    send(alert) {
      // the state in the payload changed: publish it now
      if (!closed) publish(alert.stream);
    },
  });
  const timer = setInterval(flush, Math.min(1000, intervalMs));
  flush();
  return {
    stats,
    flush,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      unsubscribe();
    },
  };
}
