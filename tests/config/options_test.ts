import assert from "node:assert/strict";
import { type Config, configSchema, DEFAULT_CONFIG, OPTIONS } from "../../src/config/mod.ts";
import { resolve } from "./_resolve.ts";

Deno.test("OPTIONS has one row per leaf of Config, plus --config", () => {
  const leaves = Object.entries(DEFAULT_CONFIG).flatMap(([k, v]) =>
    k === "alertRetention" ? Object.keys(v ?? {}).map((s) => `${k}.${s}`) : [k]
  );
  const keys = OPTIONS.map((o) => o.key);
  assert.deepEqual(keys.filter((k) => k !== null).sort(), leaves.sort());
  assert.equal(keys.filter((k) => k === null).length, 1);
  assert.equal(new Set(OPTIONS.map((o) => o.flag)).size, OPTIONS.length);
  assert.equal(new Set(OPTIONS.map((o) => o.env)).size, OPTIONS.length);
});

Deno.test("variables are FORECASTD_ and the flag in capitals; list flags are singular", () => {
  for (const o of OPTIONS) {
    assert.match(o.flag, /^--[a-z]+(-[a-z]+)*$/, o.flag);
    const fromFlag = "FORECASTD_" + o.flag.slice(2).replaceAll("-", "_").toUpperCase();
    const plural = o.kind === "list";
    assert.equal(o.env, plural ? `${fromFlag}S` : fromFlag, o.flag);
  }
  const names = Object.fromEntries(OPTIONS.map((o) => [o.key, [o.flag, o.env]]));
  assert.deepEqual(names.host, ["--host", "FORECASTD_HOST"]);
  assert.deepEqual(names.port, ["--port", "FORECASTD_PORT"]);
  assert.deepEqual(names.dataDir, ["--data-dir", "FORECASTD_DATA_DIR"]);
  assert.deepEqual(names.mqttUrl, ["--mqtt-url", "FORECASTD_MQTT_URL"]);
  assert.deepEqual(names.mqttPort, ["--mqtt-port", "FORECASTD_MQTT_PORT"]);
  assert.deepEqual(names.logLevel, ["--log-level", "FORECASTD_LOG_LEVEL"]);
});

Deno.test("each option can be set through its flag and its variable", () => {
  const samples: Record<string, string> = {
    host: "0.0.0.0",
    port: "1",
    apiTokens: `read:sha256:${"ab".repeat(32)}`,
    allowUnauthenticated: "true",
    tlsCert: "cert.pem",
    tlsKey: "key.pem",
    allowedHosts: "gateway.local",
    corsOrigins: "https://grafana.example:3000",
    maxBodyBytes: "4096",
    newStreamsPerMinute: "7",
    dataDir: "/d",
    kvUrl: "http://127.0.0.1:4512",
    shard: "0/1",
    peers: "http://127.0.0.1:8080",
    mqttUrl: "mqtt://b",
    mqttPort: "2",
    mqttHost: "10.0.0.2",
    mqttMaxPayload: "8",
    mqttInflight: "9",
    brokerUsersFile: "users.json",
    brokerUsers: '{"users":[]}',
    brokerCert: "bc.pem",
    brokerKey: "bk.pem",
    mqttUsername: "u",
    mqttPassword: "p",
    mqttCa: "ca.pem",
    mqttCert: "c.pem",
    mqttKey: "k.pem",
    mqttClientId: "gw1",
    mqttTopics: "x/{stream}",
    alertTopicPrefix: "a/b",
    statusTopic: "s/t",
    mqttForecasts: "true",
    forecastTopicPrefix: "f/p",
    forecastPublishSeconds: "3",
    forecastCrossings: "room/v>3",
    haDiscovery: "true",
    haDiscoveryPrefix: "ha",
    haNodeId: "gw2",
    metricsHorizons: "2",
    logLevel: "debug",
    logFormat: "text",
    defaultPreset: "small",
    kernels: "ts",
    falseAlertsPerWeek: "2",
    maxStreams: "3",
    maxValuesPerStream: "8",
    maxNameLength: "9",
    maxAbsValue: "1e9",
    maxValueSpreads: "100",
    checkpointEvery: "4",
    checkpointSeconds: "5",
    shutdownTimeout: "2.5",
    maxQueuedReadings: "8",
    shedAfterMs: "9",
    workers: "3",
    workerNice: "5",
    traceStreams: "q0",
    "alertRetention.maxEvents": "6",
    "alertRetention.maxAgeDays": "7",
    webhooks: "https://h.example",
    demo: "true",
  };
  const args: string[] = [], env: Record<string, string> = {};
  for (const o of OPTIONS) {
    if (o.key === null) continue;
    const sample = samples[o.key];
    assert.ok(sample !== undefined, `no sample for ${o.key}`);
    args.push(o.arg ? `${o.flag}=${sample}` : o.flag);
    env[o.env] = sample;
  }
  const viaFlags = resolve(args).config, viaEnv = resolve([], env).config;
  assert.deepEqual(viaFlags, viaEnv);
  for (const o of OPTIONS) {
    if (o.key === null) continue;
    const path = o.key.split(".");
    const get = (c: Config) => path.reduce((v: unknown, k) => (v as Record<string, unknown>)[k], c);
    assert.notDeepEqual(get(viaFlags), get(DEFAULT_CONFIG), `${o.key} was not set`);
  }
});

Deno.test("the table's defaults are the schema's", () => {
  const byKey = Object.fromEntries(OPTIONS.map((o) => [o.key, o.default]));
  assert.equal(byKey.port, "8080");
  assert.equal(byKey.mqttUrl, "unset");
  assert.equal(byKey.mqttTopics, "sensors/{stream}/{value}, sensors/{stream}");
  assert.equal(byKey["alertRetention.maxAgeDays"], "30");
  assert.deepEqual(configSchema.parse({}), DEFAULT_CONFIG);
});

Deno.test("each option's kind is read from its field's type in the schema", () => {
  const kinds = Object.fromEntries(OPTIONS.map((o) => [o.key, o.kind]));
  assert.deepEqual(
    [kinds.host, kinds.port, kinds.mqttUrl, kinds.logLevel, kinds.demo],
    ["string", "number", "string", "string", "boolean"],
  );
  assert.deepEqual(
    [kinds.mqttTopics, kinds.webhooks, kinds["alertRetention.maxAgeDays"]],
    ["list", "list", "number"],
  );
  assert.deepEqual(OPTIONS.filter((o) => o.secret).map((o) => o.key), [
    "apiTokens",
    "brokerUsers",
    "mqttPassword",
  ]);
  const webhook = OPTIONS.find((o) => o.key === "webhooks")!;
  assert.deepEqual(webhook.item("https://h.example"), { url: "https://h.example" });
  assert.equal(OPTIONS.find((o) => o.key === "mqttTopics")!.item("a/{stream}"), "a/{stream}");
});
