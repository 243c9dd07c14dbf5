/**
 * Online learning by truncated backpropagation through time, TBPTT(k1, k2)
 * (Williams and Peng, 1990): the trainer keeps a rolling window of the last
 * k2 steps (input x (I) and target y (O) each); every k1 steps it runs the
 * network forward over the window from the state stored at the window's first
 * step (a constant: no gradient flows into it), takes the mean squared error
 * of the outputs at the last k1 steps, backpropagates through the whole window
 * and makes one Adam step. Then the window start moves on, and the stored
 * start state becomes the state the forward pass reached there.
 *
 * With `carryState: false` every window starts from a zero state instead
 * (a stateless sliding window, as in benchmark workload W1).
 */
import { assertFinite, type Floats, type FloatsCtor } from "./floats.ts";
import type { NetworkShape } from "./layout.ts";
import type { Network } from "./network.ts";
import { Adam, type AdamOptions } from "./optim.ts";
import { type BlockArena, typedBlock } from "./typed_block.ts";

/** The trainer's settings. */
export interface TrainerOptions extends AdamOptions {
  /** k1: readings between two updates. Default 1. */
  k1?: number;
  /** k2: steps backpropagated (the window length T). Default: the network's window. */
  k2?: number;
  /** Carry the state from the stream into each window (true) or start from zero. Default true. */
  carryState?: boolean;
  /** Fewest steps in the window before the first update. Default 1. */
  minSteps?: number;
  /** Where the window's arrays are cut from ({@link trainerBlock}); default a buffer of their own. */
  arena?: BlockArena;
}

/** The trainer's window arrays (xs, ys, h0, c0) for a network of `shape` and a window of k2 steps. */
export function trainerBlock(dtype: FloatsCtor, shape: NetworkShape, k2: number) {
  const { inputs: I, outputs: O, layers: L, hidden: H } = shape;
  return [
    [dtype, k2 * I],
    [dtype, k2 * O],
    [dtype, L * H],
    [dtype, L * H],
  ] as const;
}

/** Online TBPTT(k1, k2) trainer for one network. */
export class OnlineTrainer<A extends Floats = Float32Array> {
  readonly net: Network<A>;
  readonly adam: Adam<A>;
  readonly k1: number = 0;
  readonly k2: number = 0;
  readonly carryState: boolean;
  readonly minSteps: number = 0;
  /** xs (k2, I): window inputs, oldest first. */
  readonly xs: A;
  /** ys (k2, O): window targets, oldest first. */
  readonly ys: A;
  /** h0, c0 (L, H): the state at the window's first step. */
  readonly h0: A;
  readonly c0: A;
  /** Steps in the window. */
  length = 0;
  /** Steps pushed since the last update. */
  pending = 0;
  /** Updates made. */
  updates = 0;

  constructor(net: Network<A>, opts: TrainerOptions = {}) {
    this.net = net;
    this.k2 = opts.k2 ?? net.ws.window;
    this.k1 = opts.k1 ?? 1;
    this.carryState = opts.carryState ?? true;
    this.minSteps = opts.minSteps ?? 1;
    const int = (name: string, v: number, lo: number, hi: number) => {
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw new RangeError(
          `Cannot build trainer: '${name}' must be an integer from ${lo} to ${hi}: current value is ${v}`,
        );
      }
    };
    int("k2", this.k2, 1, net.ws.window);
    int("k1", this.k1, 1, this.k2);
    int("minSteps", this.minSteps, 1, this.k2);
    this.adam = new Adam<A>(net.layout, net.dtype, opts);
    const [xs, ys, h0, c0] = typedBlock(trainerBlock(net.dtype, net.shape, this.k2), opts.arena);
    [this.xs, this.ys, this.h0, this.c0] = [xs as A, ys as A, h0 as A, c0 as A];
  }

  /**
   * Adds one step (input x (I), target y (O)) to the window and, every k1
   * steps, updates the model. Returns the loss of that update, measured
   * before it changed the weights, or NaN when no update was due. Throws
   * before touching anything if x or y holds a NaN or an infinity.
   */
  push(x: ArrayLike<number>, y: ArrayLike<number>): number {
    const { inputs: I, outputs: O } = this.net.shape;
    assertFinite(x, "learn from reading", "input");
    assertFinite(y, "learn from reading", "target");
    // the last update left room for k1 steps (see update()), so n < k2 here
    const n = this.length;
    for (let k = 0; k < I; k++) this.xs[n * I + k] = x[k];
    for (let k = 0; k < O; k++) this.ys[n * O + k] = y[k];
    this.length = n + 1;
    this.pending++;
    if (this.pending < this.k1 || this.length < this.minSteps) return NaN;
    return this.update();
  }

  /** Runs one TBPTT update over the current window now; returns its loss. */
  update(): number {
    const net = this.net;
    const ws = net.ws;
    const { outputs: O, hidden: H, layers: L } = net.shape;
    const T = this.length;
    net.forward(this.xs, 0, T, this.h0, this.c0);
    // MSE over the outputs at the last min(k1, T) steps
    const first = Math.max(0, T - this.k1);
    const count = (T - first) * O;
    const y = ws.y, dY = ws.dY;
    dY.fill(0, 0, T * O);
    let loss = 0;
    for (let i = first * O; i < T * O; i++) {
      const e = y[i] - this.ys[i];
      loss += e * e;
      dY[i] = (2 * e) / count;
    }
    loss /= count;
    net.zeroGrads();
    net.backward(dY, T);
    this.adam.step(net.params, ws.grads);
    this.updates++;
    this.pending = 0;
    // Move the window start so that the next k1 steps fit: drop the oldest
    // d steps and, when carrying state, start from the state reached there.
    const d = Math.max(0, T + this.k1 - this.k2);
    if (d > 0) {
      if (this.carryState) {
        for (let l = 0; l < L; l++) {
          const { h, c } = ws.cache[l];
          for (let j = 0; j < H; j++) {
            this.h0[l * H + j] = h[d * H + j];
            this.c0[l * H + j] = c[d * H + j];
          }
        }
      }
      this.#drop(d);
    }
    return loss;
  }

  /** Forgets the window and its start state (after a gap in the stream). */
  resetWindow(): void {
    this.length = 0;
    this.pending = 0;
    this.h0.fill(0);
    this.c0.fill(0);
  }

  #drop(d: number): void {
    const { inputs: I, outputs: O } = this.net.shape;
    this.xs.copyWithin(0, d * I, this.length * I);
    this.ys.copyWithin(0, d * O, this.length * O);
    this.length -= d;
  }
}
