import assert from "node:assert/strict";
import {
  AlertMachine,
  AnomalyScorer,
  binomialTailEvidence,
  evidenceToUnit,
  fuseEvidence,
  gammaTailEvidence,
  RangeTracker,
  surpriseScore,
  unitToEvidence,
} from "../../src/stream/anomaly.ts";
import { mulberry32 } from "../../src/model/rng.ts";

const OPTS = { warmup: 3, threshold: 0.99, clear: 0.9, debounce: 2, newNormalAfter: 6 };

function run(m: AlertMachine, likelihoods: number[]) {
  return likelihoods.map((l) => `${m.step(l)}:${m.state}`);
}

/** A scorer that has seen `n` ordinary surprises (uniform in 0..2); no density test unless asked. */
function trained(n = 2000, opts = {}) {
  const sc = new AnomalyScorer({
    smoothing: 1,
    history: 100_000,
    refractory: 50,
    escalation: Math.LN10,
    density: 0,
    densityLevel: Math.log(20),
    ...opts,
  });
  const rnd = mulberry32(7);
  for (let i = 0; i < n; i++) sc.update(2 * rnd(), 0, true, true);
  return sc;
}

Deno.test("AlertMachine stays silent while warming up, then opens after `debounce` anomalous readings", () => {
  const m = new AlertMachine(OPTS);
  assert.deepEqual(run(m, [1, 1, 1, 0.995, 0.5, 0.995, 0.999]), [
    "none:warming_up",
    "none:warming_up",
    "none:normal",
    "none:normal",
    "none:normal", // one anomalous reading alone does not open (debounce)
    "none:normal",
    "opened:anomaly",
  ]);
});

Deno.test("AlertMachine resolves only after `debounce` readings below `clear` (hysteresis)", () => {
  const m = new AlertMachine({ ...OPTS, warmup: 0, newNormalAfter: 100 });
  run(m, [0, 1, 1]);
  assert.equal(m.state, "anomaly");
  // between clear and threshold: still anomalous
  assert.deepEqual(run(m, [0.95, 0.95, 0.5, 0.95, 0.5, 0.5]), [
    "none:anomaly",
    "none:anomaly",
    "none:anomaly",
    "none:anomaly",
    "none:anomaly",
    "resolved:normal",
  ]);
});

Deno.test("AlertMachine opens only when the anomalous run holds an onset at or above the threshold", () => {
  const m = new AlertMachine({ ...OPTS, warmup: 0, debounce: 1 });
  m.step(0);
  // anomalous, but a repeat of an incident already reported (onset 0): no alert
  assert.equal(m.step(0.999, 0), "none");
  assert.equal(m.step(0.999, 0.98), "none", "an onset below the threshold does not open");
  assert.equal(m.step(0.999, 0.999), "opened");
});

