/**
 * A stacked LSTM (1 to 3 layers) with a dense head on the top layer's hidden
 * state: forward over a window of T steps, backward through it (BPTT), and a
 * stateful one-step path for streaming and autoregressive forecasts.
 *
 * Shapes (legend in layout.ts): x (T, I), y (T, O), states (L, H).
 *
 * Memory: a {@link Network} owns only what a stream must keep (parameters and
 * its live state). Everything that is scratch between two readings (gradients,
 * the forward caches, temporaries) lives in a {@link Workspace}, which networks
 * of the same shape share: the engine runs one update at a time, so a gateway
 * with many streams pays for the caches once.
 */
import type { Floats, FloatsCtor } from "./floats.ts";
import { type Layout, makeLayout, makeViews, type NetworkShape, type Views } from "./layout.ts";
import { lstmBackward, lstmForward } from "./lstm.ts";
import { denseBackward, denseForward } from "./dense.ts";
import { mulberry32 } from "./rng.ts";
import { kindOf, makeFloats, makeFloatsFor } from "./kernels.ts";
import { WasmNetwork } from "./wasm/wasm_network.ts";

/** Per-layer forward caches for a window of up to T steps. */
interface LayerCache<A extends Floats> {
  /** xh (T, K): [h_{t-1}, x_t] per step. */
  xh: A;
  /** act (T, 4H): gate activations [f|i|c|o] per step. */
  act: A;
  /** c (T+1, H): C_t, row 0 is the initial cell state. */
  c: A;
  /** tc (T, H): tanh(C_t). */
  tc: A;
  /** h (T+1, H): h_t, row 0 is the initial hidden state. */
  h: A;
  /** dhIn (T, H): dL/dh_t arriving from above (head or next layer). */
  dhIn: A;
}

/**
 * Scratch shared by every network of one shape, window and float type:
 * gradients, forward caches and temporaries. Made once, reused for every
 * reading.
 */
export class Workspace<A extends Floats> {
  readonly layout: Layout;
  /** T: the longest window forward() accepts. */
  readonly window: number = 0;
  /** Gradients (P), same layout as the parameters. */
  readonly grads: A;
  readonly gradViews: Views<A>;
  readonly cache: LayerCache<A>[];
  /** y (T, O): head outputs of the last forward(). */
  readonly y: A;
  /** dY (T, O): upstream gradient for backward(), filled by the caller. */
  readonly dY: A;
  /** dX (T, I): dL/dx written by backward(). */
  readonly dX: A;
  /** dh0, dc0 (L, H): dL/d(initial state) written by backward(). */
  readonly dh0: A;
  readonly dc0: A;
  // temporaries
  readonly dz: A;
  readonly dxh: A;
  readonly dh: A;
  readonly dc: A;
  readonly xhStep: A;
  readonly actStep: A;
  readonly tcStep: A;
  /** hRoll, cRoll (L, H): a copy of a state to roll forward without disturbing it. */
  readonly hRoll: A;
  readonly cRoll: A;

  constructor(shape: NetworkShape, window: number, dtype: FloatsCtor) {
    if (!Number.isInteger(window) || window < 1 || window > 100_000) {
      throw new RangeError(
        `Cannot build network: 'window' must be an integer from 1 to 100000: current value is ${window}`,
      );
    }
    const layout = makeLayout(shape);
    const { inputs: I, hidden: H, layers: L, outputs: O } = shape;
    const T = window;
    const make = (n: number) => makeFloats<A>(dtype, n);
    this.layout = layout;
    this.window = T;
    this.grads = make(layout.size);
    this.gradViews = makeViews(layout, this.grads);
    this.cache = layout.layers.map((ls) => ({
      xh: make(T * ls.width),
      act: make(T * 4 * H),
      c: make((T + 1) * H),
      tc: make(T * H),
      h: make((T + 1) * H),
      dhIn: make(T * H),
    }));
    const Kmax = H + Math.max(I, H);
    this.y = make(T * O);
    this.dY = make(T * O);
    this.dX = make(T * I);
    this.dh0 = make(L * H);
    this.dc0 = make(L * H);
    this.dz = make(4 * H);
    this.dxh = make(Kmax);
    this.dh = make(H);
    this.dc = make(H);
    this.xhStep = make(Kmax);
    this.actStep = make(4 * H);
    this.tcStep = make(H);
    this.hRoll = make(L * H);
    this.cRoll = make(L * H);
  }

