import assert from "node:assert/strict";
import { formatOptionsHelp, OPTIONS } from "../../src/config/mod.ts";

Deno.test("formatOptionsHelp() lists every flag with its variable and default, within 100 columns", () => {
  const help = formatOptionsHelp();
  for (const o of OPTIONS) {
    assert.ok(help.includes(o.flag), o.flag);
    assert.ok(help.includes(`env ${o.env}`), o.env);
    assert.ok(help.includes(`default ${o.default}`), o.env);
  }
  for (const line of help.split("\n")) assert.ok(line.length <= 100, line);
});

Deno.test("formatOptionsHelp() puts the command's own flags first, in the options' columns", () => {
  const help = formatOptionsHelp(OPTIONS.slice(0, 2), [["--force", "replace it"]]).split("\n");
  assert.deepEqual(help, [
    "  --force        replace it",
    "  --config FILE  JSON configuration file to read",
    "                 env FORECASTD_CONFIG, default none",
    "  --host HOST    address the HTTP API listens on",
    "                 env FORECASTD_HOST, default 127.0.0.1",
  ]);
});

Deno.test("formatOptionsHelp() wraps a long meaning and splits details that do not fit", () => {
  const topics = OPTIONS.find((o) => o.key === "mqttTopics")!;
  assert.deepEqual(formatOptionsHelp([topics]).split("\n"), [
    "  --mqtt-topic PATTERN  topic pattern to subscribe to, with {stream} and {value} levels (repeat the",
    "                        flag; comma-separated in the variable)",
    "                        env FORECASTD_MQTT_TOPICS",
    "                        default sensors/{stream}/{value}, sensors/{stream}",
  ]);
});
