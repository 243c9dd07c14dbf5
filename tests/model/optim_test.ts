import assert from "node:assert/strict";
import { Adam } from "../../src/model/optim.ts";
import { makeLayout } from "../../src/model/layout.ts";

const layout = makeLayout({ inputs: 1, hidden: 2, layers: 1, outputs: 1 });

Deno.test("Adam's first step moves every parameter by lr against the gradient's sign (bias correction)", () => {
  const adam = new Adam<Float64Array>(layout, Float64Array, { lr: 0.01 });
  const p = new Float64Array(layout.size).fill(0.5);
  const g = new Float64Array(layout.size).map((_, i) => (i % 2 ? 3 : -0.002));
  adam.step(p, g);
  for (let i = 0; i < p.length; i++) {
    // m̂ = g and v̂ = g² after correction: the step is lr·g / (|g| + ε)
    const want = 0.5 - (0.01 * g[i]) / (Math.abs(g[i]) + 1e-8);
    assert.ok(Math.abs(p[i] - want) < 1e-15, `p[${i}] = ${p[i]}, expected ${want}`);
  }
});

Deno.test("Adam clips the global gradient norm to clipNorm as torch's clip_grad_norm_ does", () => {
  const a = new Adam<Float64Array>(layout, Float64Array, { lr: 0.1, clipNorm: 1 });
  const b = new Adam<Float64Array>(layout, Float64Array, { lr: 0.1 });
  const pa = new Float64Array(layout.size), pb = new Float64Array(layout.size);
  const g = new Float64Array(layout.size).map((_, i) => 10 * Math.sin(i + 1));
  let sq = 0;
  for (const v of g) sq += v * v;
  const norm = Math.sqrt(sq);
  const scaled = g.map((v) => v * (1 / (norm + 1e-6)));
  assert.equal(a.step(pa, g), norm);
  // after one step Adam is scale-invariant, so compare the moments instead
  b.step(pb, scaled);
  for (let i = 0; i < pa.length; i++) {
    assert.ok(
      Math.abs(a.m[i] - b.m[i]) < 1e-15 && Math.abs(a.v[i] - b.v[i]) < 1e-15,
      `moment ${i}`,
    );
  }
});

Deno.test("Adam's decoupled weight decay shrinks weight matrices and leaves biases alone", () => {
  const adam = new Adam<Float64Array>(layout, Float64Array, { lr: 0.1, weightDecay: 0.5 });
  const p = new Float64Array(layout.size).fill(1);
  adam.step(p, new Float64Array(layout.size));
  for (const t of layout.tensors) {
    const want = t.matrix ? 1 - 0.1 * 0.5 : 1;
    for (let i = t.offset; i < t.offset + t.length; i++) {
      assert.equal(p[i], want, `${t.name}[${i - t.offset}]`);
    }
  }
});

Deno.test("Adam refuses a non-finite gradient and leaves the parameters untouched", () => {
  const adam = new Adam<Float64Array>(layout, Float64Array);
  const p = new Float64Array(layout.size).fill(0.25);
  const g = new Float64Array(layout.size);
  g[3] = NaN;
  assert.throws(() => adam.step(p, g), /gradient norm must be finite: current value is NaN/);
  assert.ok(p.every((v) => v === 0.25));
  assert.equal(adam.t, 0);
});

Deno.test("Adam rejects settings outside their range with the field and value", () => {
  assert.throws(
    () => new Adam(layout, Float32Array, { beta1: 1 }),
    /'beta1' must be in \[0, 1\): current value is 1/,
  );
  assert.throws(
    () => new Adam(layout, Float32Array, { lr: -1 }),
    /'lr' must be in .*: current value is -1/,
  );
  assert.throws(
    () => new Adam(layout, Float32Array, { clipNorm: 0 }),
    /'clipNorm' must be positive: current value is 0/,
  );
});
