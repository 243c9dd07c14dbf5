/**
 * No stream is lost by a stop before its first checkpoint: the real daemon
 * takes the first readings of many new streams, then is killed (SIGKILL)
 * at once, or stopped (SIGTERM) with a hard-exit timer too short for its
 * final save; after a restart on the same KV file every stream answers.
 */
import assert from "node:assert/strict";
import { START, startDaemon, STEP, withTempDir } from "./_daemon.ts";

const STREAMS = 300;
const ARGS = [
  "--default-preset",
  "pi-small",
  "--new-streams-per-minute",
  "100000",
  "--log-level",
  "debug",
];

/** Sends 3 readings to each of STREAMS new streams, in 3 batches at once; all answered 200. */
async function newStreams(http: string): Promise<void> {
  const batches = [0, 1, 2].map((b) => {
    const readings = [];
    for (let k = b; k < STREAMS; k += 3) {
      for (let n = 0; n < 3; n++) {
        readings.push({ stream: `new${k}`, ts: START + n * STEP, values: { v: k + n } });
      }
    }
    return readings;
  });
  const answers = await Promise.all(batches.map(async (body) => {
    const res = await fetch(`${http}/v1/readings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }));
  for (const a of answers) {
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.body.rejected.length, 0, JSON.stringify(a.body));
  }
}

/** Every stream answers its summary (none is 404), with 0 or `readings` readings; returns how many whole. */
async function everyStreamAnswers(http: string, readings: number): Promise<number> {
  const missing: string[] = [];
  let whole = 0;
  for (let k = 0; k < STREAMS; k += 1) {
    const res = await fetch(`${http}/v1/streams/new${k}`);
    const s = await res.json();
    if (res.status === 404) {
      missing.push(`new${k}`);
      continue;
    }
    assert.equal(res.status, 200, JSON.stringify(s));
    assert.deepEqual(s.columns, ["v"]);
    assert.ok(s.readings === 0 || s.readings === readings, `new${k}: ${s.readings} readings`);
    if (s.readings === readings) whole++;
  }
  assert.deepEqual(missing, [], `${missing.length} of ${STREAMS} streams are gone`);
  return whole;
}

for (const workers of ["2", "0"]) {
  Deno.test(`serve --workers ${workers}: ${STREAMS} new streams, then SIGKILL at once: every stream answers after the restart`, async () => {
    await withTempDir(async (dir) => {
      const env = { FORECASTD_WORKERS: workers };
      const first = await startDaemon({ dataDir: dir, args: ARGS, env });
      try {
        await newStreams(first.http);
      } finally {
        const status = await first.stop("SIGKILL");
        assert.equal(status.signal, "SIGKILL");
      }
      assert.ok(
        !first.log.some((e) => e.event === "checkpoint.saved"),
        "no checkpoint was saved before the kill",
      );
      const second = await startDaemon({ dataDir: dir, args: ARGS, env });
      try {
        assert.ok(
          second.banner.some((l) => l.includes(`(${STREAMS} streams restored)`)),
          second.banner.join("\n"),
        );
        assert.equal(await everyStreamAnswers(second.http, 3), 0, "all back empty");
      } finally {
        assert.equal((await second.stop("SIGTERM")).code, 0);
      }
    });
  });
}

for (const workers of ["2", "0"]) {
  Deno.test(`serve --workers ${workers}: a SIGTERM whose final save the --shutdown-timeout cuts loses no stream; the log says how many were saved and cut`, async () => {
    await withTempDir(async (dir) => {
      const env = { FORECASTD_WORKERS: workers };
      const first = await startDaemon({
        dataDir: dir,
        args: [...ARGS, "--shutdown-timeout", "0.001"],
        env,
      });
      try {
        await newStreams(first.http);
      } finally {
        const status = await first.stop("SIGTERM");
        assert.equal(status.code, 1, "the timer's exit status");
      }
      const cut = first.log.find((e) => e.event === "shutdown.timeout");
      assert.ok(cut, "the timer cut the shutdown");
      assert.equal(cut.timeoutMs, 1);
      const saved = cut.streamsSaved as number;
      assert.ok(
        saved >= 0 && (cut.streamsCut as number) > 0 &&
          saved + (cut.streamsCut as number) <= STREAMS,
        JSON.stringify(cut),
      );
      assert.ok(!first.log.some((e) => e.event === "shutdown.done"));

      const second = await startDaemon({ dataDir: dir, args: ARGS, env });
      try {
        const whole = await everyStreamAnswers(second.http, 3);
        assert.ok(whole <= STREAMS - (cut.streamsCut as number), `${whole} saved whole`);
      } finally {
        assert.equal((await second.stop("SIGTERM")).code, 0);
      }
    });
  });
}
