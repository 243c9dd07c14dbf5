import assert from "node:assert/strict";
import { captureLog, type LogEntry } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { readTraceRecord, traceRecord, type WorkerHops } from "../../src/shard/reading_trace.ts";
import { withShardedService } from "./_with_sharded_service.ts";

const T0 = Date.UTC(2026, 0, 5);
const STEP = 300_000;

const reading = (stream: string, t: number): Reading => ({
  stream,
  ts: T0 + t * STEP,
  values: { temp: 20 + Math.sin(t / 10) },
});

Deno.test("a traced stream's reading logs reading.trace, and its read read.trace, with their hops in order; others none", async () => {
  const captured = captureLog("info");
  await withShardedService({ workers: 2, traceStreams: ["traced"] }, async (svc) => {
    for (let t = 0; t < 5; t++) {
      await svc.ingest([reading("traced", t)], "mqtt");
      await svc.ingest([reading("other", t)], "mqtt");
    }
    // a batch of several sources' streams, over HTTP: the traced one's reading is traced
    await svc.ingest([reading("other", 5), reading("traced", 5)], "http");
    // reads through the worker: the traced stream's are traced
    assert.equal((await svc.forecast("traced")).origin, T0 + 5 * STEP);
    await svc.forecast("other");
    await svc.summary("traced");
  }, { log: captured.log });
  const traces = captured.entries().filter((e: LogEntry) => e.event === "reading.trace");
  assert.equal(traces.length, 6, "one trace a batch with the traced stream, none for the others");
  for (const [i, e] of traces.entries()) {
    const t = e as unknown as ReturnType<typeof traceRecord>;
    assert.deepEqual(t.traced.map((x) => [x.stream, x.ts]), [["traced", T0 + i * STEP]]);
    const w = t.inWorker!;
    const order = [
      ["entered", t.traced[0].enteredAt],
      ["sent", t.sentAt],
      ["worker received", w.receivedAt],
      ["started", w.startedAt],
      ["done", w.doneAt],
      ["replied", w.repliedAt],
      ["main received", t.receivedAt],
    ] as const;
    for (let k = 1; k < order.length; k++) {
      assert.ok(
        order[k][1] >= order[k - 1][1],
        `trace ${i}: ${order[k][0]} (${order[k][1]}) before ${order[k - 1][0]} (${
          order[k - 1][1]
        })`,
      );
    }
    assert.ok(t.hops.total >= 0 && t.hops.total < 60_000, `trace ${i}: total ${t.hops.total}`);
  }
  const reads = captured.entries().filter((e: LogEntry) =>
    e.event === "read.trace"
  ) as unknown as ReturnType<typeof readTraceRecord>[];
  assert.deepEqual(
    reads.map((r) => [r.stream, r.method]),
    [["traced", "forecast"], ["traced", "summary"]],
    "one read.trace a read of the traced stream, none for the others",
  );
  for (const r of reads) {
    const w = r.inWorker!;
    const order = [r.calledAt, w.receivedAt, w.doneAt, w.repliedAt, r.receivedAt];
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `${r.method}: times in order`);
    assert.equal(r.hops.total, Math.round((r.receivedAt - r.calledAt) * 100) / 100);
  }
});

Deno.test("traceRecord() gives each hop as the difference of its times", () => {
  const hops: WorkerHops = {
    receivedAt: 1003,
    queued: 40,
    startedAt: 1010,
    doneAt: 1011.5,
    repliedAt: 1011.75,
    costMs: 0.2,
    checkpoints: 0,
  };
  const r = traceRecord(
    {
      worker: 1,
      source: "mqtt",
      readings: 1,
      traced: [{ stream: "q0", ts: 0, enteredAt: 1000 }],
      sentAt: 1000.5,
      ahead: { batches: 1, pieces: 2, readings: 60, held: 0 },
    },
    hops,
    1013,
  );
  assert.deepEqual(r.hops, {
    outbox: 0.5,
    toWorker: 2.5,
    queue: 7,
    take: 1.5,
    reply: 0.25,
    toMain: 1.25,
    total: 13,
  });
});
