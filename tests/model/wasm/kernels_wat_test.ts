/**
 * The gate nonlinearities of kernels.wat, read through lstm_forward with
 * W = 0 so that the pre-activations are the biases: σ (forget gate) and
 * tanh (candidate) against Math's, in units in the last place of float32
 * of the exact value.
 */
import assert from "node:assert/strict";
import { KernelHeap, kernelHeap } from "../../../src/model/wasm/kernel_heap.ts";
import { KERNELS_WASM } from "../../../src/model/wasm/kernels_wasm.ts";

/** |got - want| in float32 units in the last place of want. */
function ulps(got: number, want: number): number {
  return Math.abs(got - want) / (Math.abs(want) * 2 ** -23);
}

Deno.test({
  name: "the kernels' σ and tanh are within 2 float32 ulp of Math's, small arguments included",
  ignore: kernelHeap === null,
  fn() {
    const heap = new KernelHeap(KERNELS_WASM);
    const H = 4000, K = H + 1; // H is not a multiple of 4: the scalar tail runs too
    const f = (n: number) => heap.floats(n);
    const act = f(4 * H), c = f(H), tc = f(H), h = f(H), xh = f(K), x = f(1);
    const W = f(4 * H * K), b = f(4 * H);
    for (let j = 0; j < H; j++) {
      b[j] = -40 + (80 * j) / H; // σ over [-40, 40)
      b[2 * H + j] = (j % 2 ? -1 : 1) * Math.pow(10, -6 + (7 * j) / H); // tanh over ±[1e-6, 10)
    }
    const at = (a: Float32Array) => a.byteOffset;
    heap.kernels.lstm_forward(
      at(act),
      at(c),
      at(tc),
      at(h),
      at(xh),
      at(h),
      at(x),
      at(c),
      at(W),
      at(b),
      H,
      K,
    );
    for (let j = 0; j < H; j++) {
      const zf = b[j], zg = b[2 * H + j];
      const s = ulps(act[j], 1 / (1 + Math.exp(-zf)));
      assert.ok(s <= 2, `σ(${zf}) = ${act[j]}: ${s.toFixed(1)} ulp off`);
      const t = ulps(act[2 * H + j], Math.tanh(zg));
      assert.ok(t <= 2, `tanh(${zg}) = ${act[2 * H + j]}: ${t.toFixed(1)} ulp off`);
    }
  },
});
