import assert from "node:assert/strict";
import { maskSecrets } from "../../src/config/mask_secrets.ts";
import { ConfigError, configSchema, resolveConfig } from "../../src/config/mod.ts";

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

Deno.test("maskSecrets() masks each API token of the list, and shows an empty list as it is", () => {
  const hash = `write:sha256:${"ab".repeat(32)}`;
  assert.deepEqual(
    maskSecrets({ apiTokens: [hash, hash], corsOrigins: [] }, configSchema),
    { apiTokens: ["********", "********"], corsOrigins: [] },
  );
  assert.deepEqual(maskSecrets({ apiTokens: [] }, configSchema), { apiTokens: [] });
});

Deno.test("a token given in place of its hash is refused without being shown", () => {
  const token = "fcd_Zm9yZWNhc3RkIHRva2VuIG5vdCBhIGhhc2ggYXQgYWxs";
  for (
    const [args, env] of [[[], { FORECASTD_API_TOKENS: `write:${token}` }], [[
      "--api-token",
      `write:${token}`,
    ], {}]] as const
  ) {
    assert.throws(
      () => resolveConfig({ args, env, readFile: () => "" }),
      (e: Error) =>
        e instanceof ConfigError && e.message.includes("apiTokens[0]") &&
        e.message.includes("the hash must be sha256:<64 hex digits>") && !e.message.includes(token),
    );
  }
});
