import assert from "node:assert/strict";
import {
  BUDGET_BIN,
  BUDGET_BINS,
  RecordBar,
  recordBar,
  type RecordBarRule,
  TAIL_COUNT,
  type UpcrossingRecord,
  WEEK_MS,
} from "../../src/stream/record_bar.ts";
import { mulberry32 } from "../../src/model/rng.ts";

const FIVE_MIN = 300_000;
const WEEK = 2016; // readings of 5 minutes
const BUDGET: RecordBarRule = {
  atBudget: true,
  aloneFrom: TAIL_COUNT,
  beyond: BUDGET_BINS * BUDGET_BIN,
};
const PAIRS: RecordBarRule = { atBudget: false, aloneFrom: Infinity, beyond: -Infinity };

/** A record of N readings whose level L was crossed count(L) times, nothing pending, one false alert a week. */
function record(n: number, count: (level: number) => number): UpcrossingRecord {
  const bins = new Float64Array(BUDGET_BINS);
  for (let i = 0; i < BUDGET_BINS; i++) bins[i] = count((i + 1) * BUDGET_BIN);
  return { bins, readings: n, pending: 0, opts: { history: 1e9, falseAlertsPerWeek: 1 } };
}

/** Calibrated evidence: level L crossed N·e^-L times. */
const calibrated = (n: number) => record(n, (level) => n * Math.exp(-level));

/** recordBar() at readings of 5 minutes, with a target of e^-nats where the rule's is not b. */
function bar(
  rec: UpcrossingRecord,
  rule: RecordBarRule,
  { nats = 0, lo = 0, hi = 30 }: { nats?: number; lo?: number; hi?: number } = {},
): RecordBar {
  const out = new RecordBar(rule);
  out.periodMs = FIVE_MIN;
  out.nats = nats;
  out.lo = lo;
  out.hi = hi;
  recordBar(out, rec);
  return out;
}

Deno.test("recordBar() sets no bar from an empty record, no budget or no sampling period", () => {
  assert.equal(bar(record(0, () => 0), BUDGET).sets, false, "no readings");
  assert.equal(bar(record(5 * WEEK, () => 0), BUDGET).sets, false, "no level crossed 20 times");
  const out = new RecordBar(BUDGET), rec = calibrated(5 * WEEK);
  for (const [budget, periodMs] of [[0, FIVE_MIN], [1, NaN], [1, 0], [1, -FIVE_MIN]]) {
    Object.assign(out, { periodMs, lo: 0, hi: 30, sets: true });
    recordBar(out, { ...rec, opts: { history: 1e9, falseAlertsPerWeek: budget } });
    assert.equal(out.sets, false, `budget ${budget}, period ${periodMs}`);
  }
  out.periodMs = FIVE_MIN;
  recordBar(out, rec);
  assert.equal(out.sets, true, "a budget and a period");
});

Deno.test("recordBar() sets a bar from half a week of record, not before", () => {
  assert.equal(bar(calibrated(0.45 * WEEK), BUDGET).sets, false, "0.45 weeks");
  const half = bar(calibrated(0.55 * WEEK), BUDGET);
  assert.equal(half.sets, true, "0.55 weeks");
  // calibrated evidence crosses ln(W / B) once a week: the extrapolation finds it
  assert.ok(Math.abs(half.level - Math.log(WEEK)) < 1e-9, `${half.level}`);
});

Deno.test("recordBar() extrapolates to the target rate: a valid p-value's record gives its τ", () => {
  // (0.8 weeks: before a week the record's own level does not bound it)
  for (const tau of [7, 9.6, 11]) {
    const out = bar(calibrated(0.8 * WEEK), PAIRS, { nats: tau, lo: 0 });
    assert.ok(Math.abs(out.level - tau) < 1e-9, `τ = ${tau}: ${out.level}`);
  }
  // evidence twice as heavy: level L crossed at e^-L/2, σ = 2
  const heavy = bar(record(3 * WEEK, (l) => 3 * WEEK * Math.exp(-l / 2)), PAIRS, { nats: 8 });
  assert.ok(Math.abs(heavy.level - 16) < 0.3, `heavy: ${heavy.level}`);
});

