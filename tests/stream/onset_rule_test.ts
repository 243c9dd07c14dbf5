import assert from "node:assert/strict";
import {
  LatestRing,
  type OnsetRing,
  type OnsetRings,
  stepOnset,
} from "../../src/stream/onset_rule.ts";
import { mulberry32 } from "../../src/model/rng.ts";
import { AlertFusion } from "../../src/stream/alert_fusion.ts";
import { AlertMachine, AnomalyScorer, unitToEvidence } from "../../src/stream/anomaly.ts";
import { AlertBudget } from "../../src/stream/budget.ts";
import { getPreset } from "../../src/stream/preset.ts";

/** The ring as it was: one slot per reading of the refractory period, scanned whole (the oracle). */
class DenseRing implements OnsetRing {
  readonly values: Float64Array;
  constructor(length: number) {
    this.values = new Float64Array(length);
  }
  maxExcept(slot: number): number {
    let best = 0;
    for (let i = 0; i < this.values.length; i++) {
      if (i !== slot && this.values[i] > best) best = this.values[i];
    }
    return best;
  }
  set(slot: number, value: number): void {
    this.values[slot] = value;
  }
}

/** Rings of a refractory period of R readings: dense (as they were, the oracle), latest (the engine's). */
const RINGS: [string, (R: number) => OnsetRings][] = [
  [
    "dense",
    (R) => ({ onsets: new DenseRing(R), peaks: new DenseRing(R), runOnset: 0, fresh: false }),
  ],
  [
    "latest",
    () => ({ onsets: new LatestRing(), peaks: new LatestRing(), runOnset: 0, fresh: false }),
  ],
];

for (const [kind, rings] of RINGS) {
  Deno.test(`stepOnset reports an incident once, again only when it escalates (${kind} rings)`, () => {
    const r = rings(10), esc = Math.LN10;
    const steps = [5, 5, 6, 8, 2, 9].map((x, t) => [stepOnset(r, t % 10, x, false, esc), r.fresh]);
    assert.deepEqual(steps, [
      [true, true], // the first rise: an onset, fresh
      [false, false], // the same evidence again: neither
      [false, true], // higher, within the incident, by less than the escalation: fresh only
      [true, true], // 3 nats above the incident's onset: an onset of its own
      [false, false], // the incident ends (below ln 10)
      [true, true], // above every onset of the refractory period
    ]);
  });

  Deno.test(`stepOnset gives neither an onset nor freshness while quiet, and forgets after R readings (${kind} rings)`, () => {
    const r = rings(3);
    assert.equal(stepOnset(r, 0, 20, true, 0), false);
    assert.equal(r.fresh, false);
    assert.equal(stepOnset(r, 1, 7, false, 0), true);
    // three quiet-level readings later the onset of 7 has left the ring
    for (let t = 2; t < 5; t++) stepOnset(r, t % 3, 0, false, 0);
    assert.equal(stepOnset(r, 5 % 3, 6, false, 0), true);
  });
}

for (const [kind, rings] of RINGS) {
  Deno.test(`stepOnset with a margin: a second peak of the refractory period must be that much higher (${kind} rings)`, () => {
    const r = rings(10), esc = Math.LN10, margin = Math.log(3);
    // an incident at 9 nats ends (below ln 10), then two peaks of the same period
    const steps = [9, 1, 9.5, 1, 10.2].map((x, t) => stepOnset(r, t % 10, x, false, esc, margin));
    assert.deepEqual(steps, [
      true, // the first
      false, // the incident ends
      false, // 0.5 nats above the period's onset, less than the margin: the same trouble again
      false,
      true, // 1.2 nats above it, more than ln 3 (three times rarer): an onset of its own
    ]);
    // without a margin (the default) the second peak is an onset
    const plain = rings(10);
    assert.deepEqual(
      [9, 1, 9.5].map((x, t) => stepOnset(plain, t % 10, x, false, esc)),
      [true, false, true],
    );
  });
}

