import assert from "node:assert/strict";
import { AlertBudget } from "../../src/stream/budget.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { FIVE_MIN, T0 } from "./_series.ts";

const WEEK = 2016; // readings of 5 minutes

/** A budget fed calibrated evidence: -ln of a uniform p-value per reading, for `weeks`. */
function calibrated(falseAlertsPerWeek: number, weeks: number, seed = 1): AlertBudget {
  const b = new AlertBudget({ falseAlertsPerWeek, history: 1e9, floor: Math.log(100) });
  const u = mulberry32(seed);
  for (let n = 0; n < weeks * WEEK; n++) b.update(-Math.log(1 - u()));
  return b;
}

Deno.test("AlertBudget keeps the fixed threshold until it has half a week of record", () => {
  const b = calibrated(1, 0.4);
  assert.equal(b.threshold(FIVE_MIN, 11.5), 11.5);
  assert.equal(new AlertBudget({ falseAlertsPerWeek: 0, history: 1e9, floor: 1 }).enabled, false);
  assert.equal(calibrated(0, 4).threshold(FIVE_MIN, 11.5), 11.5, "no budget: the fixed threshold");
  // whether the record sets the threshold (a young stream's records need a surprise: scoring.ts)
  assert.equal(b.sets(FIVE_MIN), false, "0.4 weeks of record");
  assert.equal(calibrated(1, 0.6).sets(FIVE_MIN), true, "0.6 weeks of record");
  assert.equal(calibrated(0, 4).sets(FIVE_MIN), false, "no budget");
  assert.equal(calibrated(1, 4).sets(NaN), false, "no sampling period yet");
});

Deno.test("AlertBudget on calibrated evidence sets the threshold at ln(readings per week / budget)", () => {
  // a calibrated λ crosses level L at about e^-L per reading: one a week at ln 2016 = 7.61
  for (const [budget, weeks] of [[1, 4], [1, 10], [4, 10], [1, 40]] as const) {
    const tau = calibrated(budget, weeks).threshold(FIVE_MIN, 11.5);
    const want = Math.log(WEEK / budget);
    assert.ok(
      Math.abs(tau - want) < 0.6,
      `budget ${budget}, ${weeks} weeks: ${tau} against ${want}`,
    );
  }
  // hourly readings: 168 a week, so one a week is a lower level
  const b = new AlertBudget({ falseAlertsPerWeek: 1, history: 1e9, floor: 0 });
  const u = mulberry32(3);
  for (let n = 0; n < 168 * 30; n++) b.update(-Math.log(1 - u()));
  const tau = b.threshold(3_600_000, 11.5);
  assert.ok(Math.abs(tau - Math.log(168)) < 0.6, `hourly: ${tau}`);
});

Deno.test("AlertBudget raises the threshold of a stream whose evidence runs heavier than calibrated", () => {
  // the same p-values, their evidence doubled: crossings of L now come at e^-L/2
  const b = new AlertBudget({ falseAlertsPerWeek: 1, history: 1e9, floor: 0 });
  const u = mulberry32(1);
  for (let n = 0; n < 10 * WEEK; n++) b.update(-2 * Math.log(1 - u()));
  // with a fixed threshold above it (30 nats) the record's own level shows
  const tau = b.threshold(FIVE_MIN, 30);
  assert.ok(
    Math.abs(tau - 2 * Math.log(WEEK)) < 1.2,
    `heavy: ${tau} against ${2 * Math.log(WEEK)}`,
  );
  // but never deafer than the fixed threshold: at one in 100,000 it is capped there
  assert.equal(b.threshold(FIVE_MIN, 11.5), 11.5);
});

Deno.test("AlertBudget never sets a threshold above the fixed one, however short or heavy its record", () => {
  const b = new AlertBudget({ falseAlertsPerWeek: 1, history: 1e9, floor: 0 });
  const u = mulberry32(2);
  for (let n = 0; n < 0.6 * WEEK; n++) {
    b.update(-4 * Math.log(1 - u()));
    assert.ok(b.threshold(FIVE_MIN, 11.5) <= 11.5, `n=${n}: ${b.threshold(FIVE_MIN, 11.5)}`);
  }
  // the short record's extrapolation alone is far above it
  assert.ok(b.threshold(FIVE_MIN, 100) > 20, `uncapped: ${b.threshold(FIVE_MIN, 100)}`);
});

Deno.test("AlertBudget at the p-value's calibration opens at ln(readings per week / budget) + margin, whatever its record", () => {
  const opts = { falseAlertsPerWeek: 1, history: 1e9, floor: Math.log(100) };
  const fresh = new AlertBudget({ ...opts, pValueMargin: 0 });
  // from the first reading: a valid p-value crosses ln(W / B) at the budget's rate
  assert.ok(Math.abs(fresh.threshold(FIVE_MIN, 11.5) - Math.log(WEEK)) < 1e-12);
  assert.ok(Math.abs(fresh.threshold(3_600_000, 11.5) - Math.log(168)) < 1e-12, "hourly");
  const two = new AlertBudget({ ...opts, pValueMargin: 2 });
  assert.ok(Math.abs(two.threshold(FIVE_MIN, 11.5) - (Math.log(WEEK) + 2)) < 1e-12, "margin 2");
  // never above the fixed threshold, never below the floor
  assert.equal(two.threshold(FIVE_MIN, 9), 9);
  assert.equal(fresh.threshold(86_400_000, 11.5), Math.log(100), "daily: ln 7 below the floor");
  // a record whose evidence runs heavy does not move it (the record would: 11.5)
  const u = mulberry32(1);
  for (let n = 0; n < 4 * WEEK; n++) fresh.update(-4 * Math.log(1 - u()));
  assert.ok(Math.abs(fresh.threshold(FIVE_MIN, 11.5) - Math.log(WEEK)) < 1e-12);
  // no budget: the fixed threshold
  const none = new AlertBudget({ ...opts, falseAlertsPerWeek: 0, pValueMargin: 0 });
  assert.equal(none.threshold(FIVE_MIN, 11.5), 11.5);
  // whether the record sets the threshold (the scorer's young-stream rule) is the record's alone
  assert.equal(fresh.sets(FIVE_MIN), true);
  assert.equal(new AlertBudget({ ...opts, pValueMargin: 0 }).sets(FIVE_MIN), false);
});

