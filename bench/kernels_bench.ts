/**
 * Each kernel alone, the TypeScript one (the baseline) against its
 * WebAssembly SIMD counterpart, at the default preset's shape (I = 6: one
 * column's level and change and four calendar inputs; H = 32, so K = 38;
 * O = 1, P = 5025 parameters) and at H = 128: one LSTM step forward, one
 * step backward, the head forward and backward, and one Adam step. The
 * WebAssembly side is called as WasmNetwork calls it: byte addresses of
 * buffers already in the kernels' memory, nothing copied.
 *
 *   deno bench bench/kernels_bench.ts
 */
import { lstmBackward, lstmForward } from "../src/model/lstm.ts";
import { denseBackward, denseForward } from "../src/model/dense.ts";
import { Adam } from "../src/model/optim.ts";
import { makeLayout } from "../src/model/layout.ts";
import { useKernels } from "../src/model/kernels.ts";
import { kernelHeap } from "../src/model/wasm/kernel_heap.ts";
import { wasmAdamUpdate, wasmSumSquares } from "../src/model/wasm/wasm_adam.ts";
import { mulberry32 } from "../src/model/rng.ts";

if (!kernelHeap) throw new Error("Cannot run kernels_bench: this runtime lacks WebAssembly SIMD");
const heap = kernelHeap;
const k = heap.kernels;
const at = (a: Float32Array) => a.byteOffset;

for (const [I, H] of [[6, 32], [1, 128]]) {
  const K = H + I, G = 4 * H;
  const rng = mulberry32(H);
  /** A buffer of n values in both worlds, the same random contents. */
  const both = (n: number, scale = 0.3) => {
    const ts = Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
    const wasm = heap.floats(n);
    wasm.set(ts);
    return { ts, wasm };
  };
  const W = both(G * K), b = both(G), act = both(G), c = both(H), tc = both(H), h = both(H);
  const xh = both(K), cPrev = both(H), x = both(I);
  const dW = both(G * K), db = both(G), dz = both(G), dxh = both(K), dh = both(H), dc = both(H);
  const dIn = both(I), Wy = both(H), by = both(1), y = both(1), dy = both(1), dWy = both(H);
  const dby = both(1);
  const group = (name: string) => `${name} H=${H} K=${K}`;

  Deno.bench({
    name: "ts",
    group: group("lstm forward step"),
    baseline: true,
    fn() {
      lstmForward(
        act.ts,
        0,
        c.ts,
        0,
        tc.ts,
        0,
        h.ts,
        0,
        xh.ts,
        0,
        cPrev.ts,
        0,
        W.ts,
        b.ts,
        H,
        K,
      );
    },
  });
  Deno.bench({
    name: "wasm",
    group: group("lstm forward step"),
    fn() {
      k.lstm_forward(
        at(act.wasm),
        at(c.wasm),
        at(tc.wasm),
        at(h.wasm),
        at(xh.wasm),
        at(cPrev.wasm),
        at(x.wasm),
        at(cPrev.wasm),
        at(W.wasm),
        at(b.wasm),
        H,
        K,
      );
    },
  });
  Deno.bench({
    name: "ts",
    group: group("lstm backward step"),
    baseline: true,
    fn() {
      dc.ts.fill(0.01);
      lstmBackward(
        dxh.ts,
        dW.ts,
        db.ts,
        dz.ts,
        dh.ts,
        dc.ts,
        act.ts,
        0,
        tc.ts,
        0,
        cPrev.ts,
        0,
        xh.ts,
        0,
        W.ts,
        H,
        K,
      );
    },
  });
  Deno.bench({
    name: "wasm",
    group: group("lstm backward step"),
    fn() {
      dc.wasm.fill(0.01);
      // the kernel adds dxh (dL/dh_t from step t+1) to dh: zero it, so that
      // its output does not feed back call after call (the TypeScript
      // kernel takes dh ready-made and does not read dxh)
      dxh.wasm.fill(0);
      k.lstm_backward(
        at(dxh.wasm),
        at(dW.wasm),
        at(db.wasm),
        at(dz.wasm),
        at(dh.wasm),
        at(dc.wasm),
        at(dIn.wasm),
        at(act.wasm),
        at(tc.wasm),
        at(cPrev.wasm),
        at(xh.wasm),
        at(W.wasm),
        H,
        K,
      );
    },
  });
  Deno.bench({
    name: "ts",
    group: group("head forward + backward, O=1"),
    baseline: true,
    fn() {
      denseForward(y.ts, 0, h.ts, 0, Wy.ts, by.ts, 1, H);
      denseBackward(dh.ts, 0, dWy.ts, dby.ts, dy.ts, 0, h.ts, 0, Wy.ts, 1, H);
    },
  });
  Deno.bench({
    name: "wasm",
    group: group("head forward + backward, O=1"),
    fn() {
      k.dense_forward(at(y.wasm), at(h.wasm), at(Wy.wasm), at(by.wasm), 1, H);
      k.dense_backward(
        at(dh.wasm),
        at(dWy.wasm),
        at(dby.wasm),
        at(dy.wasm),
        at(h.wasm),
        at(Wy.wasm),
        1,
        H,
      );
    },
  });

  // Adam over a whole network's parameters: P = 4H·K + 4H + H + 1
  const layout = makeLayout({ inputs: I, hidden: H, layers: 1, outputs: 1 });
  const P = layout.size;
  const params = both(P), grads = both(P, 1e-2);
  useKernels("ts");
  const adamTs = new Adam(layout, Float32Array);
  useKernels("wasm");
  const adamWasm = new Adam(layout, Float32Array);
  Deno.bench({
    name: "ts",
    group: `adam step P=${P}`,
    baseline: true,
    fn() {
      adamTs.step(params.ts, grads.ts);
    },
  });
  Deno.bench({
    name: "wasm",
    group: `adam step P=${P}`,
    fn() {
      adamWasm.step(params.wasm, grads.wasm);
    },
  });
  Deno.bench({
    name: "wasm, update loop alone",
    group: `adam step P=${P}`,
    fn() {
      wasmSumSquares(grads.wasm);
      wasmAdamUpdate(params.wasm, grads.wasm, adamWasm.m, adamWasm.v, 1, 0.9, 0.999, 1e-3, 1, 1e-8);
    },
  });
}
