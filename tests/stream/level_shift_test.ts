import assert from "node:assert/strict";
import {
  levelRestart,
  LevelShift,
  levelStateLength,
  MIN_EXCURSIONS,
} from "../../src/stream/level_shift.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { AlertFusion, LEVEL_PART } from "../../src/stream/alert_fusion.ts";
import { AlertMachine, AnomalyScorer, evidenceToUnit } from "../../src/stream/anomaly.ts";
import { AlertBudget } from "../../src/stream/budget.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { encodeState, readState } from "../../src/stream/state.ts";
import { FIVE_MIN, T0 } from "./_series.ts";

const OPTS = { allowance: 0.5, history: 20_000, warmup: 300, restart: Math.log(1e5) };

/** Feeds residuals (one per target per reading) to `d`, all learned; returns the evidence. */
function run(d: LevelShift, u: number[][]): number[] {
  return u.map((row) => {
    row.forEach((v, j) => (d.u[j] = v));
    d.update(true);
    return d.evidence;
  });
}

/** n readings of calibrated residuals of J targets (σ 0.6: a 90% interval's half-width is 1.645σ). */
function noise(seed: number, n: number, J = 1, shift = 0): number[][] {
  const g = gaussian(mulberry32(seed));
  return Array.from({ length: n }, () => Array.from({ length: J }, () => shift + 0.6 * g()));
}

Deno.test("LevelShift: residuals of one sign, each unremarkable, add up to strong evidence", () => {
  const d = new LevelShift(1, OPTS);
  const quiet = run(d, noise(1, 4000));
  assert.ok(quiet.slice(0, 300).every((e) => e === 0), "nothing during the warm-up");
  const max = Math.max(...quiet);
  assert.ok(max > 0 && max < 9, `calibrated noise: at most ${max} nats`);
  // a shift of one half-width: every residual inside the 90% interval most of the time
  const ev = run(d, noise(2, 60, 1, 1));
  const at = ev.findIndex((e) => e >= OPTS.restart);
  assert.ok(
    at > 0 && at < 60,
    `reached the restart at reading ${at}: ${ev.map((e) => e.toFixed(1))}`,
  );
  // the sums restarted: the next reading's evidence is small again
  assert.ok(ev[at + 1] < 6, `after the restart: ${ev[at + 1]}`);
});

Deno.test("LevelShift: its evidence is the rate at which the stream's excursions reach the sum", () => {
  const d = new LevelShift(1, OPTS);
  run(d, noise(3, 20_000));
  // readings counted (forgetting over `history`) and excursions learned
  const [N, E, total] = d.state;
  assert.ok(E > 1000 && total >= E - 1e-6, `excursions ${E}, histogram ${total}`);
  // a sum at the largest excursion's peak: about ln(2N / E) + ln(E) = ln 2N nats
  let peak = 0;
  d.tail.bins.forEach((v, i) => (peak = v > 0 ? i : peak));
  const e = d.tail.evidence(Math.exp(-12 + 0.25 * peak)) + Math.log((2 * N + 1) / (E + 1));
  assert.ok(Math.abs(e - Math.log(2 * N)) < 2, `${e} against ln 2N = ${Math.log(2 * N)}`);
});

Deno.test("LevelShift: an excursion inside an anomaly and one cut by a gap are not learned", () => {
  const d = new LevelShift(1, OPTS);
  run(d, noise(4, 2000));
  const before = d.state[1];
  // a long excursion, its readings not learned
  for (let t = 0; t < 40; t++) {
    d.u[0] = 0.8;
    d.update(false);
  }
  d.u[0] = -5; // the excursion ends (the down sum starts: a new one)
  d.update(true);
  assert.ok(d.state[1] - before < 1, "the unlearned excursion is not counted");
  for (let t = 0; t < 10; t++) {
    d.u[0] = 1;
    d.update(true);
  }
  d.resetRuns();
  d.u[0] = 0;
  d.update(true);
  assert.equal(d.evidence, 0, "a gap ends the excursion: nothing left to score");
  assert.equal(d.state.length, levelStateLength(1));
});