Deno.test("a held AlertBudget at the p-value's calibration opens no lower than its record's threshold until the record holds a week", () => {
  const opts = { falseAlertsPerWeek: 1, history: 1e9, floor: Math.log(100) };
  /** A budget at margin `m` (none: the record's), `held` or not, fed `n` readings of evidence, `k` times calibrated. */
  const fed = (m: number | undefined, held: boolean, n: number, k = 1) => {
    const b = new AlertBudget({ ...opts, pValueMargin: m });
    b.held = held;
    const u = mulberry32(1);
    for (let i = 0; i < n; i++) b.update(-k * Math.log(1 - u()));
    return b;
  };
  // no record, or less than half a week of it: the fixed threshold (not held: ln(W / B))
  assert.equal(fed(0, true, 0).threshold(FIVE_MIN, 11.5), 11.5, "no record");
  assert.equal(fed(2, true, 0.4 * WEEK).threshold(FIVE_MIN, 11.5), 11.5, "0.4 weeks");
  assert.ok(Math.abs(fed(0, false, 0).threshold(FIVE_MIN, 11.5) - Math.log(WEEK)) < 1e-12);
  // from half a week the record's own threshold where it is above the level
  for (const k of [1, 1.5, 4]) {
    const record = fed(undefined, false, 0.8 * WEEK, k).threshold(FIVE_MIN, 11.5);
    const held = fed(0, true, 0.8 * WEEK, k);
    const tau = held.threshold(FIVE_MIN, 11.5);
    assert.equal(tau, Math.max(Math.log(WEEK), record), `0.8 weeks, ${k} times: ${tau}`);
    assert.ok(k === 1 || tau > Math.log(WEEK) + 1, `0.8 weeks, ${k} times: ${tau}`);
    assert.equal(held.held, true, "still held");
    // not held, the same record does not move it
    const free = fed(0, false, 0.8 * WEEK, k).threshold(FIVE_MIN, 11.5);
    assert.ok(Math.abs(free - Math.log(WEEK)) < 1e-12, `0.8 weeks, ${k} times, not held: ${free}`);
  }
  // from a week of record on ln(W / B) + margin, and no longer held
  const heavy = fed(2, true, WEEK + 1, 4);
  assert.ok(Math.abs(heavy.threshold(FIVE_MIN, 11.5) - (Math.log(WEEK) + 2)) < 1e-12);
  assert.equal(heavy.held, false, "a week of record clears it");
  // hourly: 168 readings a week, so a week of record is 168 readings
  assert.equal(fed(0, true, 80).threshold(3_600_000, 11.5), 11.5, "hourly, 80 readings");
  const hourly = fed(0, true, 170);
  assert.ok(Math.abs(hourly.threshold(3_600_000, 11.5) - Math.log(168)) < 1e-12, "hourly");
  assert.equal(hourly.held, false);
});

/** The default preset with a small LSTM, and a budget. */
function noisePreset(falseAlertsPerWeek: number): Preset {
  const p = getPreset("default");
  return {
    ...p,
    model: { ...p.model, hidden: 8 },
    anomaly: { ...p.anomaly, falseAlertsPerWeek },
  };
}

for (const budget of [1, 3]) {
  Deno.test(`on pure noise every 5 minutes for 10 weeks, a budget of ${budget} a week holds`, () => {
    const s = new StreamModel({ id: "n", preset: noisePreset(budget), columns: ["v"] });
    const g = gaussian(mulberry32(1));
    const weeks = 10;
    let opened = 0, continuing = 0;
    for (let t = 0; t < weeks * WEEK; t++) {
      const o = s.observe(T0 + t * FIVE_MIN, [10 + g()]);
      if (o.event?.type !== "opened") continue;
      opened++;
      // an alert below the fixed threshold (one in 100,000) leaves learning alone
      const below = o.likelihood! < s.preset.anomaly.threshold;
      assert.equal(o.event.learning, below, `t=${t}: ${o.event.message}`);
      assert.equal(o.learned, below, `t=${t}`);
      assert.match(o.event.message, below ? /; learning continues$/ : /; learning paused$/);
      if (below) continuing++;
    }
    assert.ok(opened <= budget * weeks, `${opened} false alerts in ${weeks} weeks`);
    assert.ok(continuing > 0, "some alerts opened below the fixed threshold");
    // and the budget is what sets the level: below the fixed one in nats
    const tau = -Math.log(1 - s.alerts.threshold);
    assert.ok(tau < Math.log(1e5), `threshold ${tau} nats`);
  });
}
