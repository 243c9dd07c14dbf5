import assert from "node:assert/strict";
import { exp, sigmoid, tanh } from "../../src/model/activations.ts";

/** n + 1 evenly spaced points from a to b. */
function grid(a: number, b: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => a + ((b - a) * i) / n);
}

Deno.test("exp() is within 1e-15 relative of Math.exp over [-708, 709]", () => {
  let worst = 0, at = 0;
  for (const x of [...grid(-708, 709, 200_000), ...grid(-1, 1, 20_000), 0, -0, 1e-300]) {
    const err = Math.abs(exp(x) - Math.exp(x)) / Math.exp(x);
    if (err > worst) [worst, at] = [err, x];
  }
  assert.ok(worst < 1e-15, `relative error ${worst} at x=${at}`);
  assert.equal(exp(0), 1);
});

Deno.test("exp() clamps beyond [-708, 709] to finite values and passes NaN through", () => {
  assert.equal(exp(Infinity), exp(709));
  assert.equal(exp(1e6), exp(709));
  assert.equal(exp(-Infinity), exp(-708));
  assert.ok(Number.isFinite(exp(709)) && exp(-708) > 0);
  assert.ok(Number.isNaN(exp(NaN)));
});

Deno.test("sigmoid() and tanh() are within 1e-15 of their Math.exp and Math.tanh forms", () => {
  let ds = 0, dt = 0;
  for (const x of [...grid(-60, 60, 200_000), 0, 1e-12, -1e-12]) {
    ds = Math.max(ds, Math.abs(sigmoid(x) - 1 / (1 + Math.exp(-x))));
    dt = Math.max(dt, Math.abs(tanh(x) - Math.tanh(x)));
  }
  assert.ok(ds < 1e-15, `sigmoid: absolute error ${ds}`);
  assert.ok(dt < 1e-15, `tanh: absolute error ${dt}`);
});

Deno.test("sigmoid() and tanh() saturate to their limits at ±Infinity and pass NaN through", () => {
  assert.equal(sigmoid(Infinity), 1);
  assert.ok(sigmoid(-Infinity) >= 0 && sigmoid(-Infinity) < 1e-300);
  assert.equal(tanh(Infinity), 1);
  assert.equal(tanh(-Infinity), -1);
  assert.equal(tanh(0), 0);
  assert.ok(Number.isNaN(sigmoid(NaN)) && Number.isNaN(tanh(NaN)));
});
