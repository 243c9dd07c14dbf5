/**
 * The flat parameter layout of a network: where each named tensor lives in
 * one buffer. Parameters, gradients and the optimizer's moments share this
 * layout, so the optimizer, the checkpoint, the gradient check and the NaN
 * guard are each one loop over a flat array.
 *
 * Shape legend (used throughout src/model/):
 *   I input features, H hidden units, L layers, O outputs, T window length,
 *   K_l = H + I_l the width of a layer's concatenated input [h_{t-1}, x_t],
 *   where I_0 = I and I_l = H for l > 0.
 *
 * Per layer l: W (4H, K_l) row-major, then b (4H). Gate blocks of rows in
 * both are [f | i | c | o]: forget, input, candidate (C̃), output. Columns of W
 * are [h_{t-1} (H) | x_t (I_l)], so the gate pre-activations are
 * z = W·[h_{t-1}, x_t] + b, as in docs/model.md. After the layers: the dense head
 * Wy (O, H) row-major, then by (O).
 */
import type { Floats } from "./floats.ts";

/** The sizes that fix a network's layout. */
export interface NetworkShape {
  /** I: input features per step (>= 1). */
  inputs: number;
  /** H: hidden units per layer (>= 1). */
  hidden: number;
  /** L: stacked LSTM layers (1 to 3). */
  layers: number;
  /** O: outputs of the dense head (>= 1). */
  outputs: number;
}

/** A named tensor's place in the flat buffer. */
export interface TensorSpan {
  name: string;
  offset: number;
  length: number;
  /** True for weight matrices (weight decay applies), false for biases. */
  matrix: boolean;
}

/** Offsets of one layer's tensors. */
export interface LayerSpans {
  /** I_l: this layer's input width. */
  inputs: number;
  /** K_l = H + I_l. */
  width: number;
  W: TensorSpan;
  b: TensorSpan;
}

/** The whole layout: every tensor's span and the total size P. */
export interface Layout {
  shape: NetworkShape;
  layers: LayerSpans[];
  Wy: TensorSpan;
  by: TensorSpan;
  /** Every tensor in buffer order. */
  tensors: TensorSpan[];
  /** P: total number of parameters. */
  size: number;
}

/** Checks a shape and throws a message naming the bad field and its value. */
export function validateShape(shape: NetworkShape): void {
  const check = (name: keyof NetworkShape, min: number, max: number) => {
    const v = shape[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(
        `Cannot build network: '${name}' must be an integer from ${min} to ${max}: current value is ${v}`,
      );
    }
  };
  check("inputs", 1, 4096);
  check("hidden", 1, 4096);
  check("layers", 1, 3);
  check("outputs", 1, 4096);
}

/** Computes the flat layout for `shape`. */
export function makeLayout(shape: NetworkShape): Layout {
  validateShape(shape);
  const { inputs: I, hidden: H, layers: L, outputs: O } = shape;
  const tensors: TensorSpan[] = [];
  let offset = 0;
  const span = (name: string, length: number, matrix: boolean) => {
    const s = { name, offset, length, matrix };
    offset += length;
    tensors.push(s);
    return s;
  };
  const layers: LayerSpans[] = [];
  for (let l = 0; l < L; l++) {
    const inputs = l === 0 ? I : H;
    const width = H + inputs;
    layers.push({
      inputs,
      width,
      W: span(`layers.${l}.W`, 4 * H * width, true),
      b: span(`layers.${l}.b`, 4 * H, false),
    });
  }
  const Wy = span("head.W", O * H, true);
  const by = span("head.b", O, false);
  return { shape: { ...shape }, layers, Wy, by, tensors, size: offset };
}

/** Named views of one layer inside a flat buffer (no copies). */
export interface LayerViews<A extends Floats> {
  /** W (4H, K) row-major, gate blocks [f|i|c|o]. */
  W: A;
  /** b (4H), gate blocks [f|i|c|o]. */
  b: A;
  /** W_f (H, K): forget gate weights. */
  W_f: A;
  /** W_i (H, K): input gate weights. */
  W_i: A;
  /** W_c (H, K): candidate weights. */
  W_c: A;
  /** W_o (H, K): output gate weights. */
  W_o: A;
  b_f: A;
  b_i: A;
  b_c: A;
  b_o: A;
}

/** Named views of a whole flat buffer laid out by {@link makeLayout}. */
export interface Views<A extends Floats> {
  layers: LayerViews<A>[];
  /** Wy (O, H) row-major: the dense head. */
  Wy: A;
  /** by (O). */
  by: A;
}

/** Makes named `subarray` views of `buf` (params, grads or moments). */
export function makeViews<A extends Floats>(layout: Layout, buf: A): Views<A> {
  if (buf.length !== layout.size) {
    throw new RangeError(
      `Cannot view buffer: length must equal the layout size ${layout.size}: current value is ${buf.length}`,
    );
  }
  const H = layout.shape.hidden;
  const view = (s: TensorSpan) => buf.subarray(s.offset, s.offset + s.length) as A;
  const layers = layout.layers.map((ls) => new GateViews(view(ls.W), view(ls.b), H, ls.width));
  return { layers, Wy: view(layout.Wy), by: view(layout.by) };
}

/**
 * A layer's W and b, and its gates' blocks made on demand: the kernels take
 * W and b whole, and a network per stream would otherwise hold eight more
 * typed-array objects (about 100 bytes each) per layer that nothing reads
 * on the per-reading path.
 */
class GateViews<A extends Floats> implements LayerViews<A> {
  readonly #H: number;
  readonly #HK: number;
  constructor(readonly W: A, readonly b: A, H: number, K: number) {
    this.#H = H;
    this.#HK = H * K;
  }
  #w(g: number): A {
    return this.W.subarray(g * this.#HK, (g + 1) * this.#HK) as A;
  }
  #b(g: number): A {
    return this.b.subarray(g * this.#H, (g + 1) * this.#H) as A;
  }
  get W_f(): A {
    return this.#w(0);
  }
  get W_i(): A {
    return this.#w(1);
  }
  get W_c(): A {
    return this.#w(2);
  }
  get W_o(): A {
    return this.#w(3);
  }
  get b_f(): A {
    return this.#b(0);
  }
  get b_i(): A {
    return this.#b(1);
  }
  get b_c(): A {
    return this.#b(2);
  }
  get b_o(): A {
    return this.#b(3);
  }
}
