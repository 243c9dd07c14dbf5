/**
 * The real daemon, new (nothing to restore), with two shard workers: each
 * worker warms a stream of the default preset before it is ready
 * (src/service/warm_up.ts, `warmUpNew`), and that stream is nobody's.
 */
import assert from "node:assert/strict";
import { startDaemon, withTempDir } from "./_daemon.ts";

Deno.test("a new daemon's two shard workers each warm a stream of the default preset, and no stream is made", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir, args: ["--workers", "2"] });
    try {
      const loaded = d.log.filter((e) => e.event === "streams.loaded" && e.worker !== undefined);
      // 4,000 readings each (two copies of the stream, in turn), fewer when a loaded machine
      // stops the warm-up at its 1 s (warmUpMs)
      assert.deepEqual(loaded.map((e) => [e.worker, e.streams]).sort(), [[0, 0], [1, 0]]);
      for (const e of loaded) {
        const fed = e.warmUpReadings as number;
        assert.ok(fed >= 1 && fed <= 4000, JSON.stringify(loaded));
      }
      const res = await fetch(`${d.http}/v1/streams`);
      assert.equal(res.status, 200);
      const body = await res.json() as { streams: unknown[] };
      assert.deepEqual(body.streams, []);
    } finally {
      assert.equal((await d.stop("SIGTERM")).code, 0);
    }
  });
});

Deno.test("the daemon makes its own first HTTP requests before it says it is ready", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir, args: ["--workers", "2"] });
    try {
      await d.waitForLog((e) => e.event === "forecastd.ready", "forecastd.ready");
      const warmed = d.log.findIndex((e) => e.event === "http.warmed");
      const ready = d.log.findIndex((e) => e.event === "forecastd.ready");
      assert.ok(warmed >= 0 && warmed < ready, `http.warmed at ${warmed}, ready at ${ready}`);
      // /healthz, /readyz, the forecast of a stream there is none of
      assert.deepEqual(d.log[warmed].statuses, [200, 200, 404], JSON.stringify(d.log[warmed]));
      const res = await fetch(`${d.http}/v1/streams`);
      assert.deepEqual((await res.json() as { streams: unknown[] }).streams, []);
    } finally {
      assert.equal((await d.stop("SIGTERM")).code, 0);
    }
  });
});
