/**
 * The divergence guard: an expert that throws, or whose state holds a
 * non-finite or exploded value, is re-initialised; a non-finite value in the
 * stream's shared state restarts its learning; an exception outside the
 * experts refuses the reading (engine_error) and leaves the stream taking
 * readings. Forecasts and intervals stay finite throughout.
 */
import assert from "node:assert/strict";
import { Engine } from "../../src/stream/engine.ts";
import { ReadingError, type StreamModel } from "../../src/stream/stream.ts";
import { EXPLODED, SCAN_EVERY } from "../../src/stream/divergence_guard.ts";
import { FIVE_MIN, linear, lstm, room, small, T0 } from "./_series.ts";

/** An engine with stream "g" fed x[0 … n). */
function trained(n = 300): { engine: Engine; s: StreamModel; x: Float64Array; t: number } {
  const engine = new Engine();
  const s = engine.create("g", { preset: small(), columns: ["v"] });
  const x = room(n + 2 * SCAN_EVERY, 21);
  for (let t = 0; t < n; t++) engine.observe("g", T0 + t * FIVE_MIN, [x[t]]);
  return { engine, s, x, t: n };
}

/** Every forecast value and interval bound of s is finite. */
function assertFiniteForecast(s: StreamModel, what: string): void {
  const f = s.forecast()!;
  for (const [name, t] of Object.entries(f.targets)) {
    for (const v of [...t.point, ...t.lower, ...t.upper]) {
      assert.ok(v === null || Number.isFinite(v), `${what}: ${name} ${JSON.stringify(t)}`);
    }
    assert.ok(t.point.every(Number.isFinite), `${what}: point ${JSON.stringify(t.point)}`);
  }
}

Deno.test("an expert that throws is re-initialised and counted; the stream keeps forecasting", () => {
  const { engine, s, x, t } = trained();
  const old = lstm(s);
  assert.ok(old.trainer.updates > 0);
  old.learn = () => {
    throw new RangeError(
      "Cannot update model: the gradient norm must be finite: current value is NaN",
    );
  };
  const obs = engine.observe("g", T0 + t * FIVE_MIN, [x[t]]);
  assert.deepEqual(obs.recovered, ["lstm"]);
  assert.equal(s.recoveries, 1);
  assert.equal(engine.counters.recoveries, 1);
  assert.notEqual(lstm(s), old, "a new LSTM expert");
  assert.equal(lstm(s).trainer.updates, 0);
  assert.equal(s.net, lstm(s).net, "the stream's network is the new one");
  assert.equal(
    s.origins.active.reduce((m, a) => m | a, 0) & (1 << s.expertNames.indexOf("lstm")),
    0,
  );
  assertFiniteForecast(s, "after the reset");
  for (let k = t + 1; k < t + 100; k++) {
    assert.equal(engine.observe("g", T0 + k * FIVE_MIN, [x[k]]).recovered, null, `t=${k}`);
  }
  assert.ok(lstm(s).trainer.updates > 0, "it learns again");
  assertFiniteForecast(s, "later");
});

Deno.test("NaN weights are found at the next reading: the expert restarts, no NaN reaches a forecast", () => {
  const { engine, s, x, t } = trained();
  s.net!.params[7] = NaN;
  const obs = engine.observe("g", T0 + t * FIVE_MIN, [x[t]]);
  assert.deepEqual(obs.recovered, ["lstm"]);
  assert.ok(s.net!.params.every(Number.isFinite));
  assertFiniteForecast(s, "after the reset");
  assert.ok(s.blend.cov.every(Number.isFinite), "the blend never saw a NaN forecast");
});

Deno.test("exploded weights of the linear expert are found by the periodic scan and reset", () => {
  const { engine, s, x } = trained(SCAN_EVERY - 10);
  const rls = linear(s).rls[2];
  rls.W[0] = 10 * EXPLODED; // its forecasts are clipped, so only the scan sees it
  let found: string[] | null = null, at = -1;
  for (let k = SCAN_EVERY - 10; k < SCAN_EVERY + 5 && !found; k++) {
    found = engine.observe("g", T0 + k * FIVE_MIN, [x[k]]).recovered;
    at = s.readings;
  }
  assert.deepEqual(found, ["linear"]);
  assert.equal(at, SCAN_EVERY, "at the scan");
  assert.notEqual(linear(s).rls[2], rls);
  assert.ok(linear(s).rls.every((r) => r.W.every((w) => Math.abs(w) < EXPLODED)));
  assertFiniteForecast(s, "after the reset");
});

