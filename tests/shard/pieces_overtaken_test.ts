import assert from "node:assert/strict";
import { captureLog } from "../../src/log.ts";
import type { traceRecord } from "../../src/shard/reading_trace.ts";
import { withShardedService } from "./_with_sharded_service.ts";
import { reading } from "./_readings.ts";

type Trace = ReturnType<typeof traceRecord>;

Deno.test("a device's reading that reaches its worker while a piece of a big batch waits there is taken first", async () => {
  const captured = captureLog("info");
  // one worker; both streams traced: each piece's hops and each device reading's
  await withShardedService({ workers: 1, traceStreams: ["big", "dev"] }, async (svc) => {
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
  }, { log: captured.log });
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
      const [started, pieceStarted] = [d.inWorker!.startedAt, p.inWorker!.startedAt];
      assert.ok(
        started < pieceStarted,
        `the device's reading (came ${at}) started at ${started}, after the piece waiting then ` +
          `(started ${pieceStarted})`,
      );
    }
  }
  assert.ok(cases > 0, `a device's reading came while a piece waited: ${devs.length} readings`);
});