Deno.test("recordBar() bounds the extrapolation by the record itself from a week of budget on", () => {
  // calibrated up to 8 nats, then a far tail: every level up to 20 nats crossed 5 times
  const tail = (n: number) => record(n, (l) => (l <= 20 ? Math.max(n * Math.exp(-l), 5) : 0));
  // 0.9 weeks: N·b + 1 = 1.9 < 5, but before a week the record does not bound it
  const short = bar(tail(0.9 * WEEK), BUDGET);
  assert.ok(Math.abs(short.level - Math.log(WEEK)) < 1e-9, `0.9 weeks: ${short.level}`);
  // 1.5 weeks: the lowest level crossed at most N·b + 1 = 2.5 times is 20.25
  assert.equal(bar(tail(1.5 * WEEK), BUDGET).level, 20.25);
  assert.equal(bar(tail(1.5 * WEEK), PAIRS, { nats: 9 }).level, 20.25);
});

Deno.test("recordBar() lets a long record set the bar alone only where the rule says so", () => {
  // 25 weeks of budget: the lowest level crossed at most 26 times
  const n = 25 * WEEK, heavy = record(n, (l) => n * Math.exp(-l / 2));
  const own = 0.25 * Math.ceil(2 * Math.log(n / 26) / 0.25);
  assert.equal(bar(heavy, BUDGET).level, own, "the budget: the record's own level");
  // the pairs extrapolate to e^-12, beyond the record's level
  const pairs = bar(heavy, PAIRS, { nats: 12 });
  assert.ok(pairs.level > own + 5, `the pairs: ${pairs.level} against ${own}`);
});

Deno.test("recordBar() clamps to [lo, hi], hi where they cross", () => {
  const rec = calibrated(3 * WEEK); // its bar: ln 2016 = 7.61
  assert.equal(bar(rec, BUDGET, { lo: 9 }).level, 9, "lo");
  assert.equal(bar(rec, BUDGET, { hi: 6 }).level, 6, "hi");
  assert.equal(bar(rec, BUDGET, { lo: 9, hi: 6 }).level, 6, "lo above hi");
  // every level crossed 10 times, more than the N·b + 1 = 4 allowed: for the budget the
  // record's bound lies beyond the last level
  const flooded = record(3 * WEEK, (l) => Math.max(3 * WEEK * Math.exp(-l), 10));
  assert.equal(bar(flooded, BUDGET, { hi: 60 }).level, BUDGET_BINS * BUDGET_BIN);
  assert.equal(bar(flooded, BUDGET, { hi: 11.5 }).level, 11.5);
  // for the pairs no bound: the extrapolation of the calibrated part, τ
  const pairs = bar(flooded, PAIRS, { nats: 9, hi: 60 });
  assert.ok(Math.abs(pairs.level - 9) < 1e-9, `pairs: ${pairs.level}`);
});

Deno.test("recordBar() reads pending forgetting as the bins times (1 - 1/history)^pending", () => {
  const history = 5000, pending = 700, f = Math.pow(1 - 1 / history, pending);
  const lazy = calibrated(3 * WEEK);
  const applied = record(3 * WEEK, (l) => 3 * WEEK * Math.exp(-l) * f);
  const opts = { history, falseAlertsPerWeek: 1 };
  const a = bar({ ...lazy, pending, opts }, BUDGET);
  const b = bar({ ...applied, opts }, BUDGET);
  assert.ok(Math.abs(a.level - b.level) < 1e-12, `${a.level} against ${b.level}`);
  assert.ok(Math.abs(a.level - (Math.log(WEEK) + Math.log(f))) < 1e-9, `${a.level}`);
});