Deno.test("LevelShift: over several targets the evidence is the largest less ln 2J", () => {
  const one = new LevelShift(1, OPTS), two = new LevelShift(2, OPTS);
  const a = noise(5, 3000), b = noise(6, 3000);
  for (let t = 0; t < 3000; t++) {
    one.u[0] = two.u[0] = a[t][0];
    two.u[1] = b[t][0];
    one.update(true);
    two.update(true);
  }
  assert.ok(one.tail.total >= MIN_EXCURSIONS);
  // the second target quiet (0: no excursion), the first shifted
  for (let k = 0; k < 6; k++) {
    one.u[0] = two.u[0] = 1.2;
    two.u[1] = 0;
    one.update(true);
    two.update(true);
  }
  assert.ok(one.evidence > 4, `${one.evidence}`);
  // (the record is shared: the two targets' excursions against 2N target-readings)
  assert.ok(
    Math.abs(two.evidence - (one.evidence - Math.LN2)) < 1,
    `${two.evidence} ${one.evidence}`,
  );
});

Deno.test("LevelShift: off (allowance 0) holds no state and scores nothing", () => {
  const d = new LevelShift(1, { ...OPTS, allowance: 0 });
  assert.equal(d.state.length, 0);
  assert.ok(run(d, noise(7, 2000, 1, 1)).every((e) => e === 0));
});

const DAY = 288;

/** A small stream preset (LSTM H = 8), the drift detector on, the level-shift evidence at `k`. */
function small(k: number): Preset {
  const p = getPreset("default");
  return {
    ...p,
    model: { ...p.model, hidden: 8, window: 8 },
    horizons: 6,
    anomaly: { ...p.anomaly, levelShift: { allowance: k } },
  };
}

/** Days of a daily cycle every 5 minutes with weather and noise. */
function cycle(seed: number, days: number): number[] {
  const g = gaussian(mulberry32(seed));
  let weather = 0;
  return Array.from({ length: days * DAY }, (_, t) => {
    weather = 0.9 * weather + 0.2 * g();
    return 20 + 2 * Math.sin((2 * Math.PI * t) / DAY) + weather + 0.3 * g();
  });
}

