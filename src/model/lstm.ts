/**
 * One LSTM layer, one time step: the forward kernel and its backward beside
 * it. The equations (docs/model.md, same names):
 *
 *   f_t  = σ(W_f·[h_{t-1}, x_t] + b_f)        forget gate
 *   i_t  = σ(W_i·[h_{t-1}, x_t] + b_i)        input gate
 *   C̃_t = tanh(W_c·[h_{t-1}, x_t] + b_c)     candidate
 *   C_t  = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t          cell
 *   o_t  = σ(W_o·[h_{t-1}, x_t] + b_o)        output gate
 *   h_t  = o_t ⊙ tanh(C_t)                     hidden
 *
 * Shapes (legend in layout.ts): H hidden units, K = H + I_l.
 * W (4H, K) row-major and b (4H) with gate blocks [f | i | c | o];
 * xh (K) = [h_{t-1} (H) | x_t (I_l)].
 *
 * Buffers are passed with offsets instead of views so that nothing is
 * allocated per step. 4H is always a multiple of 4, so the matrix loops take
 * four rows at a time (four independent accumulators, one load of xh for four
 * multiply-adds), which measured about 1.5x faster than one row at a time.
 *
 * σ and tanh come from activations.ts, a table-driven e^x that V8 inlines,
 * about 2.3x faster than Math.exp and Math.tanh. The forward is two
 * functions, the matrix product (gatePreactivations) and the gate math
 * (gateActivations): alone that is no faster than one body, but inlined into
 * stepFrom() and rollout() it made W2 and W3 3-20% faster. Together these
 * made a W2 streaming step 1.4x and a W1 training step 1.14x faster at
 * H = 32. Two fusions measured no better and were left out: the gate math
 * inside the matrix loop (unit j's four gate rows j, H+j, 2H+j, 3H+j at
 * once), and the same in the backward, which also changes the order dxh is
 * summed in, hence every training trajectory. Measurements and commands:
 * BENCHMARKS.md.
 */
import type { Floats } from "./floats.ts";
import { sigmoid, tanh } from "./activations.ts";

/**
 * Forward one step.
 *
 * Writes act (4H) = [f_t | i_t | C̃_t | o_t], c (H) = C_t, tc (H) = tanh(C_t)
 * and h (H) = h_t, each at its offset. Reads xh (K) and cPrev (H) = C_{t-1}.
 * act, c, tc and xh are what {@link lstmBackward} needs later.
 */
export function lstmForward(
  act: Floats,
  actOff: number,
  c: Floats,
  cOff: number,
  tc: Floats,
  tcOff: number,
  h: Floats,
  hOff: number,
  xh: Floats,
  xhOff: number,
  cPrev: Floats,
  cPrevOff: number,
  W: Floats,
  b: Floats,
  H: number,
  K: number,
): void {
  gatePreactivations(act, actOff, xh, xhOff, W, b, 4 * H, K);
  gateActivations(act, actOff, c, cOff, tc, tcOff, h, hOff, cPrev, cPrevOff, H);
}

/** z (G) = W·xh + b into act at actOff, four rows at a time; W (G, K). */
function gatePreactivations(
  act: Floats,
  actOff: number,
  xh: Floats,
  xhOff: number,
  W: Floats,
  b: Floats,
  G: number,
  K: number,
): void {
  for (let r = 0; r < G; r += 4) {
    const o0 = r * K, o1 = o0 + K, o2 = o1 + K, o3 = o2 + K;
    let a0 = b[r], a1 = b[r + 1], a2 = b[r + 2], a3 = b[r + 3];
    for (let k = 0; k < K; k++) {
      const v = xh[xhOff + k];
      a0 += W[o0 + k] * v;
      a1 += W[o1 + k] * v;
      a2 += W[o2 + k] * v;
      a3 += W[o3 + k] * v;
    }
    act[actOff + r] = a0;
    act[actOff + r + 1] = a1;
    act[actOff + r + 2] = a2;
    act[actOff + r + 3] = a3;
  }
}

