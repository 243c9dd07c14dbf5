import assert from "node:assert/strict";
import { type Config, DEFAULT_CONFIG, type UserConfig } from "../../src/config/mod.ts";
import { resolve } from "./_resolve.ts";

Deno.test("with no file, variable or flag every option has its documented default", () => {
  const { config, read } = resolve();
  assert.deepEqual(read, []);
  assert.deepEqual(config, {
    host: "127.0.0.1",
    port: 8080,
    apiTokens: [],
    allowUnauthenticated: false,
    tlsCert: null,
    tlsKey: null,
    traceStreams: [],
    allowedHosts: [],
    corsOrigins: [],
    maxBodyBytes: 1_048_576,
    newStreamsPerMinute: 100,
    dataDir: "./data",
    kvUrl: null,
    shard: null,
    peers: [],
    mqttUrl: null,
    mqttPort: 1883,
    mqttHost: null,
    mqttMaxPayload: 1_048_576,
    mqttInflight: 1000,
    brokerUsersFile: null,
    brokerUsers: null,
    brokerCert: null,
    brokerKey: null,
    mqttUsername: null,
    mqttPassword: null,
    mqttCa: null,
    mqttCert: null,
    mqttKey: null,
    mqttClientId: null,
    mqttTopics: ["sensors/{stream}/{value}", "sensors/{stream}"],
    alertTopicPrefix: "forecastd/alerts",
    statusTopic: "forecastd/status",
    mqttForecasts: false,
    forecastTopicPrefix: "forecastd/forecasts",
    forecastPublishSeconds: 10,
    forecastCrossings: [],
    haDiscovery: false,
    haDiscoveryPrefix: "homeassistant",
    haNodeId: "forecastd",
    metricsHorizons: [1, 6, 12, 24],
    logLevel: "info",
    logFormat: "json",
    defaultPreset: "default",
    kernels: "wasm",
    falseAlertsPerWeek: null,
    maxStreams: 1000,
    maxValuesPerStream: 64,
    maxNameLength: 128,
    maxAbsValue: 1e15,
    maxValueSpreads: 1e6,
    checkpointEvery: 500,
    checkpointSeconds: 60,
    shutdownTimeout: 10,
    maxQueuedReadings: 50_000,
    shedAfterMs: 250,
    workers: null,
    workerNice: 10,
    alertRetention: { maxEvents: 10_000, maxAgeDays: 30 },
    webhooks: [],
    demo: false,
  });
  assert.deepEqual(config, DEFAULT_CONFIG);
});

// Compile-time: the resolved Config has no optional or undefined field, the user config has.

type NoUndefined<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];

const _resolvedHasNone: [NoUndefined<Config>] extends [never] ? true : false = true;

const _retentionHasNone: [NoUndefined<Config["alertRetention"]>] extends [never] ? true : false =
  true;

const _webhookHasNone: [NoUndefined<Config["webhooks"][number]>] extends [never] ? true : false =
  true;

const _userIsPartial: UserConfig = {};

Deno.test("the resolved config holds no undefined value anywhere, webhooks included", () => {
  const { config } = resolve(["--config", "c.json"], {}, {
    "c.json": { webhooks: [{ url: "https://hooks.example/a" }] },
  });
  const walk = (v: unknown, path: string) => {
    assert.notEqual(v, undefined, path);
    if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    }
  };
  walk(config, "config");
  assert.deepEqual(config.webhooks, [{
    url: "https://hooks.example/a",
    secret: null,
    streams: null,
  }]);
  assert.ok([_resolvedHasNone, _retentionHasNone, _webhookHasNone, _userIsPartial]);
});
