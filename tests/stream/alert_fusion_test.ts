import assert from "node:assert/strict";
import { AlertFusion, DRIFT_PART, PAIRS_PART } from "../../src/stream/alert_fusion.ts";
import { AlertMachine, evidenceToUnit, unitToEvidence } from "../../src/stream/anomaly.ts";
import { AlertBudget, BUDGET_BINS } from "../../src/stream/budget.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { fusedEvidence } from "../../src/stream/scoring.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { encodeState, readState } from "../../src/stream/state.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { kernelKind, useKernels } from "../../src/model/kernels.ts";
import { FIVE_MIN, T0 } from "./_series.ts";

const DAY = 288;
/** The evidence (nats) the alerts open at, in the unit tests of the fusion. */
const OPEN = 10;
const START = 14 * DAY;

/** A small stream preset (LSTM H = 8), with the drift detector's window set (0: off). */
function small(hours: number): Preset {
  const p = getPreset("default");
  return {
    ...p,
    model: { ...p.model, hidden: 8, window: 8 },
    horizons: 6,
    anomaly: { ...p.anomaly, drift: { ...p.anomaly.drift, hours } },
  };
}

/**
 * Three weeks of a daily cycle every 5 minutes with AR(1) weather and noise;
 * from day 14 on a ramp of 3 over a day that stays (a drift), or the cycle 7
 * hours late for a day and a half (a change of period).
 */
function series(kind: "drift" | "phase", seed: number): Float64Array {
  const g = gaussian(mulberry32(seed));
  const x = new Float64Array(21 * DAY);
  let weather = 0;
  for (let t = 0; t < x.length; t++) {
    weather = 0.9 * weather + 0.2 * g();
    const k = t - START, during = k >= 0 && k < 1.5 * DAY;
    const lag = kind === "phase" && during ? 7 * 12 : 0;
    const ramp = kind === "drift" && k >= 0 ? 3 * Math.min(1, k / DAY) : 0;
    x[t] = 20 + 2 * Math.sin((2 * Math.PI * (t - lag)) / DAY) + weather + 0.3 * g() + ramp;
  }
  return x;
}

/** The parts of a checkpoint that only the alerts' side may change. */
// (the stuck runs, kept only with the drift detector, are the alerts' too)
const ALERT_ARRAYS = ["driftState", "fusionState", "budgetBins", "stuckState", "pairsState"];
const ALERT_SCALARS = ["alerts", "budget", "fusion", "anomalySince", "stuck"];

/** A checkpoint without what only the alerts' side may change: what the stream learned. */
function learned(m: StreamModel): unknown {
  const { scalars, arrays } = readState(m.toBytes());
  const s = scalars as Record<string, unknown>;
  for (const k of ALERT_SCALARS) delete s[k];
  // the learning guard's state, without whether the user's alert paused learning
  s.guard = (s.guard as unknown[]).slice(0, 5);
  return {
    scalars: s,
    arrays: Object.fromEntries(
      Object.entries(arrays).filter(([k]) => !ALERT_ARRAYS.includes(k)).map((
        [k, v],
      ) => [k, [...v]]),
    ),
  };
}

Deno.test("AlertFusion is a pass-through without a drift detector and holds no state", () => {
  const a = getPreset("default").anomaly;
  const budgetOpts = { falseAlertsPerWeek: 1, history: a.history, floor: Math.log(100) };
  const alerts = new AlertMachine(a), budget = new AlertBudget(budgetOpts);
  const off = new AlertFusion(false, a, budgetOpts, alerts, budget);
  assert.equal(off.state.length, 0);
  assert.equal(off.base, alerts);
  assert.equal(off.baseBudget, budget);
  const on = new AlertFusion(true, a, budgetOpts, alerts, budget);
  assert.equal(on.state.length, BUDGET_BINS, "the base budget's record; each ring is two numbers");
  assert.notEqual(on.base, alerts);
  assert.notEqual(on.baseBudget, budget);
  // the harmonic mean p-value of the three: ln(e^4 + e^9 + e^20) - ln 3, the
  // strongest less ln 3 (Bonferroni's) but for what the two others add
  on.update(4, 9, 20, 3, false, OPEN);
  const hmp = Math.log(Math.exp(4) + Math.exp(9) + Math.exp(20)) - Math.log(3);
  assert.ok(Math.abs(on.smoothed - hmp) < 1e-12, `${on.smoothed} ${hmp}`);
  assert.ok(on.fresh && on.onset > 0, "the first strong reading is an onset");
  on.update(4, 9, 20, 3, false, OPEN);
  assert.equal(on.onset, 0, "the same evidence again is no new onset");
});