  /** Bytes held by this workspace. */
  get bytes(): number {
    let n = this.grads.byteLength + this.y.byteLength + this.dY.byteLength +
      this.dX.byteLength + this.dh0.byteLength + this.dc0.byteLength +
      this.dz.byteLength + this.dxh.byteLength + this.dh.byteLength +
      this.dc.byteLength + this.xhStep.byteLength + this.actStep.byteLength +
      this.tcStep.byteLength + this.hRoll.byteLength + this.cRoll.byteLength;
    for (const c of this.cache) {
      n += c.xh.byteLength + c.act.byteLength + c.c.byteLength +
        c.tc.byteLength + c.h.byteLength + c.dhIn.byteLength;
    }
    return n;
  }
}

/** How to build a {@link Network}. */
export interface NetworkOptions extends NetworkShape {
  /** T: the longest window forward() accepts (the TBPTT length). */
  window: number;
  /** Seed of the deterministic initialisation. Default 1. */
  seed?: number;
  /** Float type of parameters and buffers. Default Float32Array (see docs/model.md). */
  dtype?: FloatsCtor;
  /** A workspace of the same shape, window and dtype to share. */
  workspace?: Workspace<Floats>;
}

/**
 * Initialises `params` in place. Scheme: every weight (LSTM and head) uniform
 * in ±1/√H (the default of PyTorch's nn.LSTM, "uniform fan-in"), every bias 0
 * except the forget gate's b_f = 1 (Jozefowicz et al., 2015), drawn in buffer
 * order from mulberry32(seed), so the same seed gives bit-identical weights.
 */
export function initParams(layout: Layout, params: Floats, seed: number): void {
  const rng = mulberry32(seed);
  const k = 1 / Math.sqrt(layout.shape.hidden);
  for (const t of layout.tensors) {
    for (let i = 0; i < t.length; i++) {
      params[t.offset + i] = t.matrix ? (2 * rng() - 1) * k : 0;
    }
  }
  const H = layout.shape.hidden;
  for (const ls of layout.layers) params.fill(1, ls.b.offset, ls.b.offset + H);
}

/**
 * What {@link Network.rollout} calls with each output k = 1 … steps: reads
 * ŷ_k from y (O) and, while k < steps, writes the next input into x (I).
 */
export type RolloutFeed<A extends Floats> = (k: number, y: A, x: A) => void;

/** A stacked LSTM with a dense head. */
export class Network<A extends Floats = Float32Array> {
  readonly layout: Layout;
  readonly shape: NetworkShape;
  readonly dtype: FloatsCtor;
  /**
   * Parameters (P), flat; named views in {@link views}. With h and c, one
   * block of the kernels' memory that the network owns: none of the three
   * may be kept beyond the network (kernel_heap.ts).
   */
  readonly params: A;
  readonly ws: Workspace<A>;
  /** Live state h, c (L, H) for {@link step}. */
  readonly h: A;
  readonly c: A;
  /** The WebAssembly path (kernels.ts), or null for the TypeScript kernels. */
  readonly #wasm: WasmNetwork | null;
  #views: Views<A> | null = null;

  constructor(opts: NetworkOptions) {
    const shape = {
      inputs: opts.inputs,
      hidden: opts.hidden,
      layers: opts.layers,
      outputs: opts.outputs,
    };
    this.dtype = opts.dtype ?? Float32Array;
    const ws = opts.workspace;
    if (ws) {
      const s = ws.layout.shape;
      if (
        s.inputs !== shape.inputs || s.hidden !== shape.hidden ||
        s.layers !== shape.layers || s.outputs !== shape.outputs ||
        ws.window !== opts.window || !(ws.grads instanceof this.dtype)
      ) {
        throw new RangeError(
          "Cannot share workspace: its shape, window and dtype must match the network's",
        );
      }
    }
    this.ws = (ws ?? new Workspace(shape, opts.window, this.dtype)) as Workspace<A>;
    this.layout = this.ws.layout;
    this.shape = this.layout.shape;
    // the kernels are the workspace's: WebAssembly when its buffers are in their memory
    const kind = kindOf(this.ws.grads);
    // one block (one finalizer cell) whose owner is the network: keep these with it
    const LH = shape.layers * shape.hidden;
    [this.params, this.h, this.c] = makeFloatsFor<A>(
      this,
      this.dtype,
      [this.layout.size, LH, LH],
      kind,
    );
    initParams(this.layout, this.params, opts.seed ?? 1);
    this.#wasm = kind === "wasm" ? new WasmNetwork(this as Network<Float32Array>) : null;
  }

