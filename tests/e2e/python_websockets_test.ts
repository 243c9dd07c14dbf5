/**
 * forecastd's WebSockets against a client nobody here wrote: Python's
 * `websockets` (Debian's python3-websockets). Readings sent over
 * /v1/ingest/ws get one reply each, in order, a message that is not JSON
 * gets its reason, and a spike raises an alert that arrives on /v1/alerts/ws.
 * Skips, saying so, without a Python that has `websockets`.
 */
import assert from "node:assert/strict";
import {
  batchPayload,
  spikeAt,
  START,
  startDaemon,
  STEP,
  streamWithReadings,
  withTempDir,
} from "./_daemon.ts";

/** A Python that can import websockets, or null. */
async function findPython(): Promise<string | null> {
  for (const exe of ["/usr/bin/python3", "python3"]) {
    try {
      const r = await new Deno.Command(exe, {
        args: ["-c", "import websockets"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) return exe;
    } catch { /* not there */ }
  }
  return null;
}

const python = await findPython();
if (python === null) {
  console.warn("python_websockets_test: skipped: no python3 with the websockets module");
}

/** Readings [from, to) of stream "py" as single-reading messages of POST /v1/readings's form. */
function messages(from: number, to: number, offset = (_i: number) => 0): unknown[] {
  return (JSON.parse(batchPayload(from, to, offset)) as { ts: number; value: number }[]).map(
    (r) => ({ stream: "py", ts: r.ts, values: { temperature: r.value } }),
  );
}

Deno.test({
  name:
    "serve: Python's websockets client ingests over /v1/ingest/ws (one reply per message, a bad one named) and gets the alert on /v1/alerts/ws",
  ignore: python === null,
  fn: async () => {
    await withTempDir(async (dir) => {
      const d = await startDaemon({ dataDir: dir });
      try {
        // two days of history first, over HTTP (the default preset opens no alert before one day)
        const history = messages(0, 576);
        const r = await fetch(`${d.http}/v1/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(history),
        });
        assert.equal(r.status, 200, await r.text());
        await streamWithReadings(d, "py", 576);

        const normal = messages(576, 596);
        const spike = messages(596, 640, spikeAt(600));
        const out = await new Deno.Command(python!, {
          args: [
            new URL("./clients/ws_client.py", import.meta.url).pathname,
            d.http.replace("http:", "ws:"),
            JSON.stringify(normal),
            JSON.stringify(spike),
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.ok(out.success, stderr);
        const lines = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
          JSON.parse(l)
        );
        const replies = lines.filter((l) => "reply" in l).map((l) => l.reply);
        assert.equal(replies.length, normal.length + 1 + spike.length, "one reply per message");
        for (const [i, reply] of replies.entries()) {
          if (i === normal.length) {
            assert.equal(reply.ok, false, JSON.stringify(reply));
            assert.equal(reply.reason, "bad_json");
            assert.match(reply.error, /^Cannot ingest reading: /);
          } else {
            assert.deepEqual(reply, { ok: true, accepted: 1 }, `reply ${i}`);
          }
        }
        const alerts = lines.filter((l) => "alert" in l).map((l) => l.alert);
        const opened = alerts.find((a) => a.type === "opened");
        assert.ok(opened, `an opened alert on /v1/alerts/ws: ${JSON.stringify(lines.at(-1))}`);
        assert.equal(opened.stream, "py");
        assert.ok(
          opened.ts >= START + 600 * STEP && opened.ts < START + 640 * STEP,
          `the alert is about the spike: ${opened.message}`,
        );
        assert.match(opened.message, /^py: temperature = /);
      } finally {
        assert.equal((await d.stop()).code, 0, "the daemon stops cleanly");
      }
    });
  },
});
