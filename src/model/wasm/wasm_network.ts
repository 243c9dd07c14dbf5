/**
 * A network's forward, backward and stateful step on the WebAssembly
 * kernels: the same loops as network.ts's Network.forward(), backward() and
 * stepFrom(), over byte addresses in the kernels' memory instead of arrays.
 * A Network whose buffers are in that memory (see kernels.ts) hands these
 * calls (and head()) to its WasmNetwork.
 *
 * Arrays the caller owns (the trainer's inputs, a state kept outside the
 * network, an output buffer) are copied through a scratch of the workspace
 * (a few values per step; the weights, caches and gradients are never
 * copied). Shapes as in layout.ts. Addresses count bytes: a row of H floats
 * is Hb = 4·H bytes, a row of K floats 4·K.
 */
import type { Floats } from "../floats.ts";
import type { TensorSpan } from "../layout.ts";
import type { Network, Workspace } from "../network.ts";
import { type KernelExports, type KernelHeap, kernelHeap } from "./kernel_heap.ts";

/**
 * Per-layer addresses of the workspace (gradients, caches) and the weights'
 * byte offsets in the parameters (W, b: add the network's params address).
 */
interface LayerAddresses {
  K: number;
  W: number;
  b: number;
  dW: number;
  db: number;
  xh: number;
  act: number;
  c: number;
  tc: number;
  h: number;
  dhIn: number;
}

/** Scratch in the kernels' memory for caller-owned arrays, one per workspace. */
interface Scratch {
  /** x (T, I): the window's inputs. */
  x: Float32Array;
  /** dY (T, O): an upstream gradient that is not ws.dY. */
  dY: Float32Array;
  /** h, c (L, H): a state that is not the network's or the workspace's. */
  h: Float32Array;
  c: Float32Array;
  /** One step's input (I) and output (O). */
  xStep: Float32Array;
  yStep: Float32Array;
}

/**
 * What every network of one workspace (every stream of a shape in a
 * thread) shares: the kernels, the workspace's and the scratch's addresses,
 * and the parameters' tensors by byte offset; a network adds its own
 * parameters' address. One per workspace, not one per stream (some 350
 * bytes of heap a stream).
 */
interface Plan {
  k: KernelExports;
  layers: LayerAddresses[];
  s: Scratch;
  sx: number;
  sdY: number;
  sh: number;
  sc: number;
  sxStep: number;
  syStep: number;
  /** Byte offsets of the head's weights in the parameters. */
  Wy: number;
  by: number;
  dWy: number;
  dby: number;
  y: number;
  dY: number;
  dX: number;
  dz: number;
  dxh: number;
  dc: number;
  xhStep: number;
  actStep: number;
  tcStep: number;
}

const plans = new WeakMap<Workspace<Floats>, Plan>();

function planFor(ws: Workspace<Float32Array>, heap: KernelHeap): Plan {
  let p = plans.get(ws);
  if (p) return p;
  const { inputs: I, hidden: H, layers: L, outputs: O } = ws.layout.shape;
  const T = ws.window;
  const s: Scratch = {
    x: heap.floats(T * I),
    dY: heap.floats(T * O),
    h: heap.floats(L * H),
    c: heap.floats(L * H),
    xStep: heap.floats(I),
    yStep: heap.floats(O),
  };
  const at = (a: Float32Array) => heap.address(a);
  // the parameters' tensors by their byte offsets in the layout
  const off = (t: TensorSpan) => 4 * t.offset;
  p = {
    k: heap.kernels,
    layers: ws.layout.layers.map((ls, l) => {
      const g = ws.gradViews.layers[l], c = ws.cache[l];
      return {
        K: ls.width,
        W: off(ls.W),
        b: off(ls.b),
        dW: at(g.W),
        db: at(g.b),
        xh: at(c.xh),
        act: at(c.act),
        c: at(c.c),
        tc: at(c.tc),
        h: at(c.h),
        dhIn: at(c.dhIn),
      };
    }),
    s,
    sx: at(s.x),
    sdY: at(s.dY),
    sh: at(s.h),
    sc: at(s.c),
    sxStep: at(s.xStep),
    syStep: at(s.yStep),
    Wy: off(ws.layout.Wy),
    by: off(ws.layout.by),
    dWy: at(ws.gradViews.Wy),
    dby: at(ws.gradViews.by),
    y: at(ws.y),
    dY: at(ws.dY),
    dX: at(ws.dX),
    dz: at(ws.dz),
    dxh: at(ws.dxh),
    dc: at(ws.dc),
    xhStep: at(ws.xhStep),
    actStep: at(ws.actStep),
    tcStep: at(ws.tcStep),
  };
  plans.set(ws, p);
  return p;
}

