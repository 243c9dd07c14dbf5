/**
 * The daemon with two shard workers stays answerable under one big batch:
 * /healthz is answered all along while a 10,000-reading HTTP batch is taken,
 * and the batch is taken whole. (How long /healthz waited at worst is a
 * timing: bench/scale.ts measures it.)
 */
import assert from "node:assert/strict";
import { getJson, START, startDaemon, STEP, withTempDir } from "./_daemon.ts";

Deno.test("serve: /healthz is answered all along while a 10,000-reading HTTP batch is taken", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir, args: ["--max-body-bytes", "8000000"] });
    try {
      const n = 10_000;
      const streams = ["fair-a", "fair-b", "fair-c", "fair-d"];
      const readings = Array.from({ length: n }, (_, i) => ({
        stream: streams[i % streams.length],
        ts: START + Math.floor(i / streams.length) * STEP,
        values: { temp: 20 + Math.sin(i / 50) },
      }));
      let done = false;
      const batch = fetch(`${d.http}/v1/readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(readings),
      }).then(async (r) => ({ status: r.status, body: await r.json() })).finally(() => {
        done = true;
      });
      const health: number[] = [];
      while (!done) {
        const r = await fetch(`${d.http}/healthz`);
        const body = await r.json();
        health.push(r.status);
        assert.equal(body.workers.length, 2, "/healthz shows the two workers");
        await new Promise((res) => setTimeout(res, 10));
      }
      const { status, body } = await batch;
      assert.equal(status, 200, JSON.stringify(body).slice(0, 300));
      assert.equal(body.accepted, n);
      assert.ok(health.length >= 1, "/healthz was asked while the batch was taken");
      assert.ok(health.every((s) => s === 200), `every /healthz answered 200: ${health}`);
      for (const s of streams) {
        const summary = await getJson<{ readings: number }>(`${d.http}/v1/streams/${s}`);
        assert.equal(summary.readings, n / streams.length, `every reading of ${s} is taken`);
      }
    } finally {
      const status = await d.stop("SIGTERM");
      assert.equal(status.code, 0);
    }
  });
});
