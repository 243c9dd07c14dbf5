import assert from "node:assert/strict";
import {
  STUCK_BINS,
  STUCK_PER_TARGET,
  StuckRuns,
  stuckStateLength,
} from "../../src/stream/shape_stuck.ts";
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

/** The stream's stuck runs (kept with the shape and drift detectors). */
function runsOf(m: StreamModel): StuckRuns {
  assert.ok(m.stuck, "the stream keeps its stuck runs");
  return m.stuck;
}

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
  assert.ok(runsOf(a).state[0] > 0, "the stream counted its runs");
  // a checkpoint written before the stuck runs: no `stuckState`, 17 fusion scalars
  const stored = readState(a.toBytes());
  delete stored.arrays.stuckState;
  const fusion = (stored.scalars as Record<string, unknown[]>).fusion;
  assert.equal(fusion.length, 26); // (26 since the pairs' own record, the seventeenth round)
  fusion.length = 17;
  delete stored.arrays.pairsState;
  const b = new StreamModel({ id: "r", preset: small(), columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.ok(runsOf(b).state.every((v) => v === 0), "the counts start afresh");
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

/**
 * The stuck runs as they were before forgetting was lazy (the thirteenth
 * round): every count forgotten every reading. The oracle of the lazy one.
 */
class EagerRuns {
  readonly s: Float64Array;
  evidence = 0;
  constructor(readonly J: number, readonly opts: { history: number; warmup: number }) {
    this.s = new Float64Array(stuckStateLength(J));
  }
  resetRuns(): void {
    for (let j = 0; j < this.J; j++) {
      this.#end(1 + j * STUCK_PER_TARGET);
      this.s[2 + j * STUCK_PER_TARGET] = -1;
    }
  }
  update(values: number[]): void {
    const s = this.s, g = 1 - 1 / this.opts.history, seen = s[0] > 0;
    s[0] = s[0] * g + 1;
    const N = s[0];
    let best = 0;
    for (let j = 0; j < this.J; j++) {
      const o = 1 + j * STUCK_PER_TARGET, x = values[j];
      for (let i = o + 3; i < o + STUCK_PER_TARGET; i++) s[i] *= g;
      if (!Number.isFinite(x)) continue;
      if (seen && s[o + 1] >= 0 && x === s[o]) s[o + 1]++;
      else {
        this.#end(o);
        s[o] = x;
        s[o + 2] = N;
      }
      const k = s[o + 1];
      if (k >= 1 && s[o + 2] >= this.opts.warmup) best = Math.max(best, this.#evidence(o, k, N));
    }
    this.evidence = Math.max(0, best - Math.log(this.J));
  }
  #evidence(o: number, k: number, N: number): number {
    const s = this.s, E = o + 5, End = E + STUCK_BINS;
    const b = Math.min(STUCK_BINS - 1, Math.floor(Math.log2(k)));
    let S = 0, top = -1;
    for (let i = STUCK_BINS - 1; i >= 0; i--) {
      if (top < 0 && s[E + i] > 0.5) top = i;
      if (i >= b) S += s[E + i];
    }
    if (S > 0.5) return -Math.log((S + 1) / (N + 1));
    if (top < 0) {
      const repeats = s[o + 3], again = s[o + 4];
      return -Math.log((repeats + 1) / (N + 1)) - (k - 1) * Math.log((again + 1) / (repeats + 2));
    }
    let St = 0, Et = 0;
    for (let i = top; i < STUCK_BINS; i++) {
      St += s[E + i];
      Et += s[End + i];
    }
    const q = 1 - (Et + 1) / (St + 2);
    return -Math.log((St + 1) / (N + 1)) - (k - 2 ** (top + 1) + 1) * Math.log(q);
  }
  #end(o: number): void {
    const s = this.s, L = s[o + 1], E = o + 5, End = E + STUCK_BINS;
    s[o + 1] = 0;
    if (!(L >= 1)) return;
    s[o + 3] += L;
    s[o + 4] += L - 1;
    for (let i = 0; i < STUCK_BINS && 2 ** i <= L; i++) {
      s[E + i] += Math.min(L, 2 ** (i + 1) - 1) - 2 ** i + 1;
    }
    s[End + Math.min(STUCK_BINS - 1, Math.floor(Math.log2(L)))] += 1;
  }
}

/** Whether a and b agree to `rel` relative to the larger of them and 1 (nats, or counts). */
const near = (a: number, b: number, rel = 1e-12) =>
  Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

Deno.test("StuckRuns forgets lazily with the results of forgetting every reading, to float rounding", () => {
  // two targets: one resting at zero in runs (a count), one continuous that
  // sticks, with missing values and gaps; a short history so the counts forget
  const opts = { history: 500, warmup: 100 };
  const u = mulberry32(11), g = gaussian(mulberry32(12));
  const lazy = new StuckRuns(2, opts), eager = new EagerRuns(2, opts);
  let zeros = 0, stuck = 0, scored = 0, lazyReadings = 0;
  for (let t = 0; t < 20_000; t++) {
    if (t % 3001 === 3000) {
      lazy.resetRuns();
      eager.resetRuns();
    }
    if (zeros === 0 && u() < 0.05) zeros = 5 + Math.floor(200 * u() ** 3);
    const a = zeros > 0 ? (zeros--, 0) : Math.abs(g());
    if (stuck === 0 && u() < 0.002) stuck = 1 + Math.floor(40 * u());
    const b = stuck > 0 ? (stuck--, 7.25) : (u() < 0.01 ? NaN : 20 + g());
    lazy.update([a, b], [0, 1]);
    eager.update([a, b]);
    if (lazy.scale < 1) lazyReadings++; // no run ended: the counts were left alone
    assert.ok(
      near(lazy.evidence, eager.evidence, 1e-12),
      `reading ${t}: ${lazy.evidence} vs ${eager.evidence}`,
    );
    if (lazy.evidence > 0) scored++;
  }
  assert.ok(scored > 1000, `runs scored at ${scored} readings`);
  assert.ok(lazyReadings > 15_000, `the counts were left alone at ${lazyReadings} readings`);
  lazy.forget();
  assert.equal(lazy.scale, 1);
  lazy.state.forEach((v, i) =>
    assert.ok(near(v, eager.s[i]), `state[${i}]: ${v} vs ${eager.s[i]}`)
  );
});

Deno.test("a checkpoint holds the stuck runs' scale of the forgetting to come and continues bit for bit", () => {
  const x = cycle(4);
  // a run of one value after the warm-up: the counts wait to be forgotten
  const START = 6 * DAY, LEN = 30;
  for (let t = START; t < START + LEN; t++) x[t] = x[START - 1];
  const a = new StreamModel({ id: "p", preset: small(), columns: ["v"] });
  for (let t = 0; t < START + 10; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  assert.ok(runsOf(a).scale < 1, `the scale ${runsOf(a).scale}`);
  const stored = readState(a.toBytes());
  assert.deepEqual((stored.scalars as Record<string, unknown>).stuck, [runsOf(a).scale]);
  const b = new StreamModel({ id: "p", preset: small(), columns: ["v"] });
  b.restore(a.toBytes());
  assert.equal(runsOf(b).scale, runsOf(a).scale);
  for (let t = START + 10; t < 7 * DAY; t++) {
    const ts = T0 + t * FIVE_MIN;
    const o = b.observe(ts, [x[t]]), p = a.observe(ts, [x[t]]);
    assert.deepEqual(o, p, `reading ${t}`);
    assert.equal(runsOf(b).evidence, runsOf(a).evidence, `reading ${t}`);
  }
  assert.deepEqual(b.toBytes(), a.toBytes());
  // a checkpoint written before the forgetting was lazy has no `stuck`: a scale of 1
  const old = readState(a.toBytes());
  delete (old.scalars as Record<string, unknown>).stuck;
  const c = new StreamModel({ id: "p", preset: small(), columns: ["v"] });
  c.restore(encodeState(old.scalars, old.arrays));
  assert.equal(runsOf(c).scale, 1);
  // and a scale that is not a factor from 0 to 1 is refused, naming it
  for (const bad of [-0.5, 1.5, null]) {
    const edited = readState(a.toBytes());
    (edited.scalars as Record<string, unknown>).stuck = [bad];
    const d = new StreamModel({ id: "p", preset: small(), columns: ["v"] });
    assert.throws(() => d.restore(encodeState(edited.scalars, edited.arrays)), /'stuck\[0\]'/);
  }
});

Deno.test("a stream without the shape or the drift detector keeps no stuck runs, and reads past a checkpoint's", () => {
  const p = small();
  const noShape = { ...p, anomaly: { ...p.anomaly, shape: { ...p.anomaly.shape, window: 0 } } };
  // the drift detector off (pi-small): the runs' evidence would enter nothing
  const noDrift = { ...p, anomaly: { ...p.anomaly, drift: { ...p.anomaly.drift, hours: 0 } } };
  const x = cycle(5);
  for (const [name, preset] of [["no shape", noShape], ["no drift", noDrift]] as const) {
    const a = new StreamModel({ id: "n", preset, columns: ["v"] });
    assert.equal(a.stuck, null, name);
    for (let t = 0; t < 2 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
    const stored = readState(a.toBytes());
    assert.ok(!("stuckState" in stored.arrays), `${name}: no stuckState`);
    assert.ok(!("stuck" in (stored.scalars as object)), `${name}: no stuck scalar`);
    // a checkpoint written before (it held the runs, counted or not) restores,
    // the runs read past, and the stream carries on as it was
    const runs = new StuckRuns(1, OPTS);
    run(runs, [...x.slice(0, 500), 3, 3, 3]);
    runs.resetRuns();
    const before = encodeState(stored.scalars, { ...stored.arrays, stuckState: runs.state });
    const b = new StreamModel({ id: "n", preset, columns: ["v"] });
    b.restore(before);
    assert.equal(b.stuck, null, name);
    assert.deepEqual(b.toBytes(), a.toBytes(), name);
    for (let t = 2 * DAY; t < 3 * DAY; t++) {
      const ts = T0 + t * FIVE_MIN;
      assert.deepEqual(b.observe(ts, [x[t]]), a.observe(ts, [x[t]]), `${name}: reading ${t}`);
    }
  }
  // with both detectors a checkpoint without the runs (none kept) starts them from zero
  const a = new StreamModel({ id: "n", preset: p, columns: ["v"] });
  for (let t = 0; t < 2 * DAY; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  const stored = readState(a.toBytes());
  delete stored.arrays.stuckState;
  delete (stored.scalars as Record<string, unknown>).stuck;
  const b = new StreamModel({ id: "n", preset: p, columns: ["v"] });
  b.restore(encodeState(stored.scalars, stored.arrays));
  assert.ok(runsOf(b).state.every((v) => v === 0), "the runs start from zero");
  assert.equal(runsOf(b).scale, 1);
});
