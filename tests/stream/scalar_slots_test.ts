import assert from "node:assert/strict";
import { AnomalyScorer, scorerBlock } from "../../src/stream/anomaly.ts";
import { shapeBlock, ShapeDetector } from "../../src/stream/shape.ts";
import { BlockArena, blockBytes } from "../../src/model/typed_block.ts";
import { Adam } from "../../src/model/optim.ts";
import { makeLayout } from "../../src/model/layout.ts";
import { Normalizer } from "../../src/model/normalize.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { FIVE_MIN, T0 } from "./_series.ts";

// The scorer's and the shape detector's numbers are slots of their state
// arrays, cut with their neighbours' from one arena; Adam's and the
// normalisers' settings are shared by every instance of the same values.

const SCORER = {
  smoothing: 3,
  history: 500,
  refractory: 12,
  escalation: 2,
  density: 24,
  densityLevel: 3,
};
const SHAPE = { window: 16, history: 2_000, warmup: 40 };

/** What a scorer's and a shape detector's update() leave, as numbers. */
function outputs(sc: AnomalyScorer, sd: ShapeDetector): number[] {
  return [
    sc.score,
    sc.evidence,
    sc.smoothed,
    sc.likelihood,
    sc.onset,
    sc.percentile,
    sc.total,
    sc.count,
    sc.runOnset,
    sc.mostUnusual,
    sc.unusualTotal,
    sd.distance,
    sd.evidence,
    sd.filled,
    sd.head,
    sd.taken,
    sd.used,
    sd.lastTs,
    sd.periodMs,
    ...sc.recent,
    ...sd.pending,
  ];
}

Deno.test("streams whose scorers and shape detectors share an arena keep their own numbers", () => {
  // two streams laid out back to back in one arena, as a stream's block
  // holds its parts, fed different series; each must end as the same
  // stream fed alone in buffers of its own
  const bytes = blockBytes(scorerBlock(SCORER)) + blockBytes(shapeBlock(1, SHAPE.window));
  const arena = new BlockArena(2 * bytes);
  const pair = [0, 1].map(() => ({
    sc: new AnomalyScorer(SCORER, arena),
    sd: new ShapeDetector(1, SHAPE, arena),
  }));
  assert.equal(arena.left, 0);
  const alone = [0, 1].map(() => ({
    sc: new AnomalyScorer(SCORER),
    sd: new ShapeDetector(1, SHAPE),
  }));
  const z = new Float64Array(1);
  for (const k of [0, 1]) {
    const g = gaussian(mulberry32(7 + k));
    for (let n = 0; n < 400; n++) {
      const s = Math.abs(g()) * (k + 1) + (n === 300 ? 40 : 0);
      z[0] = g() * (k + 1);
      for (const { sc, sd } of [pair[k], alone[k]]) {
        const shape = sd.update(z, T0 + n * FIVE_MIN * (k + 1), n % 50 !== 0);
        sc.update(s, n === 200 ? n : 0, n < 300, n < 40, shape > 0 ? shape : NaN);
      }
    }
  }
  for (const k of [0, 1]) {
    assert.deepEqual(outputs(pair[k].sc, pair[k].sd), outputs(alone[k].sc, alone[k].sd));
  }
  assert.notDeepEqual(outputs(pair[0].sc, pair[0].sd), outputs(pair[1].sc, pair[1].sd));
});

Deno.test("the state's views hold the ring, the histogram and the pending values alone", () => {
  const sc = new AnomalyScorer(SCORER), sd = new ShapeDetector(1, SHAPE);
  assert.equal(sc.recent.length, SCORER.smoothing);
  assert.equal(sc.bins.length, 96);
  assert.equal(sd.pending.length, SHAPE.window);
  // a new detector's pending values are NaN, its numbers as a new object's were
  assert.ok(sd.pending.every(Number.isNaN));
  assert.deepEqual([sd.lastUnlearned, sd.filled, sd.used], [-1, 0, 0]);
  assert.ok(Number.isNaN(sd.distance) && Number.isNaN(sd.lastTs) && Number.isNaN(sc.shapeEvidence));
  // a shape detector that is off still has its numbers
  const off = new ShapeDetector(1, { ...SHAPE, window: 0 });
  assert.deepEqual([off.ring.length, off.rough.length, off.pending.length], [0, 0, 0]);
  off.taken = 5;
  assert.equal(off.taken, 5);
});

Deno.test("optimisers and normalisers of different settings keep their own", () => {
  const layout = makeLayout({ inputs: 1, hidden: 2, layers: 1, outputs: 1 });
  const a = new Adam(layout, Float32Array, { lr: 0.01, clipNorm: 5 });
  const b = new Adam(layout, Float32Array, { lr: 0.02, beta2: 0.99 });
  const c = new Adam(layout, Float32Array, { lr: 0.01, clipNorm: 5 });
  assert.deepEqual(
    [a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.clipNorm],
    [0.01, 0.9, 0.999, 1e-8, 0, 5],
  );
  assert.deepEqual(
    [b.lr, b.beta1, b.beta2, b.eps, b.weightDecay, b.clipNorm],
    [0.02, 0.9, 0.99, 1e-8, 0, Infinity],
  );
  assert.deepEqual([c.lr, c.clipNorm], [0.01, 5]);
  const n1 = new Normalizer(1, { forgetting: 0.999 }), n2 = new Normalizer(1, { minStd: 1e-3 });
  assert.deepEqual([n1.forgetting, n1.minStd, n2.forgetting, n2.minStd], [0.999, 1e-6, 1, 1e-3]);
  assert.throws(() => new Normalizer(1, { forgetting: 1.5 }), /'forgetting' must be in \(0, 1\]/);
});
