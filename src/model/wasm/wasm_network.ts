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

/** Per-layer addresses: weights, gradients and the workspace caches. */
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

const scratches = new WeakMap<Workspace<Floats>, Scratch>();

function scratchFor(ws: Workspace<Floats>, heap: KernelHeap): Scratch {
  let s = scratches.get(ws);
  if (!s) {
    const { inputs: I, hidden: H, layers: L, outputs: O } = ws.layout.shape;
    const T = ws.window;
    s = {
      x: heap.floats(T * I),
      dY: heap.floats(T * O),
      h: heap.floats(L * H),
      c: heap.floats(L * H),
      xStep: heap.floats(I),
      yStep: heap.floats(O),
    };
    scratches.set(ws, s);
  }
  return s;
}

/** The WebAssembly path of one {@link Network} whose buffers are in the kernels' memory. */
export class WasmNetwork {
  readonly #net: Network<Float32Array>;
  readonly #k: KernelExports;
  readonly #layers: LayerAddresses[];
  readonly #s: Scratch;
  readonly #sx: number;
  readonly #sdY: number;
  readonly #sh: number;
  readonly #sc: number;
  readonly #sxStep: number;
  readonly #syStep: number;
  readonly #Wy: number;
  readonly #by: number;
  readonly #dWy: number;
  readonly #dby: number;
  readonly #y: number;
  readonly #dY: number;
  readonly #dX: number;
  readonly #dz: number;
  readonly #dxh: number;
  readonly #dc: number;
  readonly #xhStep: number;
  readonly #actStep: number;
  readonly #tcStep: number;

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
    const at = (a: Float32Array) => heap.address(a);
    // the parameters' tensors by their offsets in the layout (net.views is made on demand)
    const param = (s: TensorSpan) => heap.address(net.params, s.offset);
    this.#net = net;
    this.#k = heap.kernels;
    this.#layers = net.layout.layers.map((ls, l) => {
      const g = ws.gradViews.layers[l], c = ws.cache[l];
      return {
        K: ls.width,
        W: param(ls.W),
        b: param(ls.b),
        dW: at(g.W),
        db: at(g.b),
        xh: at(c.xh),
        act: at(c.act),
        c: at(c.c),
        tc: at(c.tc),
        h: at(c.h),
        dhIn: at(c.dhIn),
      };
    });
    this.#s = scratchFor(ws, heap);
    this.#sx = at(this.#s.x);
    this.#sdY = at(this.#s.dY);
    this.#sh = at(this.#s.h);
    this.#sc = at(this.#s.c);
    this.#sxStep = at(this.#s.xStep);
    this.#syStep = at(this.#s.yStep);
    this.#Wy = param(net.layout.Wy);
    this.#by = param(net.layout.by);
    this.#dWy = at(ws.gradViews.Wy);
    this.#dby = at(ws.gradViews.by);
    this.#y = at(ws.y);
    this.#dY = at(ws.dY);
    this.#dX = at(ws.dX);
    this.#dz = at(ws.dz);
    this.#dxh = at(ws.dxh);
    this.#dc = at(ws.dc);
    this.#xhStep = at(ws.xhStep);
    this.#actStep = at(ws.actStep);
    this.#tcStep = at(ws.tcStep);
  }

  /** As Network.forward(): x (T, I) from xOff, initial state h0, c0 (L, H). */
  forward(x: Floats, xOff: number, T: number, h0: Floats, c0: Floats): void {
    const net = this.#net, k = this.#k;
    const { inputs: I, hidden: H, outputs: O } = net.shape;
    const ws = net.ws;
    const sx = this.#s.x;
    for (let i = 0; i < T * I; i++) sx[i] = x[xOff + i];
    const Hb = 4 * H;
    for (let l = 0; l < this.#layers.length; l++) {
      const a = this.#layers[l];
      const cache = ws.cache[l];
      for (let j = 0; j < H; j++) {
        cache.h[j] = h0[l * H + j];
        cache.c[j] = c0[l * H + j];
      }
      const K = a.K, Il = K - H;
      // input rows: x for layer 0, the layer below's h_t (rows 1..T) above it
      const src = l === 0 ? this.#sx : this.#layers[l - 1].h + Hb;
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
          a.W,
          a.b,
          H,
          K,
        );
      }
    }
    const top = this.#layers[this.#layers.length - 1].h;
    for (let t = 0; t < T; t++) {
      k.dense_forward(this.#y + t * 4 * O, top + (t + 1) * Hb, this.#Wy, this.#by, O, H);
    }
  }

  /** As Network.backward(): from dY (T, O), adds into the gradients, writes dX, dh0, dc0. */
  backward(dY: Floats, T: number): void {
    const net = this.#net, k = this.#k;
    const { hidden: H, layers: L, outputs: O } = net.shape;
    const ws = net.ws;
    let dYp = this.#dY;
    if (dY !== ws.dY) {
      const s = this.#s.dY;
      for (let i = 0; i < T * O; i++) s[i] = dY[i];
      dYp = this.#sdY;
    }
    const Hb = 4 * H;
    const top = this.#layers[L - 1];
    for (let t = 0; t < T; t++) {
      k.dense_backward(
        top.dhIn + t * Hb,
        this.#dWy,
        this.#dby,
        dYp + t * 4 * O,
        top.h + (t + 1) * Hb,
        this.#Wy,
        O,
        H,
      );
    }
    for (let l = L - 1; l >= 0; l--) {
      const a = this.#layers[l];
      const K = a.K, Il = K - H;
      // where dL/dx_t goes: the layer below's dhIn, or dX for layer 0
      const dIn = l === 0 ? this.#dX : this.#layers[l - 1].dhIn;
      ws.dxh.fill(0);
      ws.dc.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        k.lstm_backward(
          this.#dxh,
          a.dW,
          a.db,
          this.#dz,
          a.dhIn + t * Hb,
          this.#dc,
          dIn + t * 4 * Il,
          a.act + t * 4 * Hb,
          a.tc + t * Hb,
          a.c + t * Hb,
          a.xh + t * 4 * K,
          a.W,
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
    const { hidden: H, outputs: O } = this.#net.shape;
    const s = this.#s;
    for (let j = 0; j < H; j++) s.h[j] = h[hOff + j];
    this.#k.dense_forward(this.#syStep, this.#sh, this.#Wy, this.#by, O, H);
    for (let r = 0; r < O; r++) y[yOff + r] = s.yStep[r];
  }

  /** As Network.stepFrom(): one step from h, c (L, H), updated in place, on x (I) at xOff. */
  stepFrom(h: Floats, c: Floats, x: Floats, xOff: number, y: Floats, yOff: number): void {
    const net = this.#net, k = this.#k;
    const { inputs: I, hidden: H, layers: L, outputs: O } = net.shape;
    const ws = net.ws;
    const s = this.#s;
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
      hp = this.#sh;
      cp = this.#sc;
    }
    for (let i = 0; i < I; i++) s.xStep[i] = x[xOff + i];
    const Hb = 4 * H;
    for (let l = 0; l < L; l++) {
      const a = this.#layers[l];
      const lo = hp + l * Hb;
      // the new C_t and h_t overwrite the old in place: the kernel copies
      // h_{t-1} into xh first and reads C_{t-1} before it writes C_t
      k.lstm_forward(
        this.#actStep,
        cp + l * Hb,
        this.#tcStep,
        lo,
        this.#xhStep,
        lo,
        l === 0 ? this.#sxStep : lo - Hb,
        cp + l * Hb,
        a.W,
        a.b,
        H,
        a.K,
      );
    }
    k.dense_forward(this.#syStep, hp + (L - 1) * Hb, this.#Wy, this.#by, O, H);
    for (let r = 0; r < O; r++) y[yOff + r] = s.yStep[r];
    if (!own) {
      for (let i = 0; i < L * H; i++) {
        h[i] = s.h[i];
        c[i] = s.c[i];
      }
    }
  }
}
