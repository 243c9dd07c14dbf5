import assert from "node:assert/strict";

Deno.test("stdoutIsLog() is true when stdout and stderr are the same pipe or file, not when apart", async () => {
  const script =
    'import { stdoutIsLog } from "./src/cli/stdout_is_log.ts"; console.error(String(stdoutIsLog()));';
  const run = async (redirect: string) => {
    const out = await new Deno.Command("bash", {
      args: ["-c", `"${Deno.execPath()}" eval '${script}' ${redirect}`],
      stdin: "null",
      env: { NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
    }).output();
    return new TextDecoder().decode(out.stdout).trim() + "|" +
      new TextDecoder().decode(out.stderr).trim();
  };
  assert.equal(await run("2>&1 | cat"), "true|", "2>&1 into a pipe");
  assert.equal(await run("2>&1 >/dev/null | cat"), "false|", "stderr into the pipe, stdout apart");
  assert.equal(await run("2>/dev/null | cat"), "|", "stdout alone into a pipe (nothing printed)");
  assert.equal(await run(""), "|false", "separate pipes");
});
