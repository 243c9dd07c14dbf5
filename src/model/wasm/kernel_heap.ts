/**
 * The memory the WebAssembly kernels work in, their instance, and the
 * allocator that places a network's buffers there, so that a kernel call
 * copies nothing: parameters, gradients, Adam's moments, the live state and
 * the workspace caches are Float32Array views of this memory.
 *
 * The memory is shared (a SharedArrayBuffer underneath): growing a shared
 * memory keeps every view made before valid, where growing an ordinary one
 * would detach them all. It grows as streams are created, by at least 1 MiB
 * at a time, up to 4 GiB; a buffer whose owner is garbage-collected goes back
 * to a free list of its size, and the next buffer of that size (the next
 * stream of the same shape) reuses it, zeroed. So a view made from one of
 * these arrays (a subarray, as layout.ts's named views) must not outlive the
 * array it was made from; the network, workspace and optimizer keep both.
 * The owner of a block is the array itself ({@link KernelHeap.floats}), or
 * an object that keeps the block's arrays ({@link KernelHeap.floatsFor}: a
 * network's parameters and state, an optimizer's moments): one finalizer
 * cell (88 bytes of heap) for them all, and they must not outlive it.
 *
 * If the runtime cannot compile the module (no SIMD, no relaxed SIMD, no
 * shared memory), {@link kernelHeap} is null and the TypeScript kernels run.
 */
import { KERNELS_WASM } from "./kernels_wasm.ts";

/** The kernels' exports (kernels.wat); pointers are byte addresses. */
export interface KernelExports {
  lstm_forward(
    act: number,
    c: number,
    tc: number,
    h: number,
    xh: number,
    hPrev: number,
    x: number,
    cPrev: number,
    W: number,
    b: number,
    H: number,
    K: number,
  ): void;
  lstm_backward(
    dxh: number,
    dW: number,
    db: number,
    dz: number,
    dhIn: number,
    dc: number,
    dIn: number,
    act: number,
    tc: number,
    cPrev: number,
    xh: number,
    W: number,
    H: number,
    K: number,
  ): void;
  dense_forward(y: number, h: number, Wy: number, by: number, O: number, H: number): void;
  dense_backward(
    dh: number,
    dWy: number,
    dby: number,
    dy: number,
    h: number,
    Wy: number,
    O: number,
    H: number,
  ): void;
  sum_squares(a: number, n: number): number;
  adam_update(
    params: number,
    grads: number,
    m: number,
    v: number,
    n: number,
    scale: number,
    b1: number,
    a1: number,
    b2: number,
    a2: number,
    lrc1: number,
    c2: number,
    eps: number,
  ): void;
  rls_predict(out: number, phi: number, W: number, d: number, J: number): void;
  rls_update(
    P: number,
    W: number,
    Pphi: number,
    phi: number,
    y: number,
    d: number,
    J: number,
    forgetting: number,
    maxDiag: number,
  ): void;
}

const PAGE = 65536;
/** Largest memory: 65536 pages, the 4 GiB a 32-bit address reaches. */
const MAX_PAGES = 65536;
/** Smallest growth, in pages (1 MiB). */
const MIN_GROW_PAGES = 16;
/** Every buffer starts on a 16-byte boundary (one SIMD register). */
const ALIGN = 16;
/**
 * What the finalizer gets of a block below this size (2 MiB): its address
 * times this plus its size, exact (an address is below 2^32); of a larger
 * one, the two.
 */
const HELD_SIZES = 2 ** 21;

