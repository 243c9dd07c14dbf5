import assert from "node:assert/strict";
import { Blend, MAX_BLEND_EXPERTS } from "../../src/stream/blend.ts";
import { randn } from "../_helpers.ts";

Deno.test("Blend moves weight to the better expert and ignores inactive ones", () => {
  const b = new Blend(1, 3, 0.01, [100], 20);
  const noise = randn(4000, 2);
  const p = new Float64Array(3);
  for (let t = 0; t < 2000; t++) {
    const y = Math.sin(t / 10);
    p[0] = y + 0.05 * noise[2 * t]; // good
    p[1] = y + 1 * noise[2 * t + 1]; // poor
    p[2] = 1e6; // never active
    b.update(0, p, 0, [y], 0, 0b011);
  }
  const w = new Float64Array(3);
  b.weights(0, 0b011, w);
  assert.ok(w[0] > 0.9 && w[2] === 0, `weights ${Array.from(w)}`);
  assert.ok(Math.abs(b.combine(0, Float64Array.of(1, 1, 1e6), 0, 0b011) - 1) < 1e-12);
});

Deno.test("Blend combines experts with independent errors to beat the best of them", () => {
  // errors of variance 1 and 1.44, independent: the best convex combination
  // is w = (1.44, 1) / 2.44 with variance 1.44 / 2.44 = 0.59, well below the
  // better expert's (weights by each expert's own error never get below 1)
  const b = new Blend(1, 2, 0, [2000], 20);
  const noise = randn(40000, 3);
  const p = new Float64Array(2);
  let sq = 0, sq0 = 0, n = 0;
  for (let t = 0; t < 20000; t++) {
    const y = 5 * Math.sin(t / 50);
    p[0] = y + noise[2 * t];
    p[1] = y + 1.2 * noise[2 * t + 1];
    if (t >= 5000) {
      sq += (y - b.combine(0, p, 0, 0b11)) ** 2;
      sq0 += (y - p[0]) ** 2;
      n++;
    }
    b.update(0, p, 0, [y], 0, 0b11);
  }
  const w = new Float64Array(2);
  b.weights(0, 0b11, w);
  assert.ok(
    Math.abs(w[0] - 1.44 / 2.44) < 0.05 && Math.abs(w[0] + w[1] - 1) < 1e-12,
    `weights ${w}`,
  );
  assert.ok(sq / n < 0.7 && sq0 / n > 0.95, `blend ${sq / n}, best expert ${sq0 / n}`);
});

Deno.test("Blend keeps its weights convex and gives none to an overshooting copy", () => {
  // expert 1 makes expert 0's error 30% larger: unconstrained least
  // squares would extrapolate (w1 < 0, w0 > 1) to cancel their shared error,
  // which goes wrong the moment the two part ways; a convex blend gives the
  // copy no weight
  const b = new Blend(1, 3, 0, [500], 20);
  const noise = randn(9000, 4);
  const p = new Float64Array(3);
  for (let t = 0; t < 3000; t++) {
    const y = noise[3 * t];
    p[0] = y + 0.5 * noise[3 * t + 1];
    p[1] = y + 1.3 * (p[0] - y) + 0.05 * noise[3 * t + 2];
    p[2] = y + 0.6 * noise[(3 * t + 4500) % 9000]; // independent of expert 0
    b.update(0, p, 0, [y], 0, 0b111);
  }
  const w = new Float64Array(3);
  b.weights(0, 0b111, w);
  assert.ok(w.every((v) => v >= 0) && Math.abs(w[0] + w[1] + w[2] - 1) < 1e-12, `weights ${w}`);
  assert.ok(w[1] === 0 && w[0] > 0.5, `weights ${w}`);
});

Deno.test("Blend keeps its weights when every expert misses the same jump", () => {
  // a jump nobody foresaw adds the same error to every expert: it changes no
  // convex combination's relative merit, so the weights (0.6, 0.4 for error
  // variances 0.01 and 0.015) must stay, not be flattened by the ridge
  const b = new Blend(1, 2, 0.01, [100], 20);
  const noise = randn(4000, 6);
  const p = new Float64Array(2);
  const w = new Float64Array(2);
  for (let t = 0; t < 2001; t++) {
    const y = t === 2000 ? 100 : 0;
    // at the jump both forecast the old level: their errors are the same
    p[0] = t === 2000 ? 0 : 0.1 * noise[2 * t];
    p[1] = t === 2000 ? 0 : Math.sqrt(0.015) * noise[2 * t + 1];
    b.update(0, p, 0, [y], 0, 0b11);
    if (t === 1999) b.weights(0, 0b11, w);
  }
  const before = w[0];
  b.weights(0, 0b11, w);
  assert.ok(Math.abs(before - 0.6) < 0.1 && Math.abs(w[0] - before) < 0.05, `${before} -> ${w[0]}`);
});

