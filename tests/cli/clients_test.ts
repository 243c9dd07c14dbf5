/**
 * The command-line clients against a real daemon (tests/e2e/_daemon.ts):
 * `forecastd streams`, `forecast`, `alerts`, `ack` run as a user runs them,
 * through the launcher of `deno task start` (so with the permissions it
 * gives them: the daemon's address and two variables), with tokens, and
 * `alerts --follow` across a dropped connection.
 */
import assert from "node:assert/strict";
import type { StoredAlert } from "../../src/domain/alert.ts";
import { hashToken } from "../../src/auth/token_hash.ts";
import {
  batchPayload,
  type Daemon,
  eventually,
  freePort,
  mqttClient,
  ROOT,
  spikeAt,
  startDaemon,
  withTempDir,
} from "../e2e/_daemon.ts";

const TOKEN = "fcd_clients-test-token-0000000000000000000000000";
const READ_TOKEN = "fcd_clients-test-read-token-000000000000000000000";

/** The arguments that run main.ts `args` through the launcher of `deno task start`. */
function launcher(args: string[]): string[] {
  return ["run", "--allow-read", "--allow-env", "--allow-run", "src/cli/launch.ts", ...args];
}

/** Runs a client through the launcher; resolves with its status and output. */
async function client(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: launcher(args),
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1", FORECASTD_TOKEN: TOKEN, ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Every alert the daemon stored, oldest first. */
async function storedAlerts(d: Daemon): Promise<StoredAlert[]> {
  const res = await fetch(`${d.http}/v1/alerts?limit=1000`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return (await res.json()).alerts;
}

/** A daemon with a write and a read token, and stream "room" warmed up with two days of readings. */
async function warmDaemon(dataDir: string): Promise<Daemon> {
  const d = await startDaemon({
    dataDir,
    args: [
      "--api-token",
      `write:${hashToken(TOKEN)}`,
      "--api-token",
      `read:${hashToken(READ_TOKEN)}`,
    ],
  });
  const device = await mqttClient(d.mqttUrl);
  try {
    await device.publishAsync("sensors/room/temperature", batchPayload(0, 576), { qos: 1 });
  } finally {
    await device.endAsync();
  }
  return d;
}

const streamsReady = async (d: Daemon) => {
  await eventually(async () => {
    const res = await fetch(`${d.http}/v1/streams/room`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = await res.json();
    return res.ok && body.readings >= 576 ? body : undefined;
  }, "stream room to have 576 readings");
};

Deno.test("streams, forecast, alerts and ack against a real daemon: tables within 80 columns, --json as the API sends it", async (t) => {
  await withTempDir(async (dir) => {
    const d = await warmDaemon(dir);
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    try {
      await streamsReady(d);
      await publishWithToken(d, 576, 640, spikeAt(600));
      await eventually(async () => (await storedAlerts(d)).length > 0 || undefined, "an alert");
      const url = ["--url", d.http];

      await t.step("the daemon logs each alert at info, with its id and message", async () => {
        for (const a of await storedAlerts(d)) {
          const e = await d.waitForLog((e) => e.id === a.id, `alert ${a.id} in the log`);
          assert.equal(e.event, `alert.${a.type}`);
          assert.equal(e.level, "info");
          assert.equal(e.stream, "room");
          assert.equal(e.time, new Date(a.ts).toISOString());
          assert.equal(e.message, a.message);
        }
      });

      await t.step("streams prints one line per stream under a header", async () => {
        const r = await client(["streams", ...url]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trimEnd().split("\n");
        assert.match(
          lines[0],
          /^STREAM +STATE +READINGS +LAST READING +EVERY +SKILL +COVER +TARGETS$/,
        );
        assert.equal(lines.length, 2, r.stdout);
        assert.match(
          lines[1],
          /^room +\S+( \S+)? +640 +2025-06-04 05:15 +5 min +[+-]?\d+% +\d+% +temperature$/,
        );
        for (const l of lines) assert.ok(l.length <= 80, `${l.length} columns: ${l}`);
        const json = await client(["streams", "--json", ...url]);
        assert.equal(json.code, 0, json.stderr);
        const api = await (await fetch(`${d.http}/v1/streams`, auth)).json();
        // every page's streams (this daemon has one page: next is null)
        assert.equal(api.next, null);
        assert.deepEqual(JSON.parse(json.stdout), { streams: api.streams });
      });

      await t.step(
        "forecast prints a heading and each step's time, forecast and interval",
        async () => {
          const r = await client(["forecast", "room", "--horizon", "3", ...url]);
          assert.equal(r.code, 0, r.stderr);
          const api = await (await fetch(`${d.http}/v1/streams/room/forecast?horizon=3`, auth))
            .json();
          const p = api.targets.temperature;
          const lines = r.stdout.trimEnd().split("\n");
          assert.match(
            lines[0],
            /^room: forecast from the reading of 2025-06-04 05:15 UTC, every 5 min, 90% intervals; model \S+( \S+)?, \d+ readings learned$/,
          );
          assert.deepEqual(lines.slice(1, 3), ["", "temperature"]);
          assert.match(lines[3], /^STEP +TIME \(UTC\) +FORECAST +LOWER +UPPER$/);
          assert.equal(lines.length, 7, r.stdout);
          const decimals = new Set<number>();
          for (let k = 0; k < 3; k++) {
            const cells = lines[4 + k].trim().split(/ {2,}/);
            assert.deepEqual(cells.slice(0, 2), [
              String(k + 1),
              `2025-06-04 05:${String(20 + 5 * k)}`,
            ]);
            // each number as the API sent it, rounded to the table's decimals (at most 3)
            [p.point[k], p.lower[k], p.upper[k]].forEach((v: number, i: number) => {
              const cell = cells[2 + i];
              const d = cell.split(".")[1]?.length ?? 0;
              decimals.add(d);
              assert.ok(d <= 3 && Math.abs(Number(cell) - v) <= 0.5 * 10 ** -d + 1e-12, cell);
            });
          }
          assert.equal(decimals.size, 1, "one number of decimals: the points line up");
          const json = await client(["forecast", "--json", "room", "--horizon", "3", ...url]);
          assert.deepEqual(JSON.parse(json.stdout), api);
        },
      );

      await t.step("a stream the daemon does not have: its message, exit status 2", async () => {
        const r = await client(["forecast", "pantry", ...url]);
        assert.equal(r.code, 2);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /"pantry".*\(HTTP 404\)\n$/);
      });

      await t.step(
        "alerts prints each alert's line and its message; --json one alert a line",
        async () => {
          const stored = await storedAlerts(d);
          const r = await client(["alerts", ...url]);
          assert.equal(r.code, 0, r.stderr);
          const lines = r.stdout.trimEnd().split("\n");
          assert.match(lines[0], /^ID +TIME \(UTC\) +STREAM +TYPE +STATE$/);
          for (const l of lines) assert.ok(l.length <= 80, `${l.length} columns: ${l}`);
          const first = stored[0];
          const id = first.id.replace(/^0+/, "");
          const at = lines.findIndex((l) => new RegExp(`^${id} +2025-06-0`).test(l));
          assert.ok(at > 0, r.stdout);
          assert.match(lines[at], new RegExp(`^${id} +\\S+ \\S+  room +opened +open$`));
          // the message, without its "room: " prefix, wrapped and indented below
          const message = first.message.slice("room: ".length);
          const below: string[] = [];
          for (let k = at + 1; k < lines.length && lines[k].startsWith("        "); k++) {
            below.push(lines[k].trim());
          }
          assert.equal(below.join(" "), message);

          const json = await client(["alerts", "--json", ...url]);
          assert.deepEqual(
            json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)),
            stored.slice(-20),
          );
        },
      );

      await t.step("ack acknowledges; a read token may not, and says so", async () => {
        const first = (await storedAlerts(d))[0];
        const id = first.id.replace(/^0+/, "");
        const refused = await client(["ack", id, ...url], { FORECASTD_TOKEN: READ_TOKEN });
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /a write token is needed\) \(HTTP 403\)/);
        const r = await client(["ack", id, ...url]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^acknowledged alert ${id} of stream room \\(opened at`));
        const acked = await client(["alerts", "--state", "acknowledged", "--json", ...url]);
        assert.deepEqual(acked.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).id), [
          first.id,
        ]);
      });

      await t.step("without a token: 401, and how to give one", async () => {
        const r = await client(["streams", ...url], { FORECASTD_TOKEN: "" });
        assert.equal(r.code, 2);
        assert.match(r.stderr, /--token or FORECASTD_TOKEN\) \(HTTP 401\)/);
      });

      await t.step("no daemon at --url: which address did not answer, exit status 1", async () => {
        const nowhere = `http://127.0.0.1:${freePort()}`;
        const r = await client(["streams", "--url", nowhere]);
        assert.equal(r.code, 1);
        assert.ok(
          r.stderr.startsWith(`Cannot list streams: forecastd must answer at ${nowhere}: it gave`),
          r.stderr,
        );
        assert.match(r.stderr, /is it running\? --url or FORECASTD_URL names another address/);
        const bad = await client(["streams"], { FORECASTD_URL: "gateway:8080" });
        assert.equal(bad.code, 2);
        assert.equal(
          bad.stderr.trim(),
          "Cannot list streams: FORECASTD_URL must be an http:// or https:// URL of " +
            'forecastd\'s API: current value is "gateway:8080"',
        );
      });
    } finally {
      assert.equal((await d.stop()).code, 0);
    }
  });
});

/** `publish` for a daemon whose API needs the token (streamWithReadings reads without one). */
async function publishWithToken(
  d: Daemon,
  from: number,
  to: number,
  offset?: (i: number) => number,
) {
  const device = await mqttClient(d.mqttUrl);
  try {
    for (let i = from; i < to; i++) {
      await device.publishAsync("sensors/room/temperature", batchPayload(i, i + 1, offset), {
        qos: 1,
      });
    }
  } finally {
    await device.endAsync();
  }
  await eventually(async () => {
    const res = await fetch(`${d.http}/v1/streams/room`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = await res.json();
    return res.ok && body.readings >= to ? true : undefined;
  }, `stream room to have ${to} readings`);
}

/**
 * A TCP proxy in front of the daemon whose connections the test can drop,
 * and which refuses new ones while paused; it keeps each request's head.
 */
function dropProxy(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const heads: string[] = [];
  let paused = false;
  const piping: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      if (paused) {
        conn.close();
        continue;
      }
      const up = await Deno.connect({ hostname: "127.0.0.1", port: target });
      open.add(conn);
      open.add(up);
      const close = () => {
        for (const c of [conn, up]) {
          if (open.delete(c)) {
            try {
              c.close();
            } catch { /* closed already */ }
          }
        }
      };
      const copy = async (from: Deno.Conn, to: Deno.Conn, record: boolean) => {
        const buf = new Uint8Array(16 * 1024);
        try {
          for (;;) {
            const n = await from.read(buf);
            if (n === null) break;
            // each request's head (fetch sends several over one kept-alive connection)
            const text = record ? new TextDecoder().decode(buf.subarray(0, n)) : "";
            if (/^(GET|POST) \//.test(text)) heads.push(text);
            await to.write(buf.subarray(0, n));
          }
        } catch { /* dropped */ }
        close();
      };
      piping.push(copy(conn, up, true), copy(up, conn, false));
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    heads,
    /** Drops every open connection; while paused, new ones are closed at once. */
    drop(pause: boolean) {
      paused = pause;
      for (const c of [...open]) {
        open.delete(c);
        try {
          c.close();
        } catch { /* closed already */ }
      }
    },
    resume() {
      paused = false;
    },
    async close() {
      this.drop(false);
      listener.close();
      await serving.catch(() => {});
      await Promise.all(piping);
    },
  };
}

Deno.test("alerts --follow prints live alerts and, after a dropped connection, resumes with Last-Event-ID: none lost, none twice", async () => {
  await withTempDir(async (dir) => {
    const d = await warmDaemon(dir);
    const proxy = dropProxy(Number(new URL(d.http).port));
    let child: Deno.ChildProcess | null = null;
    try {
      await streamsReady(d);
      child = new Deno.Command(Deno.execPath(), {
        args: launcher(["alerts", "--follow", "--json", "--url", `http://127.0.0.1:${proxy.port}`]),
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", FORECASTD_TOKEN: TOKEN },
      }).spawn();
      const printed: StoredAlert[] = [];
      const stderr: string[] = [];
      const reading = (async () => {
        for await (const line of lines(child!.stdout)) printed.push(JSON.parse(line));
      })();
      const readingErr = (async () => {
        for await (const line of lines(child!.stderr)) stderr.push(line);
      })();
      // the feed is open once the proxy saw its request
      await eventually(
        () => proxy.heads.some((h) => h.startsWith("GET /v1/alerts/events")) || undefined,
        "the feed's request",
      );

      await publishWithToken(d, 576, 660, spikeAt(600));
      const before = await eventually(async () => {
        const s = await storedAlerts(d);
        return s.length > 0 && printed.length === s.length ? s : undefined;
      }, "the first alerts, printed live");

      // the connection drops, and the daemon is unreachable while more alerts are stored
      proxy.drop(true);
      // a dip this time: the same spike again would not be unusual enough for this stream
      await publishWithToken(d, 660, 760, (i) => i >= 700 && i < 703 ? -4.5 : 0);
      await eventually(
        async () => (await storedAlerts(d)).length > before.length || undefined,
        "alerts stored while the feed is down",
      );
      assert.equal(printed.length, before.length, "nothing came while the feed was down");
      proxy.resume();
      const all = await eventually(
        async () => {
          const s = await storedAlerts(d);
          return printed.length >= s.length ? s : undefined;
        },
        "every alert printed after the reconnection",
        30_000,
      );

      assert.deepEqual(printed.map((a) => a.id), all.map((a) => a.id), "each alert once, in order");
      const resumed = proxy.heads.filter((h) => h.startsWith("GET /v1/alerts/events")).at(-1)!;
      assert.match(resumed, new RegExp(`\\r\\nlast-event-id: ${before.at(-1)!.id}\\r\\n`, "i"));
      assert.ok(
        stderr.some((l) =>
          /^forecastd alerts: the alert feed broke off \(.*\); reconnecting in \d+ s$/.test(l)
        ),
        stderr.join("\n"),
      );
      assert.ok(stderr.includes("forecastd alerts: reconnected; resuming after the last alert"));
      child.kill("SIGINT");
      const status = await child.status;
      child = null;
      await Promise.all([reading, readingErr]);
      assert.equal(status.code, 130, "Ctrl-C ends it");
    } finally {
      if (child) {
        // the launcher passes it on; SIGKILL only if that did not end it
        child.kill("SIGINT");
        const timer = setTimeout(() => child?.kill("SIGKILL"), 5000);
        await child.status;
        clearTimeout(timer);
        await child.stdout.cancel().catch(() => {});
        await child.stderr.cancel().catch(() => {});
      }
      await proxy.close();
      assert.equal((await d.stop()).code, 0);
    }
  });
});

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
