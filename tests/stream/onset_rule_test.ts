import assert from "node:assert/strict";
import { DenseRing, type OnsetRings, stepOnset } from "../../src/stream/onset_rule.ts";
import { SparseRing } from "../../src/stream/sparse_ring.ts";

/** Rings of a refractory period of R readings, dense (the fusion's) or sparse (the scorer's). */
const RINGS: [string, (R: number) => OnsetRings][] = [
  ["dense", (R) => ({
    onsets: new DenseRing(new Float64Array(R)),
    peaks: new DenseRing(new Float64Array(R)),
    runOnset: 0,
    fresh: false,
  })],
  ["sparse", (R) => ({
    onsets: new SparseRing(R),
    peaks: new SparseRing(R),
    runOnset: 0,
    fresh: false,
  })],
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