/** The kernels' memory, instance and allocator. */
export class KernelHeap {
  readonly memory: WebAssembly.Memory;
  readonly kernels: KernelExports;
  /** Every SharedArrayBuffer the memory has had (one per size it grew to). */
  readonly #buffers = new WeakSet<ArrayBufferLike>();
  /** Freed blocks by byte size. */
  readonly #free = new Map<number, number[]>();
  /**
   * A collected block's address and size, as one number (see #own): an
   * array of the two held for every buffer of every stream took 64 bytes.
   */
  readonly #registry = new FinalizationRegistry<number | readonly [number, number]>((held) => {
    const [ptr, bytes] = typeof held === "number"
      ? [Math.floor(held / HELD_SIZES), held % HELD_SIZES]
      : held;
    let list = this.#free.get(bytes);
    if (!list) this.#free.set(bytes, list = []);
    list.push(ptr);
    this.#blocks--;
  });
  /** Blocks handed out whose owner has not been collected. */
  #blocks = 0;
  /** First byte not yet handed out; address 0 to 15 is never handed out. */
  #top = ALIGN;

  constructor(bytes: Uint8Array) {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as KernelExports;
    this.#buffers.add(this.memory.buffer);
  }

  /** Blocks handed out and not yet collected: one finalizer cell each. */
  get blocks(): number {
    return this.#blocks;
  }

  /** Bytes of memory the heap holds (handed out or free). */
  get size(): number {
    return this.memory.buffer.byteLength;
  }

  /** A zeroed Float32Array of n values in the kernels' memory. */
  floats(n: number): Float32Array {
    const ptr = this.#alloc(n * 4); // first: it may grow the memory, and so its buffer
    return this.#own(new Float32Array(this.memory.buffer, ptr, n));
  }

  /** A zeroed Float64Array of n values in the kernels' memory. */
  doubles(n: number): Float64Array {
    const ptr = this.#alloc(n * 8);
    return this.#own(new Float64Array(this.memory.buffer, ptr, n));
  }

  /**
   * Zeroed Float32Arrays of `sizes[i]` values, each on a 16-byte boundary,
   * in one block that goes back to the free list when `owner` is collected
   * (not when the arrays are): `owner` must keep them, and no array nor a
   * view of one may outlive it. One finalizer cell for them all.
   */
  floatsFor(owner: object, sizes: readonly number[]): Float32Array[] {
    const at: number[] = [];
    let bytes = 0;
    for (const n of sizes) at.push(bytes), bytes += blockBytes(n * 4);
    const ptr = this.#alloc(bytes);
    const block = new Uint8Array(this.memory.buffer, ptr, bytes);
    block.fill(0);
    this.#register(owner, ptr, bytes);
    return sizes.map((n, i) => new Float32Array(this.memory.buffer, ptr + at[i], n));
  }

  /** Zeroes a new view and returns its block to the free list when it is collected. */
  #own<A extends Float32Array | Float64Array>(a: A): A {
    const bytes = blockBytes(a.byteLength);
    a.fill(0);
    this.#register(a, a.byteOffset, bytes);
    return a;
  }

  /** Returns the block of `bytes` at `ptr` to the free list when `owner` is collected. */
  #register(owner: object, ptr: number, bytes: number): void {
    this.#registry.register(owner, bytes < HELD_SIZES ? ptr * HELD_SIZES + bytes : [ptr, bytes]);
    this.#blocks++;
  }

  /** The address of a block of at least `size` bytes, growing the memory if needed. */
  #alloc(size: number): number {
    const bytes = blockBytes(size);
    const free = this.#free.get(bytes)?.pop();
    if (free !== undefined) return free;
    const ptr = this.#top;
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.max(MIN_GROW_PAGES, Math.ceil((end - have) / PAGE));
      if (have / PAGE + pages > MAX_PAGES) {
        throw new RangeError(
          `Cannot allocate model buffer: the kernels' memory must stay within ${MAX_PAGES} pages of 64 KiB: current value is ${
            have / PAGE
          } pages and ${bytes} more bytes`,
        );
      }
      this.memory.grow(pages);
      this.#buffers.add(this.memory.buffer);
    }
    this.#top = end;
    return ptr;
  }

  /** True when `a` is a view of this heap's memory. */
  holds(a: ArrayBufferView): boolean {
    return this.#buffers.has(a.buffer);
  }

  /** Byte address of a[off] in the kernels' memory (`a` must be held). */
  address(a: ArrayBufferView & { BYTES_PER_ELEMENT: number }, off = 0): number {
    return a.byteOffset + off * a.BYTES_PER_ELEMENT;
  }
}

/** The bytes of a block that holds `size` bytes: a whole number of 16-byte units, at least one. */
function blockBytes(size: number): number {
  return Math.max(ALIGN, Math.ceil(size / ALIGN) * ALIGN);
}

function makeHeap(): KernelHeap | null {
  try {
    return new KernelHeap(KERNELS_WASM);
  } catch {
    return null; // the runtime lacks a feature the module needs: the TypeScript kernels run
  }
}

/** The process's kernel heap, or null where WebAssembly SIMD is not available. */
export const kernelHeap: KernelHeap | null = makeHeap();
