/**
 * The command line of main.ts as a person uses it: help (each command's
 * own), --print-config, configuration and usage errors, version, one daemon
 * per data directory, and a stream's model carried from one data directory
 * to another with export and import.
 */
import assert from "node:assert/strict";
import {
  batchPayload,
  getJson,
  mqttClient,
  ROOT,
  startDaemon,
  streamWithReadings,
  withTempDir,
} from "./_daemon.ts";
import { formatOptionsHelp, OPTIONS } from "../../src/config/mod.ts";

/** Runs `deno run <perms> main.ts <args>`; resolves with its status and output. */
async function cli(
  args: string[],
  opts: { read?: string[]; write?: string[]; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const perms = ["--allow-env", "--allow-net=127.0.0.1"];
  if (opts.read?.length) perms.push(`--allow-read=${opts.read.join(",")}`);
  if (opts.write?.length) perms.push(`--allow-write=${opts.write.join(",")}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, "main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1", ...opts.env },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("forecastd --help lists the commands and every option with its variable and default", async () => {
  const r = await cli(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  for (
    const s of [
      "forecastd [serve] [options]",
      "forecastd export STREAM [FILE]",
      "forecastd import STREAM FILE [--force]",
      "--data-dir DIR",
      "FORECASTD_DATA_DIR",
      "--mqtt-url URL",
      "--print-config",
      "SIGTERM",
    ]
  ) assert.ok(r.stdout.includes(s), `help mentions ${s}`);
  assert.ok(r.stdout.includes(formatOptionsHelp()), "the options as the schema describes them");
  for (const o of OPTIONS) {
    assert.ok(r.stdout.includes(`env ${o.env}`), o.env);
    assert.ok(r.stdout.includes(`  ${o.flag}${o.arg ? ` ${o.arg}` : ""}  `), o.flag);
  }
  assert.ok(r.stdout.includes("deno task start --help"), "how to get help from a checkout");
  const serve = await cli(["serve", "-h"]);
  assert.equal(serve.stdout, r.stdout, "serve -h prints the same help");
  const help = await cli(["help"]);
  assert.equal(help.stdout, r.stdout, "help prints the same help");
});

Deno.test("export --help and import --help print their own usage and the options they use", async () => {
  const serveHelp = (await cli(["--help"])).stdout;
  for (
    const [command, usage] of [["export", "STREAM [FILE]"], ["import", "STREAM FILE [--force]"]]
  ) {
    const r = await cli([command, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(r.stdout, serveHelp, `${command} --help is not serve's help`);
    assert.ok(r.stdout.startsWith(`Usage: forecastd ${command} ${usage} [options]\n`), r.stdout);
    for (const s of ["--config FILE", "--data-dir DIR", "env FORECASTD_DATA_DIR, default ./data"]) {
      assert.ok(r.stdout.includes(s), `${command} --help mentions ${s}`);
    }
    assert.ok(!r.stdout.includes("--print-config"), `${command} has no --print-config`);
    assert.equal((await cli([command, "-h"])).stdout, r.stdout, `${command} -h`);
  }
  assert.match((await cli(["import", "--help"])).stdout, /--force +replace the stream/);
});

Deno.test("an unknown command and a bad demo option exit with status 2 and say what is accepted", async () => {
  const unknown = await cli(["frob"]);
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr.trim(),
    "Cannot run forecastd: the command must be one of serve, export, import, streams, " +
      "forecast, alerts, ack, demo, replay, token, version, help: current value is " +
      '"frob" (forecastd help lists them)',
  );
  const demo = await cli(["demo", "--bogus"]);
  assert.equal(demo.code, 2);
  assert.match(demo.stderr, /^Cannot run demo: Unknown option '--bogus'/);
  assert.match(demo.stderr, /\n\nUsage: forecastd demo \[options\]/);
  const count = await cli(["demo", "--readings", "0"]);
  assert.equal(count.code, 2);
  assert.match(count.stderr, /--readings must be a positive integer: current value is "0"/);
});

Deno.test("serve --print-config prints the resolved configuration (flag over variable) with the password masked", async () => {
  const r = await cli(
    ["serve", "--print-config", "--port", "9999", "--mqtt-password", "s3cret"],
    { env: { FORECASTD_PORT: "1234", FORECASTD_LOG_LEVEL: "debug" } },
  );
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.port, 9999);
  assert.equal(c.logLevel, "debug");
  assert.equal(c.mqttPassword, "********");
  assert.ok(!r.stdout.includes("s3cret"));
});

