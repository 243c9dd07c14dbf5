/** bench/proc_stats.ts: each thread's CPU and scheduling, and a shard worker's share of them. */
import assert from "node:assert/strict";
import { parseThreadCpu, parseThreadSched, perShardWorker } from "../../bench/proc_stats.ts";

/** A /proc/<pid>/task/<tid>/stat line of thread `tid` named `comm` with `utime` and `stime` ticks. */
const statLine = (tid: number, comm: string, utime: number, stime: number) =>
  `${tid} (${comm}) S 1 ${tid} ${tid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 9 0 1 1 1`;

const stat = (lines: string[]) => new TextEncoder().encode(lines.join("\n") + "\n");

/** parseThreadCpu() of process 100 with one thread a row: [tid, comm, utime, stime]. */
const threadsOf = (...rows: [number, string, number, number][]) =>
  parseThreadCpu(100, stat(rows.map((r) => statLine(...r))));

Deno.test("parseThreadCpu() keeps each worker's thread apart in byThread, summed in byName", () => {
  const t = threadsOf(
    [100, "deno", 50, 10],
    [101, "worker-1", 200, 0],
    [102, "worker-2", 100, 20],
    [103, "V8 DefaultWorke", 5, 0],
    [104, "V8 DefaultWorke", 3, 0],
  );
  assert.deepEqual(t.byThread, {
    main: 0.6,
    "worker-1": 2,
    "worker-2": 1.2,
    "V8 DefaultWorke": 0.08,
  });
  assert.equal(t.byName["worker-#"], 3.2);
  assert.equal(t.workers, 3.2);
});

Deno.test("parseThreadSched() reads migrations, waits and preemptions by thread name", () => {
  const s = parseThreadSched(
    100,
    [
      "100|deno|4 10 20",
      "101|worker-1|7 300 50",
      "102|tokio-runtime-w|1 2 3",
      "103|tokio-runtime-w|1 1 1",
      "bad",
    ]
      .join("\n"),
  );
  assert.deepEqual(s.main, { migrations: 4, voluntary: 10, involuntary: 20 });
  assert.deepEqual(s["worker-1"], { migrations: 7, voluntary: 300, involuntary: 50 });
  assert.deepEqual(s["tokio-runtime-w"], { migrations: 2, voluntary: 3, involuntary: 4 });
  assert.equal(Object.keys(s).length, 3);
});

Deno.test("perShardWorker() divides each worker thread's CPU by its own shard's readings", () => {
  const before = threadsOf(
    [100, "deno", 0, 0],
    [110, "worker-10", 0, 0],
    [109, "worker-9", 0, 0],
  );
  const after = threadsOf(
    [100, "deno", 0, 0],
    [110, "worker-10", 300, 0],
    [109, "worker-9", 100, 0],
  );
  const sched0 = { "worker-9": { migrations: 1, voluntary: 1, involuntary: 1 } };
  const sched1 = { "worker-9": { migrations: 6, voluntary: 11, involuntary: 4 } };
  // worker-9 started first: shard 0 (numeric order, not the text's "worker-10" < "worker-9")
  const w = perShardWorker(before, after, [0, 0], [10_000, 20_000], sched0, sched1);
  assert.deepEqual(w, [
    {
      thread: "worker-9",
      readings: 10_000,
      usPerReading: 100,
      migrations: 5,
      voluntary: 10,
      involuntary: 3,
    },
    { thread: "worker-10", readings: 20_000, usPerReading: 150 },
  ]);
});

Deno.test("perShardWorker() gives null µs a reading to a shard that took none", () => {
  const t = threadsOf([101, "worker-1", 100, 0]);
  assert.deepEqual(perShardWorker(t, t, [5], [5], {}, {}), [
    { thread: "worker-1", readings: 0, usPerReading: null },
  ]);
});