// The two copies recordBar() replaced (AlertBudget.#evaluate() and
// PairsRecord.raise() as they stood before the eighteenth round), kept as the
// oracle it must match to the bit.
function oldBudget(rec: UpcrossingRecord, b: number, floor: number, fallback: number) {
  const f = Math.pow(1 - 1 / rec.opts.history, rec.pending), bins = rec.bins;
  const allowed = b * rec.readings;
  if (!(rec.readings > 0) || allowed < 0.5) return NaN;
  let v = -1, w = -1;
  for (let i = BUDGET_BINS - 1; i >= 0 && w < 0; i--) {
    const c = bins[i] * f;
    if (v < 0 && c >= 20) v = i;
    if (c >= 80) w = i;
  }
  if (v < 0) return NaN;
  const crossed = bins[v] * f;
  let empirical = BUDGET_BINS * 0.25;
  for (let i = 0; i < BUDGET_BINS; i++) {
    if (bins[i] * f <= allowed + 1) {
      empirical = (i + 1) * 0.25;
      break;
    }
  }
  if (allowed >= 20) return Math.min(fallback, Math.max(floor, empirical));
  let sigma = 1;
  if (w >= 0 && w < v) sigma = Math.max(1, ((v - w) * 0.25) / Math.log((bins[w] * f) / crossed));
  const extrapolated = (v + 1) * 0.25 + sigma * Math.log(crossed / allowed);
  return Math.min(fallback, Math.max(floor, extrapolated, allowed >= 1 ? empirical : 0));
}

function oldPairs(rec: UpcrossingRecord, b: number, openAt: number, fallback: number) {
  const f = Math.pow(1 - 1 / rec.opts.history, rec.pending), bins = rec.bins;
  if (!(rec.readings > 0) || b * rec.readings < 0.5) return openAt;
  let v = -1, w = -1;
  for (let i = BUDGET_BINS - 1; i >= 0 && w < 0; i--) {
    const c = bins[i] * f;
    if (v < 0 && c >= 20) v = i;
    if (c >= 80) w = i;
  }
  if (v < 0) return openAt;
  const crossed = bins[v] * f;
  let sigma = 1;
  if (w >= 0 && w < v) sigma = Math.max(1, ((v - w) * 0.25) / Math.log((bins[w] * f) / crossed));
  let bar = (v + 1) * 0.25 + sigma * (Math.log(crossed / rec.readings) + openAt);
  if (b * rec.readings >= 1) {
    const allowed = b * rec.readings + 1;
    for (let i = 0; i < BUDGET_BINS; i++) {
      if (bins[i] * f <= allowed) {
        bar = Math.max(bar, (i + 1) * 0.25);
        break;
      }
    }
  }
  return Math.max(openAt, Math.min(fallback, bar));
}

Deno.test("recordBar() gives the budget's and the pairs' old bars to the bit on random records", () => {
  const u = mulberry32(7);
  const out = { budget: new RecordBar(BUDGET), pairs: new RecordBar(PAIRS) };
  let set = 0;
  for (let trial = 0; trial < 4000; trial++) {
    // a record: falling counts with a random slope and a random heavy tail, some levels flooded
    const n = Math.exp(u() * 12), slope = 0.3 + 2 * u(), tail = u() < 0.3 ? 1 + 40 * u() : 0;
    const rec = record(n, (l) => Math.max(n * Math.exp(-l * slope), l < 40 * u() ? tail : 0));
    const pending = u() < 0.5 ? 0 : Math.floor(u() * 3000);
    const falseAlertsPerWeek = u() < 0.1 ? 0 : 0.2 + 10 * u();
    const r = { ...rec, pending, opts: { history: 500 + u() * 50000, falseAlertsPerWeek } };
    const periodMs = [60_000, FIVE_MIN, 3_600_000][trial % 3];
    const b = (falseAlertsPerWeek * periodMs) / WEEK_MS;
    const floor = Math.log(100), fallback = 5 + 20 * u(), openAt = 3 + 12 * u();

    const o = out.budget;
    Object.assign(o, { periodMs, lo: floor, hi: fallback });
    recordBar(o, r);
    const want = oldBudget(r, b, floor, fallback);
    assert.equal(o.sets, !Number.isNaN(want), `trial ${trial}: sets`);
    if (o.sets) assert.ok(Object.is(o.level, want), `trial ${trial}: ${o.level} against ${want}`);
    if (o.sets) set++;

    const p = out.pairs;
    Object.assign(p, { periodMs, nats: openAt, lo: openAt, hi: fallback });
    recordBar(p, r);
    const got = openAt < fallback && p.sets ? p.level : openAt;
    const wantPairs = openAt < fallback ? oldPairs(r, b, openAt, fallback) : openAt;
    assert.ok(Object.is(got, wantPairs), `trial ${trial}: pairs ${got} against ${wantPairs}`);
  }
  assert.ok(set > 1000, `records that set a bar: ${set} of 4000`);
});
