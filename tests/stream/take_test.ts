/**
 * StreamModel.take and Engine.take, the service's per-reading path: one
 * Observation shared by every stream of the thread, written over by each
 * reading, with the same figures observe() gives (observe() returns a copy
 * of its own, which later readings leave alone).
 */
import assert from "node:assert/strict";
import { Engine } from "../../src/stream/engine.ts";
import type { Observation } from "../../src/stream/stream.ts";
import { FIVE_MIN, room, small, T0 } from "./_series.ts";

/** Two engines with streams "a" and "b" of the same preset. */
function twins(): [Engine, Engine] {
  const engines: [Engine, Engine] = [new Engine(), new Engine()];
  for (const e of engines) {
    for (const id of ["a", "b"]) e.create(id, { preset: small(), columns: ["v"] });
  }
  return engines;
}

Deno.test("take() gives observe()'s figures, reading after reading, in one shared object", () => {
  const [taking, observing] = twins();
  // a level shift at 300 makes scores, onsets and an alert event
  const x = room(400, 7).map((v, t) => (t >= 300 ? v + 40 : v));
  let shared: Observation | null = null;
  let events = 0;
  for (let t = 0; t < x.length; t++) {
    for (const id of ["a", "b"]) {
      const ts = T0 + t * FIVE_MIN;
      const v = id === "a" ? x[t] : x[t] * 2;
      const got = taking.take(id, ts, [v]);
      const want = observing.observe(id, ts, [v]);
      assert.deepEqual(got, want, `stream ${id}, reading ${t}`);
      shared ??= got;
      assert.equal(got, shared, "one Observation for every stream and reading");
      if (want.event) events++;
    }
  }
  assert.ok(events > 0, "the shift raised an alert event");
  assert.equal(taking.counters.alerts, observing.counters.alerts);
  assert.equal(taking.counters.learned, observing.counters.learned);
});

Deno.test("observe() returns an Observation of its own: later readings leave it as it was", () => {
  const [engine] = twins();
  const x = room(200, 3);
  for (let t = 0; t < 150; t++) engine.observe("a", T0 + t * FIVE_MIN, [x[t]]);
  const kept = engine.observe("a", T0 + 150 * FIVE_MIN, [x[150]]);
  const copy = structuredClone(kept);
  assert.notEqual(kept.score, null);
  for (let t = 151; t < 200; t++) {
    const next = engine.observe("a", T0 + t * FIVE_MIN, [x[t]]);
    assert.notEqual(next, kept);
    engine.take("b", T0 + t * FIVE_MIN, [x[t]]);
  }
  assert.deepEqual(kept, copy);
});
