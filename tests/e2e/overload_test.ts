/**
 * Readers are answered while the daemon takes a flood of readings: the
 * queue works in slices and lets the event loop answer between them. The
 * test orders events rather than timing them (timings are in bench/soak.ts).
 */
import assert from "node:assert/strict";
import { START, startDaemon, STEP, temperature, withTempDir } from "./_daemon.ts";

Deno.test("serve: /healthz and a forecast are answered while a 10,000-reading batch is being taken", async () => {
  await withTempDir(async (dir) => {
    const d = await startDaemon({ dataDir: dir, args: ["--checkpoint-every", "100000"] });
    try {
      const first = await fetch(`${d.http}/v1/streams/flood/readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ ts: START, value: temperature(0) }]),
      });
      assert.equal(first.status, 200, await first.text());
      const readings = Array.from({ length: 10_000 }, (_, k) => {
        const i = k + 1;
        return { ts: START + i * STEP, value: temperature(i) };
      });
      const events: string[] = [];
      const batch = fetch(`${d.http}/v1/streams/flood/readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(readings),
      }).then(async (res) => {
        events.push(`batch ${res.status}`);
        return await res.json();
      });
      // once the batch is being taken, ask the readers' questions
      let summary: { readings: number } = { readings: 0 };
      while (summary.readings <= 1 && events.length === 0) {
        summary = await (await fetch(`${d.http}/v1/streams/flood`)).json();
      }
      const health = await fetch(`${d.http}/healthz`);
      await health.body?.cancel();
      events.push(`healthz ${health.status}`);
      const forecast = await fetch(`${d.http}/v1/streams/flood/forecast`);
      await forecast.body?.cancel();
      events.push(`forecast ${forecast.status}`);
      const result = await batch;
      assert.equal(result.accepted, 10_000);
      assert.deepEqual(events, ["healthz 200", "forecast 200", "batch 200"]);
      assert.ok(
        summary.readings > 1 && summary.readings < 10_001,
        `seen mid-batch: ${summary.readings}`,
      );
    } finally {
      assert.equal((await d.stop("SIGTERM")).code, 0);
    }
  });
});
