/**
 * Home Assistant MQTT discovery, in its device-based form: one retained
 * message per stream on `<prefix>/device/<node>_<stream>/config` that makes
 * the stream a device with
 *
 * - a `sensor` per target: the next forecast step, with the interval, the
 *   step's time and the threshold crossings as attributes;
 * - a `binary_sensor` (device class `problem`): on while the stream has an
 *   open anomaly.
 *
 * Both read the stream's forecast message (mqtt_forecasts.ts), so that
 * publisher must run; their availability is forecastd's status topic
 * (mqtt_status.ts), so they go unavailable when forecastd stops. A stream
 * created or whose targets change is (re)published within `pollMs`; a
 * deleted stream's config becomes an empty retained message, which removes
 * the device from Home Assistant.
 *
 * Ids: the object id of the topic, the component ids and every `unique_id`
 * are made of `[a-zA-Z0-9_-]` (Home Assistant's rule for discovery topics):
 * a stream id or target with other characters (`.`, `:`) gets them as `_`
 * and a short hash of the original, so two ids never meet.
 *
 * The format, and where it is documented: docs/integrations.md.
 */
import type { Logger } from "../log.ts";
import type { MqttRetainClient } from "./mqtt_retained.ts";
import { STATUS_OFFLINE, STATUS_ONLINE } from "./mqtt_status.ts";

/** What discovery reads of the application (the service has it). */
export interface DiscoverySource {
  /** The streams now, by id, with the values they forecast. */
  readonly records: ReadonlyMap<string, { readonly targets: readonly string[] }>;
}

/** How the discovery messages are made; every optional field has the default it names. */
export interface DiscoveryFormat {
  /** Home Assistant's discovery prefix. Default "homeassistant". */
  prefix?: string;
  /** Begins every device id and unique_id: one per forecastd on a broker. Default "forecastd". */
  nodeId?: string;
  /** Where the forecasts are (mqtt_forecasts.ts's topicPrefix). Default "forecastd/forecasts". */
  forecastTopicPrefix?: string;
  /** forecastd's status topic (mqtt_status.ts). Default "forecastd/status". */
  statusTopic?: string;
  /** forecastd's version, shown as the device's and the origin's software version. */
  version: string;
}

/** Options of startHomeAssistantDiscovery; every optional field has the default it names. */
export interface HomeAssistantOptions extends DiscoveryFormat {
  /** The connected client to publish on. */
  client: MqttRetainClient;
  log: Logger;
  /** How often new, changed and deleted streams are looked for, ms. Default 1000. */
  pollMs?: number;
}

/** The running discovery. */
export interface HomeAssistantDiscovery {
  /** Configs the broker acknowledged, devices removed, and publishes that failed. */
  readonly stats: { published: number; removed: number; failed: number };
  /** Publishes what changed since the last look (the timer calls it); returns how many messages. */
  sync(): number;
  /** Stops (the retained configs stay: the entities go unavailable with forecastd). */
  close(): void;
}

/** One discovery message. */
export interface DiscoveryMessage {
  topic: string;
  /** The payload: the device, the origin, the shared options and the components. */
  config: Record<string, unknown>;
}

const ID = /^[a-zA-Z0-9_-]+$/;

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * `s` as an id of `[a-zA-Z0-9_-]`: itself when it is one, else with every
 * other character as `_` and `_<8 hex digits>` of `s` after it.
 */
export function haId(s: string): string {
  return ID.test(s) ? s : `${s.replace(/[^a-zA-Z0-9_-]/g, "_")}_${fnv1a(s)}`;
}

/** The discovery message of stream `stream` forecasting `targets`. */
export function discoveryMessage(
  stream: string,
  targets: readonly string[],
  format: DiscoveryFormat,
): DiscoveryMessage {
  const prefix = format.prefix ?? "homeassistant";
  const device = haId(`${format.nodeId ?? "forecastd"}_${stream}`);
  const state = `${format.forecastTopicPrefix ?? "forecastd/forecasts"}/${stream}`;
  const components: Record<string, Record<string, unknown>> = {};
  for (const target of targets) {
    // target names are [A-Za-z0-9_.:-]: safe inside a single-quoted template string
    const t = `value_json.targets['${target}']`;
    const crossings = `value_json.crossings | selectattr('target', 'eq', '${target}') | list`;
    components[`${haId(target)}_forecast`] = {
      p: "sensor",
      unique_id: `${device}_${haId(target)}_forecast`,
      name: `${target} forecast`,
      value_template: `{{ ${t}.point[0] }}`,
      state_class: "measurement",
      json_attributes_topic: state,
      json_attributes_template: `{% set c = ${crossings} %}{{ {` +
        `'time': value_json.timestamps[0], ` +
        `'lower': ${t}.lower[0], ` +
        `'upper': ${t}.upper[0], ` +
        `'coverage': value_json.coverage, ` +
        `'origin': value_json.origin, ` +
        `'crossing': c[0].crossing if c else none, ` +
        `'crossings': c` +
        `} | tojson }}`,
      icon: "mdi:chart-bell-curve-cumulative",
    };
  }
  components.anomaly = {
    p: "binary_sensor",
    unique_id: `${device}_anomaly`,
    name: "anomaly",
    device_class: "problem",
    value_template: "{{ 'ON' if value_json.model.state == 'anomaly' else 'OFF' }}",
    payload_on: "ON",
    payload_off: "OFF",
  };
  return {
    topic: `${prefix}/device/${device}/config`,
    config: {
      dev: {
        ids: [device],
        name: stream,
        mf: "forecastd",
        mdl: "forecast of a sensor stream",
        sw: format.version,
      },
      o: { name: "forecastd", sw: format.version },
      availability_topic: format.statusTopic ?? "forecastd/status",
      payload_available: STATUS_ONLINE,
      payload_not_available: STATUS_OFFLINE,
      state_topic: state,
      qos: 1,
      cmps: components,
    },
  };
}

/** Publishes a discovery config per stream, and removes deleted streams' devices. */
export function startHomeAssistantDiscovery(
  source: DiscoverySource,
  opts: HomeAssistantOptions,
): HomeAssistantDiscovery {
  const log = opts.log.child({ channel: "homeassistant" });
  const stats = { published: 0, removed: 0, failed: 0 };
  /** Streams with a config on the broker: its topic and the targets it was made for. */
  const published = new Map<string, { topic: string; targets: string }>();
  let closed = false;

  const send = (topic: string, message: string, what: "published" | "removed") => {
    opts.client.publish(topic, message, { qos: 1, retain: true }, (error) => {
      if (error) {
        stats.failed++;
        if (!closed) log.warn("homeassistant.publish_failed", { topic, error });
      } else {
        stats[what]++;
        log.debug(`homeassistant.${what}`, { topic });
      }
    });
  };

  const sync = (): number => {
    if (closed) return 0;
    let n = 0;
    for (const [id, rec] of source.records) {
      const targets = rec.targets.join("\u0000");
      if (published.get(id)?.targets === targets) continue;
      const m = discoveryMessage(id, rec.targets, opts);
      published.set(id, { topic: m.topic, targets });
      send(m.topic, JSON.stringify(m.config), "published");
      n++;
    }
    for (const [id, p] of [...published]) {
      if (source.records.has(id)) continue;
      published.delete(id);
      send(p.topic, "", "removed");
      n++;
    }
    return n;
  };

  const timer = setInterval(sync, opts.pollMs ?? 1000);
  sync();
  return {
    stats,
    sync,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
    },
  };
}
