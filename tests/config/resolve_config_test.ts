import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config/mod.ts";
import { lines, problems, resolve } from "./_resolve.ts";

// --- precedence

Deno.test("precedence is flag over environment over file over default, option by option", () => {
  const files = { "c.json": { host: "0.0.0.0", port: 1000, dataDir: "/file", maxStreams: 5 } };
  const env = { FORECASTD_CONFIG: "c.json", FORECASTD_PORT: "2000", FORECASTD_DATA_DIR: "/env" };
  const { config } = resolve(["--port", "3000"], env, files);
  assert.equal(config.port, 3000); // flag
  assert.equal(config.dataDir, "/env"); // env over file
  assert.equal(config.host, "0.0.0.0"); // file
  assert.equal(config.maxStreams, 5); // file
  assert.equal(config.checkpointEvery, 500); // default
});

Deno.test("the file is named by --config, which wins over FORECASTD_CONFIG", () => {
  const files = { "a.json": { port: 1 }, "b.json": { port: 2 } };
  assert.equal(resolve([], { FORECASTD_CONFIG: "a.json" }, files).config.port, 1);
  const both = resolve(["--config", "b.json"], { FORECASTD_CONFIG: "a.json" }, files);
  assert.equal(both.config.port, 2);
  assert.deepEqual(both.read, ["b.json"]);
  assert.equal(resolve(["--config=a.json"], {}, files).config.port, 1);
});

Deno.test("nested alertRetention options merge leaf by leaf across sources", () => {
  const files = { "c.json": { alertRetention: { maxEvents: 50, maxAgeDays: 90 } } };
  const both = resolve(["--config", "c.json", "--alert-max-age-days", "7"], {}, files).config;
  assert.deepEqual(both.alertRetention, { maxEvents: 50, maxAgeDays: 7 });
  const flag = resolve(["--alert-max-age-days", "7"]).config;
  assert.deepEqual(flag.alertRetention, { maxEvents: 10_000, maxAgeDays: 7 });
  const env = resolve([], { FORECASTD_ALERT_MAX_EVENTS: "20" }).config;
  assert.deepEqual(env.alertRetention, { maxEvents: 20, maxAgeDays: 30 });
});

Deno.test("null in the file unsets an optional option, and an empty variable counts as unset", () => {
  const files = { "c.json": { mqttUrl: null, host: "10.0.0.1" } };
  const { config } = resolve(
    ["--config", "c.json"],
    { FORECASTD_HOST: "", FORECASTD_PORT: "" },
    files,
  );
  assert.equal(config.mqttUrl, null);
  assert.equal(config.host, "10.0.0.1");
  assert.equal(config.port, 8080);
});

// --- conversion of strings

Deno.test("numbers from variables and flags are read as decimals; port 0 means a free port", () => {
  const { config } = resolve(
    ["--port", "0", "--checkpoint-seconds", "0.5"],
    { FORECASTD_MQTT_PORT: " 8883 ", FORECASTD_MAX_STREAMS: "1e3" },
  );
  assert.equal(config.port, 0);
  assert.equal(config.checkpointSeconds, 0.5);
  assert.equal(config.mqttPort, 8883);
  assert.equal(config.maxStreams, 1000);
});

Deno.test("booleans: --demo, --demo=false, and true/false/1/0/yes/no/on/off in the variable", () => {
  assert.equal(resolve(["--demo"]).config.demo, true);
  assert.equal(resolve(["--demo=false"], { FORECASTD_DEMO: "1" }).config.demo, false);
  for (const [text, value] of [["yes", true], ["OFF", false], ["0", false], ["True", true]]) {
    assert.equal(resolve([], { FORECASTD_DEMO: String(text) }).config.demo, value, String(text));
  }
});

Deno.test("topic patterns: a repeated flag, a comma-separated or JSON-array variable", () => {
  const flags = resolve(["--mqtt-topic", "a/{stream}", "--mqtt-topic", "b/{stream}/{value}"]);
  assert.deepEqual(flags.config.mqttTopics, ["a/{stream}", "b/{stream}/{value}"]);
  const csv = resolve([], { FORECASTD_MQTT_TOPICS: "a/{stream}, b/{stream}/{value}," });
  assert.deepEqual(csv.config.mqttTopics, ["a/{stream}", "b/{stream}/{value}"]);
  const json = resolve([], { FORECASTD_MQTT_TOPICS: '["a,b/{stream}"]' });
  assert.deepEqual(json.config.mqttTopics, ["a,b/{stream}"]);
});

Deno.test("webhooks: --webhook URL repeated, URLs or a JSON array in the variable, objects in the file", () => {
  const flags = resolve(["--webhook", "https://a.example/x", "--webhook", "http://b.example"]);
  assert.deepEqual(flags.config.webhooks, [
    { url: "https://a.example/x", secret: null, streams: null },
    { url: "http://b.example", secret: null, streams: null },
  ]);
  const env = resolve([], {
    FORECASTD_WEBHOOKS: '[{"url":"https://a.example","secret":"s","streams":["kitchen"]}]',
  });
  assert.deepEqual(env.config.webhooks, [
    { url: "https://a.example", secret: "s", streams: ["kitchen"] },
  ]);
  const file = resolve(["--config", "c.json"], {}, {
    "c.json": { webhooks: [{ url: "https://a.example", streams: ["a", "b"] }] },
  });
  assert.deepEqual(file.config.webhooks[0].streams, ["a", "b"]);
});