Deno.test("the alerts fuse the three detectors by their harmonic mean p-value: agreement adds up to ln 3", () => {
  const a = getPreset("default").anomaly;
  const budgetOpts = { falseAlertsPerWeek: 1, history: a.history, floor: Math.log(100) };
  const fusion = () =>
    new AlertFusion(true, a, budgetOpts, new AlertMachine(a), new AlertBudget(budgetOpts));
  const ln3 = Math.log(3);
  // three detectors at one in e^10 each: p = 3 / (3 e^10), 10 nats (Bonferroni's: 10 - ln 3)
  const agree = fusion();
  agree.update(10, 10, 10, 3, false, OPEN);
  assert.ok(Math.abs(agree.smoothed - 10) < 1e-12, `${agree.smoothed}`);
  // one detector alone: Bonferroni's, within what the idle ones' p = 1 add
  const alone = fusion();
  alone.update(0, 0, 15, 3, false, OPEN);
  assert.ok(Math.abs(alone.smoothed - (15 - ln3)) < 1e-5, `${alone.smoothed}`);
  // two of three at 10.8 nats: 9.70 each by Bonferroni's, below the 10 the
  // alerts open at; together 10.8 + ln 2 - ln 3 = 10.39, above it
  const two = fusion();
  for (let i = 0; i < 400; i++) two.update(0, 0, 0, 3, false, OPEN);
  two.update(10.8, 10.8, 0, 3, false, OPEN);
  assert.ok(Math.abs(two.smoothed - (10.8 + Math.LN2 - ln3)) < 1e-4, `${two.smoothed}`);
  assert.ok(two.smoothed > OPEN && two.fresh && two.onset > 0);
});

Deno.test("a detector that gives no p-value yet is left out of the harmonic mean and of its weight", () => {
  // the drift detector before it scores (eleventh round: it counted as p = 1
  // in the sum, not in ln tests, up to ln 1.5 on a quiet stream's evidence)
  const a = getPreset("default").anomaly;
  const budgetOpts = { falseAlertsPerWeek: 1, history: a.history, floor: Math.log(100) };
  const f = new AlertFusion(true, a, budgetOpts, new AlertMachine(a), new AlertBudget(budgetOpts));
  const idle = { enabled: true, ready: false, evidence: 0 };
  const scoring = { enabled: true, ready: true, evidence: 0 };
  const [shape, drift, tests] = fusedEvidence(scoring, idle);
  assert.equal(tests, 2);
  f.update(0, shape, drift, tests, false, OPEN);
  assert.equal(f.smoothed, 0, "quiet: p = 1");
  f.update(6, 6, drift, tests, false, OPEN);
  assert.ok(Math.abs(f.smoothed - 6) < 1e-12, `two at 6 nats: ${f.smoothed}`);
  // a shape detector that does not run is left out the same way
  const [none, drift2, tests2] = fusedEvidence({ ...idle, enabled: false }, scoring);
  assert.equal(tests2, 2);
  f.update(6, none, 6, tests2, false, OPEN);
  assert.ok(Math.abs(f.smoothed - 6) < 1e-12, `residual and drift at 6 nats: ${f.smoothed}`);
  f.update(0, none, drift2, tests2, false, OPEN);
  assert.equal(f.smoothed, 0);
});

