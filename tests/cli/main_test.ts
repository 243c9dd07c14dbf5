/**
 * main.ts run bare, as `deno run main.ts ...` without permission flags: a
 * command that needs none runs, and one that needs some says which and the
 * command line that grants them, which then works.
 */
import assert from "node:assert/strict";
import { ROOT } from "../e2e/_daemon.ts";
import { MODULE_DIRS } from "../../src/cli/command_permissions.ts";
import { shellWords } from "../docs/_code_blocks.ts";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno run main.ts demo needs no permission flag: the offline demo runs", async () => {
  const r = await run(["run", "main.ts", "demo", "--readings", "300", "--every", "100"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^next 12 readings \(60 min\): /m);
});

Deno.test("deno run main.ts serve without permissions names the permission and a command line that works", async () => {
  const r = await run(["run", "main.ts", "serve", "--print-config", "--port", "9000"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.match(
    lines[0],
    // the first read of the environment: the configuration's (all of it, so no variable named)
    /^Cannot run forecastd serve: Deno must grant the permission it asked for: Requires env access( to "\w+")?, run again with the --allow-env flag\. Run it as$/,
  );
  assert.deepEqual(lines.slice(1, 3), [
    "  deno task start serve --print-config --port 9000",
    "which grants what the command needs and nothing more, or as",
  ]);
  assert.equal(
    lines[3],
    "  deno run --v8-flags=--optimize-for-size --allow-net --allow-env " +
      `--allow-read=./data${MODULE_DIRS.map((d) => `,${d}`).join("")} ` +
      "--allow-write=./data --allow-sys=getPriority,setPriority main.ts serve --print-config " +
      "--port 9000",
  );
  assert.equal(lines.length, 4);
  // the command line it names does what was asked
  const [deno, ...args] = shellWords(lines[3].trim());
  assert.equal(deno, "deno");
  const again = await run(args);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).port, 9000);
});

Deno.test("serve with a data directory Deno may not write names the task and the flags that grant it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-test-" });
  try {
    const other = `${dir}/other`;
    const r = await run([
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      `--allow-read=${dir}/data`,
      `--allow-write=${dir}/data`,
      "main.ts",
      "serve",
      "--port",
      "0",
      "--mqtt-port",
      "0",
      "--data-dir",
      other,
    ]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.match(
      lines.at(-2)!,
      new RegExp(
        `^Cannot start forecastd: Deno must be allowed to read and write the data directory \\(.*\\): current value is "${other}"\\. deno task start --data-dir ${other} grants it; with deno run, allow it:$`,
      ),
    );
    assert.equal(
      lines.at(-1),
      `  deno run --v8-flags=--optimize-for-size --allow-net --allow-env --allow-read=${other} ` +
        `--allow-write=${other} --allow-sys=getPriority,setPriority main.ts serve --data-dir ${other}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