  /**
   * Named views of {@link params}, made at the first call: the TypeScript
   * kernels read them; the WebAssembly path takes addresses and never makes
   * them, so that a stream does not hold seven objects it does not read.
   */
  get views(): Views<A> {
    return this.#views ??= makeViews(this.layout, this.params);
  }

  /** The gradient buffer (in the workspace) and its named views. */
  get grads(): A {
    return this.ws.grads;
  }

  /** Zeroes the gradients: the one place they are reset. */
  zeroGrads(): void {
    this.ws.grads.fill(0);
  }

  /** Resets the live state to zero. */
  resetState(): void {
    this.h.fill(0);
    this.c.fill(0);
  }

  /**
   * Forward over T steps of x (T, I) starting at xOff, from the initial state
   * h0, c0 (L, H). Writes the head outputs to ws.y (T, O) and keeps what
   * backward() needs in the workspace caches.
   */
  forward(x: Floats, xOff: number, T: number, h0: Floats, c0: Floats): void {
    const { hidden: H, layers: L, outputs: O } = this.shape;
    const ws = this.ws;
    if (T < 1 || T > ws.window) {
      throw new RangeError(
        `Cannot run forward: T must be from 1 to the window ${ws.window}: current value is ${T}`,
      );
    }
    if (this.#wasm) return this.#wasm.forward(x, xOff, T, h0, c0);
    for (let l = 0; l < L; l++) {
      const cache = ws.cache[l];
      const { W, b } = this.views.layers[l];
      const K = this.layout.layers[l].width;
      const Il = K - H;
      const { xh, act, c, tc, h } = cache;
      for (let j = 0; j < H; j++) {
        h[j] = h0[l * H + j];
        c[j] = c0[l * H + j];
      }
      // input rows: x for layer 0, the layer below's h_t (rows 1..T) above it
      const src = l === 0 ? x : ws.cache[l - 1].h;
      const srcOff = l === 0 ? xOff : H;
      for (let t = 0; t < T; t++) {
        const xo = t * K;
        for (let j = 0; j < H; j++) xh[xo + j] = h[t * H + j];
        for (let k = 0; k < Il; k++) xh[xo + H + k] = src[srcOff + t * Il + k];
        lstmForward(
          act,
          t * 4 * H,
          c,
          (t + 1) * H,
          tc,
          t * H,
          h,
          (t + 1) * H,
          xh,
          xo,
          c,
          t * H,
          W,
          b,
          H,
          K,
        );
      }
    }
    const top = ws.cache[L - 1].h;
    for (let t = 0; t < T; t++) {
      denseForward(ws.y, t * O, top, (t + 1) * H, this.views.Wy, this.views.by, O, H);
    }
  }

  /**
   * Backward through the T steps of the last forward(), from the upstream
   * gradient dY (T, O) (usually ws.dY). Adds into the gradients; writes
   * ws.dX (T, I) and ws.dh0, ws.dc0 (L, H).
   */
  backward(dY: Floats, T: number): void {
    if (this.#wasm) return this.#wasm.backward(dY, T);
    const { hidden: H, layers: L, outputs: O } = this.shape;
    const ws = this.ws;
    const gv = ws.gradViews;
    const top = ws.cache[L - 1];
    for (let t = 0; t < T; t++) {
      denseBackward(
        top.dhIn,
        t * H,
        gv.Wy,
        gv.by,
        dY,
        t * O,
        top.h,
        (t + 1) * H,
        this.views.Wy,
        O,
        H,
      );
    }
    const { dz, dxh, dh, dc } = ws;
    for (let l = L - 1; l >= 0; l--) {
      const cache = ws.cache[l];
      const K = this.layout.layers[l].width;
      const Il = K - H;
      const { W } = this.views.layers[l];
      const g = gv.layers[l];
      // where dL/dx_t goes: the layer below's dhIn, or dX for layer 0
      const dIn = l === 0 ? ws.dX : ws.cache[l - 1].dhIn;
      dxh.fill(0);
      dc.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        // dL/dh_t = from above + from step t+1 (first H of the last dxh)
        for (let j = 0; j < H; j++) dh[j] = cache.dhIn[t * H + j] + dxh[j];
        lstmBackward(
          dxh,
          g.W,
          g.b,
          dz,
          dh,
          dc,
          cache.act,
          t * 4 * H,
          cache.tc,
          t * H,
          cache.c,
          t * H,
          cache.xh,
          t * K,
          W,
          H,
          K,
        );
        for (let k = 0; k < Il; k++) dIn[t * Il + k] = dxh[H + k];
      }
      for (let j = 0; j < H; j++) {
        ws.dh0[l * H + j] = dxh[j];
        ws.dc0[l * H + j] = dc[j];
      }
    }
  }

  /**
   * One step from the state h, c (L, H), updated in place, on the input x (I)
   * at xOff; writes the head output (O) to y at yOff.
   */
  stepFrom(h: Floats, c: Floats, x: Floats, xOff: number, y: Floats, yOff: number): void {
    if (this.#wasm) return this.#wasm.stepFrom(h, c, x, xOff, y, yOff);
    const { hidden: H, layers: L, outputs: O } = this.shape;
    const ws = this.ws;
    const xh = ws.xhStep;
    for (let l = 0; l < L; l++) {
      const K = this.layout.layers[l].width;
      const Il = K - H;
      const lo = l * H;
      for (let j = 0; j < H; j++) xh[j] = h[lo + j];
      if (l === 0) { for (let k = 0; k < Il; k++) xh[H + k] = x[xOff + k]; }
      else for (let k = 0; k < Il; k++) xh[H + k] = h[lo - H + k];
      const { W, b } = this.views.layers[l];
      // the new C_t and h_t overwrite the old in place: C_{t-1} is read
      // (element j) before C_t (element j) is written
      lstmForward(ws.actStep, 0, c, lo, ws.tcStep, 0, h, lo, xh, 0, c, lo, W, b, H, K);
    }
    denseForward(y, yOff, h, (L - 1) * H, this.views.Wy, this.views.by, O, H);
  }

  /** The head's output (O) on the hidden row h (H) at hOff, written to y at yOff. */
  head(h: Floats, hOff: number, y: Floats, yOff: number): void {
    if (this.#wasm) return this.#wasm.head(h, hOff, y, yOff);
    const { hidden: H, outputs: O } = this.shape;
    denseForward(y, yOff, h, hOff, this.views.Wy, this.views.by, O, H);
  }

  /** One streaming step on the live state; writes the head output (O) to y. */
  step(x: Floats, xOff: number, y: Floats, yOff: number): void {
    this.stepFrom(this.h, this.c, x, xOff, y, yOff);
  }

  /**
   * Autoregressive forecast of `steps` outputs from the live state, which is
   * left as it was (the steps run on a copy in ws.hRoll, ws.cRoll).
   *
   * y (O) holds ŷ₁, the output of the step already taken on the newest
   * input. For k = 1 … steps, `feed(k, y, x)` reads ŷ_k from y and, while
   * k < steps, writes the input of step k + 1 into x (I); the network then
   * steps on x and writes ŷ_{k+1} into y. The feed decides what goes back in:
   * the output itself (I = O), or a level, a change and a calendar as a
   * stream's LSTM expert builds them. x and y are the caller's buffers;
   * nothing is allocated.
   */
  rollout(steps: number, y: A, x: A, feed: RolloutFeed<A>): void {
    const { inputs: I, outputs: O } = this.shape;
    if (!Number.isInteger(steps) || steps < 1 || x.length < I || y.length < O) {
      throw new RangeError(
        `Cannot roll out forecast: steps must be an integer at least 1, x must hold ${I} inputs and y ${O} outputs: current values are ${steps}, ${x.length} and ${y.length}`,
      );
    }
    const ws = this.ws;
    ws.hRoll.set(this.h);
    ws.cRoll.set(this.c);
    for (let k = 1;; k++) {
      feed(k, y, x);
      if (k >= steps) return;
      this.stepFrom(ws.hRoll, ws.cRoll, x, 0, y, 0);
    }
  }
}
