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
