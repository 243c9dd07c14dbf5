import assert from "node:assert/strict";
import { lstmForward } from "../../src/model/lstm.ts";
import { randn, relError } from "../_helpers.ts";

/**
 * The simple forward, kept as the oracle of the fast one: one row at a time,
 * then the gates with Math.exp and Math.tanh. Same arguments as lstmForward.
 */
function lstmForwardReference(
  act: Float64Array,
  c: Float64Array,
  tc: Float64Array,
  h: Float64Array,
  xh: Float64Array,
  cPrev: Float64Array,
  W: Float64Array,
  b: Float64Array,
  H: number,
  K: number,
): void {
  for (let r = 0; r < 4 * H; r++) {
    let z = b[r];
    for (let k = 0; k < K; k++) z += W[r * K + k] * xh[k];
    act[r] = z;
  }
  for (let j = 0; j < H; j++) {
    const f = 1 / (1 + Math.exp(-act[j]));
    const i = 1 / (1 + Math.exp(-act[H + j]));
    const g = Math.tanh(act[2 * H + j]);
    const o = 1 / (1 + Math.exp(-act[3 * H + j]));
    act[j] = f;
    act[H + j] = i;
    act[2 * H + j] = g;
    act[3 * H + j] = o;
    c[j] = f * cPrev[j] + i * g;
    tc[j] = Math.tanh(c[j]);
    h[j] = o * tc[j];
  }
}

for (const [H, I] of [[1, 1], [4, 3], [32, 1], [33, 2]]) {
  Deno.test(`lstmForward() matches the simple Math.exp/Math.tanh forward to 1e-14 at H=${H} I=${I}`, () => {
    const K = H + I;
    // weights large enough to drive some gates into saturation
    const W = randn(4 * H * K, 100 + H, 1.5), b = randn(4 * H, 101 + H);
    const xh = randn(K, 102 + H), cPrev = randn(H, 103 + H, 2);
    const want = {
      act: new Float64Array(4 * H),
      c: new Float64Array(H),
      tc: new Float64Array(H),
      h: new Float64Array(H),
    };
    lstmForwardReference(want.act, want.c, want.tc, want.h, xh, cPrev, W, b, H, K);
    // at offsets inside larger buffers, as the network calls it
    const off = 3;
    const act = new Float64Array(off + 4 * H), c = new Float64Array(off + H);
    const tc = new Float64Array(off + H), h = new Float64Array(off + H);
    const xhAt = new Float64Array(off + K), cPrevAt = new Float64Array(off + H);
    xhAt.set(xh, off);
    cPrevAt.set(cPrev, off);
    lstmForward(act, off, c, off, tc, off, h, off, xhAt, off, cPrevAt, off, W, b, H, K);
    for (
      const [name, got, exp] of [
        ["act", act, want.act],
        ["c", c, want.c],
        ["tc", tc, want.tc],
        ["h", h, want.h],
      ] as const
    ) {
      const err = relError(got.subarray(off), exp);
      assert.ok(err < 1e-14, `${name}: relative error ${err}`);
    }
  });
}

Deno.test("lstmForward() may update the state in place (h from xh, C_t over C_{t-1})", () => {
  const H = 5, I = 2, K = H + I;
  const W = randn(4 * H * K, 7, 0.8), b = randn(4 * H, 8);
  const h = randn(H, 9), c = randn(H, 10);
  const x = randn(I, 11);
  const xh = new Float64Array(K);
  xh.set(h);
  xh.set(x, H);
  const want = {
    act: new Float64Array(4 * H),
    c: new Float64Array(H),
    tc: new Float64Array(H),
    h: new Float64Array(H),
  };
  lstmForwardReference(want.act, want.c, want.tc, want.h, xh, c, W, b, H, K);
  lstmForward(
    new Float64Array(4 * H),
    0,
    c,
    0,
    new Float64Array(H),
    0,
    h,
    0,
    xh,
    0,
    c,
    0,
    W,
    b,
    H,
    K,
  );
  assert.ok(relError(c, want.c) < 1e-14, `c: relative error ${relError(c, want.c)}`);
  assert.ok(relError(h, want.h) < 1e-14, `h: relative error ${relError(h, want.h)}`);
});
