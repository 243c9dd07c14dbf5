import assert from "node:assert/strict";
import type { Reading } from "../../src/domain/reading.ts";
import { withShardedService } from "./_with_sharded_service.ts";

const T0 = Date.UTC(2026, 0, 5);

/** `n` readings of `stream` from step `from`, a sine. */
function readings(stream: string, from: number, n: number): Reading[] {
  return Array.from({ length: n }, (_, i) => ({
    stream,
    ts: T0 + (from + i) * 60_000,
    values: { temp: 20 + 2 * Math.sin((from + i) / 30) },
  }));
}

Deno.test("a shard worker answers a forecast between the slices of a 10,000-reading batch", async () => {
  // the whole batch goes to the worker as one piece: the worker's ingest queue alone slices it
  await withShardedService({
    workers: 1,
    piece: 10_000,
    pieceMs: 1e9,
    // no save holds the batch's stream back (at its checkpoint bound) meanwhile
    options: { checkpointEvery: 100_000 },
  }, async (svc) => {
    await svc.ingest(readings("other", 0, 40), "http");
    const big = svc.ingest(readings("busy", 0, 10_000), "http");
    // once the worker has begun the batch (its stream exists)
    while ((await svc.summary("busy").catch(() => null)) === null) {
      await new Promise((r) => setTimeout(r, 1));
    }
    const forecast = await svc.forecast("other");
    assert.equal(forecast.stream, "other");
    const taken = (await svc.summary("busy")).readings;
    assert.ok(taken < 10_000, `readings of the batch taken when the forecast came: ${taken}`);
    assert.equal((await big).accepted, 10_000);
  });
});
