import assert from "node:assert/strict";
import {
  commandPermissions,
  missingPermissionMessage,
  MODULE_DIRS,
  NICE_PERMISSION,
  shellQuote,
  splitCommand,
  V8_FLAGS,
} from "../../src/cli/command_permissions.ts";
import { launchArgs, MAIN } from "../../src/cli/launch.ts";
import { OPTIONS } from "../../src/config/mod.ts";

/** forecastd's modules and presets, which serve reads besides its own paths (its shard workers load them). */
const MODULES = MODULE_DIRS.map((d) => `,${d}`).join("");

/** commandPermissions over in-memory files. */
function perms(
  args: string[],
  env: Record<string, string> = {},
  files: Record<string, unknown> = {},
) {
  return commandPermissions({
    args,
    env,
    readFile: (path) => {
      if (!(path in files)) throw new Error(`No such file or directory: ${path}`);
      return JSON.stringify(files[path]);
    },
  });
}

Deno.test("serve gets the network, the environment, its data directory alone to write, and its threads' priority", () => {
  const expected = {
    command: "serve",
    daemon: true,
    flags: [
      V8_FLAGS,
      "--allow-net",
      "--allow-env",
      `--allow-read=./data${MODULES}`,
      "--allow-write=./data",
      "--allow-sys=getPriority,setPriority",
    ],
  };
  assert.deepEqual(perms([]), expected);
  assert.deepEqual(perms(["serve"]), expected);
  assert.deepEqual(perms(["--port", "9000"]), expected);
  assert.deepEqual(perms(["serve", "--data-dir", "/var/lib/forecastd"]).flags.slice(3), [
    `--allow-read=/var/lib/forecastd${MODULES}`,
    "--allow-write=/var/lib/forecastd",
    NICE_PERMISSION,
  ]);
  assert.deepEqual(perms(["serve", "--demo"], { FORECASTD_DATA_DIR: "/srv/f" }).flags.slice(3), [
    `--allow-read=/srv/f${MODULES}`,
    "--allow-write=/srv/f",
    NICE_PERMISSION,
  ]);
  assert.deepEqual(MODULE_DIRS.map((d) => d.split("/").slice(-1)[0]), ["src", "models"]);
});

Deno.test("serve reads and sets no thread's priority when it lowers none: --worker-nice 0 or --workers 0", () => {
  const without = [V8_FLAGS, "--allow-net", "--allow-env", `--allow-read=./data${MODULES}`];
  for (
    const [args, env] of [
      [["--worker-nice", "0"], {}],
      [["--workers", "0"], {}],
      [[], { FORECASTD_WORKER_NICE: "0" }],
      [["--worker-nice=19", "--workers=0"], {}],
    ] as [string[], Record<string, string>][]
  ) {
    assert.deepEqual(perms(args, env).flags, [...without, "--allow-write=./data"], args.join(" "));
  }
  assert.deepEqual(perms(["--worker-nice", "1", "--workers", "1"]).flags.at(-1), NICE_PERMISSION);
});

Deno.test("serve reads the --config file and every file its options name, from wherever they come", () => {
  const p = perms(["--config", "/etc/forecastd/config.json", "--tls-key", "/etc/tls/key.pem"], {
    FORECASTD_MQTT_CA: "/etc/mqtt/ca.pem",
  }, {
    "/etc/forecastd/config.json": { dataDir: "/var/lib/forecastd", tlsCert: "/etc/tls/cert.pem" },
  });
  assert.deepEqual(p.flags.slice(3), [
    "--allow-read=/var/lib/forecastd,/etc/forecastd/config.json,/etc/tls/cert.pem," +
    `/etc/tls/key.pem,/etc/mqtt/ca.pem${MODULES}`,
    "--allow-write=/var/lib/forecastd",
    NICE_PERMISSION,
  ]);
  const fromEnv = perms([], { FORECASTD_CONFIG: "f.json" }, { "f.json": {} });
  assert.equal(fromEnv.flags[3], `--allow-read=./data,f.json${MODULES}`);
});

Deno.test("every option whose argument is a FILE is granted reading, and a DIR reading and writing", () => {
  const files = OPTIONS.filter((o) => o.key !== null && o.arg === "FILE");
  const dirs = OPTIONS.filter((o) => o.key !== null && o.arg === "DIR");
  assert.ok(files.length >= 5, "the TLS and MQTT files at least");
  assert.deepEqual(dirs.map((o) => o.flag), ["--data-dir"]);
  const args = [...files, ...dirs].flatMap((o) => [o.flag, `/x/${o.key}`]);
  const [, , , read, write] = perms(args).flags;
  assert.deepEqual(
    read.slice("--allow-read=".length).split(",").filter((p) => !MODULE_DIRS.includes(p)).sort(),
    [...files, ...dirs].map((o) => `/x/${o.key}`).sort(),
  );
  assert.equal(write, "--allow-write=/x/dataDir");
});

Deno.test("a configuration with problems gets what it takes to report them: the environment and its file", () => {
  assert.deepEqual(perms(["--port", "http"]), {
    command: "serve",
    daemon: true,
    flags: ["--allow-env"],
  });
  assert.deepEqual(perms(["export", "s", "--config", "bad.json"], {}, { "bad.json": [] }).flags, [
    "--allow-env",
    "--allow-read=bad.json",
  ]);
});

