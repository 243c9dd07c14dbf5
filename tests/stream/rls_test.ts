import assert from "node:assert/strict";
import { Rls, RlsBlock } from "../../src/stream/rls.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { linear, T0 } from "./_series.ts";
import { randn } from "../_helpers.ts";

const HOUR = 3_600_000;

/** The hourly preset without the LSTM, 24 steps ahead; the linear settings overridden. */
function hourly(linear: Partial<Preset["linear"]> = {}): Preset {
  const p = getPreset("hourly");
  return {
    ...p,
    model: { ...p.model, enabled: false },
    horizons: 24,
    linear: { ...p.linear, ...linear },
  };
}

/** An hourly temperature: daily cycle plus AR(1) weather, which the linear expert can forecast. */
function temperature(n: number, seed: number): Float64Array {
  const g = gaussian(mulberry32(seed));
  const x = new Float64Array(n);
  let w = 0;
  for (let t = 0; t < n; t++) {
    w = 0.95 * w + 0.6 * g();
    x[t] = 10 + 4 * Math.sin((2 * Math.PI * (t % 24 - 9)) / 24) + w;
  }
  return x;
}

/** Feeds rows [temp, second(temp, t)] hourly to a stream forecasting both. */
function run(second: (c: number, t: number) => number, preset = hourly(), n = 3000) {
  const c = temperature(n, 5);
  const s = new StreamModel({ id: "w", preset, columns: ["temp", "other"], periodMs: HOUR });
  for (let t = 0; t < n; t++) s.observe(T0 + t * HOUR, [c[t], second(c[t], t)]);
  return s;
}

/** The linear expert is finite and no worse than persistence at every horizon. */
function assertSound(s: StreamModel, what: string) {
  for (const r of linear(s).rls) {
    assert.ok(r.W.every(Number.isFinite), `${what}: finite weights`);
    assert.ok(r.P.every(Number.isFinite), `${what}: finite P`);
    assert.equal(r.skipped, 0, `${what}: no update skipped`);
  }
  for (const h of s.stats()) {
    const { linear, persistence } = h.mse;
    assert.ok(Number.isFinite(linear), `${what}: H=${h.horizon} linear MSE ${linear}`);
    assert.ok(
      linear <= persistence,
      `${what}: H=${h.horizon} linear MSE ${linear} above persistence ${persistence}`,
    );
  }
}

/** The largest diagonal element of P over the stream's horizons, times the ridge of each. */
function maxDiagTimesRidge(s: StreamModel): number {
  let m = 0;
  for (const r of linear(s).rls) {
    for (let i = 0; i < r.d; i++) m = Math.max(m, r.P[i * r.d + i] * r.ridge);
  }
  return m;
}

Deno.test("the linear expert with a duplicated column stays finite and no worse than persistence", () => {
  const s = run((c) => c);
  assertSound(s, "duplicated");
  // the duplicate's difference is never excited: its information stays at the ridge
  assert.ok(maxDiagTimesRidge(s) < 1.05, `P·δ reaches ${maxDiagTimesRidge(s)}`);
});

Deno.test("the linear expert with a column that is an exact affine function of another stays sound", () => {
  const s = run((c) => 1.8 * c + 32);
  assertSound(s, "affine");
  assert.ok(maxDiagTimesRidge(s) < 1.05, `P·δ reaches ${maxDiagTimesRidge(s)}`);
});

Deno.test("the linear expert with a constant column stays finite and no worse than persistence", () => {
  const s = run(() => 312);
  assertSound(s, "constant");
  assert.ok(maxDiagTimesRidge(s) < 1.05, `P·δ reaches ${maxDiagTimesRidge(s)}`);
});

Deno.test("the linear expert with a column that switches scale stays finite and no worse than persistence", () => {
  // a pressure logged in hPa, then in Pa from half way
  const g = gaussian(mulberry32(9));
  let p = 0;
  const s = run((_, t) => {
    p = 0.99 * p + 0.4 * g();
    return t < 1500 ? 1013 + p : 100 * (1013 + p);
  });
  assertSound(s, "switches scale");
});

