import assert from "node:assert/strict";
import { maskSecrets } from "../../src/config/mask_secrets.ts";
import { configSchema } from "../../src/config/mod.ts";

Deno.test("maskSecrets() masks the fields the schema marks secret, and URL passwords anywhere", () => {
  const shown = maskSecrets({
    mqttPassword: "hunter2",
    mqttUrl: "mqtt://u:pw@b",
    mqttKey: "client.key",
    webhooks: [{ url: "https://u:p@h.example/x", secret: "s3cret", streams: null }],
  }, configSchema);
  assert.deepEqual(shown, {
    mqttPassword: "********",
    mqttUrl: "mqtt://u:********@b",
    mqttKey: "client.key",
    webhooks: [{ url: "https://u:********@h.example/x", secret: "********", streams: null }],
  });
});

Deno.test("maskSecrets() keeps null and undefined, and masks unknown names that look secret", () => {
  assert.deepEqual(maskSecrets({ mqttPassword: null }, configSchema), { mqttPassword: null });
  assert.equal(maskSecrets(undefined, configSchema.shape.mqttPassword), undefined);
  assert.deepEqual(
    maskSecrets({ apiToken: "t", retries: 3, nested: { secret: "s", ok: "x" } }, null),
    { apiToken: "********", retries: 3, nested: { secret: "********", ok: "x" } },
  );
  assert.equal(maskSecrets(12345, configSchema.shape.mqttPassword), "********");
});