Deno.test("the drift detector's evidence at the threshold is fresh by its own rule, not held off by a residual burst", () => {
  const a = { ...getPreset("default").anomaly, refractory: 100 };
  const budgetOpts = { falseAlertsPerWeek: 1, history: a.history, floor: Math.log(100) };
  const f = new AlertFusion(true, a, budgetOpts, new AlertMachine(a), new AlertBudget(budgetOpts));
  const ln3 = Math.log(3);
  // a burst of the residuals, 15 nats: fresh
  f.update(15 + ln3, 0, 0, 3, false, OPEN);
  assert.ok(f.fresh);
  for (let i = 0; i < 40; i++) f.update(0, 0, 0, 3, false, OPEN);
  // the drift detector's echo below the threshold the alerts open at: not its own alert
  f.update(1, 0, 9 + ln3, 3, false, OPEN);
  assert.ok(!f.fresh, "9 nats of the drift detector's alone, below the 10 the alerts open at");
  assert.deepEqual([f.partPeak[DRIFT_PART], f.partPeakAt[DRIFT_PART]], [0, 0]);
  // 40 readings later the drift detector's 11 nats: below the burst, yet fresh
  // (a different incident), and the fused evidence is the detector's
  f.update(1, 0, 11 + ln3, 3, false, OPEN);
  assert.ok(Math.abs(f.smoothed - 11) < 1e-4, `${f.smoothed}`);
  assert.ok(f.fresh, "the drift detector's first report is fresh");
  assert.equal(f.onset, 0, "the onsets stay the fused evidence's: below the burst's");
  assert.ok(
    Math.abs(f.partPeak[DRIFT_PART] - 11) < 1e-12 && f.partPeakAt[DRIFT_PART] === 42,
    `${f.partPeak[DRIFT_PART]}`,
  );
  // held for the next readings (the detector's evidence holds for an hour): not fresh again
  for (let i = 0; i < 11; i++) {
    f.update(1, 0, 11 + ln3, 3, false, OPEN);
    assert.ok(!f.fresh, `repeat ${i}`);
  }
  // stronger drift evidence is fresh; the same again after the refractory period is too
  f.update(1, 0, 12 + ln3, 3, false, OPEN);
  assert.ok(f.fresh);
  for (let i = 0; i < 6; i++) f.update(0, 0, 0, 3, false, OPEN);
  // a second residual burst, 20 nats, holds the fused evidence's rule for 100 readings
  f.update(20 + ln3, 0, 0, 3, false, OPEN);
  assert.ok(f.fresh);
  for (let i = 0; i < 91; i++) f.update(0, 0, 0, 3, false, OPEN);
  f.update(1, 0, 11 + ln3, 3, false, OPEN);
  assert.ok(!f.fresh, "99 readings after the 12 nats: within its refractory period");
  f.update(1, 0, 11 + ln3, 3, false, OPEN);
  assert.ok(f.fresh, "100 readings after: by the drift detector's own rule alone");
  // warming up (quiet): never fresh
  f.update(1, 0, 30, 3, true, OPEN);
  assert.ok(!f.fresh);
});

Deno.test("with the drift detector on, a stream learns and forecasts exactly as with it off", () => {
  // the detector fused after the scorer: every reading's score (the forecast's
  // surprise), whether it was learned from, and at the end every learned part
  // of the stream are the same to the bit; only the alerts differ (the
  // detector opens an alert within two days of the change)
  for (const [kind, seed] of [["drift", 6], ["phase", 3]] as const) {
    const x = series(kind, seed);
    const off = new StreamModel({ id: "s", preset: small(0), columns: ["v"] });
    const on = new StreamModel({ id: "s", preset: small(6), columns: ["v"] });
    let differs = 0, opened = 0;
    for (let t = 0; t < x.length; t++) {
      const ts = T0 + t * FIVE_MIN;
      const a = off.observe(ts, [x[t]]), b = on.observe(ts, [x[t]]);
      assert.equal(b.learned, a.learned, `${kind}: learned at ${t}`);
      assert.equal(b.score, a.score, `${kind}: score at ${t}`);
      assert.equal(b.percentile, a.percentile, `${kind}: percentile at ${t}`);
      // until the detector scores it is no test looked at: the alerts'
      // evidence is the harmonic mean p-value of the other two, at most ln 2
      // above the scorer's Bonferroni's (eleventh round)
      const [la, lb] = [unitToEvidence(a.likelihood ?? 0), unitToEvidence(b.likelihood ?? 0)];
      if (!on.drift.ready) {
        assert.ok(lb >= la - 1e-9 && lb <= la + Math.LN2 + 1e-9, `${kind}: at ${t}`);
      }
      if (b.likelihood !== a.likelihood) differs++;
      if (b.event?.type === "opened" && t >= START && t < START + 2 * DAY) opened++;
    }
    assert.ok(on.drift.ready, `${kind}: the detector scored`);
    assert.ok(differs > 0, `${kind}: the alerts' evidence holds the detector's`);
    assert.ok(opened > 0, `${kind}: an alert opened within two days of the change`);
    assert.deepEqual(learned(on), learned(off), kind);
    const f = (m: StreamModel) => JSON.stringify([m.forecast(), m.stats()]);
    assert.equal(f(on), f(off), `${kind}: the forecasts`);
  }
});