Deno.test("Blend leaves out an expert exact only while the sensor is stuck", () => {
  // seasonal persistence repeats a day-old value: hopeless one step ahead in
  // general, but as exact as persistence during a long constant stretch
  const b = new Blend(1, 2, 0.01, [100], 20);
  const noise = randn(3000, 5);
  const p = new Float64Array(2);
  let y = 0;
  for (let t = 0; t < 3000; t++) {
    const stuck = t >= 2000;
    const next = stuck ? 3 : y + 0.1 * noise[t];
    p[0] = y; // persistence
    p[1] = stuck && t >= 2010 ? 3 : 10 * noise[(t + 7) % 3000]; // far off until the stretch
    b.update(0, p, 0, [next], 0, 0b11);
    y = next;
  }
  const w = new Float64Array(2);
  b.weights(0, 0b11, w);
  assert.deepEqual(Array.from(w), [1, 0]);
});

Deno.test("Blend weighs five experts with independent errors by the inverse of their variances", () => {
  // the convex optimum for independent errors: w_e ∝ 1 / variance_e
  const sd = [1, 1.1, 1.2, 1.3, 1.4];
  const E = sd.length;
  const b = new Blend(1, E, 0, [5000], 20);
  const noise = randn(E * 40_000, 8);
  const p = new Float64Array(E);
  for (let t = 0; t < 40_000; t++) {
    for (let e = 0; e < E; e++) p[e] = sd[e] * noise[E * t + e];
    b.update(0, p, 0, [0], 0, 0b11111);
  }
  const w = new Float64Array(E);
  b.weights(0, 0b11111, w);
  const inv = sd.map((s) => 1 / (s * s)), total = inv.reduce((a, v) => a + v);
  for (let e = 0; e < E; e++) {
    assert.ok(Math.abs(w[e] - inv[e] / total) < 0.03, `w[${e}] = ${w[e]}, want ${inv[e] / total}`);
  }
  assert.ok(Math.abs(w.reduce((a, v) => a + v) - 1) < 1e-12);
  // an inactive expert gets no weight, and the others share it
  b.weights(0, 0b01111, w);
  assert.equal(w[4], 0);
  assert.ok(w.every((v) => v >= 0) && Math.abs(w.reduce((a, v) => a + v) - 1) < 1e-12);
});

Deno.test("Blend takes up to MAX_BLEND_EXPERTS experts and names the count beyond", () => {
  assert.equal(new Blend(1, MAX_BLEND_EXPERTS, 0, [10], 1).experts, MAX_BLEND_EXPERTS);
  assert.throws(
    () => new Blend(1, MAX_BLEND_EXPERTS + 1, 0, [10], 1),
    new RegExp(
      `^RangeError: Cannot create blend: the expert count must be an integer from 1 to ${MAX_BLEND_EXPERTS} \\(the solver may try every subset of them, 2\\^E - 1 systems per slot and reading\\): current value is ${
        MAX_BLEND_EXPERTS + 1
      }$`,
    ),
  );
  assert.throws(() => new Blend(1, 0, 0, [10], 1), /current value is 0$/);
});

