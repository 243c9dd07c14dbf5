/**
 * `deno task start` as users run it: through the launcher (src/cli/launch.ts)
 * that gives the daemon its permissions for any data directory, behind a
 * Node wrapper that forwards SIGINT as the path of `npx -y deno@2.9.6 task
 * start` does, and stopped by one Ctrl-C: signalled to the wrapper alone,
 * or to the whole process group as a terminal does. And `deno task export`
 * and `deno task import` on directories outside ./data.
 */
import assert from "node:assert/strict";
import {
  batchPayload,
  type Daemon,
  getJson,
  mqttClient,
  NODE_WRAPPER,
  ROOT,
  startDaemon,
  streamWithReadings,
  withTempDir,
} from "../e2e/_daemon.ts";
import { MODULE_DIRS } from "../../src/cli/command_permissions.ts";

/**
 * npm exec's way (npx): `npm_command=exec`, the command run by `sh -c`, and a
 * signal passed to that shell alone, which dies of a SIGTERM without passing it on.
 */
const NPM_EXEC_WRAPPER = `const { spawn } = require("node:child_process");
const line = process.argv.slice(2).map((a) => "'" + a + "'").join(" ");
const child = spawn(line, { stdio: "inherit", shell: "/bin/sh", env: { ...process.env, npm_command: "exec" } });
for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => child.kill(s));
child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 143)));
`;

