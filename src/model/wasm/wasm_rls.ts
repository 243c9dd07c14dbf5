/**
 * Recursive least squares on the WebAssembly kernels: the same API, state and
 * arithmetic (float64) as src/stream/rls.ts's Rls, with P and W in the
 * kernels' memory. The features and targets are copied in (d + J values) and
 * the predictions out (J values) on every call.
 *
 * Not used by the engine: src/stream/ constructs its Rls itself. Measured
 * against Rls by bench/kernels_compare.ts (--parts=rls), see BENCHMARKS.md.
 */
import { type KernelExports, kernelHeap } from "./kernel_heap.ts";

/** Multi-output RLS with exponential forgetting and the wind-up guard of Rls. */
export class WasmRls {
  readonly d: number = 0;
  readonly J: number = 0;
  readonly forgetting: number = 0;
  /** P (d, d): inverse covariance, symmetric, in the kernels' memory. */
  readonly P: Float64Array;
  /** W (d, J): weights, row k for feature k, in the kernels' memory. */
  readonly W: Float64Array;
  readonly #k: KernelExports;
  readonly #phi: Float64Array;
  readonly #y: Float64Array;
  readonly #out: Float64Array;
  readonly #at: { P: number; W: number; Pphi: number; phi: number; y: number; out: number };
  readonly #maxDiag: number = 0;

  constructor(d: number, J: number, forgetting: number, ridge: number) {
    const heap = kernelHeap;
    if (!heap) {
      throw new RangeError(
        "Cannot build WasmRls: the runtime must have WebAssembly SIMD: current value is no kernel heap",
      );
    }
    this.d = d;
    this.J = J;
    this.forgetting = forgetting;
    this.P = heap.doubles(d * d);
    for (let i = 0; i < d; i++) this.P[i * d + i] = 1 / ridge;
    this.W = heap.doubles(d * J);
    const Pphi = heap.doubles(d);
    this.#phi = heap.doubles(d);
    this.#y = heap.doubles(J);
    this.#out = heap.doubles(J);
    this.#k = heap.kernels;
    this.#at = {
      P: this.P.byteOffset,
      W: this.W.byteOffset,
      Pphi: Pphi.byteOffset,
      phi: this.#phi.byteOffset,
      y: this.#y.byteOffset,
      out: this.#out.byteOffset,
    };
    this.#maxDiag = 10 / ridge;
  }

  /** out (J) at off = Wᵀ·φ. */
  predict(phi: Float64Array, phiOff: number, out: Float64Array, off: number): void {
    const { d, J } = this;
    for (let k = 0; k < d; k++) this.#phi[k] = phi[phiOff + k];
    this.#k.rls_predict(this.#at.out, this.#at.phi, this.#at.W, d, J);
    for (let j = 0; j < J; j++) out[off + j] = this.#out[j];
  }

  /** One update from features φ (d) at phiOff and targets y (J) at yOff. */
  update(phi: Float64Array, phiOff: number, y: Float64Array, yOff: number): void {
    const { d, J } = this;
    for (let k = 0; k < d; k++) this.#phi[k] = phi[phiOff + k];
    for (let j = 0; j < J; j++) this.#y[j] = y[yOff + j];
    const a = this.#at;
    this.#k.rls_update(a.P, a.W, a.Pphi, a.phi, a.y, d, J, this.forgetting, this.#maxDiag);
  }
}