/** The gates, cell and hidden state from the pre-activations in act (4H). */
function gateActivations(
  act: Floats,
  actOff: number,
  c: Floats,
  cOff: number,
  tc: Floats,
  tcOff: number,
  h: Floats,
  hOff: number,
  cPrev: Floats,
  cPrevOff: number,
  H: number,
): void {
  const iOff = actOff + H, gOff = actOff + 2 * H, oOff = actOff + 3 * H;
  for (let j = 0; j < H; j++) {
    const f = sigmoid(act[actOff + j]);
    const i = sigmoid(act[iOff + j]);
    const g = tanh(act[gOff + j]);
    const o = sigmoid(act[oOff + j]);
    act[actOff + j] = f;
    act[iOff + j] = i;
    act[gOff + j] = g;
    act[oOff + j] = o;
    const cj = f * cPrev[cPrevOff + j] + i * g;
    const t = tanh(cj);
    c[cOff + j] = cj;
    tc[tcOff + j] = t;
    h[hOff + j] = o * t;
  }
}

/**
 * Backward one step, same argument order as {@link lstmForward}: outputs,
 * upstream gradients, cached forward values, weights, sizes.
 *
 * Writes dxh (K) = dL/d[h_{t-1}, x_t] (overwritten) and adds into dW (4H, K)
 * and db (4H). dh (H) = dL/dh_t is read; dc (H) holds dL/dC_t arriving from
 * step t+1 and is replaced by dL/dC_{t-1}. dz (4H) is scratch.
 */
export function lstmBackward(
  dxh: Floats,
  dW: Floats,
  db: Floats,
  dz: Floats,
  dh: Floats,
  dc: Floats,
  act: Floats,
  actOff: number,
  tc: Floats,
  tcOff: number,
  cPrev: Floats,
  cPrevOff: number,
  xh: Floats,
  xhOff: number,
  W: Floats,
  H: number,
  K: number,
): void {
  const G = 4 * H;
  const iOff = actOff + H, gOff = actOff + 2 * H, oOff = actOff + 3 * H;
  // gate pre-activation gradients dz (4H) = [dz_f | dz_i | dz_c | dz_o]
  for (let j = 0; j < H; j++) {
    const f = act[actOff + j], i = act[iOff + j], g = act[gOff + j], o = act[oOff + j];
    const t = tc[tcOff + j];
    const dhj = dh[j];
    const dcj = dc[j] + dhj * o * (1 - t * t);
    dz[j] = dcj * cPrev[cPrevOff + j] * f * (1 - f);
    dz[H + j] = dcj * g * i * (1 - i);
    dz[2 * H + j] = dcj * i * (1 - g * g);
    dz[3 * H + j] = dhj * t * o * (1 - o);
    dc[j] = dcj * f;
  }
  // dW += dz ⊗ xh, db += dz, dxh = Wᵀ·dz, four rows at a time
  dxh.fill(0, 0, K);
  for (let r = 0; r < G; r += 4) {
    const o0 = r * K, o1 = o0 + K, o2 = o1 + K, o3 = o2 + K;
    const d0 = dz[r], d1 = dz[r + 1], d2 = dz[r + 2], d3 = dz[r + 3];
    db[r] += d0;
    db[r + 1] += d1;
    db[r + 2] += d2;
    db[r + 3] += d3;
    for (let k = 0; k < K; k++) {
      const v = xh[xhOff + k];
      dW[o0 + k] += d0 * v;
      dW[o1 + k] += d1 * v;
      dW[o2 + k] += d2 * v;
      dW[o3 + k] += d3 * v;
      dxh[k] += W[o0 + k] * d0 + W[o1 + k] * d1 + W[o2 + k] * d2 + W[o3 + k] * d3;
    }
  }
}