Deno.test("a checkpoint without the level-shift evidence restores with it afresh; a damaged one is refused", () => {
  const x = cycle(3, 9);
  const a = new StreamModel({ id: "r", preset: small(0.5), columns: ["v"] });
  for (let t = 0; t < 8 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  assert.ok(a.levelShift.state[1] > MIN_EXCURSIONS, "the stream learned its excursions");
  // the bytes per stream: 99 + 6·J doubles
  assert.equal(a.levelShift.state.byteLength, 840);
  // a checkpoint written before it: no `levelShiftState`, 19 fusion scalars
  const stored = readState(a.toBytes());
  delete stored.arrays.levelShiftState;
  const fusion = (stored.scalars as Record<string, unknown[]>).fusion;
  assert.equal(fusion.length, 26); // (26 since the pairs' own record, the seventeenth round)
  fusion.length = 19;
  delete stored.arrays.pairsState;
  const b = new StreamModel({ id: "r", preset: small(0.5), columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.ok(b.levelShift.state.every((v) => v === 0), "the sums and the record start afresh");
  assert.deepEqual([b.fusion.partPeak[LEVEL_PART], b.fusion.partPeakAt[LEVEL_PART]], [0, 0]);
  assert.equal(b.fusion.count, a.fusion.count);
  for (let t = 8 * DAY; t < 9 * DAY; t++) {
    const ts = T0 + t * FIVE_MIN;
    const o = b.observe(ts, [x[t]]), p = a.observe(ts, [x[t]]);
    assert.equal(o.score, p.score, `what is learned is the same: reading ${t}`);
  }
  // a checkpoint of its own restores exactly
  const c = new StreamModel({ id: "r", preset: small(0.5), columns: ["v"] });
  c.restore(a.toBytes());
  assert.deepEqual([...c.levelShift.state], [...a.levelShift.state]);
  // damaged: a negative count, an excursion's flag neither 0 nor 1
  for (const [i, v] of [[1, -1], [101, 2], [104, 0.5]]) {
    const bad = readState(a.toBytes());
    bad.arrays.levelShiftState[i] = v;
    const d = new StreamModel({ id: "r", preset: small(0.5), columns: ["v"] });
    assert.throws(
      () => d.restore(encodeState(bad.scalars, bad.arrays)),
      new RegExp(`levelShiftState\\[${i}\\]`),
    );
  }
});

/**
 * The anomaly path as scoring.ts runs it on residuals u (one target): the
 * scorer on |u|, the level-shift evidence at allowance `k` (0: off), the
 * fusion and the alerts at a fixed 9.6 nats (one false alert a week at 5
 * minutes, ln 2016 + 2); returns the readings an alert opened at.
 */
function alertsOn(u: number[], k: number): number[] {
  const a = getPreset("default").anomaly;
  const scorer = new AnomalyScorer(a), alerts = new AlertMachine(a);
  const level = new LevelShift(1, {
    allowance: k,
    history: a.history,
    warmup: 300,
    restart: levelRestart(a.threshold),
  });
  const budgetOpts = { falseAlertsPerWeek: 1, history: a.history, floor: Math.log(100) };
  const fusion = new AlertFusion(true, a, budgetOpts, alerts, new AlertBudget(budgetOpts));
  alerts.threshold = evidenceToUnit(9.6);
  const opened: number[] = [];
  u.forEach((x, t) => {
    scorer.update(Math.abs(x), 0, true, t < 300, 0, 2);
    level.u[0] = x;
    level.update(true);
    fusion.update(scorer.residual, 0, NaN, 2, t < 300, 9.6, 0, level.evidence);
    const f = fusion.fresh ? fusion.likelihood : 0;
    if (t < 300) alerts.step(0);
    else if (alerts.step(fusion.likelihood, f) === "opened") opened.push(t);
  });
  return opened;
}

Deno.test("a level shift the residuals miss opens an alert with the level-shift evidence on, not off", () => {
  // two weeks of calibrated residuals, then 80 readings a little high: each
  // well inside the 90% interval (|u| <= 1.1 < 1.6), none rare by itself
  const g = gaussian(mulberry32(11));
  const u = Array.from({ length: 4000 }, () => 0.6 * g());
  for (let t = 3900; t < 3980; t++) u[t] = Math.min(1.1, Math.max(0.4, 0.8 + 0.15 * g()));
  assert.ok(
    u.slice(3900, 3980).every((x) => Math.abs(x) <= 1.1),
    "every reading inside the interval",
  );
  const off = alertsOn(u, 0), on = alertsOn(u, 0.5);
  assert.deepEqual(off.filter((t) => t >= 3900), [], "the residuals alone miss it");
  const found = on.filter((t) => t >= 3900);
  assert.equal(found.length, 1, `one alert for the shift: ${on}`);
  assert.ok(found[0] < 3980, `while it lasts: reading ${found[0]}`);
  // before it, on calibrated residuals, no alert more than with it off
  assert.deepEqual(on.filter((t) => t < 3900), off.filter((t) => t < 3900));
});

Deno.test("a stream feeds its signed one-step residuals to the level-shift evidence", () => {
  const x = cycle(5, 4);
  const m = new StreamModel({ id: "r", preset: small(0.5), columns: ["v"] });
  const T = 4 * DAY - 1;
  for (let t = 0; t < T; t++) m.observe(T0 + t * FIVE_MIN, [x[t]]);
  const up = 99, down = 102; // the target's S+ and S- in the state
  const before = m.levelShift.state[up];
  // a reading far above its forecast: a positive residual, S+ grows and S- empties
  m.observe(T0 + T * FIVE_MIN, [x[T] + 5]);
  const u = m.levelShift.u[0];
  assert.ok(u > 2, `the residual over the half-width: ${u}`);
  const k = 0.5;
  assert.ok(
    Math.abs(m.levelShift.state[up] - (before + u - k)) < 1e-9 || m.levelShift.evidence > 11,
  );
  assert.equal(m.levelShift.state[down], 0);
});
