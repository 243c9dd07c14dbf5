import assert from "node:assert/strict";
import { StuckRuns, stuckStateLength } from "../../src/stream/shape_stuck.ts";
import { STUCK_PART } from "../../src/stream/alert_fusion.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { unitToEvidence } from "../../src/stream/anomaly.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { encodeState, readState } from "../../src/stream/state.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { FIVE_MIN, T0 } from "./_series.ts";

const DAY = 288;
const OPTS = { history: 20_000, warmup: 300 };
const ONE = [0];

/** Feeds `x` to `s`, one target, returning each reading's evidence. */
function run(s: StuckRuns, x: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let t = 0; t < x.length; t++) {
    s.update([x[t]], ONE);
    out.push(s.evidence);
  }
  return out;
}

Deno.test("a value repeated exactly on a continuous sensor scores more with every repeat", () => {
  const g = gaussian(mulberry32(1));
  const x = Array.from({ length: 2000 }, () => 20 + g());
  const s = new StuckRuns(1, OPTS);
  assert.ok(run(s, x).every((e) => e === 0), "no run, no evidence");
  const ev = run(s, new Array(12).fill(x[1999]));
  for (let k = 1; k < ev.length; k++) assert.ok(ev[k] > ev[k - 1], `repeat ${k + 1}: ${ev}`);
  // one repeat of a value never held: about ln N; each further one about ln 2 more
  assert.ok(Math.abs(ev[0] - Math.log(2001)) < 0.1, `${ev[0]}`);
  assert.ok(ev[9] > 12, `ten repeats: ${ev[9]} nats`);
  s.update([21.5], ONE);
  assert.equal(s.evidence, 0, "the value moved: the run ended");
});

Deno.test("a stream that rests at zero in long runs scores its usual runs low", () => {
  // like a key-press or request count: runs of 30 to 60 zeros between bursts
  const u = mulberry32(2), g = gaussian(mulberry32(3));
  const x: number[] = [];
  while (x.length < 6000) {
    const zeros = 30 + Math.floor(30 * u());
    for (let k = 0; k < zeros; k++) x.push(0);
    for (let k = 0; k < 40; k++) x.push(Math.abs(g()));
  }
  const s = new StuckRuns(1, OPTS);
  run(s, x);
  const ev = run(s, new Array(50).fill(0));
  assert.ok(Math.max(...ev) < 3, `a usual run of 50 zeros: ${Math.max(...ev)} nats`);
  // a run far longer than any seen is not usual
  const longer = run(s, new Array(400).fill(0));
  assert.ok(longer[399] > 10, `400 zeros: ${longer[399]} nats`);
});

Deno.test("a flat line from the first reading, and a run cut by a gap, score nothing", () => {
  const s = new StuckRuns(1, OPTS);
  assert.ok(run(s, new Array(3000).fill(5)).every((e) => e === 0));
  const g = gaussian(mulberry32(4));
  const t = new StuckRuns(1, OPTS);
  run(t, Array.from({ length: 1000 }, () => g()));
  run(t, [1, 1, 1, 1]);
  assert.ok(t.evidence > 0);
  t.resetRuns();
  t.update([1], ONE);
  assert.equal(t.evidence, 0, "after a gap the same value starts a new run");
});

Deno.test("over several targets the evidence is the largest less ln J", () => {
  const g = gaussian(mulberry32(5));
  const one = new StuckRuns(1, OPTS), two = new StuckRuns(2, OPTS);
  assert.equal(two.state.length, stuckStateLength(2));
  for (let t = 0; t < 1500; t++) {
    const a = g(), b = g();
    one.update([a], ONE);
    two.update([a, b], [0, 1]);
  }
  for (let k = 0; k < 5; k++) {
    one.update([7], ONE);
    two.update([7, g()], [0, 1]);
  }
  assert.ok(Math.abs(two.evidence - (one.evidence - Math.LN2)) < 1e-9);
});

/** A small stream preset (LSTM H = 8) with the drift detector on. */
function small(): Preset {
  const p = getPreset("default");
  return { ...p, model: { ...p.model, hidden: 8, window: 8 }, horizons: 6 };
}

/** Three weeks of a daily cycle every 5 minutes with weather and noise, rounded to 0.01. */
function cycle(seed: number): number[] {
  const g = gaussian(mulberry32(seed));
  let weather = 0;
  return Array.from({ length: 21 * DAY }, (_, t) => {
    weather = 0.9 * weather + 0.2 * g();
    const v = 20 + 2 * Math.sin((2 * Math.PI * t) / DAY) + weather + 0.3 * g();
    return Math.round(v * 100) / 100;
  });
}

Deno.test("a sensor stuck for four hours opens an alert while it is stuck", () => {
  // the stuck value is a plausible one (the reading before the run), so the
  // forecasts and the 16-reading shape see little; the run of one value
  // repeated exactly opens the alert (the twelfth round of issue 11)
  const START = 15 * DAY + 100, LEN = 48;
  for (const seed of [1, 2]) {
    const x = cycle(seed), y = x.slice();
    for (let t = START; t < START + LEN; t++) y[t] = y[START - 1];
    const clean = new StreamModel({ id: "c", preset: small(), columns: ["v"] });
    const m = new StreamModel({ id: "s", preset: small(), columns: ["v"] });
    let opened = -1, before = 0;
    for (let t = 0; t < START + LEN; t++) {
      const ts = T0 + t * FIVE_MIN;
      const a = clean.observe(ts, [x[t]]), o = m.observe(ts, [y[t]]);
      if (t < START) {
        assert.equal(o.likelihood, a.likelihood, `seed ${seed}: reading ${t}`);
        if (o.event?.type === "opened" && t > 14 * DAY) before++;
      } else if (o.event?.type === "opened" && opened < 0) opened = t - START;
    }
    assert.ok(opened >= 0, `seed ${seed}: no alert in the stuck run`);
    assert.ok(unitToEvidence(m.alerts.threshold) < 11, `seed ${seed}: at the budget`);
    assert.equal(before, 0, `seed ${seed}: the day before the run was quiet`);
  }
});

Deno.test("a checkpoint without the stuck runs restores with them afresh", () => {
  const x = cycle(3);
  const a = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  for (let t = 0; t < 8 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  assert.ok(a.stuck.state[0] > 0, "the stream counted its runs");
  // a checkpoint written before the stuck runs: no `stuckState`, 17 fusion scalars
  const stored = readState(a.toBytes());
  delete stored.arrays.stuckState;
  const fusion = (stored.scalars as Record<string, unknown[]>).fusion;
  assert.equal(fusion.length, 21);
  fusion.length = 17;
  const b = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.ok(b.stuck.state.every((v) => v === 0), "the counts start afresh");
  assert.deepEqual([b.fusion.partPeak[STUCK_PART], b.fusion.partPeakAt[STUCK_PART]], [0, 0]);
  assert.equal(b.fusion.count, a.fusion.count);
  for (let t = 8 * DAY; t < 9 * DAY; t++) {
    const ts = T0 + t * FIVE_MIN;
    const o = b.observe(ts, [x[t]]), p = a.observe(ts, [x[t]]);
    assert.equal(o.score, p.score, `what is learned is the same: reading ${t}`);
  }
  // and a damaged count is refused, naming the field
  const bad = readState(a.toBytes());
  bad.arrays.stuckState[3] = -1;
  const c = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  assert.throws(() => c.restore(encodeState(bad.scalars, bad.arrays)), /stuckState\[3\]/);
});