Deno.test("--help, -h and --print-config are accepted and left to the caller", () => {
  assert.deepEqual(resolve(["--help", "-h", "--print-config"]).config, DEFAULT_CONFIG);
});

// --- errors

Deno.test("the brief's example: --port http gives exactly the documented message", () => {
  const e = problems(["--port", "http"]);
  assert.equal(
    e.message,
    "Cannot start forecastd: invalid configuration:\n" +
      '  port (flag --port): must be an integer from 0 to 65535: current value is "http"',
  );
  assert.deepEqual(e.problems[0], {
    field: "port",
    source: { kind: "flag", name: "--port" },
    message: "must be an integer from 0 to 65535",
    value: "http",
  });
});

Deno.test("every bad field is listed at once, each with its source and value as given", () => {
  const e = problems(
    ["--port", "70000", "--log-level", "verbose", "--config", "c.json"],
    { FORECASTD_MQTT_PORT: "-1", FORECASTD_CHECKPOINT_EVERY: "1.5" },
    { "c.json": { maxStreams: "100", alertRetention: { maxAgeDays: 0 }, demo: "yes" } },
  );
  assert.deepEqual(lines(e), [
    'port (flag --port): must be an integer from 0 to 65535: current value is "70000"',
    'mqttPort (env FORECASTD_MQTT_PORT): must be an integer from 0 to 65535: current value is "-1"',
    'logLevel (flag --log-level): must be one of debug, info, warn, error: current value is "verbose"',
    'maxStreams (file c.json): must be an integer from 1 to 1000000: current value is "100"',
    'checkpointEvery (env FORECASTD_CHECKPOINT_EVERY): must be an integer of at least 1: current value is "1.5"',
    "alertRetention.maxAgeDays (file c.json): must be a number of days greater than 0: current value is 0",
    'demo (file c.json): must be true or false: current value is "yes"',
  ]);
});

Deno.test("values in the file must have their JSON type: a quoted number is refused", () => {
  const e = problems(["--config", "c.json"], {}, { "c.json": { port: "8080" } });
  assert.deepEqual(lines(e), [
    'port (file c.json): must be an integer from 0 to 65535: current value is "8080"',
  ]);
});

Deno.test("hex, blanks and Infinity are not numbers in variables and flags", () => {
  for (const text of ["0x50", "Infinity", "80 80", "8e"]) {
    const e = problems([], { FORECASTD_PORT: text });
    assert.match(e.message, /port \(env FORECASTD_PORT\): must be an integer/, text);
  }
});

Deno.test("unknown flags, variables and file keys are errors with a suggestion", () => {
  const e = problems(
    ["--prot", "80", "--config", "c.json"],
    { FORECASTD_DATADIR: "/x", FORECASTD_ZZZZZZZZ: "1", OTHER_VAR: "ignored" },
    { "c.json": { mqtt_url: "mqtt://x", alertRetention: { maxEvent: 3 } } },
  );
  assert.deepEqual(lines(e), [
    '--prot (command line): is not a known option (did you mean --port?): current value is "80"',
    'FORECASTD_DATADIR (env): is not a known option (did you mean FORECASTD_DATA_DIR?): current value is "/x"',
    'FORECASTD_ZZZZZZZZ (env): is not a known option: current value is "1"',
    'mqtt_url (file c.json): is not a known option (did you mean mqttUrl?): current value is "mqtt://x"',
    "alertRetention.maxEvent (file c.json): is not a known option (did you mean alertRetention.maxEvents?): current value is 3",
  ]);
});

Deno.test("the clients' FORECASTD_URL and FORECASTD_TOKEN are neither options nor errors", () => {
  const { config } = resolve([], {
    FORECASTD_URL: "http://gateway:8080",
    FORECASTD_TOKEN: "fcd_secret",
    FORECASTD_PORT: "9000",
  });
  assert.equal(config.port, 9000);
  assert.ok(!JSON.stringify(config).includes("gateway"), "the URL is not read into the config");
  assert.ok(!JSON.stringify(config).includes("fcd_secret"), "nor the token");
  // a typo of theirs is still one
  const e = problems([], { FORECASTD_URI: "http://gateway:8080" });
  assert.match(e.message, /FORECASTD_URI \(env\): is not a known option/);
});

Deno.test("names of Object.prototype are unknown keys like any other, in the file and in groups", () => {
  const e = problems(["--config", "c.json"], {}, {
    "c.json": '{"constructor": 1, "toString": {"x": 1}, "alertRetention": {"__proto__": 2}}',
  });
  assert.deepEqual(lines(e).map((l) => l.split(" (")[0]), [
    "constructor",
    "toString",
    "alertRetention.__proto__",
  ]);
  assert.ok(lines(e).every((l) => l.includes("is not a known option")), e.message);
});

