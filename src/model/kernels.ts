/**
 * The switch between the two kernel implementations: the WebAssembly SIMD
 * kernels (src/model/wasm/, the default where the runtime has SIMD) and the
 * TypeScript kernels (lstm.ts, dense.ts, optim.ts; the test oracle).
 *
 * The choice is made where buffers are allocated: {@link makeFloats} puts a
 * Float32Array in the kernels' WebAssembly memory when the kind is "wasm",
 * and a network, a workspace or an optimizer whose buffers are there runs the
 * WebAssembly kernels for its whole life. Float64Array buffers always run the
 * TypeScript kernels (the WebAssembly ones are float32 only).
 *
 * The default kind is "wasm", or "ts" where WebAssembly SIMD is missing.
 * {@link useKernels} changes it for the buffers allocated after it, as tests
 * and benchmarks do to run both side by side, and as the daemon's wiring may
 * do from its configuration (this module reads no environment: every
 * FORECASTD_* variable belongs to src/config, which refuses unknown ones).
 */
import type { Floats, FloatsCtor } from "./floats.ts";
import { kernelHeap } from "./wasm/kernel_heap.ts";

/** The kinds of kernels: "wasm", WebAssembly SIMD; "ts", the TypeScript kernels. */
export const KERNEL_KINDS = ["wasm", "ts"] as const;

/** "wasm": WebAssembly SIMD kernels; "ts": the TypeScript kernels. */
export type KernelKind = typeof KERNEL_KINDS[number];

let current: KernelKind = kernelHeap ? "wasm" : "ts";

/** The kind new buffers get. */
export function kernelKind(): KernelKind {
  return current;
}

/** True when this runtime can run the WebAssembly kernels. */
export function wasmKernelsAvailable(): boolean {
  return kernelHeap !== null;
}

/**
 * Sets the kind new buffers get (buffers made before keep theirs). Throws for
 * "wasm" where WebAssembly SIMD is not available.
 */
export function useKernels(kind: KernelKind): void {
  if (kind === "wasm" && !kernelHeap) {
    throw new RangeError(
      'Cannot use kernels: "wasm" needs WebAssembly SIMD, which this runtime lacks: current value is "wasm"',
    );
  }
  current = kind;
}

/**
 * A zeroed array of n values of type `dtype`: in the kernels' WebAssembly
 * memory when `kind` is "wasm" and dtype is Float32Array, else an ordinary
 * typed array.
 */
export function makeFloats<A extends Floats>(
  dtype: FloatsCtor,
  n: number,
  kind: KernelKind = current,
): A {
  if (kind === "wasm" && dtype === Float32Array && kernelHeap) return kernelHeap.floats(n) as A;
  return new dtype(n) as A;
}

/**
 * Zeroed arrays of `sizes[i]` values of type `dtype`, as {@link makeFloats};
 * in the kernels' memory, one block whose owner is `owner`
 * (KernelHeap.floatsFor): `owner` keeps them, and none may outlive it.
 */
export function makeFloatsFor<A extends Floats>(
  owner: object,
  dtype: FloatsCtor,
  sizes: readonly number[],
  kind: KernelKind = current,
): A[] {
  if (kind === "wasm" && dtype === Float32Array && kernelHeap) {
    return kernelHeap.floatsFor(owner, sizes) as A[];
  }
  return sizes.map((n) => new dtype(n) as A);
}

/** The kind of kernels a buffer runs: "wasm" when it is in the kernels' memory. */
export function kindOf(a: Floats): KernelKind {
  return kernelHeap !== null && kernelHeap.holds(a) ? "wasm" : "ts";
}