Deno.test("Blend bounds one reading's pull on its record from the slot the bound starts at", () => {
  // two experts with independent errors of equal size share the weight; then
  // one reading where expert 0 misses by 1,000 of its usual errors. Unbounded,
  // that reading alone hands the weight to expert 1 for hundreds of readings;
  // bounded at 20 long-run RMS errors, the weights move little. Slot 0 lies
  // before the bound's first slot and learns the reading as it was.
  const pull = { bound: 20, from: 1 };
  const bounded = new Blend(2, 2, 0.01, [2000, 2000], 20, undefined, pull);
  const plain = new Blend(2, 2, 0.01, [2000, 2000], 20);
  const noise = randn(4000, 5);
  const p = new Float64Array(2);
  const feed = (t: number, miss: number) => {
    const y = Math.sin(t / 20);
    p[0] = y + noise[2 * t] + miss;
    p[1] = y + noise[2 * t + 1];
    for (const b of [bounded, plain]) for (let s = 0; s < 2; s++) b.update(s, p, 0, [y], 0, 0b11);
  };
  for (let t = 0; t < 1500; t++) feed(t, 0);
  feed(1500, 1000);
  const w = (b: Blend, s: number) => {
    const out = new Float64Array(2);
    b.weights(s, 0b11, out);
    return out[0];
  };
  assert.ok(w(plain, 1) < 0.01, `unbounded: expert 0's weight ${w(plain, 1)}`);
  assert.equal(w(bounded, 0), w(plain, 0));
  assert.ok(w(bounded, 1) > 0.4, `bounded: expert 0's weight ${w(bounded, 1)}`);
  // the bound scales every error by one factor, so an error both experts share stays shared
  const shared = new Blend(1, 2, 0.01, [200], 20, undefined, { bound: 20, from: 0 });
  for (let t = 0; t < 1500; t++) {
    const y = Math.sin(t / 20);
    p[0] = y + noise[2 * t] + (t === 1400 ? 1000 : 0);
    p[1] = y + noise[2 * t + 1] + (t === 1400 ? 1000 : 0);
    shared.update(0, p, 0, [y], 0, 0b11);
  }
  const out = new Float64Array(2);
  shared.weights(0, 0b11, out);
  assert.ok(out[0] > 0.3 && out[1] > 0.3, `shared error: weights ${Array.from(out)}`);
  assert.throws(
    () => new Blend(1, 2, 0, [10], 1, undefined, { bound: -1, from: 0 }),
    /pull bound must be a finite number at least 0: current value is -1$/,
  );
});

Deno.test("Blend pools a slot's error moments with its neighbouring horizons' from the first pooled slot", () => {
  // five horizons of one target, two experts with independent errors of equal
  // size that grow with the horizon: the right weights are 0.5 everywhere, and
  // a short memory makes each slot's own weights wander. Pooled with one
  // horizon either side from slot 1 on, a slot solves from the neighbours'
  // moments scaled to its own trace, and wanders less; slot 0, before the
  // first pooled slot, keeps its own weights to the bit, and so do slots 1
  // and 4, which have a neighbour on one side only (the window is centred).
  const S = 5, memory = Array(S).fill(50);
  const pool = { steps: 1, ratio: 0, stride: 1, from: 1 };
  const pooled = new Blend(S, 2, 0, memory, 20, undefined, undefined, pool);
  const plain = new Blend(S, 2, 0, memory, 20);
  const noise = randn(2 * S * 3000, 9);
  const p = new Float64Array(2);
  const w = new Float64Array(2), v = new Float64Array(2);
  let devPooled = 0, devPlain = 0;
  for (let t = 0; t < 3000; t++) {
    for (let s = 0; s < S; s++) {
      p[0] = (1 + s) * noise[(t * S + s) * 2];
      p[1] = (1 + s) * noise[(t * S + s) * 2 + 1];
      pooled.update(s, p, 0, [0], 0, 0b11);
      plain.update(s, p, 0, [0], 0, 0b11);
    }
    if (t < 100) continue;
    pooled.weights(2, 0b11, w);
    plain.weights(2, 0b11, v);
    devPooled += (w[0] - 0.5) ** 2;
    devPlain += (v[0] - 0.5) ** 2;
  }
  assert.ok(devPooled < 0.6 * devPlain, `pooled ${devPooled}, own moments ${devPlain}`);
  // another blend of the same shape shares the pooling's scratch: weighing it in between
  // must not leave its sums in place of this blend's
  const other = new Blend(S, 2, 0, memory, 20, undefined, undefined, pool);
  for (let t = 0; t < 200; t++) {
    for (let s = 0; s < S; s++) {
      p[0] = noise[(t * S + s) * 2];
      p[1] = 1.3 * p[0] + 0.05 * noise[(t * S + s) * 2 + 1]; // an overshooting copy
      other.update(s, p, 0, [0], 0, 0b11);
    }
  }
  const cov = pooled.cov;
  const trace = (t: number) => cov[t * 4] + cov[t * 4 + 3];
  for (let s = 1; s < S; s++) {
    // the pooled moments by hand, and the two-expert convex optimum (ridge 0)
    const m = [0, 0, 0], k = Math.min(1, s - 1, S - 1 - s);
    for (let t = s - k; t <= s + k; t++) {
      const f = trace(s) / trace(t);
      m[0] += f * cov[t * 4];
      m[1] += f * cov[t * 4 + 1];
      m[2] += f * cov[t * 4 + 3];
    }
    const want = Math.min(1, Math.max(0, (m[2] - m[1]) / (m[0] + m[2] - 2 * m[1])));
    other.weights(s, 0b11, v);
    // its own moments give the copy no weight; this blend's would give each about half
    assert.ok(v[0] > 0.9, `the other blend, slot ${s}: ${v[0]}`);
    pooled.weights(s, 0b11, w);
    plain.weights(s, 0b11, v);
    assert.ok(Math.abs(w[0] - want) < 1e-9, `slot ${s}: ${w[0]}, want ${want}`);
    if (k > 0) assert.notEqual(w[0], v[0]);
    else assert.equal(w[0], v[0]);
  }
  pooled.weights(0, 0b11, w);
  plain.weights(0, 0b11, v);
  assert.deepEqual(Array.from(w), Array.from(v));
  const withPool = (steps: number, ratio: number) => () =>
    new Blend(1, 2, 0, [10], 1, undefined, undefined, { steps, ratio, stride: 1, from: 0 });
  assert.throws(
    withPool(1.5, 0),
    /horizons pooled either side must be an integer at least 0: current value is 1.5$/,
  );
  assert.throws(
    withPool(1, 0.5),
    /pooled errors' ratio must be 0 or a finite number at least 1: current value is 0.5$/,
  );
});

