/**
 * A read of a stream through its worker while the worker takes a long batch:
 * the call ends the worker's slice under way after its reading
 * (ShardInit.waitingCalls, src/async/next_turn.ts turnWanted), so it is
 * answered before the batch is done, and what it answers holds every
 * reading acknowledged before it. /healthz answers from the main thread's
 * state meanwhile. The slices are made a minute long (`sliceMs`) and a big
 * part goes whole, as one message (`piece`, `pieceMs`, `batch`), and no
 * stream waits for a save (`checkpointEvery`), so that without the early
 * end the read would wait for the whole batch. A device's small batch posted
 * while pieces of a big part are in flight to its worker is counted the same
 * way, so it is acknowledged after the reading under way, not after the
 * pieces.
 */
import assert from "node:assert/strict";
import { healthRoutes } from "../../src/api/health.ts";
import type { MetricsSource } from "../../src/api/metrics.ts";
import type { ShardedService } from "../../src/shard/sharded_service.ts";
import { withShardedService } from "./_with_sharded_service.ts";
import { reading, STEP, T0 } from "./_readings.ts";

/** One worker whose slices would run a whole batch, a big part sent whole. */
const LONG_SLICES = {
  workers: 1,
  // (no stream reaches its crash-loss bound: a wait for its save would end the slice too)
  options: { sliceMs: 60_000, checkpointEvery: 100_000 },
  piece: 1_000_000,
  pieceMs: 600_000,
  batch: 1_000_000,
};

/** Batches posted to the only worker so far (its outbox sends a part in a later task). */
const posted = (svc: ShardedService) =>
  svc.workers()[0].ingest.sentBehind.reduce((a, b) => a + b, 0);

/** Resolves once the only worker has been posted a batch more than `before`. */
async function postedAfter(svc: ShardedService, before: number): Promise<void> {
  while (posted(svc) === before) await new Promise((r) => setTimeout(r, 0));
}

/** What settled first, in order. */
function order(): { seen: string[]; mark<T>(name: string, p: Promise<T>): Promise<T> } {
  const seen: string[] = [];
  return {
    seen,
    mark: (name, p) =>
      p.then((v) => {
        seen.push(name);
        return v;
      }),
  };
}

/**
 * Ingests b's readings 10 to 3009 as one batch, and resolves once it is
 * posted to the only worker: what settles from then on, in order, the
 * batch's answer marked "batch", and the count of posted messages before it.
 */
async function longBatchPosted(svc: ShardedService) {
  const { seen, mark } = order();
  const before = posted(svc);
  const big = mark(
    "batch",
    svc.ingest(Array.from({ length: 3000 }, (_, t) => reading("b", 10 + t)), "http"),
  );
  await postedAfter(svc, before);
  return { seen, mark, big, before };
}

Deno.test("a read posted while its worker takes a long batch is answered before the batch, with every reading acknowledged before it", async () => {
  await withShardedService(LONG_SLICES, async (svc) => {
    // acknowledged before the read: every one of them must be in its answer
    await svc.ingest(Array.from({ length: 48 }, (_, t) => reading("a", t)), "http");
    await svc.ingest(Array.from({ length: 10 }, (_, t) => reading("b", t)), "http");
    // the batch on its way to the worker: the reads' calls reach it after the batch
    const { seen, mark, big } = await longBatchPosted(svc);
    const a = mark("forecast a", svc.forecast("a"));
    const b = mark("forecast b", svc.forecast("b"));
    const [fa, fb, result] = await Promise.all([a, b, big]);
    assert.equal(result.accepted, 3000);
    assert.deepEqual(
      seen,
      ["forecast a", "forecast b", "batch"],
      "the reads waited for a reading of the batch, not for the whole of it",
    );
    assert.equal(
      fa.origin,
      T0 + 47 * STEP,
      "a's forecast starts from its last acknowledged reading",
    );
    assert.equal(fa.model.version, 48, "a's model learned every reading acknowledged");
    assert.ok(
      fb.origin >= T0 + 9 * STEP && fb.origin < T0 + 3009 * STEP,
      `b's forecast holds b's acknowledged readings and not all of the batch under way: ` +
        `origin is reading ${(fb.origin - T0) / STEP}`,
    );
    const after = await svc.forecast("b");
    assert.equal(after.origin, T0 + 3009 * STEP, "once the batch is acknowledged, all of it");
  });
});

Deno.test("GET /healthz answers from the main thread while the only worker takes a long batch", async () => {
  await withShardedService(LONG_SLICES, async (svc) => {
    await svc.ingest(Array.from({ length: 10 }, (_, t) => reading("b", t)), "http");
    const app = healthRoutes({
      version: "0.0.0-test",
      readiness: () => ({ kv: true, broker: null }),
      metrics: {} as MetricsSource, // /healthz reads none
      workers: () => svc.workers(),
    });
    const { seen, mark, big } = await longBatchPosted(svc);
    const res = await mark("healthz", Promise.resolve(app.request("/healthz")));
    await big;
    assert.deepEqual(seen, ["healthz", "batch"], "/healthz did not wait for the worker");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.workers.length, 1);
    assert.equal(body.workers[0].alive, true);
    assert.equal(body.workers[0].streams, 1);
  });
});

/** One worker whose slices would run a whole piece, a big part in two pieces of 1,500. */
const LONG_PIECES = {
  workers: 1,
  // (no stream reaches its crash-loss bound: a wait for its save would end the slice too)
  options: { sliceMs: 60_000, checkpointEvery: 100_000 },
  piece: 1_500,
  pieceMs: 600_000,
  batch: 1_500,
};

Deno.test("a device's reading of another stream posted while its worker takes a piece of a big batch is acknowledged before the batch, and in the model", async () => {
  await withShardedService(LONG_PIECES, async (svc) => {
    await svc.ingest(Array.from({ length: 48 }, (_, t) => reading("a", t)), "http");
    // (the worker's cost a reading known from this reply on: two pieces in flight at once)
    await svc.ingest(Array.from({ length: 10 }, (_, t) => reading("b", t)), "http");
    // both pieces posted (in one task): the device's reading reaches the worker after them
    const { seen, mark, big, before } = await longBatchPosted(svc);
    assert.equal(posted(svc), before + 2, "the big batch went as two pieces at once");
    const dev = mark("device", svc.ingest([reading("a", 48)], "mqtt"));
    const r = await dev;
    // acknowledged: in the model, and a read after it sees it (before the batch is done)
    const f = await mark("forecast a", svc.forecast("a"));
    const result = await big;
    assert.equal(r.accepted, 1);
    assert.equal(result.accepted, 3000);
    assert.deepEqual(
      seen,
      ["device", "forecast a", "batch"],
      "the device's reading waited for a reading of the piece under way, not for the pieces",
    );
    assert.equal(f.origin, T0 + 48 * STEP, "a's forecast starts from the acknowledged reading");
    assert.equal(f.model.version, 49, "a's model learned every reading acknowledged");
  });
});
