import assert from "node:assert/strict";

/** Runs tests/ingest/_debug_child.ts with `env`; its stdout's JSON and its stderr. */
async function child(
  env: Record<string, string>,
): Promise<{ packets: number; realDebug: boolean; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", new URL("./_debug_child.ts", import.meta.url).pathname],
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `the child failed: ${stderr}`);
  return { ...JSON.parse(new TextDecoder().decode(out.stdout)), stderr };
}

Deno.test("without DEBUG the MQTT packages' debug loggers stay off, even when debug is enabled later", async () => {
  const { packets, realDebug, stderr } = await child({});
  assert.equal(packets, 1, "the parser still parses");
  assert.equal(realDebug, false, "the debug package is not loaded");
  assert.doesNotMatch(stderr, /mqtt-packet:/, "no logger of mqtt-packet prints");
});

Deno.test("with DEBUG set the MQTT packages get the real debug and print what it selects", async () => {
  const { packets, realDebug, stderr } = await child({ DEBUG: "mqtt-packet:*" });
  assert.equal(packets, 1);
  assert.equal(realDebug, true);
  assert.match(stderr, /mqtt-packet:parser/);
  assert.match(stderr, /mqtt-packet:writeToStream/);
});
