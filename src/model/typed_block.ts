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
 */

/** The array kinds a block holds. */
export type BlockCtor = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor;

/** The array a constructor makes. */
export type BlockArray<C> = C extends Float64ArrayConstructor ? Float64Array
  : C extends Float32ArrayConstructor ? Float32Array
  : Int32Array;

/** One array per `[constructor, length]` of `spec`, in its order, over one buffer. */
export function typedBlock<const T extends readonly (readonly [BlockCtor, number])[]>(
  spec: T,
): { -readonly [K in keyof T]: BlockArray<T[K][0]> } {
  let bytes = 0;
  for (const [C, n] of spec) bytes = Math.ceil(bytes / 8) * 8 + C.BYTES_PER_ELEMENT * n;
  const buffer = new ArrayBuffer(Math.ceil(bytes / 8) * 8);
  let pos = 0;
  return spec.map(([C, n]) => {
    pos = Math.ceil(pos / 8) * 8;
    const a = new C(buffer, pos, n);
    pos += C.BYTES_PER_ELEMENT * n;
    return a;
  }) as { -readonly [K in keyof T]: BlockArray<T[K][0]> };
}