Deno.test("Blend pools only as far as its neighbours' errors stay within the ratio on both sides", () => {
  // seven horizons of one target, two experts with correlated errors whose size grows slowly
  // up to slot 3 and jumps threefold from slot 4. Pooled with up to three horizons either
  // side within a ratio of 1.5, slot 2 pools slots 1 to 3, slot 5 slots 4 to 6; slots 3 and
  // 4 pool nothing (the jump lies next to them), nor do slots 1 and 6 (one side only).
  const S = 7, memory = Array(S).fill(50);
  const scale = [1, 1.1, 1.2, 1.3, 4, 4.2, 4.4];
  const pool = { steps: 3, ratio: 1.5, stride: 1, from: 1 };
  const pooled = new Blend(S, 2, 0, memory, 20, undefined, undefined, pool);
  const noise = randn(2 * S * 400, 11);
  const p = new Float64Array(2);
  for (let t = 0; t < 400; t++) {
    for (let s = 0; s < S; s++) {
      p[0] = scale[s] * noise[(t * S + s) * 2];
      p[1] = scale[s] * (0.5 * noise[(t * S + s) * 2] + noise[(t * S + s) * 2 + 1]);
      pooled.update(s, p, 0, [0], 0, 0b11);
    }
  }
  const cov = pooled.cov;
  const trace = (t: number) => cov[t * 4] + cov[t * 4 + 3];
  const byHand = (s: number, k: number) => {
    const m = [0, 0, 0];
    for (let t = s - k; t <= s + k; t++) {
      m[0] += cov[t * 4] / trace(t);
      m[1] += cov[t * 4 + 1] / trace(t);
      m[2] += cov[t * 4 + 3] / trace(t);
    }
    return Math.min(1, Math.max(0, (m[2] - m[1]) / (m[0] + m[2] - 2 * m[1])));
  };
  const w = new Float64Array(2);
  const within = (a: number, b: number) => trace(a) <= 1.5 * trace(b) && trace(b) <= 1.5 * trace(a);
  // the horizons either side slot s pools: while both neighbours are within the ratio
  const reach = (s: number) => {
    let k = 0;
    while (k < Math.min(3, s - 1, S - 1 - s) && within(s - k - 1, s) && within(s + k + 1, s)) k++;
    return k;
  };
  for (let s = 1; s < S; s++) {
    pooled.weights(s, 0b11, w);
    const want = byHand(s, reach(s));
    assert.ok(Math.abs(w[0] - want) < 1e-9, `slot ${s}: ${w[0]}, want ${want}`);
  }
  // the windows the sizes above make: slot 2 reaches 1 and 3, slots 3 and 4 stop at the jump
  const ks = [2, 3, 4, 5].map(reach);
  assert.deepEqual(ks, [1, 0, 0, 1]);
});