Deno.test("alerts at the p-value's calibration leave what a stream learns alone", () => {
  // the alerts' own budget opens at ln(readings a week / budget) + margin;
  // the scorer's keeps the record, so every reading is scored and learned
  // alike and the alerts open sooner (eleventh round of issue 11)
  for (const [kind, seed] of [["drift", 6], ["phase", 3]] as const) {
    const x = series(kind, seed);
    const p = small(6);
    const record = new StreamModel({
      id: "s",
      preset: { ...p, anomaly: { ...p.anomaly, pValueMargin: undefined } },
      columns: ["v"],
    });
    const calib = new StreamModel({
      id: "s",
      preset: { ...p, anomaly: { ...p.anomaly, pValueMargin: 0 } },
      columns: ["v"],
    });
    let lower = 0;
    for (let t = 0; t < x.length; t++) {
      const ts = T0 + t * FIVE_MIN;
      const a = record.observe(ts, [x[t]]), b = calib.observe(ts, [x[t]]);
      assert.equal(b.learned, a.learned, `${kind}: learned at ${t}`);
      assert.equal(b.score, a.score, `${kind}: score at ${t}`);
      // the fused evidence (agreeing pairs open alerts at the threshold as
      // it stands, so the alerts' evidence may differ where they are fresh)
      assert.equal(calib.fusion.smoothed, record.fusion.smoothed, `${kind}: fused at ${t}`);
      if (calib.alerts.threshold < record.alerts.threshold) lower++;
    }
    const tau = unitToEvidence(calib.alerts.threshold);
    assert.ok(Math.abs(tau - Math.log(2016)) < 1e-6, `${kind}: ${tau} nats`);
    assert.ok(lower > 0, `${kind}: the young stream opens below the fixed threshold`);
    assert.deepEqual(learned(calib), learned(record), kind);
    const f = (m: StreamModel) => JSON.stringify([m.forecast(), m.stats()]);
    assert.equal(f(calib), f(record), `${kind}: the forecasts`);
  }
});