Deno.test("plain RLS winds up on a constant column; with the ridge held P stays near I/δ", () => {
  // the fading ridge (before issue 11): P grows along the unexcited direction
  // until the guard stops forgetting, at ten times 1/δ
  const fading = run(() => 312, hourly({ holdRidge: false }));
  assert.ok(maxDiagTimesRidge(fading) > 9, `fading P·δ reaches ${maxDiagTimesRidge(fading)}`);
  const held = run(() => 312);
  assert.ok(maxDiagTimesRidge(held) < 1.05, `held P·δ reaches ${maxDiagTimesRidge(held)}`);
});

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

Deno.test("Rls with the ridge held recovers a noiseless linear map up to the ridge's shrinkage", () => {
  // the same map as the plain RLS test in experts_test.ts: with δ = 1 over a
  // memory of 1,000 readings of unit-variance features the shrinkage is 1/1000
  const d = 4, J = 2, rls = new Rls(d, J, 0.999, 1, { holdRidge: true });
  const g = gaussian(mulberry32(1));
  const Wtrue = [[1, -2], [0.5, 0], [0, 3], [-1, 1]];
  const phi = new Float64Array(d), y = new Float64Array(J);
  for (let t = 0; t < 3000; t++) {
    for (let k = 0; k < d; k++) phi[k] = g();
    for (let j = 0; j < J; j++) {
      y[j] = 0;
      for (let k = 0; k < d; k++) y[j] += Wtrue[k][j] * phi[k];
    }
    rls.update(phi, 0, y, 0);
  }
  for (let k = 0; k < d; k++) {
    for (let j = 0; j < J; j++) {
      const w = rls.W[k * J + j], want = Wtrue[k][j];
      assert.ok(Math.abs(w - want) < 0.005 * Math.abs(want) + 1e-3, `W[${k}][${j}] = ${w}`);
    }
  }
});

Deno.test("Rls with the ridge held shrinks the weight of a direction no feature excites to 0", () => {
  // features: x, x again, and 1; y = 2x + 1. The two copies share the weight
  // 2 (1 each) and the fit is exact; then the second copy wakes up alone
  const d = 3, rls = new Rls(d, 1, 0.99, 1, { holdRidge: true });
  const g = gaussian(mulberry32(3));
  const phi = new Float64Array(d), y = new Float64Array(1), out = new Float64Array(1);
  for (let t = 0; t < 5000; t++) {
    const x = g();
    phi.set([x, x, 1]);
    y[0] = 2 * x + 1;
    rls.update(phi, 0, y, 0);
  }
  // (the cycle shrinks one copy, then the other: they differ by its ripple)
  assert.ok(Math.abs(rls.W[0] - rls.W[1]) < 0.02, `copies weigh ${rls.W[0]} and ${rls.W[1]}`);
  assert.ok(Math.abs(rls.W[0] + rls.W[1] - 2) < 0.01, `their sum ${rls.W[0] + rls.W[1]}`);
  phi.set([0, 5, 1]);
  rls.predict(phi, 0, out, 0);
  // the copy alone moves the forecast by its half of the weight: 1 + 5·1
  assert.ok(Math.abs(out[0] - 6) < 0.1, `forecast ${out[0]}`);
  for (let i = 0; i < d; i++) {
    assert.ok(rls.P[i * d + i] <= 1.05, `P[${i}][${i}] ${rls.P[i * d + i]}`);
  }
});

