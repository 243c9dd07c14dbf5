import assert from "node:assert/strict";
import { StatsPacker, StatsUnpacker } from "../../src/shard/packed_stats.ts";
import type { ShardStats } from "../../src/shard/shard_protocol.ts";

const stats = (rejects: Record<string, number>, checkpointedAt: number | null): ShardStats => ({
  counters: {
    readings: { mqtt: 7, ws: 1, http: 2, demo: 0 },
    checkpoints: 3,
    checkpointFailures: 1,
    checkpointCommits: 2,
    readingsBeyondLossBound: 4,
    trainingShed: 5,
    trainingCaughtUp: 6,
    checkpointedAt,
  },
  unsavedStreams: 8,
  rejects,
  learning: { readings: 10, learned: 9, observeSeconds: 0.125, alerts: 2, recoveries: 1 },
  queued: 11,
  idleMs: 12.5,
});

Deno.test("packed stats come back as the worker's counters, exactly", () => {
  const packer = new StatsPacker(), unpacker = new StatsUnpacker();
  assert.equal(unpacker.stats, null, "none before the first message");
  for (const s of [stats({ bad_value: 2 }, 1_750_000_000_123), stats({ bad_value: 2 }, null)]) {
    unpacker.take(structuredClone(packer.pack(s)));
    assert.deepEqual(unpacker.stats, s);
  }
});

Deno.test("packed stats carry the refusals only when they changed, and keep them meanwhile", () => {
  const packer = new StatsPacker(), unpacker = new StatsUnpacker();
  const first = packer.pack(stats({ bad_value: 2 }, null));
  assert.deepEqual(first.rejects, { bad_value: 2 });
  unpacker.take(first);
  const same = packer.pack(stats({ bad_value: 2 }, null));
  assert.equal(same.rejects, null, "unchanged: not sent again");
  unpacker.take(same);
  assert.deepEqual(unpacker.stats?.rejects, { bad_value: 2 });
  const more = packer.pack(stats({ bad_value: 2, out_of_order: 1 }, null));
  assert.deepEqual(more.rejects, { bad_value: 2, out_of_order: 1 });
  unpacker.take(more);
  assert.deepEqual(unpacker.stats?.rejects, { bad_value: 2, out_of_order: 1 });
  assert.deepEqual(new StatsPacker().pack(stats({}, null)).rejects, {}, "a new worker sends them");
});