Deno.test("a drift stream's checkpoint from before the fusion restores and learns as before", () => {
  // a checkpoint without `fusionState` and `fusion` (the drift detector was
  // fused in the scorer then): the scorer's alerts and budget start as copies
  // of the stream's, the rings afresh; the stream goes on learning exactly
  // as the stream that took the checkpoint
  const x = series("drift", 4);
  const a = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  for (let t = 0; t < 10 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  const stored = readState(a.toBytes());
  delete stored.arrays.fusionState;
  delete (stored.scalars as Record<string, unknown>).fusion;
  const b = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.equal(b.fusion.base.state, b.alerts.state);
  assert.deepEqual([...b.fusion.baseBudget.bins], [...b.budget.bins]);
  assert.deepEqual([b.fusion.partPeak[DRIFT_PART], b.fusion.partPeakAt[DRIFT_PART]], [0, 0]);
  for (let t = 10 * DAY; t < 12 * DAY; t++) {
    const o = b.observe(T0 + t * FIVE_MIN, [x[t]]);
    assert.ok(o.likelihood !== null && o.likelihood >= 0 && o.likelihood < 1, `reading ${t}`);
  }
});

Deno.test("a checkpoint without the drift detector's own fresh reading restores, with one afresh", () => {
  // written before the drift detector had its own rule: eleven fusion
  // scalars, and the rings dense (the latest entries in their slots)
  const x = series("phase", 5);
  const a = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  for (let t = 0; t < 8 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  const stored = readState(a.toBytes());
  const fusion = (stored.scalars as Record<string, unknown[]>).fusion;
  assert.equal(fusion.length, 26);
  fusion.length = 11;
  delete stored.arrays.pairsState; // (the agreeing pairs' own record: the seventeenth round)
  const R = a.fusion.opts.refractory, { onsets, peaks } = a.fusion;
  const dense = new Float64Array(2 * R + BUDGET_BINS);
  dense[onsets.slot] = onsets.value;
  dense[R + peaks.slot] = peaks.value;
  dense.set(stored.arrays.fusionState, 2 * R);
  stored.arrays.fusionState = dense;
  const b = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.deepEqual([b.fusion.partPeak[DRIFT_PART], b.fusion.partPeakAt[DRIFT_PART]], [0, 0]);
  assert.equal(b.fusion.count, a.fusion.count);
  assert.ok(onsets.value > 0);
  assert.deepEqual([b.fusion.onsets, b.fusion.peaks], [onsets, peaks]);
  for (let t = 8 * DAY; t < 9 * DAY; t++) {
    const o = b.observe(T0 + t * FIVE_MIN, [x[t]]);
    assert.ok(o.likelihood !== null && o.likelihood >= 0 && o.likelihood < 1, `reading ${t}`);
  }
});

Deno.test("a checkpoint whose fusion state is damaged is refused, naming the field", () => {
  const x = series("phase", 2);
  const a = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  for (let t = 0; t < 2 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  const stored = readState(a.toBytes());
  const fusion = (stored.scalars as Record<string, unknown[]>).fusion;
  fusion[2] = "asleep";
  const b = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  assert.throws(
    () => b.restore(encodeState(stored.scalars, stored.arrays)),
    /'fusion\[2\]' must be one of warming_up, normal, anomaly: current value is "asleep"/,
  );
  fusion[2] = "normal";
  fusion[12] = -1;
  assert.throws(
    () => b.restore(encodeState(stored.scalars, stored.arrays)),
    /'fusion\[12\]' must be .*: current value is -1/,
  );
  fusion[12] = 0;
  fusion[16] = 500;
  assert.throws(
    () => b.restore(encodeState(stored.scalars, stored.arrays)),
    /'fusion\[16\]' must be an integer from 0 to 499 \(the refractory period\): current value is 500/,
  );
  fusion[16] = 0;
  fusion[13] = NaN;
  assert.throws(
    () => b.restore(encodeState(JSON.parse(JSON.stringify(stored.scalars)), stored.arrays)),
    /'fusion\[13\]' must be a finite number of at least 0: current value is null/,
  );
});

Deno.test("a checkpoint of commit 2b8441a, its fusion's rings dense, restores and continues bit for bit", async () => {
  // tests/fixtures/fusion_rings, made by tests/fixtures/make_fusion_rings_fixture.ts:
  // each ring (8 entries at the checkpoint) becomes its latest entry
  const dir = new URL("../fixtures/fusion_rings/", import.meta.url);
  const bytes = await Deno.readFile(new URL("state.bin", dir));
  const next: { readings: { ts: number; values: number[] }[]; observations: unknown[] } = JSON
    .parse(await Deno.readTextFile(new URL("next.json", dir)));
  const stored = readState(bytes);
  assert.equal(stored.arrays.fusionState.length, 2 * 500 + BUDGET_BINS, "the dense layout");
  const kind = kernelKind();
  useKernels("ts");
  const m = new StreamModel({ id: "rings", preset: small(6), columns: ["v"] });
  useKernels(kind);
  m.restore(bytes);
  assert.equal(m.fusion.state.length, BUDGET_BINS);
  const dense = stored.arrays.fusionState;
  assert.deepEqual([...m.fusion.state], [...dense.subarray(1000)], "the base budget's record");
  assert.ok(m.fusion.onsets.value > 0 && m.fusion.peaks.value > 0, "the rings held entries");
  assert.equal(m.fusion.onsets.value, Math.max(...dense.subarray(0, 500)));
  assert.equal(m.fusion.peaks.value, Math.max(...dense.subarray(500, 1000)));
  // since the tenth round the alerts fuse by the harmonic mean p-value, not
  // Bonferroni's: the fused likelihood, the onsets' values and the events'
  // evidence differ from 2b8441a's by design; everything else is bit for bit,
  // and the onsets and alerts of the refractory period after the restore
  // (which the restored rings decide) come at the same readings
  type Seen = {
    onset: number | null;
    likelihood?: number;
    event?: { type: string; ts: number } | null;
  };
  const rest = (o: Seen) => ({ ...o, likelihood: 0, onset: 0, event: 0 });
  const marks = (o: Seen) => [o.onset !== null && o.onset > 0, o.event?.type, o.event?.ts];
  let onsets = 0;
  next.readings.forEach((r, k) => {
    const o: Seen = JSON.parse(JSON.stringify(m.observe(r.ts, r.values)));
    const before = next.observations[k] as Seen;
    assert.deepEqual(rest(o), rest(before), `observation of reading ${k} after the restore`);
    if (k < 500) assert.deepEqual(marks(o), marks(before), `onset or alert at reading ${k}`);
    if (o.onset !== null && o.onset > 0) onsets++;
  });
  assert.ok(onsets > 0, "onsets after the restore, held off by the rings before them");
  // and the stream's own checkpoint carries the rings as two numbers each
  // (then the stuck runs' latest fresh reading, two more: the twelfth round;
  // the level shift's, two more: the thirteenth; agreeing pairs', two more:
  // the fifteenth; the pairs' own record's three: the seventeenth)
  const again = readState(m.toBytes());
  assert.equal(again.arrays.fusionState.length, BUDGET_BINS);
  assert.equal((again.scalars as Record<string, unknown[]>).fusion.length, 26);
});

/** A fusion at the default preset's settings, agreeing pairs on or off, its alerts opening at 9.61 nats. */
function pairsFusion(agreeingPairs: boolean): AlertFusion {
  const a = { ...getPreset("default").anomaly, agreeingPairs };
  const budgetOpts = { falseAlertsPerWeek: 1, history: a.history, floor: Math.log(100) };
  const f = new AlertFusion(true, a, budgetOpts, new AlertMachine(a), new AlertBudget(budgetOpts));
  for (let i = 0; i < 400; i++) f.update(0, 0, NaN, 2, false, 9.61);
  return f;
}

Deno.test("two detectors that agree open an alert by Fisher's method, the fused evidence and onset unmoved", () => {
  // network_in of the synthetic set (the fifteenth round of issue 11): the
  // residuals at 9.76 nats and the shape detector at 7.59, the drift
  // detector not yet scoring: their harmonic mean, ln(e^9.76 + e^7.59) -
  // ln 2 = 9.18, is under the 9.61 the alerts open at; by Fisher's method
  // -ln P(Γ(2, 1) >= 17.35) = 14.44, less ln 2 for a second look: 13.75
  const on = pairsFusion(true), off = pairsFusion(false);
  for (const f of [on, off]) f.update(9.76, 7.59, NaN, 2, false, 9.61);
  assert.ok(Math.abs(on.smoothed - 9.18) < 0.01, `the fused evidence: ${on.smoothed}`);
  assert.ok(
    Math.abs(on.part[PAIRS_PART] - 13.75) < 0.01,
    `the pairs' part: ${on.part[PAIRS_PART]}`,
  );
  assert.ok(Math.abs(unitToEvidence(on.likelihood) - 13.75) < 0.01, "the alerts' evidence");
  assert.ok(on.fresh, "fresh by the pairs' own rule");
  assert.deepEqual([on.partPeak[PAIRS_PART], on.partPeakAt[PAIRS_PART]], [
    on.part[PAIRS_PART],
    400,
  ]);
  // without the part: the fused evidence and the onset are the same, the alerts' evidence is the fused one
  assert.equal(off.smoothed, on.smoothed);
  assert.equal(off.onset, on.onset);
  assert.equal(off.part[PAIRS_PART], 0);
  assert.equal(off.likelihood, evidenceToUnit(off.smoothed));
  // one detector alone: its pair stays under the threshold, the alerts' evidence is the fused one
  const alone = pairsFusion(true);
  alone.update(9.76, 0, NaN, 2, false, 9.61);
  assert.ok(alone.part[PAIRS_PART] < 9.61, `one detector's pair: ${alone.part[PAIRS_PART]}`);
  assert.equal(alone.likelihood, evidenceToUnit(alone.smoothed));
  // the same agreement again within the refractory period opens nothing more
  on.update(9.76, 7.59, NaN, 2, false, 9.61);
  assert.ok(!on.fresh, "not fresh: no larger than the refractory period's");
});

Deno.test("with the drift detector scoring, the pairs' part is the three pairs' harmonic mean less ln 2", () => {
  const f = pairsFusion(true);
  const [r, s, d] = [6, 7, 8];
  f.update(r, s, d, 3, false, 9.61);
  const fisher = (a: number, b: number) => a + b - Math.log(1 + a + b);
  const pairs = Math.log(
    Math.exp(fisher(r, s)) + Math.exp(fisher(r, d)) + Math.exp(fisher(s, d)),
  ) - Math.log(3) - Math.LN2;
  assert.ok(Math.abs(f.part[PAIRS_PART] - pairs) < 1e-9, `${f.part[PAIRS_PART]} against ${pairs}`);
  assert.ok(f.fresh && Math.abs(unitToEvidence(f.likelihood) - pairs) < 1e-6);
});

Deno.test("a checkpoint without agreeing pairs' fresh reading (21 fusion scalars) restores with it at zero", () => {
  const x = series("phase", 5);
  const a = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  for (let t = 0; t < 8 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  a.fusion.partPeak[PAIRS_PART] = 12.5;
  a.fusion.partPeakAt[PAIRS_PART] = a.fusion.count - 1;
  const stored = readState(a.toBytes());
  const fusion = (stored.scalars as Record<string, unknown[]>).fusion;
  assert.equal(fusion.length, 26); // (the pairs' own record's three last: the seventeenth round)
  assert.deepEqual(fusion.slice(21, 23), [12.5, a.fusion.count - 1]);
  fusion.length = 21;
  const b = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.deepEqual([b.fusion.partPeak[PAIRS_PART], b.fusion.partPeakAt[PAIRS_PART]], [0, 0]);
  assert.equal(b.fusion.count, a.fusion.count);
  assert.deepEqual([...b.fusion.partPeak.subarray(0, PAIRS_PART)], [
    ...a.fusion.partPeak.subarray(0, PAIRS_PART),
  ]);
  for (let t = 8 * DAY; t < 9 * DAY; t++) {
    const ts = T0 + t * FIVE_MIN;
    const o = b.observe(ts, [x[t]]), p = a.observe(ts, [x[t]]);
    assert.equal(o.score, p.score, `what is learned is the same: reading ${t}`);
  }
  // a checkpoint of its own restores the two exactly; a damaged one is refused, naming the field
  const c = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  c.restore(a.toBytes());
  assert.deepEqual(
    [c.fusion.partPeak[PAIRS_PART], c.fusion.partPeakAt[PAIRS_PART]],
    [a.fusion.partPeak[PAIRS_PART], a.fusion.partPeakAt[PAIRS_PART]],
  );
  const bad = readState(a.toBytes());
  (bad.scalars as Record<string, unknown[]>).fusion[21] = -1;
  const d = new StreamModel({ id: "r", preset: small(6), columns: ["v"] });
  assert.throws(() => d.restore(encodeState(bad.scalars, bad.arrays)), /fusion\[21\]/);
});
