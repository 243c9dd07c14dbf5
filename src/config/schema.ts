/**
 * The one schema of the daemon's configuration. Each field carries, in
 * `configMeta`, its flag, its environment variable and its description; its
 * default is the schema's own `.default()`. The file key is the field's path
 * (`dataDir`, nested `alertRetention.maxEvents`).
 *
 * Spellings: the variable is `FORECASTD_` and the flag's name in capitals
 * (`--data-dir`, `FORECASTD_DATA_DIR`), plural for a list (`--mqtt-topic`,
 * `FORECASTD_MQTT_TOPICS`). The schema itself carries `--config`, the option
 * that names the file the rest may come from.
 *
 * Longer than 500 lines: it is the one source of every option (flag,
 * variable, default, description, validation), from which --help,
 * --print-config and docs/configuration.md are made; splitting it would
 * make a second table of the options.
 */
import { z } from "zod";
import { LOG_FORMATS, LOG_LEVELS } from "../log.ts";
import { topicPatternProblem } from "../ingest/topics.ts";
import { DEFAULT_INFLIGHT } from "../ingest/ack_window.ts";
import {
  DECIMAL,
  MAX_NAME_LENGTH,
  MAX_VALUES_DEFAULT,
  MAX_VALUES_LIMIT,
  PRESET_NAME_PATTERN,
  PRESET_NAME_RULE,
  STREAM_ID_PATTERN,
  STREAM_ID_RULE,
  VALUE_NAME_PATTERN,
  VALUE_NAME_RULE,
} from "../domain/reading.ts";
import { TOKEN_SPEC_RULE, tokenSpecProblem } from "../auth/api_tokens.ts";
import { parseShard, SHARD_RULE } from "../domain/shard_map.ts";
import { KERNEL_KINDS } from "../model/kernels.ts";
import { configMeta } from "./config_meta.ts";
import { parseCrossingRule } from "./parse_crossing_rule.ts";

