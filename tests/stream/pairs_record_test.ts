import assert from "node:assert/strict";
import { PairsRecord } from "../../src/stream/pairs_record.ts";
import { AlertFusion, PAIRS_PART } from "../../src/stream/alert_fusion.ts";
import { AlertMachine } from "../../src/stream/anomaly.ts";
import { AlertBudget } from "../../src/stream/budget.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { encodeState, readState } from "../../src/stream/state.ts";
import { mulberry32 } from "../../src/model/rng.ts";
import { FIVE_MIN, room, T0 } from "./_series.ts";

/** The alerts' threshold of a 5-minute stream at a budget of one a week: ln 2016 + 2 nats. */
const TAU = Math.log(2016) + 2;
/** The fixed threshold, one in 100,000. */
const FIXED = Math.log(100_000);
const OPTS = { falseAlertsPerWeek: 1, history: 20_000, floor: Math.log(100) };

/** A record fed `n` readings of evidence `scale`·(-ln U), U uniform: a valid p-value at scale 1. */
function fed(n: number, scale: number, seed = 1): PairsRecord {
  const rec = new PairsRecord(OPTS);
  const u = mulberry32(seed);
  for (let i = 0; i < n; i++) rec.update(-scale * Math.log(1 - u()));
  return rec;
}

Deno.test("PairsRecord keeps the alerts' threshold until its record holds half a week", () => {
  const young = fed(1000, 1.3); // under 1,008 readings: half a week at one per 5 minutes
  young.raise(FIVE_MIN, TAU, FIXED);
  assert.equal(young.bar, TAU);
  const grown = fed(1100, 1.3);
  grown.raise(FIVE_MIN, TAU, FIXED);
  assert.ok(grown.bar > TAU + 1, `half a week of a heavy tail raises the bar: ${grown.bar}`);
  // a period not known yet: the alerts' threshold
  grown.raise(0, TAU, FIXED);
  assert.equal(grown.bar, TAU);
});

Deno.test("PairsRecord keeps τ for valid pairs and raises it as far as their tail is heavier", () => {
  // valid: upcrossings of x at about e^-x a reading, so the level crossed at e^-τ is τ
  const valid = fed(40_000, 1);
  valid.raise(FIVE_MIN, TAU, FIXED);
  assert.ok(valid.bar < TAU + 0.5, `valid pairs: ${valid.bar} against τ ${TAU}`);
  // 1.1 times as heavy: e^-τ is crossed at 1.1 τ
  const heavy = fed(40_000, 1.1);
  heavy.raise(FIVE_MIN, TAU, FIXED);
  assert.ok(Math.abs(heavy.bar - 1.1 * TAU) < 0.5, `heavier pairs: ${heavy.bar}, ${1.1 * TAU}`);
  // never above the fixed threshold
  const heavier = fed(40_000, 2);
  heavier.raise(FIVE_MIN, TAU, FIXED);
  assert.equal(heavier.bar, FIXED);
  // and never below τ, for pairs lighter than valid
  const light = fed(40_000, 0.5);
  light.raise(FIVE_MIN, TAU, FIXED);
  assert.equal(light.bar, TAU);
});

/** A fusion with the pairs' own record, its alerts warmed up and open at τ. */
function recordFusion(): { f: AlertFusion; alerts: AlertMachine } {
  const a = { ...getPreset("default").anomaly, agreeingPairs: true, pairsRecord: true };
  const alerts = new AlertMachine(a);
  alerts.state = "normal";
  const f = new AlertFusion(true, a, OPTS, alerts, new AlertBudget(OPTS));
  return { f, alerts };
}