/** The WebAssembly path of one {@link Network} whose buffers are in the kernels' memory. */
export class WasmNetwork {
  readonly #net: Network<Float32Array>;
  /** Shared by every network of the workspace. */
  readonly #p: Plan;

  /** Throws unless every buffer of `net` and its workspace is in the kernels' memory. */
  constructor(net: Network<Float32Array>) {
    const heap = kernelHeap;
    const ws = net.ws;
    const all = [net.params, net.h, net.c, ws.grads, ws.y, ws.dY, ws.dX, ws.dz, ws.dxh, ws.dc];
    for (const c of ws.cache) all.push(c.xh, c.act, c.c, c.tc, c.h, c.dhIn);
    all.push(ws.xhStep, ws.actStep, ws.tcStep, ws.hRoll, ws.cRoll);
    if (!heap || !all.every((a) => heap.holds(a))) {
      throw new RangeError(
        `Cannot run WebAssembly kernels: the network's and its workspace's buffers must all be in the kernels' memory: current value is ${
          all.filter((a) => !heap?.holds(a)).length
        } of ${all.length} outside it`,
      );
    }
    this.#net = net;
    this.#p = planFor(ws, heap);
  }

  /** As Network.forward(): x (T, I) from xOff, initial state h0, c0 (L, H). */
  forward(x: Floats, xOff: number, T: number, h0: Floats, c0: Floats): void {
    const net = this.#net, p = this.#p, k = p.k, P = net.params.byteOffset;
    const { inputs: I, hidden: H, outputs: O } = net.shape;
    const ws = net.ws;
    const sx = p.s.x;
    for (let i = 0; i < T * I; i++) sx[i] = x[xOff + i];
    const Hb = 4 * H;
    for (let l = 0; l < p.layers.length; l++) {
      const a = p.layers[l];
      const cache = ws.cache[l];
      for (let j = 0; j < H; j++) {
        cache.h[j] = h0[l * H + j];
        cache.c[j] = c0[l * H + j];
      }
      const K = a.K, Il = K - H;
      // input rows: x for layer 0, the layer below's h_t (rows 1..T) above it
      const src = l === 0 ? p.sx : p.layers[l - 1].h + Hb;
      for (let t = 0; t < T; t++) {
        const hRow = a.h + t * Hb;
        k.lstm_forward(
          a.act + t * 4 * Hb,
          a.c + (t + 1) * Hb,
          a.tc + t * Hb,
          hRow + Hb,
          a.xh + t * 4 * K,
          hRow,
          src + t * 4 * Il,
          a.c + t * Hb,
          P + a.W,
          P + a.b,
          H,
          K,
        );
      }
    }
    const top = p.layers[p.layers.length - 1].h;
    for (let t = 0; t < T; t++) {
      k.dense_forward(p.y + t * 4 * O, top + (t + 1) * Hb, P + p.Wy, P + p.by, O, H);
    }
  }

