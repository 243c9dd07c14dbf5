import assert from "node:assert/strict";
import { DEFAULT_CONFIG, formatConfig } from "../../src/config/mod.ts";
import { resolve } from "./_resolve.ts";

Deno.test("formatConfig() prints JSON in the file's format with secrets masked", () => {
  const { config } = resolve(
    ["--mqtt-url", "mqtts://user:pw@broker:8883", "--mqtt-username", "user"],
    {
      FORECASTD_MQTT_PASSWORD: "hunter2",
      FORECASTD_WEBHOOKS: '[{"url":"https://u:p@h.example/x","secret":"s3cret"}]',
    },
  );
  const text = formatConfig(config);
  for (const secret of ["hunter2", "s3cret", ":pw@", ":p@"]) {
    assert.ok(!text.includes(secret), `${secret} in ${text}`);
  }
  const shown = JSON.parse(text);
  assert.equal(shown.mqttPassword, "********");
  assert.equal(shown.mqttUrl, "mqtts://user:********@broker:8883");
  assert.equal(shown.webhooks[0].secret, "********");
  assert.equal(shown.mqttUsername, "user");
});

Deno.test("formatConfig() output read back as a config file gives the same configuration", () => {
  const { config } = resolve(["--port", "9000", "--demo", "--webhook", "https://h.example"]);
  const again = resolve(["--config", "p.json"], {}, { "p.json": formatConfig(config) }).config;
  assert.deepEqual(again, config);
  assert.equal(formatConfig(DEFAULT_CONFIG).split("\n")[1], '  "host": "127.0.0.1",');
});
