import assert from "node:assert/strict";
import { Rls } from "../../src/stream/rls.ts";
import { randn } from "../_helpers.ts";

Deno.test("Rls recovers the coefficients of a noiseless two-output linear map", () => {
  const d = 4, J = 2, n = 2000;
  const rls = new Rls(d, J, 0.999, 1);
  const X = randn(n * d, 1);
  const Wtrue = [[1, -2], [0.5, 0], [0, 3], [-1, 1]];
  const y = new Float64Array(J);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < J; j++) {
      y[j] = 0;
      for (let k = 0; k < d; k++) y[j] += Wtrue[k][j] * X[t * d + k];
    }
    rls.update(X, t * d, y, 0);
  }
  for (let k = 0; k < d; k++) {
    for (let j = 0; j < J; j++) {
      assert.ok(
        Math.abs(rls.W[k * J + j] - Wtrue[k][j]) < 1e-3,
        `W[${k}][${j}] = ${rls.W[k * J + j]}`,
      );
    }
  }
  const out = new Float64Array(J);
  rls.predict(Float64Array.of(1, 1, 1, 1), 0, out, 0);
  assert.ok(Math.abs(out[0] - 0.5) < 1e-3 && Math.abs(out[1] - 2) < 1e-3);
});