Deno.test("a stray argument and a flag without its value are reported", () => {
  const e = problems(["serve", "--host"]);
  assert.deepEqual(lines(e), [
    'argument "serve" (command line): is not an option (options start with --)',
    "host (flag --host): needs a value (--host HOST, or --host=HOST for a value starting with -)",
  ]);
  const swallowed = problems(["--data-dir", "--port", "80"]);
  assert.match(swallowed.message, /dataDir \(flag --data-dir\): needs a value/);
});

Deno.test("a config file that cannot be read, is not JSON or not an object is reported with its path", () => {
  assert.deepEqual(lines(problems(["--config", "missing.json"])), [
    'config (flag --config): must name a readable file (No such file or directory: missing.json): current value is "missing.json"',
  ]);
  const bad = problems([], { FORECASTD_CONFIG: "bad.json" }, { "bad.json": "{port: 1}" });
  assert.match(
    bad.message,
    /config \(env FORECASTD_CONFIG\): must name a JSON file \(.+\): current value is "bad.json"/,
  );
  const arr = problems(["--config", "a.json"], {}, { "a.json": [1] });
  assert.match(arr.message, /must name a file holding a JSON object of options/);
  const ret = problems(["--config", "a.json"], {}, { "a.json": { alertRetention: 5 } });
  assert.match(ret.message, /alertRetention \(file a.json\): must be an object/);
});

Deno.test("a bad file does not hide problems in variables and flags", () => {
  const e = problems(["--config", "missing.json", "--port", "x"], { FORECASTD_HOST: "" });
  assert.equal(e.problems.length, 2);
});

Deno.test("URLs, topic patterns and topics are checked", () => {
  const e = problems(
    [
      "--mqtt-url",
      "http://broker",
      "--mqtt-topic",
      "sensors/{stream}x",
      "--alert-topic-prefix",
      "alerts/#",
      "--webhook",
      "ftp://x",
    ],
  );
  assert.deepEqual(lines(e), [
    'mqttUrl (flag --mqtt-url): must be an mqtt://, mqtts://, ws:// or wss:// URL with a host: current value is "http://broker"',
    'mqttTopics[0] (flag --mqtt-topic): must be an MQTT topic pattern whose levels are text, {stream}, {value}, + or a final #: level 2 ("{stream}x") mixes a wildcard or placeholder with text; a placeholder fills a whole level: current value is "sensors/{stream}x"',
    'alertTopicPrefix (flag --alert-topic-prefix): must be an MQTT topic without +, # or a trailing /: current value is "alerts/#"',
    'webhooks[0].url (flag --webhook): must be an http:// or https:// URL with a host: current value is "ftp://x"',
  ]);
  for (const ok of ["mqtt://localhost", "mqtts://b.example:8883", "ws://b/mqtt", "wss://b"]) {
    assert.equal(resolve(["--mqtt-url", ok]).config.mqttUrl, ok);
  }
});

Deno.test("webhook stream filters must be stream ids, and a webhook knows only url, secret, streams", () => {
  const e = problems(["--config", "c.json"], {}, {
    "c.json": {
      webhooks: [
        { url: "https://a", streams: ["ok", "not ok"] },
        { url: "https://b", streams: [] },
        { url: "https://c", secret: "hunter2", retries: 3 },
      ],
    },
  });
  const l = lines(e);
  assert.match(
    l[0],
    /^webhooks\[0\]\.streams\[1\] \(file c.json\): must be a stream id .*"not ok"$/,
  );
  assert.match(l[1], /^webhooks\[1\]\.streams \(file c.json\): must list at least one stream/);
  assert.match(l[2], /^webhooks\[2\] \(file c.json\): .*retries/);
  assert.ok(!e.message.includes("hunter2"), "the secret is masked");
});

Deno.test("mqttCert and mqttKey must be given together", () => {
  const e = problems(["--mqtt-cert", "client.pem"]);
  assert.deepEqual(lines(e), [
    'mqttCert (flag --mqtt-cert): must be given together with mqttKey: current value is "client.pem"',
  ]);
  const ok = resolve(["--mqtt-cert", "c.pem", "--mqtt-key", "k.pem", "--mqtt-ca", "ca.pem"]);
  assert.deepEqual(
    [ok.config.mqttCert, ok.config.mqttKey, ok.config.mqttCa],
    ["c.pem", "k.pem", "ca.pem"],
  );
});

Deno.test("passwords are masked in error messages, also under a mistyped name", () => {
  const e = problems(["--config", "c.json"], { FORECASTD_MQTT_PASWORD: "hunter2" }, {
    "c.json": { mqttPassword: 12345 },
  });
  assert.ok(!e.message.includes("hunter2"), e.message);
  assert.ok(!e.message.includes("12345"), e.message);
  assert.match(
    e.message,
    /mqttPassword \(file c.json\): must be a string: current value is "\*\*\*\*\*\*\*\*"/,
  );
});
