/** The two float array types the numeric core runs on. */
export type Floats = Float32Array | Float64Array;

/** Constructor of a {@link Floats} type: `Float32Array` or `Float64Array`. */
export type FloatsCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * Throws unless every value of `values` is finite, naming what was being done.
 *
 * @param action what the caller was about to do, e.g. "learn from reading"
 * @param what the name of the values, e.g. "input"
 */
export function assertFinite(
  values: ArrayLike<number>,
  action: string,
  what: string,
): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `Cannot ${action}: ${what}[${i}] must be a finite number: current value is ${v}`,
      );
    }
  }
}

/**
 * 0 as a heap number rather than a small integer, for a number field that
 * will hold fractions: V8 gives a field the representation of the first
 * value stored in it, and a field first set to the integer 0 that later
 * takes a fraction changes representation, which deprecates the maps of
 * every object of its class and throws away the optimised code that
 * depended on them (then compiles it again). A field first set to this
 * value is a double field from the start. It is +0 (`Object.is(DOUBLE_ZERO,
 * 0)`); arithmetic on it is arithmetic on 0. Read from a `Float64Array`,
 * whose elements V8 hands out as heap numbers.
 */
export const DOUBLE_ZERO: number = new Float64Array(1)[0];

/** 1 as a heap number: {@link DOUBLE_ZERO}'s counterpart for a field that starts at 1. */
export const DOUBLE_ONE: number = new Float64Array([1])[0];
