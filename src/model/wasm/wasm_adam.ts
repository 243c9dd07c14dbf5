/**
 * Adam's two loops over P values on the WebAssembly kernels, for buffers in
 * the kernels' memory: the gradient's squared norm and the update. optim.ts's
 * Adam.step() calls them when its buffers are there, and keeps the rest
 * (clipping, bias correction, weight decay, the NaN guard) in TypeScript.
 */
import type { Floats } from "../floats.ts";
import { kernelHeap } from "./kernel_heap.ts";

function heap() {
  if (!kernelHeap) {
    throw new RangeError(
      "Cannot run WebAssembly kernels: this runtime lacks WebAssembly SIMD: current value is no kernel heap",
    );
  }
  return kernelHeap;
}

/** Σ a[i]², accumulated in float64. */
export function wasmSumSquares(a: Floats): number {
  const h = heap();
  return h.kernels.sum_squares(h.address(a), a.length);
}

/**
 * One Adam update of params from grads (same length P), moments m and v:
 * g = grads·scale, m = β₁m + (1-β₁)g, v = β₂v + (1-β₂)g²,
 * params -= lrc1·m / (√(v·c2) + ε), with lrc1 = lr·c1 and c1, c2 the bias
 * corrections.
 */
export function wasmAdamUpdate(
  params: Floats,
  grads: Floats,
  m: Floats,
  v: Floats,
  scale: number,
  b1: number,
  b2: number,
  lrc1: number,
  c2: number,
  eps: number,
): void {
  const h = heap();
  h.kernels.adam_update(
    h.address(params),
    h.address(grads),
    h.address(m),
    h.address(v),
    params.length,
    scale,
    b1,
    1 - b1,
    b2,
    1 - b2,
    lrc1,
    c2,
    eps,
  );
}