Deno.test("export and import with --kv-url reach that server's host and port, nothing else", () => {
  assert.deepEqual(
    perms(["export", "kitchen", "/tmp/k.json", "--kv-url", "http://127.0.0.1:4512/db"]).flags,
    [
      "--allow-net=127.0.0.1:4512",
      "--allow-env",
      "--allow-read=./data",
      "--allow-write=./data,/tmp/k.json",
    ],
  );
  assert.deepEqual(
    perms(["import", "garage", "-"], { FORECASTD_KV_URL: "https://kv.plant.lan/x" }).flags[0],
    "--allow-net=kv.plant.lan:443",
  );
});

Deno.test("export writes its file and import reads its own; - is the terminal, no file", () => {
  assert.deepEqual(perms(["export", "kitchen", "/tmp/k.json", "--data-dir", "/d"]), {
    command: "export",
    daemon: false,
    flags: ["--allow-env", "--allow-read=/d", "--allow-write=/d,/tmp/k.json"],
  });
  assert.deepEqual(perms(["export", "kitchen"]).flags, [
    "--allow-env",
    "--allow-read=./data",
    "--allow-write=./data",
  ]);
  assert.deepEqual(
    perms(["import", "garage", "/tmp/k.json", "--force", "--data-dir", "/d"]).flags,
    [
      "--allow-env",
      "--allow-read=/d,/tmp/k.json",
      "--allow-write=/d",
    ],
  );
  assert.deepEqual(perms(["import", "garage", "-"]).flags, [
    "--allow-env",
    "--allow-read=./data",
    "--allow-write=./data",
  ]);
});

Deno.test("the clients get the daemon's address and their two variables, nothing else", () => {
  const env = "--allow-env=FORECASTD_URL,FORECASTD_TOKEN";
  for (const command of ["streams", "forecast", "alerts", "ack"]) {
    assert.deepEqual(perms([command]), {
      command,
      daemon: false,
      flags: ["--allow-net=127.0.0.1:8080", env],
    });
  }
  assert.deepEqual(perms(["alerts", "--follow", "--url", "https://gateway.lan"]).flags, [
    "--allow-net=gateway.lan:443",
    env,
  ]);
  assert.deepEqual(perms(["forecast", "kitchen", "--url=http://[::1]:9000/"]).flags, [
    "--allow-net=[::1]:9000",
    env,
  ]);
  assert.deepEqual(perms(["streams"], { FORECASTD_URL: "http://10.0.0.5:8080" }).flags, [
    "--allow-net=10.0.0.5:8080",
    env,
  ]);
  assert.deepEqual(perms(["streams", "--url", "gateway:8080"]).flags, [env], "not a URL: no net");
});

Deno.test("replay keeps its task's permissions; demo, token, version, help and unknown commands get none", () => {
  assert.deepEqual(perms(["replay", "x.csv"]).flags, [
    "--allow-read",
    "--allow-write",
    "--allow-env",
  ]);
  for (const command of ["demo", "token", "version", "help", "frob"]) {
    assert.deepEqual(perms([command]), { command, daemon: false, flags: [] });
  }
});

Deno.test("a path with a comma cannot be a permission: refused, naming the option", () => {
  assert.throws(
    () => perms(["--data-dir", "/srv/a,b"]),
    /^UsageError: Cannot run forecastd serve: the path of --data-dir must not hold a comma \(Deno's permission flags separate paths with commas\): current value is "\/srv\/a,b"$/,
  );
});

Deno.test("launchArgs() runs main.ts with the project's deno.json and the command's flags", () => {
  const args = launchArgs(["--data-dir", "/srv/f"], {}, () => "");
  assert.equal(args[0], "run");
  assert.match(args[1], /^--config=\/.*\/deno\.json$/);
  assert.deepEqual(args.slice(2), [
    V8_FLAGS,
    "--allow-net",
    "--allow-env",
    `--allow-read=/srv/f${MODULES}`,
    "--allow-write=/srv/f",
    NICE_PERMISSION,
    MAIN,
    "--data-dir",
    "/srv/f",
  ]);
  assert.ok(MAIN.endsWith("/main.ts"));
});

Deno.test("splitCommand() and shellQuote() read and write command lines as main.ts and a shell do", () => {
  assert.deepEqual(splitCommand([]), ["serve", []]);
  assert.deepEqual(splitCommand(["--port", "1"]), ["serve", ["--port", "1"]]);
  assert.deepEqual(splitCommand(["export", "s"]), ["export", ["s"]]);
  assert.equal(shellQuote("--data-dir=/srv/f"), "--data-dir=/srv/f");
  assert.equal(shellQuote("my dir"), "'my dir'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
});

Deno.test("missingPermissionMessage() names the permission and two command lines that grant it", () => {
  const e = new Deno.errors.NotCapable(
    'Requires env access to "READABLE_STREAM", run again with the --allow-env flag',
  );
  assert.equal(
    missingPermissionMessage({
      args: ["serve", "--data-dir", "my dir"],
      env: {},
      readFile: () => "",
    }, e),
    "Cannot run forecastd serve: Deno must grant the permission it asked for: Requires env " +
      'access to "READABLE_STREAM", run again with the --allow-env flag. Run it as\n' +
      "  deno task start serve --data-dir 'my dir'\n" +
      "which grants what the command needs and nothing more, or as\n" +
      `  deno run ${V8_FLAGS} --allow-net --allow-env ${
        shellQuote(`--allow-read=my dir${MODULES}`)
      } ` +
      `'--allow-write=my dir' ${NICE_PERMISSION} main.ts serve --data-dir 'my dir'`,
  );
});
