/**
 * Shutdown of the real daemon: the signals Ctrl-C sends through wrappers,
 * readings acknowledged over HTTP across a SIGTERM, a rejected promise that
 * nobody handles, and `npx -y deno@2.9.6 task start` stopped with Ctrl-C in
 * a terminal.
 */
import assert from "node:assert/strict";
import {
  daemonPermissions,
  eventually,
  getJson,
  ROOT,
  START,
  startDaemon,
  STEP,
  temperature,
  withTempDir,
} from "./_daemon.ts";

interface Summary {
  readings: number;
  lastReading: number;
}

/** Readings `from` to `to` (exclusive) of `stream` as the body of `POST /v1/readings`. */
function body(stream: string, from: number, to: number): string {
  const readings = [];
  for (let i = from; i < to; i++) {
    readings.push({ stream, ts: START + i * STEP, values: { temperature: temperature(i) } });
  }
  return JSON.stringify(readings);
}

/** POSTs readings; the status, or 0 when the daemon could not be reached. */
async function post(base: string, text: string): Promise<number> {
  try {
    const res = await fetch(`${base}/v1/readings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

Deno.test("serve: two SIGINTs at once (Ctrl-C passed on by npx) do not skip the final checkpoint", async () => {
  await withTempDir(async (dir) => {
    // 300 readings: fewer than half of --checkpoint-every (500), so only the final save holds them
    const first = await startDaemon({ dataDir: dir });
    assert.equal(await post(first.http, body("press", 0, 300)), 200);
    Deno.kill(first.pid, "SIGINT");
    await new Promise((r) => setTimeout(r, 5));
    Deno.kill(first.pid, "SIGINT");
    const status = await first.stop();
    assert.equal(status.code, 0, "a clean shutdown");
    assert.ok(first.log.some((e) => e.event === "shutdown.signal_repeated"), "one press");
    const done = first.log.find((e) => e.event === "shutdown.done");
    assert.equal(done?.saved, true, "the final checkpoint was saved");

    const second = await startDaemon({ dataDir: dir });
    try {
      const s = await getJson<Summary>(`${second.http}/v1/streams/press`);
      assert.equal(s.readings, 300, "every reading is there after the restart");
    } finally {
      assert.equal((await second.stop("SIGTERM")).code, 0);
    }
  });
});

Deno.test("serve: every reading acknowledged over HTTP across a SIGTERM is learned after the restart", async () => {
  await withTempDir(async (dir) => {
    const first = await startDaemon({ dataDir: dir });
    const streams = ["ack0", "ack1", "ack2", "ack3"];
    const acked = new Map(streams.map((s) => [s, { count: 0, last: 0 }]));
    let stop = false;
    // one client per stream, each sending its next batch once the last was answered
    const clients = streams.map(async (stream) => {
      let i = 0;
      while (!stop) {
        const status = await post(first.http, body(stream, i, i + 40));
        if (status === 0) break; // the daemon is gone
        if (status === 200) {
          const a = acked.get(stream)!;
          a.count += 40;
          a.last = START + (i + 39) * STEP;
        }
        i += 40;
      }
    });
    await eventually(
      () => [...acked.values()].every((a) => a.count >= 400) ? true : undefined,
      "readings acknowledged on every stream",
    );
    const status = await first.stop("SIGTERM"); // the clients keep sending meanwhile
    stop = true;
    await Promise.all(clients);
    assert.equal(status.code, 0);

    const second = await startDaemon({ dataDir: dir });
    try {
      for (const [stream, a] of acked) {
        const s = await getJson<Summary>(`${second.http}/v1/streams/${stream}`);
        assert.ok(
          s.readings >= a.count && s.lastReading >= a.last,
          `${stream}: ${a.count} acknowledged up to ${a.last}; restored ${s.readings} up to ${s.lastReading}`,
        );
      }
    } finally {
      assert.equal((await second.stop("SIGTERM")).code, 0);
    }
  });
});

Deno.test("serve: a rejected promise nobody handles is logged and counted in /metrics; the daemon keeps serving", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({
      dataDir: dir,
      program: {
        cmd: Deno.execPath(),
        args: ["run", ...daemonPermissions(dir), "tests/e2e/_unhandled_rejection_daemon.ts"],
      },
    });
    try {
      Deno.kill(d.pid, "SIGUSR1");
      const logged = await d.waitForLog(
        (e) => e.event === "process.unhandled_rejection",
        "process.unhandled_rejection",
      );
      assert.equal(logged.level, "error");
      assert.match(JSON.stringify(logged.error), /a rejection nobody handles/);
      const metrics = await (await fetch(`${d.http}/metrics`)).text();
      assert.match(metrics, /^forecastd_unhandled_rejections_total 1$/m);
      const health = await fetch(`${d.http}/healthz`);
      await health.body?.cancel();
      assert.equal(health.status, 200, "still serving");
      assert.equal(await post(d.http, body("after", 0, 10)), 200, "still taking readings");
    } finally {
      assert.equal((await d.stop("SIGTERM")).code, 0);
    }
  });
});

/** The files `deno task start` runs, copied to `dir`, so that its `./data` is there. */
async function copyProject(dir: string): Promise<void> {
  for (const file of ["deno.json", "deno.lock", "main.ts"]) {
    await Deno.copyFile(`${ROOT}${file}`, `${dir}/${file}`);
  }
  for (const folder of ["src", "models"]) await copyTree(`${ROOT}${folder}`, `${dir}/${folder}`);
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** Whether `cmd` runs (with `args`). */
async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

const hasNpxAndScript = await runs("npx", ["--version"]) && await runs("script", ["--version"]);

Deno.test({
  name: "npx -y deno@2.9.6 task start, stopped with Ctrl-C in a terminal, loses no reading",
  ignore: !hasNpxAndScript,
  fn: async () => {
    await withTempDir(async (dir) => {
      await copyProject(dir);
      // a terminal: `script` runs the command on a pseudo-terminal; a 0x03 byte written to it
      // is Ctrl-C, a SIGINT to the terminal's foreground process group (npm, deno task, deno)
      const child = new Deno.Command("script", {
        args: ["-qfec", "npx -y deno@2.9.6 task start --port 0 --mqtt-port 0", "/dev/null"],
        cwd: dir,
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
        env: { NO_COLOR: "1" },
      }).spawn();
      const writer = child.stdin.getWriter();
      let out = "";
      const reading = (async () => {
        for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
      })();
      try {
        const http = await eventually(
          () => /http: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1],
          "the http: line of npx deno task start",
          60_000,
        );
        assert.equal(await post(http, body("npx", 0, 300)), 200);
        await writer.write(new Uint8Array([3])); // Ctrl-C
        await child.status; // npm exits with 130 after a SIGINT, whatever Deno's status
        await reading;
        assert.match(out, /"event":"shutdown\.done"[^\n]*"saved":true/, `the final save:\n${out}`);
        assert.doesNotMatch(out, /"event":"shutdown\.forced"/);
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* ended */ }
        await writer.close().catch(() => {});
        await child.status;
      }
      const again = await startDaemon({ dataDir: `${dir}/data` });
      try {
        const s = await getJson<Summary>(`${again.http}/v1/streams/npx`);
        assert.equal(s.readings, 300, "every reading is there after the restart");
      } finally {
        assert.equal((await again.stop("SIGTERM")).code, 0);
      }
    });
  },
});
