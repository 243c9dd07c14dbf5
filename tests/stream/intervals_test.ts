import assert from "node:assert/strict";
import { Intervals } from "../../src/stream/intervals.ts";
import { randn } from "../_helpers.ts";

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

Deno.test("Intervals with a slower scale do not over-cover when the residuals' level changes", () => {
  // |N(0, 1)| residuals whose level triples every 500 readings
  const u = randn(60_000, 4);
  const cover = (memory: number) => {
    const iv = new Intervals(1, 0.9, 0.05, [memory]);
    let inside = 0;
    for (let t = 0; t < u.length; t++) {
      const r = Math.abs(u[t]) * (Math.floor(t / 500) % 2 ? 3 : 1);
      if (iv.update(0, r, iv.ready(0) ? iv.q[0] : Infinity) && t >= 10_000) inside++;
    }
    return inside / 50_000;
  };
  const fast = cover(100), slow = cover(1000);
  assert.ok(fast > 0.91, `m over 100 readings covers ${fast}`);
  assert.ok(Math.abs(slow - 0.9) < 0.005, `m over 1000 readings covers ${slow}`);
});