async function installed(cmd: string): Promise<boolean> {
  try {
    await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const haveNode = await installed("node");
const haveSetsid = await installed("setsid");
if (!haveNode) {
  console.warn(
    "tests/cli/launch_test.ts: the signal tests skipped: they need node (Debian: nodejs)",
  );
}

/**
 * How long a start here may take to its start-up lines: longer than
 * startDaemon's 15 s. Through the wrapper three processes start before the
 * daemon (node, `deno task`, the launcher), and every one of them, the
 * daemon's modules and its nice shard workers want CPU: at load 19 on 2
 * cores a start through the wrapper took 10.5 and 16.8 s, the daemon alone
 * 9.8 and 11.0 (bench/start_phases.ts; docs/scaling.md, "seventeenth round
 * (warmmend)"). A daemon that does not start still fails the test.
 */
const START_MS = 60_000;

/** Starts `node wrapper deno task start serve ...` (setsid first: a process group of its own). */
async function startThroughWrapper(
  dir: string,
  dataDir: string,
  group: boolean,
  source = NODE_WRAPPER,
): Promise<Daemon> {
  const wrapper = `${dir}/wrapper.cjs`;
  await Deno.writeTextFile(wrapper, source);
  const node = ["node", wrapper, Deno.execPath(), "task", "start"];
  return await startDaemon({
    dataDir,
    program: group ? { cmd: "setsid", args: node } : { cmd: node[0], args: node.slice(1) },
    startMs: START_MS,
  });
}

/** The command line of a process. */
async function commandLine(pid: number): Promise<string> {
  const out = await new Deno.Command("ps", { args: ["-o", "args=", "-p", String(pid)] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** Sends 40 readings of "kitchen": fewer than a checkpoint's 500, so only the final one saves them. */
async function feed(d: Daemon): Promise<void> {
  const device = await mqttClient(d.mqttUrl);
  try {
    await device.publishAsync("sensors/kitchen/temperature", batchPayload(0, 40), { qos: 1 });
  } finally {
    await device.endAsync();
  }
  await streamWithReadings(d, "kitchen", 40);
}

/** After a clean stop: the final checkpoint holds the 40 readings (a restart finds them). */
async function assertSavedOnce(d: Daemon, dataDir: string): Promise<void> {
  assert.equal(d.log.filter((e) => e.event === "shutdown.started").length, 1);
  assert.ok(d.log.some((e) => e.event === "shutdown.done"), "the shutdown completed");
  assert.ok(!d.log.some((e) => e.event === "shutdown.forced"), "one Ctrl-C is one signal");
  const again = await startDaemon({ dataDir, startMs: START_MS });
  try {
    const s = await getJson<{ readings: number }>(`${again.http}/v1/streams/kitchen`);
    assert.equal(s.readings, 40, "the final checkpoint saved every reading");
  } finally {
    assert.equal((await again.stop()).code, 0);
  }
}

Deno.test({
  name:
    "deno task start --data-dir DIR outside ./data: the daemon may write DIR alone, and one SIGINT through a Node wrapper stops it cleanly with its final checkpoint",
  ignore: !haveNode,
  fn: async () => {
    await withTempDir(async (dir) => {
      const dataDir = `${dir}/var/lib/forecastd`;
      const d = await startThroughWrapper(dir, dataDir, false);
      try {
        const started = d.log.find((e) => e.event === "forecastd.starting")!;
        assert.equal(started.dataDir, dataDir);
        const args = await commandLine(Number(started.pid));
        const modules = MODULE_DIRS.map((d) => `,${d}`).join("");
        assert.ok(
          args.includes(
            ` --allow-read=${dataDir}${modules} --allow-write=${dataDir} ` +
              "--allow-sys=getPriority,setPriority ",
          ),
          args,
        );
        assert.equal(args.match(/--allow-(read|write)\b/g)?.length, 2, args);
        // the one system call allowed: the workers lower their own threads' priority
        assert.equal(args.match(/--allow-sys\b/g)?.length, 1, args);
        assert.ok(!/--allow-(run|ffi|all)|\s-A\s/.test(args), args);
        await feed(d);
      } finally {
        const status = await d.stop("SIGINT");
        assert.equal(status.code, 0, "the wrapper exits with the daemon's status");
      }
      await assertSavedOnce(d, dataDir);
    });
  },
});

Deno.test({
  name:
    "deno task start stopped by SIGINT to its whole process group, as Ctrl-C in a terminal: one clean shutdown",
  ignore: !haveNode || !haveSetsid,
  fn: async () => {
    await withTempDir(async (dir) => {
      const dataDir = `${dir}/data`;
      const d = await startThroughWrapper(dir, dataDir, true);
      try {
        await feed(d);
        // node, deno task and the launcher all get it; the daemon, in a group of its own, once
        Deno.kill(-d.pid, "SIGINT");
        const status = await d.exited;
        assert.equal(status.code, 0);
      } finally {
        await d.stop("SIGKILL");
      }
      await assertSavedOnce(d, dataDir);
    });
  },
});

Deno.test({
  name:
    "npx's way (npm exec, sh -c) stopped by SIGTERM to the wrapper alone: its shell dies, and the daemon still shuts down cleanly",
  ignore: !haveNode,
  fn: async () => {
    await withTempDir(async (dir) => {
      const dataDir = `${dir}/data`;
      const d = await startThroughWrapper(dir, dataDir, false, NPM_EXEC_WRAPPER);
      const pid = Number(d.log.find((e) => e.event === "forecastd.starting")!.pid);
      try {
        await feed(d);
        Deno.kill(d.pid, "SIGTERM");
        await d.exited; // npm's exit: the shell died at once
        const deadline = Date.now() + 15_000;
        while (!d.log.some((e) => e.event === "shutdown.done") && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(d.log.some((e) => e.event === "shutdown.done"), "the daemon was left running");
      } finally {
        try {
          Deno.kill(pid, "SIGKILL"); // a daemon left behind: end it, so that its pipes close
        } catch { /* it has ended */ }
        await d.stop("SIGKILL");
      }
      await assertSavedOnce(d, dataDir);
    });
  },
});

/** Runs `deno task <args>` in the project; resolves with its status and stderr. */
async function task(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task export and deno task import move a model between directories outside ./data", async () => {
  await withTempDir(async (dir) => {
    const a = `${dir}/a`, b = `${dir}/elsewhere/b`, file = `${dir}/out/kitchen.json`;
    const d = await startDaemon({ dataDir: a });
    let original: Record<string, unknown>;
    try {
      await feed(d);
      original = await getJson(`${d.http}/v1/streams/kitchen/forecast`);
    } finally {
      assert.equal((await d.stop()).code, 0);
    }
    await Deno.mkdir(`${dir}/out`);
    const exported = await task(["export", "kitchen", file, "--data-dir", a]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, new RegExp(`exported stream "kitchen" from ${a}/forecastd.kv`));
    const imported = await task(["import", "garage", file, "--data-dir", b]);
    assert.equal(imported.code, 0, imported.stderr);
    const d2 = await startDaemon({ dataDir: b });
    try {
      const copy = await getJson(`${d2.http}/v1/streams/garage/forecast`);
      assert.deepEqual(copy, { ...original, stream: "garage" });
    } finally {
      assert.equal((await d2.stop()).code, 0);
    }
    const help = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "export", "--help"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    assert.match(new TextDecoder().decode(help.stdout), /^Usage: forecastd export STREAM \[FILE\]/);
  });
});
