import assert from "node:assert/strict";
import { Network } from "../../src/model/network.ts";
import { OnlineTrainer } from "../../src/model/tbptt.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";

/** x_t = sin(2πt/50) + 0.5·sin(2πt/13) + 0.1·n_t, seeded. */
function twoSines(n: number, seed: number): Float64Array {
  const g = gaussian(mulberry32(seed));
  const x = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    x[t] = Math.sin((2 * Math.PI * t) / 50) + 0.5 * Math.sin((2 * Math.PI * t) / 13) + 0.1 * g();
  }
  return x;
}

/** Trains on x one reading at a time; returns the prequential losses. */
function train(
  trainer: OnlineTrainer<Float32Array> | OnlineTrainer<Float64Array>,
  x: Float64Array,
) {
  const losses: number[] = [];
  for (let t = 1; t < x.length; t++) losses.push(trainer.push([x[t - 1]], [x[t]]));
  return losses;
}

for (const carryState of [true, false]) {
  Deno.test(`OnlineTrainer learns a noisy two-sine stream far better than persistence (carryState=${carryState})`, () => {
    // the median over five initialisations: one seed alone can land on either side of a bound
    const x = twoSines(8000, 42);
    const last = 500;
    let persistence = 0;
    for (let t = x.length - last; t < x.length; t++) persistence += (x[t] - x[t - 1]) ** 2;
    persistence /= last;
    const ratios: number[] = [];
    for (let seed = 1; seed <= 5; seed++) {
      const net = new Network({ inputs: 1, hidden: 16, layers: 1, outputs: 1, window: 16, seed });
      const trainer = new OnlineTrainer(net, { lr: 3e-3, clipNorm: 1, carryState });
      const losses = train(trainer, x);
      assert.equal(trainer.updates, x.length - 1);
      let mse = 0;
      for (let t = x.length - last; t < x.length; t++) mse += losses[t - 1];
      ratios.push(mse / last / persistence);
    }
    const median = [...ratios].sort((a, b) => a - b)[2];
    // the noise alone costs about 0.18 of persistence's MSE here
    assert.ok(
      median < 0.55,
      `prequential MSE / persistence's by seed: ${ratios.map((r) => r.toFixed(3))}`,
    );
  });
}

Deno.test("OnlineTrainer gives bit-identical weights for the same seed and stream", () => {
  const run = (seed: number) => {
    const net = new Network({ inputs: 1, hidden: 8, layers: 2, outputs: 1, window: 8, seed });
    train(new OnlineTrainer(net, { lr: 1e-2, k1: 2, clipNorm: 1 }), twoSines(300, 1));
    return net.params;
  };
  const a = run(5), b = run(5), c = run(6);
  assert.deepEqual(new Uint8Array(a.buffer), new Uint8Array(b.buffer));
  assert.notDeepEqual(a, c);
});

Deno.test("OnlineTrainer updates every k1 readings and keeps at most k2 steps", () => {
  const net = new Network({ inputs: 1, hidden: 4, layers: 1, outputs: 1, window: 5 });
  const trainer = new OnlineTrainer(net, { k1: 3, k2: 5 });
  const x = twoSines(31, 2);
  const losses = train(trainer, x);
  // an update at readings 3, 6, 9, ... (1-based), NaN between them
  losses.forEach((l, i) => assert.equal(Number.isNaN(l), (i + 1) % 3 !== 0, `reading ${i + 1}`));
  assert.equal(trainer.updates, 10);
  assert.ok(trainer.length <= 5);
});

Deno.test("OnlineTrainer carries the stream's state into the window start; carryState=false starts from zero", () => {
  // a learning rate so small that the weights cannot change in float64:
  // the carried state must equal the state a plain step-by-step run reaches
  const mk = () =>
    new Network<Float64Array>({
      inputs: 1,
      hidden: 3,
      layers: 2,
      outputs: 1,
      window: 4,
      dtype: Float64Array,
    });
  const net = mk();
  const before = Float64Array.from(net.params);
  const trainer = new OnlineTrainer(net, { lr: 1e-300, k1: 1, k2: 4 });
  const x = twoSines(12, 3);
  train(trainer, x);
  assert.ok(net.params.every((v, i) => Math.abs(v - before[i]) < 1e-290));
  // 11 steps pushed, 4 left in the window after the last update's drop: 8 dropped
  const dropped = 11 - trainer.length;
  assert.equal(dropped, 8);
  const ref = mk();
  const y = new Float64Array(1);
  for (let t = 0; t < dropped; t++) ref.step(Float64Array.of(x[t]), 0, y, 0);
  assert.deepEqual(trainer.h0, ref.h);
  assert.deepEqual(trainer.c0, ref.c);

  const zero = new OnlineTrainer(mk(), { lr: 1e-3, carryState: false, k2: 4 });
  train(zero, x);
  assert.ok(zero.h0.every((v) => v === 0) && zero.c0.every((v) => v === 0));
});

Deno.test("OnlineTrainer waits for minSteps before its first update", () => {
  const net = new Network({ inputs: 1, hidden: 4, layers: 1, outputs: 1, window: 6 });
  const trainer = new OnlineTrainer(net, { minSteps: 6 });
  const losses = train(trainer, twoSines(10, 4));
  assert.deepEqual(losses.map((l) => Number.isNaN(l)), [
    true,
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
});

Deno.test("OnlineTrainer rejects a NaN or infinite reading before it reaches the weights", () => {
  const net = new Network({ inputs: 2, hidden: 4, layers: 1, outputs: 1, window: 4 });
  const trainer = new OnlineTrainer(net);
  trainer.push([0.1, 0.2], [0.3]);
  const params = Float32Array.from(net.params), length = trainer.length;
  assert.throws(
    () => trainer.push([0.1, NaN], [0.3]),
    /Cannot learn from reading: input\[1\] must be a finite number: current value is NaN/,
  );
  assert.throws(
    () => trainer.push([0.1, 0.2], [Infinity]),
    /Cannot learn from reading: target\[0\] must be a finite number: current value is Infinity/,
  );
  assert.deepEqual(net.params, params);
  assert.equal(trainer.length, length);
  assert.ok(Number.isFinite(trainer.push([0.2, 0.1], [0.0])));
});

Deno.test("OnlineTrainer rejects k1 larger than k2 with the field and value", () => {
  const net = new Network({ inputs: 1, hidden: 4, layers: 1, outputs: 1, window: 4 });
  assert.throws(
    () => new OnlineTrainer(net, { k1: 5, k2: 4 }),
    /'k1' must be an integer from 1 to 4: current value is 5/,
  );
});