Deno.test("a non-finite value in the shared state restarts learning and keeps the time line and counters", () => {
  const { engine, s, x, t } = trained();
  const kept = { readings: s.readings, learned: s.learnedReadings, periodMs: s.periodMs };
  s.level.m2[0] = NaN;
  const obs = engine.observe("g", T0 + t * FIVE_MIN, [x[t]]);
  assert.deepEqual(obs.recovered, ["stream"]);
  assert.equal(s.readings, kept.readings + 1);
  assert.equal(s.learnedReadings, kept.learned + 1);
  assert.equal(s.periodMs, kept.periodMs);
  assert.equal(s.lastTs, T0 + t * FIVE_MIN);
  assert.equal(s.recoveries, 1);
  assert.ok(s.level.m2.every(Number.isFinite) && s.level.mean.every(Number.isFinite));
  assertFiniteForecast(s, "after the restart");
  assert.throws(
    () => engine.observe("g", T0 + t * FIVE_MIN, [x[t]]),
    (e) => e instanceof ReadingError && e.reason === "duplicate",
    "the time line runs on",
  );
  for (let k = t + 1; k < t + 50; k++) engine.observe("g", T0 + k * FIVE_MIN, [x[k]]);
  assertFiniteForecast(s, "later");
});

Deno.test("a NaN interval state is reset: the interval is reported as recalibrating, not as NaN", () => {
  const { engine, s, x, t } = trained();
  s.intervals.q[0] = NaN;
  const obs = engine.observe("g", T0 + t * FIVE_MIN, [x[t]]);
  assert.deepEqual(obs.recovered, ["intervals"]);
  const f = s.forecast()!;
  assert.deepEqual(f.targets.v.lower, Array(6).fill(null));
  assert.deepEqual(f.targets.v.interval, Array(6).fill("recalibrating"));
  assert.ok(f.targets.v.point.every(Number.isFinite));
  engine.observe("g", T0 + (t + 1) * FIVE_MIN, [x[t + 1]]);
  assert.equal(s.forecast()!.targets.v.interval[0], "calibrated", "one reading later");
  assert.ok(Number.isFinite(s.forecast()!.targets.v.lower[0]));
  const fresh = new Engine().create("n", { preset: small(), columns: ["v"] });
  fresh.observe(T0, [1]);
  assert.deepEqual(fresh.forecast()!.targets.v.interval, Array(6).fill("not_calibrated"));
});

Deno.test("an exception outside the experts refuses the reading as engine_error; the stream goes on", () => {
  const { engine, s, x, t } = trained();
  const before = { step: s.step, readings: s.readings, lastTs: s.lastTs, hist: s.history.length };
  const update = s.blend.update;
  s.blend.update = () => {
    throw new Error("a bug");
  };
  assert.throws(
    () => engine.observe("g", T0 + t * FIVE_MIN, [x[t]]),
    (e) =>
      e instanceof ReadingError && e.reason === "engine_error" &&
      /^Cannot ingest reading for "g": the engine failed on it: a bug; the stream's time line is as before it$/
        .test(e.message),
  );
  s.blend.update = update;
  assert.deepEqual(
    { step: s.step, readings: s.readings, lastTs: s.lastTs, hist: s.history.length },
    before,
  );
  assert.deepEqual(engine.counters.rejects, { engine_error: 1 });
  const obs = engine.observe("g", T0 + t * FIVE_MIN, [x[t]]);
  assert.equal(obs.ts, T0 + t * FIVE_MIN, "the same reading is taken once the fault is gone");
  assertFiniteForecast(s, "after");
});

Deno.test("a stream without faults is never reset: 3 scans over a clean series find nothing", () => {
  const { engine, s, x } = trained(10);
  for (let k = 10; k < 3 * SCAN_EVERY + 1; k++) {
    const obs = engine.observe("g", T0 + k * FIVE_MIN, [x[k % x.length]]);
    assert.equal(obs.recovered, null, `t=${k}`);
  }
  assert.equal(s.recoveries, 0);
});