Deno.test("the scorer and the alerts' fusion take anomaly.onsetMargin for their onsets", () => {
  const a = { ...getPreset("default").anomaly, onsetMargin: Math.log(3) };
  const budgetOpts = { falseAlertsPerWeek: 1, history: a.history, floor: Math.log(100) };
  const fusion = new AlertFusion(
    true,
    a,
    budgetOpts,
    new AlertMachine(a),
    new AlertBudget(budgetOpts),
  );
  const onsets: number[] = [];
  for (const x of [9, 1, 9.5, 1, 10.2]) {
    fusion.update(x + Math.log(3), 0, 0, 3, false, 20);
    onsets.push(fusion.onset > 0 ? Math.round(unitToEvidence(fusion.onset) * 10) / 10 : 0);
  }
  assert.deepEqual(onsets, [9, 0, 0, 0, 10.2]);
  // the scorer: surprises whose evidence, once its histogram holds a quiet past, peaks twice
  const scorer = new AnomalyScorer({ ...a, density: 0, smoothing: 1 });
  for (let i = 0; i < 1000; i++) scorer.update(0.5 + (i % 10) / 20, 0, true, false);
  const peaks: boolean[] = [];
  for (const s of [1e3, 0.5, 1.3e3, 0.5, 1e5]) {
    scorer.update(s, 0, false, false);
    peaks.push(scorer.onset > 0);
  }
  // ln(1.3e3 / 1e3) = 0.26 nats higher: not an onset with the margin; ln(1e5 / 1e3) = 4.6: one
  assert.deepEqual(peaks, [true, false, false, false, true]);
});

/**
 * Random smoothed evidence: mostly quiet, with incidents of rising and
 * falling evidence, repeats, plateaus, warm-up (quiet) stretches, and 0,
 * negative and NaN readings.
 */
function evidence(rand: () => number, n: number): { x: number[]; quiet: boolean[] } {
  const x: number[] = [], quiet: boolean[] = [];
  let level = 0, q = false;
  for (let t = 0; t < n; t++) {
    const u = rand();
    if (u < 0.02) level = 2 + 25 * rand(); // an incident begins
    else if (u < 0.04) level = 0;
    else level *= 0.8 + 0.3 * rand();
    if (rand() < 0.005) q = !q;
    const v = rand();
    x.push(
      v < 0.01 ? NaN : v < 0.02 ? -1 : v < 0.05 ? 0 : v < 0.1 ? x[t - 1] ?? 0 : level + rand(),
    );
    quiet.push(q);
  }
  return { x, quiet };
}

Deno.test("stepOnset over the latest entry alone is stepOnset over the whole ring, on random evidence", () => {
  // the claim of onset_rule.ts's module comment: the fusion's two numbers
  // per ring give every onset, freshness and run the dense ring gives
  for (
    const [seed, R, esc] of [[1, 500, Math.LN10], [2, 7, 0], [3, 1, 1], [4, 2, 3], [5, 50, 0.5]]
  ) {
    const rand = mulberry32(seed);
    const { x, quiet } = evidence(rand, 20_000);
    const dense = RINGS[0][1](R), latest = RINGS[1][1](R);
    let onsets = 0, fresh = 0;
    for (let t = 0; t < x.length; t++) {
      const slot = t % R, at = `seed ${seed}, R ${R}, reading ${t}`;
      for (const ring of ["onsets", "peaks"] as const) {
        assert.equal(latest[ring].maxExcept(slot), dense[ring].maxExcept(slot), `${ring}: ${at}`);
      }
      const a = stepOnset(dense, slot, x[t], quiet[t], esc);
      const b = stepOnset(latest, slot, x[t], quiet[t], esc);
      assert.deepEqual([b, latest.fresh, latest.runOnset], [a, dense.fresh, dense.runOnset], at);
      if (a) onsets++;
      if (dense.fresh) fresh++;
    }
    assert.ok(onsets > 20 && fresh > onsets, `seed ${seed}: ${onsets} onsets, ${fresh} fresh`);
  }
});

Deno.test("LatestRing.load() takes a dense ring's largest entry and its slot", () => {
  const r = new LatestRing();
  r.load([0, 3, 0, 7.5, 2, NaN, -4]);
  assert.deepEqual([r.value, r.slot], [7.5, 3]);
  assert.equal(r.maxExcept(3), 0);
  assert.equal(r.maxExcept(0), 7.5);
  r.load(new Float64Array(5));
  assert.deepEqual([r.value, r.slot], [0, 0]);
});