  /** As Network.backward(): from dY (T, O), adds into the gradients, writes dX, dh0, dc0. */
  backward(dY: Floats, T: number): void {
    const net = this.#net, p = this.#p, k = p.k, P = net.params.byteOffset;
    const { hidden: H, layers: L, outputs: O } = net.shape;
    const ws = net.ws;
    let dYp = p.dY;
    if (dY !== ws.dY) {
      const s = p.s.dY;
      for (let i = 0; i < T * O; i++) s[i] = dY[i];
      dYp = p.sdY;
    }
    const Hb = 4 * H;
    const top = p.layers[L - 1];
    for (let t = 0; t < T; t++) {
      k.dense_backward(
        top.dhIn + t * Hb,
        p.dWy,
        p.dby,
        dYp + t * 4 * O,
        top.h + (t + 1) * Hb,
        P + p.Wy,
        O,
        H,
      );
    }
    for (let l = L - 1; l >= 0; l--) {
      const a = p.layers[l];
      const K = a.K, Il = K - H;
      // where dL/dx_t goes: the layer below's dhIn, or dX for layer 0
      const dIn = l === 0 ? p.dX : p.layers[l - 1].dhIn;
      ws.dxh.fill(0);
      ws.dc.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        k.lstm_backward(
          p.dxh,
          a.dW,
          a.db,
          p.dz,
          a.dhIn + t * Hb,
          p.dc,
          dIn + t * 4 * Il,
          a.act + t * 4 * Hb,
          a.tc + t * Hb,
          a.c + t * Hb,
          a.xh + t * 4 * K,
          P + a.W,
          H,
          K,
        );
      }
      for (let j = 0; j < H; j++) {
        ws.dh0[l * H + j] = ws.dxh[j];
        ws.dc0[l * H + j] = ws.dc[j];
      }
    }
  }

  /** As Network.head(): the head's output (O) on the hidden row h (H) at hOff. */
  head(h: Floats, hOff: number, y: Floats, yOff: number): void {
    const net = this.#net, p = this.#p, P = net.params.byteOffset;
    const { hidden: H, outputs: O } = net.shape;
    const s = p.s;
    for (let j = 0; j < H; j++) s.h[j] = h[hOff + j];
    p.k.dense_forward(p.syStep, p.sh, P + p.Wy, P + p.by, O, H);
    for (let r = 0; r < O; r++) y[yOff + r] = s.yStep[r];
  }

  /** As Network.stepFrom(): one step from h, c (L, H), updated in place, on x (I) at xOff. */
  stepFrom(h: Floats, c: Floats, x: Floats, xOff: number, y: Floats, yOff: number): void {
    const net = this.#net, p = this.#p, k = p.k, P = net.params.byteOffset;
    const { inputs: I, hidden: H, layers: L, outputs: O } = net.shape;
    const ws = net.ws;
    const s = p.s;
    // the network's own states are used in place; any other is copied through scratch
    let hp: number, cp: number;
    const own = (h === net.h && c === net.c) || (h === ws.hRoll && c === ws.cRoll);
    if (own) {
      hp = (h as Float32Array).byteOffset;
      cp = (c as Float32Array).byteOffset;
    } else {
      for (let i = 0; i < L * H; i++) {
        s.h[i] = h[i];
        s.c[i] = c[i];
      }
      hp = p.sh;
      cp = p.sc;
    }
    for (let i = 0; i < I; i++) s.xStep[i] = x[xOff + i];
    const Hb = 4 * H;
    for (let l = 0; l < L; l++) {
      const a = p.layers[l];
      const lo = hp + l * Hb;
      // the new C_t and h_t overwrite the old in place: the kernel copies
      // h_{t-1} into xh first and reads C_{t-1} before it writes C_t
      k.lstm_forward(
        p.actStep,
        cp + l * Hb,
        p.tcStep,
        lo,
        p.xhStep,
        lo,
        l === 0 ? p.sxStep : lo - Hb,
        cp + l * Hb,
        P + a.W,
        P + a.b,
        H,
        a.K,
      );
    }
    k.dense_forward(p.syStep, hp + (L - 1) * Hb, P + p.Wy, P + p.by, O, H);
    for (let r = 0; r < O; r++) y[yOff + r] = s.yStep[r];
    if (!own) {
      for (let i = 0; i < L * H; i++) {
        h[i] = s.h[i];
        c[i] = s.c[i];
      }
    }
  }
}
