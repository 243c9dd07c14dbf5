/**
 * lstmForward() against the two versions it replaced, one step at H = 32
 * and H = 128 (I = 1): the original (matrix loop and gate loop in one
 * function, Math.exp and Math.tanh) and the same with the gate functions of
 * activations.ts. Same arithmetic order in all three; only the time differs.
 * The two one-body functions are frozen copies of the forward as it was at
 * 248e44c, kept as written on purpose: the shape of the code is what is
 * timed (passing σ and tanh in as parameters would change what V8 inlines),
 * so they are not meant to follow later changes of src/model/lstm.ts.
 *
 *   deno bench bench/lstm_forward_bench.ts
 */
import type { Floats } from "../src/model/floats.ts";
import { sigmoid, tanh } from "../src/model/activations.ts";
import { lstmForward } from "../src/model/lstm.ts";

/** The original forward: matrix loop and gate loop in one body, Math.exp and Math.tanh. */
function oneBodyMath(
  act: Floats,
  c: Floats,
  tc: Floats,
  h: Floats,
  xh: Floats,
  cPrev: Floats,
  W: Floats,
  b: Floats,
  H: number,
  K: number,
): void {
  const G = 4 * H;
  for (let r = 0; r < G; r += 4) {
    const o0 = r * K, o1 = o0 + K, o2 = o1 + K, o3 = o2 + K;
    let a0 = b[r], a1 = b[r + 1], a2 = b[r + 2], a3 = b[r + 3];
    for (let k = 0; k < K; k++) {
      const v = xh[k];
      a0 += W[o0 + k] * v;
      a1 += W[o1 + k] * v;
      a2 += W[o2 + k] * v;
      a3 += W[o3 + k] * v;
    }
    act[r] = a0;
    act[r + 1] = a1;
    act[r + 2] = a2;
    act[r + 3] = a3;
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
    const cj = f * cPrev[j] + i * g;
    const t = Math.tanh(cj);
    c[j] = cj;
    tc[j] = t;
    h[j] = o * t;
  }
}

/** The same one body with σ and tanh from activations.ts. */
function oneBodyFast(
  act: Floats,
  c: Floats,
  tc: Floats,
  h: Floats,
  xh: Floats,
  cPrev: Floats,
  W: Floats,
  b: Floats,
  H: number,
  K: number,
): void {
  const G = 4 * H;
  for (let r = 0; r < G; r += 4) {
    const o0 = r * K, o1 = o0 + K, o2 = o1 + K, o3 = o2 + K;
    let a0 = b[r], a1 = b[r + 1], a2 = b[r + 2], a3 = b[r + 3];
    for (let k = 0; k < K; k++) {
      const v = xh[k];
      a0 += W[o0 + k] * v;
      a1 += W[o1 + k] * v;
      a2 += W[o2 + k] * v;
      a3 += W[o3 + k] * v;
    }
    act[r] = a0;
    act[r + 1] = a1;
    act[r + 2] = a2;
    act[r + 3] = a3;
  }
  for (let j = 0; j < H; j++) {
    const f = sigmoid(act[j]);
    const i = sigmoid(act[H + j]);
    const g = tanh(act[2 * H + j]);
    const o = sigmoid(act[3 * H + j]);
    act[j] = f;
    act[H + j] = i;
    act[2 * H + j] = g;
    act[3 * H + j] = o;
    const cj = f * cPrev[j] + i * g;
    const t = tanh(cj);
    c[j] = cj;
    tc[j] = t;
    h[j] = o * t;
  }
}

for (const H of [32, 128]) {
  const K = H + 1;
  const W = new Float32Array(4 * H * K).map((_, i) => Math.sin(i) / Math.sqrt(H));
  const b = new Float32Array(4 * H);
  const xh = new Float32Array(K).map((_, i) => Math.cos(i));
  const cPrev = new Float32Array(H).fill(0.2);
  const act = new Float32Array(4 * H), c = new Float32Array(H);
  const tc = new Float32Array(H), h = new Float32Array(H);
  const group = `H=${H}`;
  Deno.bench(`one body, Math.exp/Math.tanh (before) H=${H}`, { group, baseline: true }, () => {
    oneBodyMath(act, c, tc, h, xh, cPrev, W, b, H, K);
  });
  Deno.bench(`one body, activations.ts H=${H}`, { group }, () => {
    oneBodyFast(act, c, tc, h, xh, cPrev, W, b, H, K);
  });
  Deno.bench(`lstmForward (two functions, activations.ts) H=${H}`, { group }, () => {
    lstmForward(act, 0, c, 0, tc, 0, h, 0, xh, 0, cPrev, 0, W, b, H, K);
  });
}