Deno.test("Rls skips an update whose arithmetic is not finite and keeps its weights", () => {
  const rls = new Rls(2, 1, 0.999, 1, { holdRidge: true });
  rls.update(Float64Array.of(1, 1), 0, Float64Array.of(3), 0);
  const W = Float64Array.from(rls.W), P = Float64Array.from(rls.P);
  rls.update(Float64Array.of(1, 1), 0, Float64Array.of(Infinity), 0);
  assert.equal(rls.skipped, 1);
  assert.ok(rls.W.every(Number.isFinite) && rls.P.every(Number.isFinite));
  // only the held ridge's pseudo-observation moved them
  assert.ok(rls.W.every((w, k) => Math.abs(w - W[k]) < 0.01 * Math.abs(W[k]) + 1e-9));
  assert.ok(rls.P.every((p, k) => Math.abs(p - P[k]) < 0.01));
});

Deno.test("Rls refuses a ridge that is not a finite number above 0", () => {
  assert.throws(
    () => new Rls(2, 1, 0.999, 0),
    /^RangeError: Cannot create linear expert: the ridge must be a finite number above 0: current value is 0$/,
  );
});

Deno.test("Rls models sharing one block learn as models of their own do", () => {
  const d = 5, J = 2, n = 3;
  const rand = gaussian(mulberry32(7));
  // the owner's numbers (φ, the targets) in the block too, as the linear expert keeps them
  const block = new RlsBlock(d, J, n, d + J);
  const shared = Array.from(
    { length: n },
    (_, h) => new Rls(d, J, 0.99, 1 + h, { holdRidge: true, at: { block, model: h } }),
  );
  const own = Array.from({ length: n }, (_, h) => new Rls(d, J, 0.99, 1 + h, { holdRidge: true }));
  const phi = new Float64Array(d), y = new Float64Array(J), a = new Float64Array(J);
  const b = new Float64Array(J);
  const { f, extra } = block;
  for (let t = 0; t < 203; t++) {
    for (let k = 0; k < d; k++) phi[k] = rand();
    for (let j = 0; j < J; j++) y[j] = phi[0] * (j + 1) - phi[3] + 0.1 * rand();
    f.set(phi, extra);
    f.set(y, extra + d);
    for (let h = 0; h < n; h++) {
      shared[h].update(f, extra, f, extra + d);
      own[h].update(phi, 0, y, 0);
    }
  }
  for (let h = 0; h < n; h++) {
    assert.deepEqual([...shared[h].P], [...own[h].P], `P of model ${h}`);
    assert.deepEqual([...shared[h].W], [...own[h].W], `W of model ${h}`);
    assert.deepEqual([...shared[h].cycle], [...own[h].cycle], `cycle of model ${h}`);
    assert.equal(shared[h].cycle[0], 203 % d, "the cycle moved on");
    shared[h].predict(f, extra, a, 0);
    own[h].predict(phi, 0, b, 0);
    assert.deepEqual([...a], [...b], `forecast of model ${h}`);
  }
  // each model's settings are numbers of the block, not fields boxed per model
  for (let h = 0; h < n; h++) {
    const k = block.settings + 4 * h, ridge = 1 + h;
    assert.deepEqual([...f.subarray(k, k + 4)], [0.99, ridge, 10 / ridge, d * (1 - 0.99) * ridge]);
    assert.deepEqual([shared[h].forgetting, shared[h].ridge], [0.99, ridge]);
  }
  // the views are of the block: what is written through them is the model's
  shared[1].W.fill(0);
  shared[1].predict(f, extra, a, 0);
  assert.deepEqual([...a], [0, 0], "W through its view");
  assert.deepEqual([...f.subarray(extra, extra + d)], [...phi], "φ left as written");
  assert.throws(
    () => new Rls(4, J, 0.99, 1, { at: { block, model: 0 } }),
    /Cannot create linear expert: the block must be made for d = 4, J = 2: current value is d = 5, J = 2$/,
  );
  assert.throws(
    () => new Rls(d, J, 0.99, 1, { at: { block, model: n } }),
    /Cannot create linear expert: the model must be an integer from 0 to 2: current value is 3$/,
  );
});
