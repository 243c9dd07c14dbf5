import assert from "node:assert/strict";
import { AlertMachine, AnomalyScorer, normalCdf } from "../../src/stream/anomaly.ts";

const OPTS = { warmup: 3, threshold: 0.99, clear: 0.9, debounce: 2, newNormalAfter: 6 };

function run(m: AlertMachine, likelihoods: number[]) {
  return likelihoods.map((l) => `${m.step(l)}:${m.state}`);
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

Deno.test("AnomalyScorer's score grows with the surprise and never ties at the top", () => {
  const sc = new AnomalyScorer(4, 100);
  let prev = -1;
  for (const s of [0, 0.5, 1, 10, 1e3, 1e5, 1e7]) {
    sc.update(s);
    assert.ok(sc.score > prev && sc.score < 1, `surprise ${s}: score ${sc.score}`);
    prev = sc.score;
  }
});

Deno.test("AnomalyScorer's likelihood and percentile rise for a reading far outside the usual", () => {
  const sc = new AnomalyScorer(4, 500);
  for (let i = 0; i < 500; i++) sc.update(0.5 + 0.4 * Math.sin(i));
  assert.ok(sc.likelihood < 0.99);
  sc.update(30);
  assert.ok(sc.likelihood > 0.999, `likelihood ${sc.likelihood}`);
  assert.ok(sc.percentile > 0.99, `percentile ${sc.percentile}`);
});

Deno.test("normalCdf() matches known values", () => {
  for (const [z, p] of [[0, 0.5], [1.6448536, 0.95], [-1.959964, 0.025], [3.090232, 0.999]]) {
    assert.ok(Math.abs(normalCdf(z) - p) < 1e-6, `Φ(${z}) = ${normalCdf(z)}`);
  }
});
