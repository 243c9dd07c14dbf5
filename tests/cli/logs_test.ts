/**
 * The daemon's log as operators read it: the documented pipeline
 * `deno task -q start 2>&1 | jq`, the text format, and the refusals of MQTT
 * readings (no one to answer them) at warn with a limit and a summary.
 */
import assert from "node:assert/strict";
import { type LogEntry } from "../../src/log.ts";
import {
  daemonPermissions,
  eventually,
  mqttClient,
  ROOT,
  startDaemon,
  withTempDir,
} from "../e2e/_daemon.ts";

async function installed(cmd: string): Promise<boolean> {
  try {
    await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const haveJq = await installed("jq") && await installed("setsid");
if (!haveJq) console.warn("tests/cli/logs_test.ts: the jq pipeline test skipped: it needs jq");

/** The lines of a byte stream, as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf !== "") yield buf;
}

Deno.test({
  name:
    "deno task -q start 2>&1 | jq reads every line: the start-up lines stay out of the JSON log",
  ignore: !haveJq,
  fn: async () => {
    await withTempDir(async (dir) => {
      const pipeline = `"${Deno.execPath()}" task -q start --port 0 --mqtt-port 0 ` +
        `--data-dir "${dir}" 2>&1 | jq --unbuffered -c '{event, http}'`;
      // a process group of its own, for the Ctrl-C a terminal sends to a pipeline
      const child = new Deno.Command("setsid", {
        args: ["bash", "-c", pipeline],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
      }).spawn();
      const got: { event: string; http: string | null }[] = [];
      const stderr = new Response(child.stderr).text();
      // whatever happens, the pipeline ends (its lines then stop coming)
      const timer = setTimeout(() => Deno.kill(-child.pid, "SIGKILL"), 60_000);
      try {
        for await (const line of lines(child.stdout)) {
          got.push(JSON.parse(line));
          if (got.at(-1)!.event === "forecastd.ready") break;
        }
      } finally {
        Deno.kill(-child.pid, "SIGINT");
        await child.status;
        clearTimeout(timer);
        await child.stdout.cancel().catch(() => {});
      }
      assert.equal(await stderr, "", "jq read every line as JSON");
      const events = got.map((e) => e.event);
      assert.deepEqual(events.slice(0, 2), ["forecastd.starting", "streams.loaded"]);
      const ready = got.find((e) => e.event === "forecastd.ready");
      assert.match(ready?.http ?? "", /^http:\/\/127\.0\.0\.1:\d+\/$/, "the address is in the log");
    });
  },
});

Deno.test("--log-format text writes lines a person reads on stderr; the start-up lines stay on stdout", async () => {
  await withTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...daemonPermissions(dir),
        "main.ts",
        ...["serve", "--port", "0", "--mqtt-port", "0", "--data-dir", dir],
        ...["--log-format", "text"],
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const err: string[] = [];
    for await (const line of lines(child.stderr)) {
      err.push(line);
      if (line.includes(" forecastd.ready ")) break;
    }
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await child.stderr.cancel().catch(() => {});
    const time = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    assert.match(
      err[0],
      new RegExp(
        `^${time} INFO  forecastd\\.starting version=\\S+ pid=\\d+ dataDir=${dir} kernels=wasm$`,
      ),
    );
    assert.ok(
      err.some((l) =>
        new RegExp(`^${time} INFO  forecastd\\.ready http=http://127\\.0\\.0\\.1:\\d+/ `).test(l)
      ),
      err.join("\n"),
    );
    assert.ok(err.every((l) => !l.startsWith("{")), "no JSON");
    assert.match(await stdout, /^forecastd \S+ is running\n {2}http: /);
  });
});

Deno.test("readings refused over MQTT: at warn, 10 a minute, the rest summed up by reason", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir }); // the default level, info
    let log: LogEntry[];
    try {
      const device = await mqttClient(d.mqttUrl);
      try {
        for (let i = 0; i < 15; i++) {
          // JSON cut short: bad_json
          await device.publishAsync("sensors/kitchen/temperature", `{"value": ${i}`, { qos: 1 });
        }
        await device.publishAsync("sensors/kitchen/temperature", "", { qos: 1 });
      } finally {
        await device.endAsync();
      }
      await eventually(async () => {
        const m = await (await fetch(`${d.http}/metrics`)).text();
        const n = [...m.matchAll(/^forecastd_rejected_readings_total\{[^}]*\} (\d+)$/gm)]
          .reduce((s, x) => s + Number(x[1]), 0);
        return n >= 16 || undefined;
      }, "16 refusals counted");
    } finally {
      assert.equal((await d.stop()).code, 0);
      log = d.log;
    }
    const refused = log.filter((e) => e.event === "mqtt.rejected");
    assert.equal(refused.length, 10);
    assert.ok(refused.every((e) => e.level === "warn" && e.reason === "bad_json"));
    assert.equal(refused[0].topic, "sensors/kitchen/temperature");
    assert.match(String(refused[0].message), /^Cannot ingest reading: /);
    const summary = log.filter((e) => e.event === "mqtt.rejected_summary");
    assert.equal(summary.length, 1, "summed up at shutdown: the minute was not over");
    assert.deepEqual(
      { ...summary[0], ts: undefined, since: undefined },
      {
        ts: undefined,
        level: "warn",
        event: "mqtt.rejected_summary",
        source: "mqtt",
        total: 16,
        logged: 10,
        suppressed: 6,
        windowMs: 60_000,
        since: undefined,
        by_reason: { bad_json: 15, empty: 1 },
      },
    );
  });
});
