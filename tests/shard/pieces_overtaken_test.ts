import assert from "node:assert/strict";
import { ShardedService } from "../../src/shard/sharded_service.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { withTempDir } from "../_helpers.ts";
import { retryLocked } from "../../src/shard/locked_kv_retry.ts";
import { resolvesWithin } from "../../src/async/resolves_within.ts";
import type { traceRecord } from "../../src/shard/reading_trace.ts";

const T0 = Date.UTC(2026, 0, 5);
const STEP = 300_000;

const reading = (stream: string, t: number): Reading => ({
  stream,
  ts: T0 + t * STEP,
  values: { temp: 20 + Math.sin(t / 10) + 0.1 * Math.sin(t * 1.3) },
});

type Trace = ReturnType<typeof traceRecord>;

Deno.test("a device's reading that reaches its worker while a piece of a big batch waits there is taken first", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/kv.sqlite3`;
    const kv = await Deno.openKv(path);
    const captured = captureLog("info");
    // one worker; both streams traced: each piece's hops and each device reading's
    const svc = new ShardedService({
      store: new Store(retryLocked(kv)),
      log: captured.log,
      kvPath: path,
      workers: 1,
      logLevel: "warn",
      traceStreams: ["big", "dev"],
    });
    try {
      assert.ok(await resolvesWithin(svc.load(), 60_000), "the worker was ready within 60 s");
      // the worker's cost a reading known (two pieces in flight from then on)
      await svc.ingest(Array.from({ length: 300 }, (_, t) => reading("big", t)), "http");
      await svc.ingest([reading("dev", 0)], "mqtt");
      const big = svc.ingest(
        Array.from({ length: 3000 }, (_, t) => reading("big", 300 + t)),
        "http",
      );
      let done = false;
      big.then(() => done = true, () => done = true);
      for (let t = 1; !done; t++) {
        await svc.ingest([reading("dev", t)], "mqtt");
        await new Promise((r) => setTimeout(r, 2));
      }
      await big;
    } finally {
      await svc.close();
      kv.close();
    }
    const traces = captured.entries().filter((e) =>
      e.event === "reading.trace"
    ) as unknown as Trace[];
    const pieces = traces.filter((t) => t.traced[0].stream === "big" && t.readings < 3000);
    const devs = traces.filter((t) => t.traced[0].stream === "dev");
    let cases = 0;
    for (const d of devs) {
      const at = d.inWorker!.receivedAt;
      for (const p of pieces) {
        // a piece in the worker, not yet started, when the device's reading came
        if (!(p.inWorker!.receivedAt < at && p.inWorker!.startedAt > at)) continue;
        cases++;
        assert.ok(
          d.inWorker!.startedAt < p.inWorker!.startedAt,
          `the device's reading (came ${at}) started at ${
            d.inWorker!.startedAt
          }, after the piece ` +
            `waiting then (started ${p.inWorker!.startedAt})`,
        );
      }
    }
    assert.ok(cases > 0, `a device's reading came while a piece waited: ${devs.length} readings`);
  });
});