Deno.test("the pairs' record counts no reading inside an open alert, and opens them at its bar", () => {
  const { f, alerts } = recordFusion();
  const rec = f.pairsRecord!;
  const u = mulberry32(3);
  // a week of the residuals and the shape detector agreeing more than a valid pair would
  for (let i = 0; i < 2016; i++) {
    f.update(
      -1.6 * Math.log(1 - u()),
      -1.6 * Math.log(1 - u()),
      NaN,
      2,
      false,
      TAU,
      0,
      0,
      FIVE_MIN,
    );
    f.learnPairs();
  }
  assert.ok(rec.record.readings > 1900, `the record's readings: ${rec.record.readings}`);
  // inside an open alert nothing is counted
  alerts.state = "anomaly";
  const before = [rec.record.readings, ...rec.record.bins];
  f.update(12, 9, NaN, 2, false, TAU, 0, 0, FIVE_MIN);
  f.learnPairs();
  assert.deepEqual([rec.record.readings, ...rec.record.bins], before);
  alerts.state = "normal";
  // network_in's agreement (the pairs' part 13.75 nats) is above τ but under this stream's bar
  // only if the bar rose: the stream's pairs agree by dependence
  f.update(0, 0, NaN, 2, false, TAU, 0, 0, FIVE_MIN);
  const part = () => f.part[PAIRS_PART];
  f.update(7.5, 5.5, NaN, 2, false, TAU, 0, 0, FIVE_MIN);
  assert.ok(
    part() > TAU && part() < FIXED,
    `the part between τ and the fixed threshold: ${part()}`,
  );
  rec.raise(FIVE_MIN, TAU, FIXED);
  assert.ok(rec.bar > part(), `the bar ${rec.bar} above the part ${part()}`);
  assert.ok(!f.fresh, "not fresh by the pairs' rule under their bar");
  f.update(12, 12, NaN, 2, false, TAU, 0, 0, FIVE_MIN); // 20.1: above the week's and the bar
  assert.ok(f.fresh, "fresh above the bar");
  // the same agreement on a stream without the record opens at τ
  const plain = new AlertFusion(
    true,
    { ...getPreset("default").anomaly, agreeingPairs: true, pairsRecord: false },
    OPTS,
    alerts,
    new AlertBudget(OPTS),
  );
  plain.update(0, 0, NaN, 2, false, TAU, 0, 0, FIVE_MIN);
  plain.update(7.5, 5.5, NaN, 2, false, TAU, 0, 0, FIVE_MIN);
  assert.ok(plain.fresh, "fresh at τ without the record");
  assert.equal(plain.pairsRecord, null);
});

/** A small preset with the pairs' own record. */
function recordPreset(): Preset {
  const p = getPreset("default");
  return {
    ...p,
    model: { ...p.model, hidden: 8, window: 8 },
    horizons: 6,
    anomaly: { ...p.anomaly, warmup: 100, agreeingPairs: true, pairsRecord: true },
  };
}

Deno.test("the pairs' record is in the checkpoint; one written before it restores an empty record", () => {
  const x = room(5 * 288, 7, 0.3);
  const a = new StreamModel({ id: "r", preset: recordPreset(), columns: ["v"] });
  for (let t = 0; t < 4 * 288; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  const rec = a.fusion.pairsRecord!.record;
  assert.ok(rec.readings > 500, `the record counted: ${rec.readings}`);
  const stored = readState(a.toBytes());
  const fusion = (stored.scalars as Record<string, unknown[]>).fusion;
  assert.equal(fusion.length, 26);
  assert.deepEqual(fusion.slice(23), [rec.readings, rec.pending, rec.last]);
  assert.deepEqual([...stored.arrays.pairsState], [...rec.bins]);
  // its own checkpoint restores the record exactly
  const b = new StreamModel({ id: "r", preset: recordPreset(), columns: ["v"] });
  b.restore(a.toBytes());
  assert.deepEqual([...b.fusion.pairsRecord!.record.bins], [...rec.bins]);
  assert.equal(b.fusion.pairsRecord!.record.readings, rec.readings);
  // one written before the record (23 fusion scalars, no pairsState): an empty record
  fusion.length = 23;
  delete stored.arrays.pairsState;
  const c = new StreamModel({ id: "r", preset: recordPreset(), columns: ["v"] });
  c.restore(encodeState(stored.scalars, stored.arrays));
  const empty = c.fusion.pairsRecord!.record;
  assert.deepEqual([empty.readings, empty.pending, empty.last], [0, 0, 0]);
  assert.ok(empty.bins.every((v) => v === 0));
  assert.equal(c.fusion.count, a.fusion.count);
  for (let t = 4 * 288; t < 5 * 288; t++) {
    const ts = T0 + t * FIVE_MIN;
    assert.equal(c.observe(ts, [x[t]]).score, a.observe(ts, [x[t]]).score, `reading ${t}`);
  }
  assert.ok(empty.readings > 0, "the record counts again");
  // a stream without the record reads past one
  const d = new StreamModel({
    id: "r",
    preset: { ...recordPreset(), anomaly: { ...recordPreset().anomaly, pairsRecord: false } },
    columns: ["v"],
  });
  d.restore(a.toBytes());
  assert.equal(d.fusion.pairsRecord, null);
  // a damaged record is refused, naming the field
  const bad = readState(a.toBytes());
  (bad.scalars as Record<string, unknown[]>).fusion[23] = -1;
  const e = new StreamModel({ id: "r", preset: recordPreset(), columns: ["v"] });
  assert.throws(() => e.restore(encodeState(bad.scalars, bad.arrays)), /fusion\[23\]/);
});