function int(min: number, max: number) {
  const error = max === Number.MAX_SAFE_INTEGER
    ? `must be an integer of at least ${min}`
    : `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function positive(what: string) {
  const error = `must be ${what} greater than 0`;
  return z.number({ error }).gt(0, { error });
}

function text(what: string) {
  const error = `must be ${what}`;
  return z.string({ error }).min(1, { error });
}

function isUrl(s: string, protocols: readonly string[]): boolean {
  try {
    const u = new URL(s);
    return protocols.includes(u.protocol) && u.hostname !== "";
  } catch {
    return false;
  }
}

const MQTT_PROTOCOLS = ["mqtt:", "mqtts:", "ws:", "wss:", "tcp:", "ssl:"];

const port = int(0, 65535);

const mqttUrl = z.string({ error: "must be an mqtt://, mqtts://, ws:// or wss:// URL" }).refine(
  (s) => isUrl(s, MQTT_PROTOCOLS),
  { error: "must be an mqtt://, mqtts://, ws:// or wss:// URL with a host" },
);

const topicPattern = z.string({ error: "must be a topic pattern string" }).refine(
  (s) => topicPatternProblem(s) === null,
  { error: (iss) => topicPatternProblem(String(iss.input)) ?? "must be a topic pattern" },
);

const alertTopic = z.string({ error: "must be an MQTT topic" }).refine(
  (s) => s !== "" && !/[+#]/.test(s) && !s.includes("\0") && !s.endsWith("/"),
  { error: "must be an MQTT topic without +, # or a trailing /" },
);

const httpUrl = z.string({ error: "must be an http:// or https:// URL" }).refine(
  (s) => isUrl(s, ["http:", "https:"]),
  { error: "must be an http:// or https:// URL with a host" },
);

const tokenSpec = z.string({ error: `must be ${TOKEN_SPEC_RULE}` }).refine(
  (s) => tokenSpecProblem(s) === null,
  { error: (iss) => tokenSpecProblem(String(iss.input)) ?? `must be ${TOKEN_SPEC_RULE}` },
).register(configMeta, {
  description: "an API token: ROLE:HASH",
  // a token pasted in place of its hash must not be shown back
  secret: true,
});

/** An origin as browsers send it: scheme, host and port, nothing else. */
const origin = z.string({ error: "must be an origin such as https://example.org:8443" }).refine(
  (s) => {
    if (!isUrl(s, ["http:", "https:"])) return false;
    return new URL(s).origin === s;
  },
  { error: "must be an origin (http:// or https://, a host, an optional port, no path)" },
);

/** A host name or address as a Host header names it, without a port. */
const hostName = z.string({ error: "must be a host name or IP address" }).regex(
  /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/,
  { error: "must be a host name or IP address without a port" },
);

const streamId = z.string({ error: `must be a stream id of ${STREAM_ID_RULE}` }).regex(
  STREAM_ID_PATTERN,
  { error: `must be a stream id of ${STREAM_ID_RULE}` },
);

const webhook = z.strictObject({
  url: httpUrl.register(configMeta, { description: "http:// or https:// URL to POST alerts to" }),
  secret: text("a non-empty string (the HMAC key)").nullable().default(null).register(configMeta, {
    description: "key of the HMAC-SHA256 signature sent with each alert; unset: unsigned",
    secret: true,
  }),
  streams: z.array(streamId, { error: "must be a list of stream ids" })
    .min(1, { error: "must list at least one stream (leave it out for every stream)" })
    .nullable().default(null).register(configMeta, {
      description: "stream ids whose alerts it receives; unset: every stream",
    }),
}, { error: 'must be an object {"url": ..., "secret"?: ..., "streams"?: [...]}' });

const valueName = z.string({ error: `must be a value name of ${VALUE_NAME_RULE}` }).regex(
  VALUE_NAME_PATTERN,
  { error: `must be a value name of ${VALUE_NAME_RULE}` },
);

const CROSSING_FORMS = '"[STREAM/]TARGET>VALUE", "[STREAM/]TARGET<VALUE" or ' +
  '{"stream"?, "target", "above" or "below"}';

const crossingRule = z.strictObject({
  stream: streamId.nullable().default(null).register(configMeta, {
    description: "the stream whose target it is; unset: every stream with that target",
  }),
  target: valueName.register(configMeta, { description: "the value whose forecast is watched" }),
  above: z.number({ error: "must be a number" }).nullable().default(null).register(configMeta, {
    description: "the threshold, crossed upwards",
  }),
  below: z.number({ error: "must be a number" }).nullable().default(null).register(configMeta, {
    description: "the threshold, crossed downwards",
  }),
}, { error: `must be ${CROSSING_FORMS}` }).refine(
  (r) => (r.above === null) !== (r.below === null),
  { error: `must give exactly one of "above" and "below" (${CROSSING_FORMS})` },
);

/** True when `topic` is `prefix` or lies under it. */
function under(topic: string, prefix: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/** The one schema of the configuration; its input is UserConfig, its output Config. */
export const configSchema = z.strictObject({
  host: text("a host name or IP address").default("127.0.0.1").register(configMeta, {
    flag: "--host",
    arg: "HOST",
    env: "FORECASTD_HOST",
    description: "address the HTTP API listens on",
  }),
  port: port.default(8080).register(configMeta, {
    flag: "--port",
    arg: "PORT",
    env: "FORECASTD_PORT",
    description: "HTTP API port; 0 picks a free port",
  }),
  apiTokens: z.array(tokenSpec, { error: "must be a list of ROLE:HASH tokens" }).default([])
    .register(configMeta, {
      flag: "--api-token",
      arg: "ROLE:HASH",
      env: "FORECASTD_API_TOKENS",
      description: "API token the HTTP API accepts, as its role (read or write) and hash " +
        "(forecastd token makes one; repeat the flag; comma-separated in the variable); " +
        "unset: no authentication, and the API listens on loopback only",
      secret: true,
    }),
  allowUnauthenticated: z.boolean({ error: "must be true or false" }).default(false).register(
    configMeta,
    {
      flag: "--allow-unauthenticated",
      arg: "",
      env: "FORECASTD_ALLOW_UNAUTHENTICATED",
      description: "serve the API without a token on an address other than loopback " +
        "(anyone who reaches the port may read and change everything)",
    },
  ),
  tlsCert: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--tls-cert",
    arg: "FILE",
    env: "FORECASTD_TLS_CERT",
    description: "certificate chain (PEM) of the HTTP API: it then serves HTTPS, with --tls-key",
  }),
  tlsKey: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--tls-key",
    arg: "FILE",
    env: "FORECASTD_TLS_KEY",
    description: "private key (PEM) of --tls-cert",
  }),
  allowedHosts: z.array(hostName, { error: "must be a list of host names" }).default([])
    .register(configMeta, {
      flag: "--allowed-host",
      arg: "NAME",
      env: "FORECASTD_ALLOWED_HOSTS",
      description: "host name the API answers to in the Host header (against DNS rebinding; " +
        "repeat the flag); unset: the --host address, with localhost, 127.0.0.1 and ::1 on " +
        "loopback, or any name on every interface (0.0.0.0, ::)",
    }),
  corsOrigins: z.array(origin, { error: "must be a list of origins" }).default([]).register(
    configMeta,
    {
      flag: "--cors-origin",
      arg: "ORIGIN",
      env: "FORECASTD_CORS_ORIGINS",
      description: "web origin (https://host:port) whose pages may call the API and open its " +
        "WebSockets (repeat the flag); unset: forecastd's own origin only, no CORS",
    },
  ),
  maxBodyBytes: int(1, 1024 * 1024 * 1024).default(1024 * 1024).register(configMeta, {
    flag: "--max-body-bytes",
    arg: "N",
    env: "FORECASTD_MAX_BODY_BYTES",
    description: "largest HTTP request body or WebSocket message, bytes; larger ones are " +
      "refused while they are read",
  }),
  newStreamsPerMinute: int(1, 1_000_000).default(100).register(configMeta, {
    flag: "--new-streams-per-minute",
    arg: "N",
    env: "FORECASTD_NEW_STREAMS_PER_MINUTE",
    description: "streams one HTTP or WebSocket client (a token, or an address without one) " +
      "may create a minute, in bursts of up to N; readings of further new streams are refused",
  }),
  dataDir: text("a directory path").default("./data").register(configMeta, {
    flag: "--data-dir",
    arg: "DIR",
    env: "FORECASTD_DATA_DIR",
    description: "directory of the state; the Deno KV file is DIR/forecastd.kv",
  }),
  kvUrl: httpUrl.nullable().default(null).register(configMeta, {
    flag: "--kv-url",
    arg: "URL",
    env: "FORECASTD_KV_URL",
    description: "Deno KV on a KV Connect server (http:// or https://; the token from " +
      "DENO_KV_ACCESS_TOKEN) instead of DIR/forecastd.kv; the data directory keeps the lock " +
      "and the MQTT client id. Give each instance its own database",
  }),
  shard: z.string({ error: `must be ${SHARD_RULE}` }).refine((s) => parseShard(s) !== null, {
    error: `must be ${SHARD_RULE}`,
  }).nullable().default(null).register(configMeta, {
    flag: "--shard",
    arg: "I/N",
    env: "FORECASTD_SHARD",
    description: "learn only the streams of shard I of N (FNV-1a of the stream id mod N, " +
      "docs/clustering.md): readings of other streams are dropped or refused, API calls for " +
      "them redirected to their --peer; unset: every stream",
  }),
  peers: z.array(httpUrl, { error: "must be a list of http:// or https:// URLs" }).default([])
    .register(configMeta, {
      flag: "--peer",
      arg: "URL",
      env: "FORECASTD_PEERS",
      description: "base URL of each shard's API, in shard order, this one included (repeat " +
        "the flag; comma-separated in the variable); needed with --shard I/N when N > 1",
    }),
  mqttUrl: mqttUrl.nullable().default(null).register(configMeta, {
    flag: "--mqtt-url",
    arg: "URL",
    env: "FORECASTD_MQTT_URL",
    description:
      "MQTT broker to subscribe to (mqtt://, mqtts://, ws://, wss://); unset: run an embedded broker",
  }),
  mqttPort: port.default(1883).register(configMeta, {
    flag: "--mqtt-port",
    arg: "PORT",
    env: "FORECASTD_MQTT_PORT",
    description: "port of the embedded broker (without --mqtt-url); 0 picks a free port",
  }),
  mqttHost: text("a host name or IP address").nullable().default(null).register(configMeta, {
    flag: "--mqtt-host",
    arg: "HOST",
    env: "FORECASTD_MQTT_HOST",
    description: "address the embedded broker listens on; unset: the HTTP --host",
  }),
  mqttMaxPayload: int(1, 268_435_455).default(1_048_576).register(configMeta, {
    flag: "--mqtt-max-payload",
    arg: "BYTES",
    env: "FORECASTD_MQTT_MAX_PAYLOAD",
    description: "largest MQTT payload taken (embedded broker and --mqtt-url); " +
      "larger ones are refused, logged and counted",
  }),
  mqttInflight: int(1, 65_535).default(DEFAULT_INFLIGHT).register(configMeta, {
    flag: "--mqtt-inflight",
    arg: "N",
    env: "FORECASTD_MQTT_INFLIGHT",
    description: "messages from the broker at --mqtt-url taken at once and not yet " +
      "acknowledged at most; pair with the broker's own limit (Mosquitto's " +
      "max_inflight_messages, docs/deployment.md)",
  }),
  brokerUsersFile: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--broker-users-file",
    arg: "FILE",
    env: "FORECASTD_BROKER_USERS_FILE",
    description: "JSON file of the embedded broker's users, with password hashes and topic " +
      "filters; unset: anonymous clients from loopback only",
  }),
  brokerUsers: text("JSON text").nullable().default(null).register(configMeta, {
    flag: "--broker-users",
    arg: "JSON",
    env: "FORECASTD_BROKER_USERS",
    description: "the embedded broker's users as JSON, instead of --broker-users-file " +
      "(prefer the variable: a command line is visible to other users)",
    secret: true,
  }),
  brokerCert: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--broker-cert",
    arg: "FILE",
    env: "FORECASTD_BROKER_CERT",
    description: "certificate chain (PEM) the embedded broker serves TLS (mqtts) with, " +
      "with --broker-key",
  }),
  brokerKey: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--broker-key",
    arg: "FILE",
    env: "FORECASTD_BROKER_KEY",
    description: "private key (PEM) of --broker-cert",
  }),
  mqttUsername: text("a non-empty user name").nullable().default(null).register(configMeta, {
    flag: "--mqtt-username",
    arg: "USER",
    env: "FORECASTD_MQTT_USERNAME",
    description: "user name for the broker at --mqtt-url",
  }),
  mqttPassword: z.string({ error: "must be a string" }).nullable().default(null).register(
    configMeta,
    {
      flag: "--mqtt-password",
      arg: "PASSWORD",
      env: "FORECASTD_MQTT_PASSWORD",
      description: "password for the broker at --mqtt-url (prefer the variable or the file: " +
        "a command line is visible to other users)",
      secret: true,
    },
  ),
  mqttCa: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--mqtt-ca",
    arg: "FILE",
    env: "FORECASTD_MQTT_CA",
    description: "CA certificate (PEM) that the broker's certificate must chain to",
  }),
  mqttCert: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--mqtt-cert",
    arg: "FILE",
    env: "FORECASTD_MQTT_CERT",
    description: "client certificate (PEM) for the broker, with --mqtt-key",
  }),
  mqttKey: text("a file path").nullable().default(null).register(configMeta, {
    flag: "--mqtt-key",
    arg: "FILE",
    env: "FORECASTD_MQTT_KEY",
    description: "private key (PEM) of --mqtt-cert",
  }),
  mqttClientId: text("a non-empty client id").nullable().default(null).register(configMeta, {
    flag: "--mqtt-client-id",
    arg: "ID",
    env: "FORECASTD_MQTT_CLIENT_ID",
    description: "MQTT client id; unset: a generated one",
  }),
  mqttTopics: z.array(topicPattern, { error: "must be a list of topic patterns" })
    .min(1, { error: "must list at least one topic pattern" })
    .default(["sensors/{stream}/{value}", "sensors/{stream}"]).register(configMeta, {
      flag: "--mqtt-topic",
      arg: "PATTERN",
      env: "FORECASTD_MQTT_TOPICS",
      description: "topic pattern to subscribe to, with {stream} and {value} levels " +
        "(repeat the flag; comma-separated in the variable)",
    }),
  alertTopicPrefix: alertTopic.default("forecastd/alerts").register(configMeta, {
    flag: "--alert-topic-prefix",
    arg: "TOPIC",
    env: "FORECASTD_ALERT_TOPIC_PREFIX",
    description: "MQTT topic prefix of published alerts",
  }),
  statusTopic: alertTopic.default("forecastd/status").register(configMeta, {
    flag: "--status-topic",
    arg: "TOPIC",
    env: "FORECASTD_STATUS_TOPIC",
    description: "MQTT topic of forecastd's availability: online (retained) while it runs, " +
      "offline when it stops (the connection's last will when it dies)",
  }),
  mqttForecasts: z.boolean({ error: "must be true or false" }).default(false).register(
    configMeta,
    {
      flag: "--mqtt-forecasts",
      arg: "",
      env: "FORECASTD_MQTT_FORECASTS",
      description: "publish each stream's forecast over MQTT, retained (--ha-discovery does too)",
    },
  ),
  forecastTopicPrefix: alertTopic.default("forecastd/forecasts").register(configMeta, {
    flag: "--forecast-topic-prefix",
    arg: "TOPIC",
    env: "FORECASTD_FORECAST_TOPIC_PREFIX",
    description: "MQTT topic prefix of published forecasts (TOPIC/{stream})",
  }),
  forecastPublishSeconds: positive("a number of seconds").default(10).register(configMeta, {
    flag: "--forecast-publish-seconds",
    arg: "S",
    env: "FORECASTD_FORECAST_PUBLISH_SECONDS",
    description: "publish a stream's forecast over MQTT at most every S seconds (an alert of " +
      "the stream publishes it at once)",
  }),
  forecastCrossings: z.array(crossingRule, { error: "must be a list of crossing rules" })
    .default([]).register(configMeta, {
      flag: "--forecast-crossing",
      arg: "RULE",
      env: "FORECASTD_FORECAST_CROSSINGS",
      description: "a threshold whose crossing time goes with the MQTT forecasts: " +
        "[STREAM/]TARGET>VALUE or [STREAM/]TARGET<VALUE (repeat the flag; comma-separated " +
        "in the variable)",
      item: parseCrossingRule,
    }),
  haDiscovery: z.boolean({ error: "must be true or false" }).default(false).register(configMeta, {
    flag: "--ha-discovery",
    arg: "",
    env: "FORECASTD_HA_DISCOVERY",
    description: "publish Home Assistant MQTT discovery: a device per stream with a forecast " +
      "sensor per target and an anomaly binary sensor (and the forecasts they read)",
  }),
  haDiscoveryPrefix: alertTopic.default("homeassistant").register(configMeta, {
    flag: "--ha-discovery-prefix",
    arg: "TOPIC",
    env: "FORECASTD_HA_DISCOVERY_PREFIX",
    description: "Home Assistant's discovery prefix",
  }),
  haNodeId: z.string({ error: "must be 1-64 characters of A-Z a-z 0-9 _ -" })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "must be 1-64 characters of A-Z a-z 0-9 _ -" })
    .default("forecastd").register(configMeta, {
      flag: "--ha-node-id",
      arg: "ID",
      env: "FORECASTD_HA_NODE_ID",
      description: "begins the Home Assistant device and entity ids: give each forecastd on " +
        "one broker its own",
    }),
  metricsHorizons: z.array(int(1, 10_000), { error: "must be a list of horizons" })
    .default([1, 6, 12, 24]).register(configMeta, {
      flag: "--metrics-horizon",
      arg: "N",
      env: "FORECASTD_METRICS_HORIZONS",
      description: "horizon (readings ahead) whose per-stream accuracy /metrics exports " +
        "(repeat the flag; comma-separated in the variable; [] in the file: none)",
      item: (t) => DECIMAL.test(t.trim()) ? Number(t.trim()) : t,
    }),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` })
    .default("info").register(configMeta, {
      flag: "--log-level",
      arg: "LEVEL",
      env: "FORECASTD_LOG_LEVEL",
      description: "least severe log level written: debug, info, warn or error",
    }),
  logFormat: z.enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(", ")}` })
    .default("json").register(configMeta, {
      flag: "--log-format",
      arg: "FORMAT",
      env: "FORECASTD_LOG_FORMAT",
      description: "how log lines are written on stderr: json (one object per line, for jq and " +
        "journald) or text (for a person at a terminal)",
    }),
  defaultPreset: z.string({ error: "must be a preset name" })
    .regex(PRESET_NAME_PATTERN, { error: `must be ${PRESET_NAME_RULE}` })
    .default("default").register(configMeta, {
      flag: "--default-preset",
      arg: "NAME",
      env: "FORECASTD_DEFAULT_PRESET",
      description: "model preset of new streams (models/NAME.json)",
    }),
  kernels: z.enum(KERNEL_KINDS, { error: `must be one of ${KERNEL_KINDS.join(", ")}` })
    .default("wasm").register(configMeta, {
      flag: "--kernels",
      arg: "KIND",
      env: "FORECASTD_KERNELS",
      description: "the models' kernels: wasm (WebAssembly SIMD; the TypeScript ones where the " +
        "runtime lacks it) or ts (the TypeScript kernels, slower, the tests' oracle)",
    }),
  falseAlertsPerWeek: z.number({ error: "must be a number from 0 to 10000" })
    .min(0, { error: "must be a number from 0 to 10000" })
    .max(10_000, { error: "must be a number from 0 to 10000" })
    .nullable().default(null).register(configMeta, {
      flag: "--false-alerts-per-week",
      arg: "N",
      env: "FORECASTD_FALSE_ALERTS_PER_WEEK",
      description: "false-alarm budget of every stream: at most N false alerts per stream per " +
        "week at the stream's sampling rate; its alerts open at the level its own record of " +
        "anomaly evidence allows (0: at the preset's fixed threshold; unset: the preset's " +
        "anomaly.falseAlertsPerWeek, 1 in every built-in preset)",
    }),
  maxStreams: int(1, 1_000_000).default(1000).register(configMeta, {
    flag: "--max-streams",
    arg: "N",
    env: "FORECASTD_MAX_STREAMS",
    description: "most streams learned at once; readings of further streams are rejected",
  }),
  maxValuesPerStream: int(1, MAX_VALUES_LIMIT).default(MAX_VALUES_DEFAULT).register(configMeta, {
    flag: "--max-values-per-stream",
    arg: "N",
    env: "FORECASTD_MAX_VALUES_PER_STREAM",
    description: "most values one stream may have; a reading or PUT that would make a stream " +
      "of more is rejected (too_many_values)",
  }),
  maxNameLength: int(1, MAX_NAME_LENGTH).default(MAX_NAME_LENGTH).register(configMeta, {
    flag: "--max-name-length",
    arg: "N",
    env: "FORECASTD_MAX_NAME_LENGTH",
    description: "longest stream id or value name of a new stream, characters; longer ones " +
      "are rejected (bad_name)",
  }),
  maxAbsValue: z.number({ error: "must be a number from 1 to 1e30" }).min(1, {
    error: "must be a number from 1 to 1e30",
  }).max(1e30, { error: "must be a number from 1 to 1e30" }).default(1e15).register(configMeta, {
    flag: "--max-abs-value",
    arg: "X",
    env: "FORECASTD_MAX_ABS_VALUE",
    description: "largest magnitude of a value a reading may hold; larger ones are rejected " +
      "(out_of_range)",
  }),
  maxValueSpreads: z.number({ error: "must be a number from 1 to 1e30" }).min(1, {
    error: "must be a number from 1 to 1e30",
  }).max(1e30, { error: "must be a number from 1 to 1e30" }).default(1e6).register(configMeta, {
    flag: "--max-value-spreads",
    arg: "N",
    env: "FORECASTD_MAX_VALUE_SPREADS",
    description: "how far beyond the range of a value's past values a new one may lie, in " +
      "widths of that range; farther ones are rejected (out_of_range) unless 5 come in a row",
  }),
  checkpointEvery: int(1, Number.MAX_SAFE_INTEGER).default(500).register(configMeta, {
    flag: "--checkpoint-every",
    arg: "N",
    env: "FORECASTD_CHECKPOINT_EVERY",
    description: "a crash loses at most N readings of a stream: its model is saved after N/2 " +
      "readings, and its readings wait while a save lags N behind",
  }),
  checkpointSeconds: positive("a number of seconds").default(60).register(configMeta, {
    flag: "--checkpoint-seconds",
    arg: "S",
    env: "FORECASTD_CHECKPOINT_SECONDS",
    description: "save a changed model at least every S seconds",
  }),
  shutdownTimeout: positive("a number of seconds").default(10).register(configMeta, {
    flag: "--shutdown-timeout",
    arg: "S",
    env: "FORECASTD_SHUTDOWN_TIMEOUT",
    description: "a shutdown (SIGTERM, Ctrl-C) saves every changed model within S seconds or " +
      "exits anyway (status 1), the streams with the most unsaved learning saved first; set it " +
      "below what the supervisor waits before SIGKILL (docker stop: 10 s, systemd: 90 s)",
  }),
  maxQueuedReadings: int(1, 10_000_000).default(50_000).register(configMeta, {
    flag: "--max-queued-readings",
    arg: "N",
    env: "FORECASTD_MAX_QUEUED_READINGS",
    description: "most readings waiting to be taken; an HTTP or WebSocket message beyond it is " +
      "answered 503 (retry later), MQTT waits",
  }),
  workers: int(0, 256).nullable().default(null).register(configMeta, {
    flag: "--workers",
    arg: "N",
    env: "FORECASTD_WORKERS",
    description: "worker threads the streams are sharded over (a stream always on one); unset: " +
      "one per core; 0: every stream on the main thread (docs/scaling.md)",
  }),
  workerNice: int(0, 19).default(10).register(configMeta, {
    flag: "--worker-nice",
    arg: "N",
    env: "FORECASTD_WORKER_NICE",
    description: "the workers' threads run N nice levels below the main thread (Linux; needs " +
      "--allow-sys=getPriority,setPriority), so the sources, the API and /healthz get a core " +
      "when they need one; 0: same priority (docs/scaling.md)",
  }),
  traceStreams: z.array(streamId, { error: "must be a list of stream ids" }).default([])
    .register(configMeta, {
      flag: "--trace-stream",
      arg: "ID",
      env: "FORECASTD_TRACE_STREAMS",
      description: "log the hops of each of stream ID's readings to its worker and back, and " +
        "of each read of it through its worker (events reading.trace and read.trace, repeat " +
        "the flag; a diagnostic, docs/scaling.md); unset: none",
    }),
  shedAfterMs: int(0, 3_600_000).default(250).register(configMeta, {
    flag: "--shed-after-ms",
    arg: "MS",
    env: "FORECASTD_SHED_AFTER_MS",
    description: "overload: readings that waited longer than MS are scored and forecast from but " +
      "not learned from; the LSTM catches up when the load drops",
  }),
  alertRetention: z.strictObject({
    maxEvents: int(1, Number.MAX_SAFE_INTEGER).default(10_000).register(configMeta, {
      flag: "--alert-max-events",
      arg: "N",
      env: "FORECASTD_ALERT_MAX_EVENTS",
      description: "alert events kept (oldest dropped first)",
    }),
    maxAgeDays: positive("a number of days").default(30).register(configMeta, {
      flag: "--alert-max-age-days",
      arg: "DAYS",
      env: "FORECASTD_ALERT_MAX_AGE_DAYS",
      description: "alert events older than DAYS are dropped",
    }),
  }).prefault({}).register(configMeta, { description: "how much alert history is kept" }),
  webhooks: z.array(webhook, { error: "must be a list of webhooks" }).default([]).register(
    configMeta,
    {
      flag: "--webhook",
      arg: "URL",
      env: "FORECASTD_WEBHOOKS",
      description: "URL to POST alerts to (repeat the flag; the variable: comma-separated URLs " +
        'or a JSON array of {"url", "secret", "streams"})',
      item: (url) => ({ url }),
    },
  ),
  demo: z.boolean({ error: "must be true or false" }).default(false).register(configMeta, {
    flag: "--demo",
    arg: "",
    env: "FORECASTD_DEMO",
    description: 'also learn a simulated sensor (stream "demo")',
  }),
}).superRefine((c, ctx) => {
  if ((c.tlsCert === null) !== (c.tlsKey === null)) {
    ctx.addIssue({
      code: "custom",
      path: [c.tlsCert === null ? "tlsKey" : "tlsCert"],
      message: "must be given together with " + (c.tlsCert === null ? "tlsCert" : "tlsKey"),
    });
  }
  if (
    under(c.forecastTopicPrefix, c.alertTopicPrefix) ||
    under(c.alertTopicPrefix, c.forecastTopicPrefix)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["forecastTopicPrefix"],
      message: `must not be alertTopicPrefix (${c.alertTopicPrefix}) nor under it or over it`,
    });
  }
  const prefixes = {
    alertTopicPrefix: c.alertTopicPrefix,
    forecastTopicPrefix: c.forecastTopicPrefix,
  };
  for (const [name, prefix] of Object.entries(prefixes)) {
    if (under(c.statusTopic, prefix)) {
      ctx.addIssue({
        code: "custom",
        path: ["statusTopic"],
        message: `must not be under ${name} (${prefix}): it would read as a stream's topic`,
      });
    }
  }
  const shard = c.shard === null ? null : parseShard(c.shard);
  if (shard === null && c.peers.length > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["peers"],
      message: "must be given with shard (--shard I/N): without it this instance owns every stream",
    });
  }
  if (shard !== null && shard.count > 1 && c.peers.length !== shard.count) {
    ctx.addIssue({
      code: "custom",
      path: ["peers"],
      message: `must list the base URL of each of the ${shard.count} shards in shard order ` +
        `(this one at ${shard.index}): current value lists ${c.peers.length}`,
    });
  }
  if (shard !== null && shard.count === 1 && c.peers.length > 1) {
    ctx.addIssue({
      code: "custom",
      path: ["peers"],
      message: `must list at most one base URL with shard ${c.shard}: current value lists ` +
        `${c.peers.length}`,
    });
  }
  if ((c.mqttCert === null) !== (c.mqttKey === null)) {
    ctx.addIssue({
      code: "custom",
      path: [c.mqttCert === null ? "mqttKey" : "mqttCert"],
      message: "must be given together with " + (c.mqttCert === null ? "mqttCert" : "mqttKey"),
    });
  }
  if ((c.brokerCert === null) !== (c.brokerKey === null)) {
    ctx.addIssue({
      code: "custom",
      path: [c.brokerCert === null ? "brokerKey" : "brokerCert"],
      message: "must be given together with " +
        (c.brokerCert === null ? "brokerCert" : "brokerKey"),
    });
  }
}).register(configMeta, {
  flag: "--config",
  arg: "FILE",
  env: "FORECASTD_CONFIG",
  description: "JSON configuration file to read",
});

/** The resolved configuration: every field set (null marks an option left unset). */
export type Config = z.output<typeof configSchema>;
/** The configuration as a user writes it (the file's shape): every field optional. */
export type UserConfig = z.input<typeof configSchema>;
/** One webhook of Config.webhooks. */
export type Webhook = Config["webhooks"][number];

/** The configuration with no file, variable or flag. */
export const DEFAULT_CONFIG: Config = configSchema.parse({});
