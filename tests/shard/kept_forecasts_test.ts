/**
 * The forecasts the main thread keeps (src/shard/kept_forecasts.ts): once a
 * stream's forecast was read, later reads are answered without a call to
 * its worker, and each holds every reading acknowledged before it; a
 * deleted stream's kept forecast goes with it (the second read of it goes
 * to the worker, which refuses it). And the two sides' rules:
 * the cut to a horizon, the worker's bound and expiry.
 */
import assert from "node:assert/strict";
import { captureLog } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";
import type { StreamForecast } from "../../src/service/service.ts";
import {
  cutForecast,
  ForecastKeeper,
  KEEP_MS,
  KeptForecasts,
  MAX_KEPT,
} from "../../src/shard/kept_forecasts.ts";
import { withShardedService } from "./_with_sharded_service.ts";

const T0 = Date.UTC(2026, 0, 5);
const STEP = 300_000;

const reading = (stream: string, t: number): Reading => ({
  stream,
  ts: T0 + t * STEP,
  values: { temp: 20 + Math.sin(t / 10) + 0.1 * Math.sin(t * 1.3) },
});

Deno.test("a stream's forecast read again is answered without a call to its worker, with every reading acknowledged before it", async () => {
  const captured = captureLog("info");
  // the stream traced: each read that goes through its worker logs read.trace
  await withShardedService({ workers: 2, traceStreams: ["a"] }, async (svc) => {
    await svc.ingest(Array.from({ length: 48 }, (_, t) => reading("a", t)), "http");
    const first = await svc.forecast("a");
    assert.equal(first.origin, T0 + 47 * STEP);
    for (let t = 48; t < 60; t++) {
      const r = await svc.ingest([reading("a", t)], t % 2 === 0 ? "mqtt" : "ws");
      assert.equal(r.accepted, 1);
      const f = await svc.forecast("a");
      assert.equal(f.origin, T0 + t * STEP, `the forecast after reading ${t} is acknowledged`);
      assert.equal(f.model.version, t + 1, "its model learned every reading acknowledged");
      const three = await svc.forecast("a", 3);
      assert.deepEqual(three.timestamps, f.timestamps.slice(0, 3));
      assert.deepEqual(three.targets.temp.point, f.targets.temp.point.slice(0, 3));
    }
    assert.equal(
      first.timestamps.length,
      (await svc.forecast("a", 10_000)).timestamps.length,
      "a horizon beyond the stream's is its whole horizon, as the worker answers",
    );
    const reads = captured.entries().filter((e) => e.event === "read.trace");
    assert.equal(reads.length, 1, `only the first read went through the worker: ${reads.length}`);
    // a deleted stream's kept forecast goes with it
    assert.equal(await svc.delete("a"), true);
    await assert.rejects(() => svc.forecast("a"), /unknown/);
  }, { log: captured.log });
});

/** A forecast of `H` steps of one target "temp" whose values are their step. */
function forecastOf(H: number): StreamForecast {
  const steps = Array.from({ length: H }, (_, h) => h + 1);
  return {
    stream: "a",
    origin: 0,
    periodMs: 1,
    timestamps: steps,
    coverage: 0.9,
    targets: {
      temp: {
        point: steps,
        lower: steps,
        upper: steps,
        interval: steps.map(() => "calibrated" as const),
      },
    },
    model: { version: 1, updatedAt: 0, state: "learning" },
  };
}

Deno.test("cutForecast() takes the first horizon steps, within [1, the forecast's steps], in a new object", () => {
  const f = forecastOf(6);
  assert.deepEqual(cutForecast(f, 2).targets.temp.point, [1, 2]);
  assert.deepEqual(cutForecast(f, 0).timestamps, [1]);
  assert.deepEqual(cutForecast(f, 99).timestamps, [1, 2, 3, 4, 5, 6]);
  const whole = cutForecast(f);
  assert.deepEqual(whole, f);
  whole.targets.temp.point[0] = 42;
  whole.model.version = 7;
  assert.equal(f.targets.temp.point[0], 1, "the kept one is not handed out");
  assert.equal(f.model.version, 1);
});

Deno.test("KeptForecasts answers only integer horizons, and drops a stream on null", () => {
  const kept = new KeptForecasts();
  kept.take("a", forecastOf(4), 0);
  assert.equal(kept.get("a", 1.5), null);
  assert.deepEqual(kept.get("a", 2)?.timestamps, [1, 2]);
  assert.equal(kept.renew("a", 1), false);
  assert.equal(kept.renew("a", 10_000), true);
  assert.equal(kept.renew("a", 10_001), false);
  kept.take("a", null, 0);
  assert.equal(kept.get("a"), null);
});

Deno.test("ForecastKeeper keeps at most MAX_KEPT streams, each until KEEP_MS after its last keep", () => {
  const keeper = new ForecastKeeper();
  for (let k = 0; k < MAX_KEPT; k++) assert.equal(keeper.keep(`s${k}`, 0), true);
  assert.equal(keeper.keep("over", 0), false, "one stream more than MAX_KEPT");
  assert.equal(keeper.keep("s0", 1000), true, "a kept one is kept again");
  for (let k = 0; k < MAX_KEPT; k++) keeper.sent(`s${k}`, 5);
  const { expired, changed } = keeper.tick(KEEP_MS, (id) => id === "s1" ? 6 : 5);
  assert.equal(expired.length, MAX_KEPT - 1, "every stream but s0 ran out");
  assert.deepEqual(changed, [], "s1 ran out before it could be sent again");
  assert.deepEqual(keeper.tick(KEEP_MS + 1, () => 6), { expired: [], changed: ["s0"] });
  assert.equal(keeper.has("s0"), true);
  assert.equal(keeper.has("s1"), false);
});