Deno.test("AlertMachine accepts a persisting change as the new normal, then warms up again", () => {
  const m = new AlertMachine({ ...OPTS, warmup: 4 });
  run(m, [0, 0, 0, 0, 1, 1]);
  assert.equal(m.state, "anomaly");
  const out = run(m, [1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(out.slice(0, 4), [
    "none:anomaly",
    "none:anomaly",
    "none:anomaly",
    "new_normal:warming_up",
  ]);
  assert.ok(!out.slice(4).some((s) => s.startsWith("opened")), "no alert right after");
});

Deno.test("surpriseScore() is 0.5 on the interval's edge, grows with the surprise and never reaches 1", () => {
  assert.equal(surpriseScore(0), 0);
  assert.equal(surpriseScore(1), 0.5);
  let prev = 0;
  for (const s of [0.5, 1, 10, 1e3, 1e8, 1e20, 1e100, 1e300, Number.MAX_VALUE]) {
    const v = surpriseScore(s);
    assert.ok(v > prev && v < 1, `surprise ${s}: score ${v} after ${prev}`);
    prev = v;
  }
});

Deno.test("evidenceToUnit() is 1 - e^-λ for ordinary evidence and never ties at the top", () => {
  assert.equal(evidenceToUnit(0), 0);
  assert.ok(Math.abs(evidenceToUnit(Math.log(1e5)) - 0.99999) < 1e-12);
  let prev = evidenceToUnit(19.99);
  for (const l of [20, 20.01, 25, 40, 100, 1e3, 1e4, 1e5, 1e6]) {
    const u = evidenceToUnit(l);
    assert.ok(u > prev && u < 1, `λ ${l}: ${u} after ${prev}`);
    prev = u;
  }
  for (const l of [0.1, 5, 11.5, 19, 21, 300]) {
    assert.ok(Math.abs(unitToEvidence(evidenceToUnit(l)) - l) < 1e-4 * l, `round trip of λ ${l}`);
  }
});

Deno.test("gammaTailEvidence() is the evidence itself for one reading and Fisher's tail for two", () => {
  assert.equal(gammaTailEvidence(7, 1), 7);
  // P(Γ(2, 1) >= x) = e^-x (1 + x)
  assert.ok(Math.abs(gammaTailEvidence(9, 2) - (9 - Math.log(10))) < 1e-12);
  assert.equal(gammaTailEvidence(0, 3), 0);
});

Deno.test("fuseEvidence() by the harmonic mean p-value lies between Bonferroni's and ln tests above it", () => {
  // p1 = p2 = e^-7: their harmonic mean is e^-7 itself
  assert.ok(Math.abs(fuseEvidence(7, 7, "hmp", 2) - 7) < 1e-12);
  for (const [x, y] of [[0, 0], [3, 12], [12, 3], [40, 39.5], [800, 2]]) {
    const h = fuseEvidence(x, y, "hmp", 2), b = fuseEvidence(x, y, "min", 2);
    assert.ok(h >= b && h <= b + Math.LN2 + 1e-12, `${x}, ${y}: ${h} against ${b}`);
    assert.ok(Number.isFinite(h));
  }
  assert.equal(fuseEvidence(-3, 0, "hmp", 2), 0);
});

Deno.test("AnomalyScorer's point evidence is -ln of the share of past surprises at least as large", () => {
  const sc = trained(20_000);
  // uniform on [0, 2]: 10% of surprises are above 1.8, 50% above 1
  assert.ok(Math.abs(sc.pointEvidence(1.8) - Math.log(10)) < 0.25, `${sc.pointEvidence(1.8)}`);
  assert.ok(Math.abs(sc.pointEvidence(1) - Math.log(2)) < 0.1, `${sc.pointEvidence(1)}`);
  // beyond everything seen: at least ln n, and more the further out
  const far = sc.pointEvidence(50), farther = sc.pointEvidence(5000);
  assert.ok(far > Math.log(20_000) && farther > far + 4, `${far} ${farther}`);
});

Deno.test("AnomalyScorer's likelihood rises for a reading far outside the usual, and a record adds ln n", () => {
  const sc = trained(2000, { refractory: 1 });
  sc.update(1, 0, true, false);
  assert.ok(sc.likelihood < 0.9, `ordinary: ${sc.likelihood}`);
  sc.update(30, 0, true, false);
  assert.ok(sc.likelihood > 0.999, `likelihood ${sc.likelihood}`);
  assert.ok(sc.percentile > 0.99, `percentile ${sc.percentile}`);
  const a = trained(2000), b = trained(2000);
  a.update(1, 0, true, false);
  b.update(1, 2001, true, false);
  assert.ok(
    Math.abs(b.evidence - a.evidence - Math.log(2001)) < 1e-9,
    `${a.evidence} ${b.evidence}`,
  );
});

Deno.test("AnomalyScorer's smoothed evidence adds up a run of moderately unusual readings", () => {
  const one = trained(5000, { smoothing: 3 });
  one.update(1.99, 0, true, false);
  const alone = one.smoothed;
  one.update(1.99, 0, true, false);
  one.update(1.99, 0, true, false);
  assert.ok(one.smoothed > alone + 2, `three in a row ${one.smoothed} vs one ${alone}`);
  assert.ok(one.smoothed > one.evidence, "above the last reading's own evidence");
});

Deno.test("binomialTailEvidence() is -ln P(X >= K) for X ~ Binomial(n, q)", () => {
  const t = binomialTailEvidence(3, 0.1);
  assert.equal(t[0], 0);
  assert.ok(Math.abs(t[1] + Math.log(1 - 0.9 ** 3)) < 1e-12, `K=1 ${t[1]}`);
  assert.ok(Math.abs(t[2] + Math.log(3 * 0.01 * 0.9 + 0.001)) < 1e-12, `K=2 ${t[2]}`);
  assert.ok(Math.abs(t[3] + Math.log(0.001)) < 1e-12, `K=3 ${t[3]}`);
  // finite and increasing far out in the tail (beyond the mean, 50)
  const far = binomialTailEvidence(1000, 0.05);
  for (let k = 1; k <= 1000; k++) {
    assert.ok(Number.isFinite(far[k]) && far[k] >= far[k - 1], `k=${k}`);
    if (k > 50) assert.ok(far[k] > far[k - 1], `k=${k}`);
  }
});

/** Surprise s of uniform(0, 2) history that is rarer than `p` (its share above is p). */
const RARER = (p: number) => 2 * (1 - p);

Deno.test("AnomalyScorer's density test sees unusual readings growing denser when none is extreme", () => {
  for (const density of [0, 15]) {
    const sc = trained(5000, { density });
    // one reading in three in the top 1.5% (unusual, never alarming alone),
    // the others ordinary
    const before = sc.mostUnusual;
    let most = 0, mostOwn = 0;
    for (let i = 0; i < 30; i++) {
      sc.update(i % 3 === 0 ? RARER(0.015) : 1, 0, true, false);
      most = Math.max(most, sc.smoothed);
      mostOwn = Math.max(mostOwn, sc.evidence);
    }
    if (density > 0) assert.ok(before < 5, `the most before: ${before}`);
    assert.ok(mostOwn < Math.log(50), `no reading alone is one in 50: ${mostOwn}`);
    if (density === 0) assert.ok(most < Math.log(50), `without the test: ${most}`);
    else {
      // 5 of 15, where about 0.75 are usual and at most 4 had ever been: a record
      assert.ok(most > Math.log(10_000), `with it: ${most}`);
      // once held, the same density is no record any more
      assert.equal(sc.unusualCount, 5);
      assert.equal(sc.mostUnusual, 5);
      assert.equal(sc.densityEvidence, 0);
    }
  }
});

Deno.test("AnomalyScorer's density test is measured against the stream's own bursts", () => {
  // the same burst (6 unusual readings in 15) after a history with and without such bursts
  const burst = (sc: AnomalyScorer) => {
    let most = 0;
    for (let i = 0; i < 15; i++) {
      sc.update(i < 6 ? RARER(0.02) : 1, 0, true, false);
      most = Math.max(most, sc.densityEvidence);
    }
    return most;
  };
  const calm = trained(6000, { density: 15 });
  const bursty = trained(0, { density: 15 });
  const rnd = mulberry32(7);
  for (let i = 0; i < 6000; i++) {
    const inBurst = i % 300 < 6;
    bursty.update(inBurst ? RARER(0.02) : 2 * rnd(), 0, true, true);
  }
  const onCalm = burst(calm), onBursty = burst(bursty);
  assert.ok(onCalm > Math.log(1e4), `never seen: ${onCalm}`);
  assert.ok(onBursty < Math.log(100), `seen every 300 readings: ${onBursty}`);
});

Deno.test("AnomalyScorer reports one onset per incident: a repeat within the refractory period is 0, a stronger one is not", () => {
  const sc = trained(3000, { refractory: 100 });
  sc.update(40, 0, true, false);
  const first = sc.onset;
  assert.ok(first > 0.999 && first === sc.likelihood, `first spike: onset ${first}`);
  for (let i = 0; i < 20; i++) sc.update(0.5, 0, true, false);
  sc.update(40, 0, true, false);
  assert.equal(sc.onset, 0, "the same spike again, 21 readings later");
  sc.update(4000, 0, true, false);
  assert.ok(sc.onset > first, `a stronger spike: ${sc.onset}`);
  for (let i = 0; i < 100; i++) sc.update(0.5, 0, true, false);
  sc.update(4000, 0, true, false);
  assert.ok(sc.onset > 0.999, "after the refractory period the same spike is an onset again");
});

Deno.test("AnomalyScorer: evidence rising within one incident is one onset; an escalation by ten times is another", () => {
  const sc = trained(3000, { refractory: 1000 });
  const onsets: number[] = [];
  for (const s of [5, 10, 20, 40]) {
    sc.update(s, 0, false, false); // each about ln 2 more evidence than the one before
    onsets.push(sc.onset);
  }
  assert.ok(onsets[0] > 0.999, `the incident begins: ${onsets[0]}`);
  assert.deepEqual(onsets.slice(1), [0, 0, 0], "the same incident unfolding");
  const first = sc.runOnset;
  sc.update(40 * Math.exp(3), 0, false, false); // e^3 times the last: 3 nats more, 5 above the onset
  assert.ok(sc.onset > onsets[0], `an escalation: ${sc.onset}`);
  assert.ok(sc.runOnset > first + Math.LN10);
  const top = sc.smoothed;
  sc.update(0.5, 0, true, false); // the incident ends
  assert.equal(sc.runOnset, 0);
  sc.update(40 * Math.exp(3.5), 0, false, false); // a new incident, a little stronger than the last
  assert.ok(
    sc.smoothed < top + Math.LN10 && sc.onset > 0,
    "a new incident beats the refractory onsets only",
  );

  // alerts go by fresh evidence, which remembers the incident's peak: a weaker
  // repeat after the incident ends is a new onset for ranking, not a new alert
  const again = trained(3000, { refractory: 1000 });
  for (const s of [5, 10, 20, 40]) again.update(s, 0, false, false); // one onset, peak at 40
  again.update(0.5, 0, true, false);
  again.update(20, 0, false, false);
  assert.ok(again.onset > 0, "a new incident's onset");
  assert.equal(again.fresh, false, "weaker than the last incident's peak: no alert");

  const plain = trained(3000, { refractory: 1000, escalation: 0 });
  const every = [5, 10, 20, 40].map((s) => (plain.update(s, 0, false, false), plain.onset));
  assert.ok(every.every((o) => o > 0), `escalation 0: every rise is an onset ${every}`);
});

Deno.test("AnomalyScorer gives no onset while quiet (warming up) and keeps anomalies out of the norm", () => {
  const sc = trained(3000);
  sc.update(40, 0, true, true);
  assert.equal(sc.onset, 0);
  assert.ok(sc.likelihood > 0.999);
  const before = sc.pointEvidence(40);
  for (let i = 0; i < 200; i++) sc.update(40, 0, false, false);
  assert.ok(Math.abs(sc.pointEvidence(40) - before) < 1e-9, "not learned: still as unusual");
  for (let i = 0; i < 200; i++) sc.update(40, 0, true, false);
  assert.ok(sc.pointEvidence(40) < before - 2, "learned: now ordinary");
});

Deno.test("RangeTracker counts a value outside every past value by more than the margin as a record", () => {
  const r = new RangeTracker(2, 0.01);
  for (const [a, b] of [[10, 0], [20, 0], [15, 0]]) {
    r.add(0, a);
    r.add(1, b);
    r.count++;
  }
  assert.equal(r.isRecord(0, 20.05), false, "within the margin (1% of the range 10..20)");
  assert.equal(r.isRecord(0, 20.2), true);
  assert.equal(r.isRecord(0, 9.5), true);
  assert.equal(r.isRecord(0, 12), false);
  assert.equal(r.isRecord(1, 0), false, "a constant target: the same value is no record");
  assert.equal(r.isRecord(1, 1e-3), true, "a constant target: any other value is");
});
