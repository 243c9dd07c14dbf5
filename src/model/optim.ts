/**
 * Adam with bias correction, global-norm gradient clipping and optional
 * decoupled weight decay (AdamW: the decay is applied to weight matrices
 * only, never to biases, so the forget gate's bias of 1 is kept).
 *
 * The moments m and v share the parameters' flat layout, so a step is one
 * loop over P values.
 */
import { DOUBLE_ZERO, type Floats, type FloatsCtor } from "./floats.ts";
import type { Layout } from "./layout.ts";
import { kindOf, makeFloatsFor } from "./kernels.ts";
import { sharedValues } from "./typed_block.ts";
import { wasmAdamUpdate, wasmSumSquares } from "./wasm/wasm_adam.ts";

/** Adam's settings. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** First-moment decay β₁. Default 0.9. */
  beta1?: number;
  /** Second-moment decay β₂. Default 0.999. */
  beta2?: number;
  /** ε added to √v̂. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay per step (scaled by lr), weights only. Default 0. */
  weightDecay?: number;
  /** Largest global L2 norm of the gradient; larger ones are scaled down. Default Infinity (off). */
  clipNorm?: number;
}

/** Adam state: the moments (P each) and the step count. */
export class Adam<A extends Floats = Float32Array> {
  /** The settings, shared with every optimiser of the same ones (`sharedValues`). */
  readonly #settings: Float64Array;
  /** Learning rate. */
  get lr(): number {
    return this.#settings[0];
  }
  /** First-moment decay β₁. */
  get beta1(): number {
    return this.#settings[1];
  }
  /** Second-moment decay β₂. */
  get beta2(): number {
    return this.#settings[2];
  }
  /** ε added to √v̂. */
  get eps(): number {
    return this.#settings[3];
  }
  /** Decoupled weight decay per step (scaled by lr), weights only. */
  get weightDecay(): number {
    return this.#settings[4];
  }
  /** Largest global L2 norm of the gradient. */
  get clipNorm(): number {
    return this.#settings[5];
  }
  /**
   * First moment m (P). With v, one block of the kernels' memory that the
   * optimizer owns: neither may be kept beyond it (kernel_heap.ts).
   */
  readonly m: A;
  /** Second moment v (P). */
  readonly v: A;
  /** Steps taken. */
  t = 0;
  /** Global gradient norm of the last step, before clipping. */
  lastNorm = DOUBLE_ZERO; // a double from the start: see DOUBLE_ZERO
  readonly #layout: Layout;
  /** m and v are in the WebAssembly kernels' memory (kernels.ts). */
  readonly #wasm: boolean;

  constructor(layout: Layout, dtype: FloatsCtor, opts: AdamOptions = {}) {
    this.#settings = sharedValues("adam", [
      opts.lr ?? 1e-3,
      opts.beta1 ?? 0.9,
      opts.beta2 ?? 0.999,
      opts.eps ?? 1e-8,
      opts.weightDecay ?? 0,
      opts.clipNorm ?? Infinity,
    ]);
    for (
      const [name, v, lo, hi] of [
        ["lr", this.lr, 0, Infinity],
        ["beta1", this.beta1, 0, 1],
        ["beta2", this.beta2, 0, 1],
        ["eps", this.eps, 0, Infinity],
        ["weightDecay", this.weightDecay, 0, Infinity],
      ] as const
    ) {
      if (!(v >= lo && v < hi) || (name === "lr" && v === 0)) {
        throw new RangeError(
          `Cannot build optimizer: '${name}' must be in [${lo}, ${hi}): current value is ${v}`,
        );
      }
    }
    if (!(this.clipNorm > 0)) {
      throw new RangeError(
        `Cannot build optimizer: 'clipNorm' must be positive: current value is ${this.clipNorm}`,
      );
    }
    this.#layout = layout;
    // one block (one finalizer cell) whose owner is the optimizer: keep m and v with it
    [this.m, this.v] = makeFloatsFor<A>(this, dtype, [layout.size, layout.size]);
    this.#wasm = kindOf(this.m) === "wasm";
  }

  /**
   * One update of `params` from `grads` (same layout). Throws, leaving the
   * parameters untouched, when the gradient holds a NaN or an infinity.
   * Returns the gradient's global norm before clipping.
   */
  step(params: Floats, grads: Floats): number {
    const P = params.length;
    // the WebAssembly kernels when every buffer is in their memory
    const wasm = this.#wasm && kindOf(params) === "wasm" && kindOf(grads) === "wasm";
    let sq = 0;
    if (wasm) sq = wasmSumSquares(grads);
    else for (let i = 0; i < P; i++) sq += grads[i] * grads[i];
    const norm = Math.sqrt(sq);
    if (!Number.isFinite(norm)) {
      throw new RangeError(
        `Cannot update model: the gradient norm must be finite: current value is ${norm}`,
      );
    }
    this.lastNorm = norm;
    // as torch.nn.utils.clip_grad_norm_: scale by clip / (norm + 1e-6) when below 1
    const coef = this.clipNorm / (norm + 1e-6);
    const scale = coef < 1 ? coef : 1;
    this.t++;
    const { beta1: b1, beta2: b2, lr, eps, m, v } = this;
    const c1 = 1 / (1 - Math.pow(b1, this.t));
    const c2 = 1 / (1 - Math.pow(b2, this.t));
    if (this.weightDecay > 0) {
      const keep = 1 - lr * this.weightDecay;
      for (const s of this.#layout.tensors) {
        if (!s.matrix) continue;
        for (let i = s.offset; i < s.offset + s.length; i++) params[i] *= keep;
      }
    }
    if (wasm) {
      wasmAdamUpdate(params, grads, m, v, scale, b1, b2, lr * c1, c2, eps);
      return norm;
    }
    for (let i = 0; i < P; i++) {
      const g = grads[i] * scale;
      const mi = b1 * m[i] + (1 - b1) * g;
      const vi = b2 * v[i] + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= (lr * mi * c1) / (Math.sqrt(vi * c2) + eps);
    }
    return norm;
  }
}