Deno.test("serve with an invalid option exits with status 2 and names the field, its source and value", async () => {
  const r = await cli(["serve", "--port", "http"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /port \(flag --port\): must be an integer from 0 to 65535/);
  assert.match(r.stderr, /current value is "http"/);
  assert.equal(r.stdout, "");
});

Deno.test("forecastd version prints the version", async () => {
  const r = await cli(["version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^forecastd \d+\.\d+\.\d+ \(deno /);
});

Deno.test("a second daemon on the same data directory exits with status 2 naming the first one's pid", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir });
    try {
      assert.ok(
        d.banner.includes(
          "  docs: README.md and docs/; options: forecastd --help " +
            "(from a source checkout: deno task start --help)",
        ),
        d.banner.join("\n"),
      );
      const r = await cli(["serve", "--port", "0", "--mqtt-port", "0", "--data-dir", dir], {
        read: [dir],
        write: [dir],
      });
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`locked by pid ${d.pid}`));
    } finally {
      assert.equal((await d.stop()).code, 0);
    }
  });
});

Deno.test("export then import carries a stream's model to another data directory, where it forecasts exactly as before", async () => {
  await withTempDir(async (dir) => {
    const a = `${dir}/a`, b = `${dir}/b`, file = `${dir}/kitchen.json`;
    const d = await startDaemon({ dataDir: a });
    let original: Record<string, unknown>;
    try {
      const device = await mqttClient(d.mqttUrl);
      try {
        await device.publishAsync("sensors/kitchen/temperature", batchPayload(0, 300), {
          qos: 1,
        });
      } finally {
        await device.endAsync();
      }
      await streamWithReadings(d, "kitchen", 300);
      original = await getJson(`${d.http}/v1/streams/kitchen/forecast`);
    } finally {
      assert.equal((await d.stop()).code, 0);
    }

    // Deno KV opens its file for writing, even to read it
    const unknown = await cli(["export", "pantry", "--data-dir", a], { read: [a], write: [a] });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /there is no such stream; streams there: kitchen/);

    const exported = await cli(["export", "kitchen", file, "--data-dir", a], {
      read: [a],
      write: [a, file],
    });
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(await Deno.readTextFile(file));
    assert.equal(doc.format, "forecastd-stream");
    assert.equal(doc.stream, "kitchen");
    assert.deepEqual(doc.config.columns, ["temperature"]);

    // a damaged file is refused before anything is written
    const damaged = `${dir}/damaged.json`;
    const b64: string = doc.checkpoint.base64;
    const flipped = b64.slice(0, 100) + (b64[100] === "A" ? "B" : "A") + b64.slice(101);
    await Deno.writeTextFile(
      damaged,
      JSON.stringify({ ...doc, checkpoint: { ...doc.checkpoint, base64: flipped } }),
    );
    const bad = await cli(["import", "garage", damaged, "--data-dir", b], {
      read: [dir],
      write: [b],
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SHA-256 must be [0-9a-f]{64}/);

    const imported = await cli(["import", "garage", file, "--data-dir", b], {
      read: [dir],
      write: [b],
    });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /imported stream "garage"/);
    const again = await cli(["import", "garage", file, "--data-dir", b], {
      read: [dir],
      write: [b],
    });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /must not exist yet .*--force/);

    const d2 = await startDaemon({ dataDir: b });
    try {
      const copy = await getJson(`${d2.http}/v1/streams/garage/forecast`);
      assert.deepEqual(copy, { ...original, stream: "garage" });
      const busy = await cli(["import", "garage", file, "--force", "--data-dir", b], {
        read: [dir],
        write: [b],
      });
      assert.equal(busy.code, 2, "import refuses while a daemon uses the directory");
      assert.match(busy.stderr, new RegExp(`locked by pid ${d2.pid}`));
    } finally {
      assert.equal((await d2.stop()).code, 0);
    }
    const forced = await cli(["import", "garage", file, "--force", "--data-dir", b], {
      read: [dir],
      write: [b],
    });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /replacing the stream there/);
  });
});
