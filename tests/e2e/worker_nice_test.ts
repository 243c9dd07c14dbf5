/**
 * The real daemon with two shard workers: each worker's thread runs
 * `--worker-nice` nice levels below the main thread, read from
 * /proc/<pid>/task/<tid>/stat (field 19, the nice value) of every thread,
 * while the main thread and V8's shared helper threads stay where the
 * process started. Without the permission to set a thread's priority the
 * daemon says so once and runs the workers at the main thread's priority.
 * Linux only: a nice value is a thread's own there alone.
 */
import assert from "node:assert/strict";
import { type Daemon, daemonPermissions, startDaemon, withTempDir } from "./_daemon.ts";

/** One thread of a process, as /proc/<pid>/task/<tid>/stat has it. */
interface Thread {
  tid: number;
  name: string;
  nice: number;
}

/** Every thread of process `pid` (Deno reads /proc/<pid>/task only with --allow-all: through `sh`). */
async function threads(pid: number): Promise<Thread[]> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/*/stat 2>/dev/null`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const found: Thread[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    // the fields after the name start at field 3 (state): field 19 is the nice value
    const fields = line.slice(close + 2).split(" ");
    found.push({
      tid: Number(line.slice(0, line.indexOf(" "))),
      name: line.slice(line.indexOf("(") + 1, close),
      nice: Number(fields[19 - 3]),
    });
  }
  return found;
}

/** The daemon's main thread and its two shard workers' threads (named `worker-*` by Deno). */
async function roles(d: Daemon) {
  const all = await threads(d.pid);
  const main = all.find((t) => t.tid === d.pid);
  assert.ok(main, `the main thread ${d.pid} among ${JSON.stringify(all)}`);
  const workers = all.filter((t) => t.name.startsWith("worker-"));
  assert.equal(workers.length, 2, `two worker threads among ${JSON.stringify(all)}`);
  const v8 = all.filter((t) => t.name.startsWith("V8 "));
  assert.ok(v8.length > 0, `V8's helper threads among ${JSON.stringify(all)}`);
  return { main, workers, v8 };
}

/** Starts the daemon with two workers, runs `f`, stops it (status 0). */
async function withDaemon(
  opts: { args?: string[]; permissions?: (dir: string) => string[] },
  f: (d: Daemon) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const d = await startDaemon({
      dataDir: dir,
      args: ["--workers", "2", ...(opts.args ?? [])],
      ...(opts.permissions
        ? { program: { cmd: Deno.execPath(), args: ["run", ...opts.permissions(dir), "main.ts"] } }
        : {}),
    });
    try {
      await f(d);
    } finally {
      assert.equal((await d.stop("SIGTERM")).code, 0);
    }
  });
}

const linux = Deno.build.os === "linux";

Deno.test({
  name:
    "the shard workers' threads run 10 nice levels below the main thread by default; the main thread and V8's helpers stay",
  ignore: !linux,
  fn: async () => {
    await withDaemon({}, async (d) => {
      const { main, workers, v8 } = await roles(d);
      const lowered = Math.min(19, main.nice + 10);
      assert.deepEqual(workers.map((t) => t.nice), [lowered, lowered], JSON.stringify(workers));
      for (const t of v8) assert.equal(t.nice, main.nice, JSON.stringify(t));
      assert.ok(!d.log.some((e) => String(e.event).startsWith("shard.nice")), "no warning");
    });
  },
});

Deno.test({
  name: "--worker-nice 3 lowers the workers' threads by 3; --worker-nice 0 leaves them as they are",
  ignore: !linux,
  fn: async () => {
    await withDaemon({ args: ["--worker-nice", "3"] }, async (d) => {
      const { main, workers } = await roles(d);
      const lowered = Math.min(19, main.nice + 3);
      assert.deepEqual(workers.map((t) => t.nice), [lowered, lowered], JSON.stringify(workers));
    });
    await withDaemon({ args: ["--worker-nice", "0"] }, async (d) => {
      const { main, workers } = await roles(d);
      assert.deepEqual(workers.map((t) => t.nice), [main.nice, main.nice], JSON.stringify(workers));
    });
  },
});

Deno.test({
  name:
    "without --allow-sys=getPriority,setPriority the daemon warns once and runs the workers at the main thread's priority",
  ignore: !linux,
  fn: async () => {
    const without = (dir: string) =>
      daemonPermissions(dir).filter((p) => !p.startsWith("--allow-sys"));
    await withDaemon({ permissions: without }, async (d) => {
      const { main, workers } = await roles(d);
      assert.deepEqual(workers.map((t) => t.nice), [main.nice, main.nice], JSON.stringify(workers));
      const warnings = d.log.filter((e) => String(e.event).startsWith("shard.nice"));
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0].event, "shard.nice_unavailable");
      assert.equal(warnings[0].level, "warn");
      assert.equal(warnings[0].workerNice, 10);
      assert.equal(
        warnings[0].message,
        "Deno must be allowed to set a thread's priority (--allow-sys=getPriority,setPriority): " +
          "the workers run at the main thread's priority",
      );
    });
  },
});
