import assert from "node:assert/strict";
import { Rls } from "../../src/stream/rls.ts";
import { Blend } from "../../src/stream/blend.ts";
import { Intervals } from "../../src/stream/intervals.ts";
import { calendarFeatures } from "../../src/stream/calendar.ts";
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

Deno.test("Blend moves weight to the better expert and ignores inactive ones", () => {
  const b = new Blend(1, 3, 10, [100], 20);
  const noise = randn(4000, 2);
  const p = new Float64Array(3);
  for (let t = 0; t < 2000; t++) {
    const y = Math.sin(t / 10);
    p[0] = y + 0.05 * noise[2 * t]; // good
    p[1] = y + 1 * noise[2 * t + 1]; // poor
    p[2] = 1e6; // never active
    b.update(0, p, 0, y, 0b011);
  }
  const w = new Float64Array(3);
  b.weights(0, 0b011, w);
  assert.ok(w[0] > 0.9 && w[2] === 0, `weights ${Array.from(w)}`);
  assert.equal(b.combine(0, Float64Array.of(1, 1, 1e6), 0, 0b011), 1);
});

Deno.test("Intervals cover the configured share of uniform residuals", () => {
  const iv = new Intervals(1, 0.8, 0.05);
  const u = randn(20000, 3);
  let inside = 0;
  for (let t = 0; t < u.length; t++) {
    const r = Math.abs(u[t]);
    const q = iv.ready(0) ? iv.q[0] : Infinity;
    if (iv.update(0, r, q) && t >= 10000) inside++;
  }
  const cover = inside / 10000;
  assert.ok(Math.abs(cover - 0.8) < 0.02, `coverage ${cover}`);
  // the 80% quantile of |N(0,1)| is 1.2816
  assert.ok(Math.abs(iv.q[0] - 1.2816) < 0.15, `q ${iv.q[0]}`);
});

Deno.test("calendarFeatures() puts midnight next to 23:59 and Monday 00:00 at the week's start", () => {
  const out = new Float64Array(4);
  calendarFeatures(Date.UTC(2026, 0, 5, 0, 0), 0, out, 0); // Monday 00:00 UTC
  assert.deepEqual(Array.from(out, (v) => +v.toFixed(12)), [0, 1, 0, 1]);
  calendarFeatures(Date.UTC(2026, 0, 5, 6, 0), 0, out, 0); // 06:00
  assert.ok(Math.abs(out[0] - 1) < 1e-12 && Math.abs(out[1]) < 1e-12);
  calendarFeatures(Date.UTC(2026, 0, 4, 23, 0), 60, out, 0); // Sunday 23:00 UTC is Monday 00:00 at +01:00
  assert.ok(Math.abs(out[0]) < 1e-12 && Math.abs(out[1] - 1) < 1e-12 && Math.abs(out[2]) < 1e-12);
});
