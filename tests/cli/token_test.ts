import assert from "node:assert/strict";
import { ApiTokens } from "../../src/auth/api_tokens.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", "main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const t = new TextDecoder();
  return { code: out.code, stdout: t.decode(out.stdout), stderr: t.decode(out.stderr) };
}

Deno.test("forecastd token prints a new token and the ROLE:HASH line that accepts it", async () => {
  const r = await run(["token", "--role", "read"]);
  assert.equal(r.code, 0, r.stderr);
  const token = /^token: (fcd_\S+)$/m.exec(r.stdout)?.[1];
  const spec = /^api-token: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(token && spec, r.stdout);
  assert.match(spec, /^read:sha256:[0-9a-f]{64}$/);
  assert.equal(ApiTokens.fromSpecs([spec]).authenticate(token)?.role, "read");
  assert.ok(r.stdout.includes(`--api-token ${spec}`), "how to configure it");
  assert.ok(r.stdout.includes(`FORECASTD_API_TOKENS=${spec}`));

  const w = await run(["token"]);
  assert.match(w.stdout, /^api-token: write:sha256:/m, "the default role is write");
  assert.notEqual(/^token: (\S+)$/m.exec(w.stdout)?.[1], token, "a new token each time");
});

Deno.test("forecastd token refuses an unknown role with status 2", async () => {
  const r = await run(["token", "--role", "admin"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    'Cannot make a token: --role must be read or write: current value is "admin"',
  );
  const h = await run(["token", "--help"]);
  assert.ok(h.stdout.startsWith("Usage: forecastd token"), h.stdout);
});
