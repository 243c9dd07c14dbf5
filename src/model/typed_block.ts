/**
 * Typed arrays laid out in one new ArrayBuffer, each at an offset that is a
 * multiple of 8. A typed array with a buffer of its own costs a few hundred
 * bytes of memory beside its values (the buffer object and its backing
 * store); one that views a shared buffer costs its own object only. A
 * structure of many small arrays, made once per stream, takes them from one
 * block:
 *
 *   const [P, W, cycle] = typedBlock([[Float64Array, d * d], [Float64Array, d * J], [Int32Array, 2]]);
 *
 * The arrays start as zeros, as `new Float64Array(n)` does.
 *
 * An owner of several parts, each with a block of its own, can give them one
 * buffer: a {@link BlockArena} made for the sum of their {@link blockBytes},
 * passed to each part's `typedBlock(spec, arena)`.
 */

/** The array kinds a block holds. */
export type BlockCtor = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor;

/** The array a constructor makes. */
export type BlockArray<C> = C extends Float64ArrayConstructor ? Float64Array
  : C extends Float32ArrayConstructor ? Float32Array
  : Int32Array;

/** A block's specification: one `[constructor, length]` per array. */
export type BlockSpec = readonly (readonly [BlockCtor, number])[];

/** The bytes a block of `spec` takes (a multiple of 8). */
export function blockBytes(spec: BlockSpec): number {
  let bytes = 0;
  for (const [C, n] of spec) bytes = Math.ceil(bytes / 8) * 8 + C.BYTES_PER_ELEMENT * n;
  return Math.ceil(bytes / 8) * 8;
}

/** One buffer that blocks are cut from in turn, each after the one before. */
export class BlockArena {
  readonly buffer: ArrayBuffer;
  #pos = 0;

  /** `bytes`: the sum of the {@link blockBytes} of the blocks to be cut. */
  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
  }

  /** The bytes not cut yet. */
  get left(): number {
    return this.buffer.byteLength - this.#pos;
  }

  /** The byte offset of a new block of `bytes`; throws when it does not fit. */
  cut(bytes: number): number {
    if (bytes > this.left) {
      throw new RangeError(
        `Cannot cut a typed block from the arena: it must fit in the ${this.left} bytes left: current size is ${bytes}`,
      );
    }
    const at = this.#pos;
    this.#pos += bytes;
    return at;
  }
}

/**
 * One array per `[constructor, length]` of `spec`, in its order, over one
 * buffer: a new one, or the next {@link blockBytes}(spec) of `arena`.
 */
export function typedBlock<const T extends BlockSpec>(
  spec: T,
  arena?: BlockArena,
): { -readonly [K in keyof T]: BlockArray<T[K][0]> } {
  const bytes = blockBytes(spec);
  const buffer = arena?.buffer ?? new ArrayBuffer(bytes);
  let pos = arena?.cut(bytes) ?? 0;
  return spec.map(([C, n]) => {
    pos = Math.ceil(pos / 8) * 8;
    const a = new C(buffer, pos, n);
    pos += C.BYTES_PER_ELEMENT * n;
    return a;
  }) as { -readonly [K in keyof T]: BlockArray<T[K][0]> };
}

/** The blocks {@link sharedBlock} made, by key. */
const SHARED = new Map<string, readonly BlockArray<BlockCtor>[]>();

/**
 * One block of `spec` for every caller of the same `key` in this isolate
 * (a module's state, one per worker): made on the first call, with `init`
 * run on its arrays then. For arrays that are a function of the key alone
 * (a stream's constant rates) or scratch that a method writes before it
 * reads and holds no value between calls; a typed array of its own costs
 * each stream about 100 bytes of heap beside its values. The key names the
 * owner and whatever decides the contents; the lengths are added to it.
 */
export function sharedBlock<const T extends BlockSpec>(
  key: string,
  spec: T,
  init?: (arrays: { -readonly [K in keyof T]: BlockArray<T[K][0]> }) => void,
): { -readonly [K in keyof T]: BlockArray<T[K][0]> } {
  const full = `${key}:${spec.map(([C, n]) => `${C.name}(${n})`).join(",")}`;
  let arrays = SHARED.get(full);
  if (arrays === undefined) {
    const made = typedBlock(spec);
    init?.(made);
    SHARED.set(full, arrays = made);
  }
  return arrays as { -readonly [K in keyof T]: BlockArray<T[K][0]> };
}

/**
 * One Float64Array of `values` for every caller of the same `key` and values
 * in this isolate ({@link sharedBlock}): settings that would otherwise be
 * double fields, each a heap number of its own (16 bytes with V8's pointer
 * compression). The array must not be written.
 */
export function sharedValues(key: string, values: readonly number[]): Float64Array {
  return sharedBlock(
    `${key}=${values.join(",")}`,
    [[Float64Array, values.length]] as const,
    (a) => {
      a[0].set(values);
    },
  )[0];
}
