import assert from "node:assert/strict";
import { Network } from "../../src/model/network.ts";
import { randn, relError } from "../_helpers.ts";

/** loss = Σ y·dOut over the T steps of a forward from (h0, c0). */
function fakeLoss(
  net: Network<Float64Array>,
  x: Float64Array,
  T: number,
  h0: Float64Array,
  c0: Float64Array,
  dOut: Float64Array,
): number {
  net.forward(x, 0, T, h0, c0);
  let s = 0;
  for (let i = 0; i < dOut.length; i++) s += net.ws.y[i] * dOut[i];
  return s;
}

/** Central differences of fakeLoss with respect to every element of `target`. */
function numericGrad(
  target: Float64Array,
  loss: () => number,
  eps = 1e-5,
): Float64Array {
  const g = new Float64Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const keep = target[i];
    target[i] = keep + eps;
    const up = loss();
    target[i] = keep - eps;
    const down = loss();
    target[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

const SHAPES = [
  { I: 1, H: 1, T: 1, L: 1, O: 1 },
  { I: 1, H: 3, T: 4, L: 1, O: 1 },
  { I: 2, H: 4, T: 5, L: 1, O: 2 },
  { I: 3, H: 5, T: 6, L: 2, O: 3 },
  { I: 3, H: 8, T: 6, L: 2, O: 1 },
  { I: 2, H: 2, T: 3, L: 2, O: 2 },
];

for (const { I, H, T, L, O } of SHAPES) {
  Deno.test(
    `backward() matches central differences for every tensor, the inputs and the initial state at I=${I} H=${H} T=${T} L=${L} O=${O}`,
    () => {
      const net = new Network<Float64Array>({
        inputs: I,
        hidden: H,
        layers: L,
        outputs: O,
        window: T,
        seed: 7 + H,
        dtype: Float64Array,
      });
      // larger weights than the initialisation, so every gate is exercised away from 0
      net.params.set(randn(net.params.length, 11 * H + I, 0.6));
      const x = randn(T * I, 3);
      const h0 = randn(L * H, 4, 0.5);
      const c0 = randn(L * H, 5, 0.5);
      const dOut = randn(T * O, 6);
      const loss = () => fakeLoss(net, x, T, h0, c0, dOut);

      loss();
      net.zeroGrads();
      net.backward(dOut, T);
      const grads = Float64Array.from(net.grads);
      const dX = Float64Array.from(net.ws.dX.subarray(0, T * I));
      const dh0 = Float64Array.from(net.ws.dh0);
      const dc0 = Float64Array.from(net.ws.dc0);

      const numeric = numericGrad(net.params, loss);
      for (const t of net.layout.tensors) {
        const a = grads.subarray(t.offset, t.offset + t.length);
        const n = numeric.subarray(t.offset, t.offset + t.length);
        const err = relError(a, n);
        assert.ok(err < 1e-6, `${t.name}: relative error ${err}`);
      }
      const checks: [string, Float64Array, Float64Array][] = [
        ["x", dX, numericGrad(x, loss)],
        ["h0", dh0, numericGrad(h0, loss)],
        ["c0", dc0, numericGrad(c0, loss)],
      ];
      for (const [name, a, n] of checks) {
        const err = relError(a, n);
        assert.ok(err < 1e-6, `${name}: relative error ${err}`);
      }
    },
  );
}

Deno.test("step() on the live state equals forward() over the same steps", () => {
  const I = 2, H = 6, L = 2, O = 2, T = 7;
  const net = new Network<Float64Array>({
    inputs: I,
    hidden: H,
    layers: L,
    outputs: O,
    window: T,
    dtype: Float64Array,
  });
  const x = randn(T * I, 9);
  net.forward(x, 0, T, new Float64Array(L * H), new Float64Array(L * H));
  const y = new Float64Array(O);
  for (let t = 0; t < T; t++) {
    net.step(x, t * I, y, 0);
    for (let k = 0; k < O; k++) assert.equal(y[k], net.ws.y[t * O + k], `t=${t} k=${k}`);
  }
});

Deno.test("rollout() feeds forecasts back and leaves the live state untouched", () => {
  const net = new Network<Float64Array>({
    inputs: 1,
    hidden: 4,
    layers: 1,
    outputs: 1,
    window: 4,
    dtype: Float64Array,
  });
  const y = new Float64Array(1);
  net.step(Float64Array.of(0.3), 0, y, 0);
  const h = Float64Array.from(net.h), c = Float64Array.from(net.c);
  const out = new Float64Array(5);
  const x = new Float64Array(1);
  const ks: number[] = [];
  net.rollout(5, y, x, (k, yk, xk) => {
    ks.push(k);
    out[k - 1] = yk[0];
    xk[0] = yk[0];
  });
  assert.deepEqual(ks, [1, 2, 3, 4, 5], "one call per output, the last without a further step");
  assert.deepEqual(Float64Array.from(net.h), h);
  assert.deepEqual(Float64Array.from(net.c), c);
  // the same trajectory by hand
  const y2 = new Float64Array(1);
  let prev = out[0];
  for (let k = 1; k < 5; k++) {
    net.step(Float64Array.of(prev), 0, y2, 0);
    assert.equal(out[k], y2[0], `k=${k}`);
    prev = y2[0];
  }
});

Deno.test("rollout() steps on the input the feed builds, which need not be the output", () => {
  // I = 2, O = 1: the feed puts the output and the step number back in
  const mk = () =>
    new Network<Float64Array>({
      inputs: 2,
      hidden: 3,
      layers: 2,
      outputs: 1,
      window: 4,
      dtype: Float64Array,
      seed: 4,
    });
  const net = mk(), ref = mk();
  const y = new Float64Array(1), x = new Float64Array(2);
  net.step(Float64Array.of(0.5, -1), 0, y, 0);
  ref.step(Float64Array.of(0.5, -1), 0, new Float64Array(1), 0);
  const out: number[] = [];
  net.rollout(4, y, x, (k, yk, xk) => {
    out.push(yk[0]);
    xk[0] = yk[0];
    xk[1] = k;
  });
  const y2 = new Float64Array(1);
  let prev = out[0];
  for (let k = 1; k < 4; k++) {
    ref.step(Float64Array.of(prev, k), 0, y2, 0);
    assert.equal(out[k], y2[0], `k=${k}`);
    prev = y2[0];
  }
  assert.throws(
    () => net.rollout(0, y, x, () => {}),
    /Cannot roll out forecast: steps must be an integer at least 1, x must hold 2 inputs and y 1 outputs: current values are 0, 2 and 1/,
  );
  assert.throws(
    () => net.rollout(3, y, new Float64Array(1), () => {}),
    /current values are 3, 1 and 1/,
  );
});

Deno.test("initialisation is seeded: forget biases are 1, other biases 0, weights within ±1/√H", () => {
  const mk = (seed: number) =>
    new Network({ inputs: 2, hidden: 16, layers: 2, outputs: 1, window: 4, seed });
  const a = mk(5), b = mk(5), c = mk(6);
  assert.deepEqual(a.params, b.params);
  assert.notDeepEqual(a.params, c.params);
  const k = 1 / Math.sqrt(16);
  for (const lv of a.views.layers) {
    assert.ok(lv.b_f.every((v) => v === 1));
    assert.ok(
      lv.b_i.every((v) => v === 0) && lv.b_c.every((v) => v === 0) && lv.b_o.every((v) => v === 0),
    );
    assert.ok(lv.W.every((v) => Math.abs(v) <= k));
  }
  assert.ok(a.views.by.every((v) => v === 0));
});

Deno.test("Network rejects a shape outside its limits with the field and value", () => {
  assert.throws(
    () => new Network({ inputs: 1, hidden: 8, layers: 4, outputs: 1, window: 4 }),
    /'layers' must be an integer from 1 to 3: current value is 4/,
  );
  assert.throws(
    () => new Network({ inputs: 0, hidden: 8, layers: 1, outputs: 1, window: 4 }),
    /'inputs' must be an integer from 1 to 4096: current value is 0/,
  );
});
