/**
 * Online per-feature normaliser: running mean and variance by Welford's
 * algorithm, optionally with a forgetting factor λ < 1 so that old readings
 * weigh λ^age and the statistics follow drift (λ = 1: exact Welford over all
 * readings). Statistics are kept in float64 whatever the model's float type.
 */
import { sharedValues } from "./typed_block.ts";
import { DOUBLE_ZERO } from "./floats.ts";

/** The normaliser's settings. */
export interface NormalizerOptions {
  /** Forgetting factor λ in (0, 1]. Default 1 (no forgetting). */
  forgetting?: number;
  /** Smallest standard deviation used to scale, so a flat signal stays finite. Default 1e-6. */
  minStd?: number;
}

/** Running mean and variance of F features. */
export class Normalizer {
  readonly features: number = 0;
  /** forgetting, minStd: shared with every normaliser of the same ones. */
  readonly #settings: Float64Array;
  /** Forgetting factor λ. */
  get forgetting(): number {
    return this.#settings[0];
  }
  /** Smallest standard deviation used to scale. */
  get minStd(): number {
    return this.#settings[1];
  }
  /** Total weight of the readings seen (their count when λ = 1). */
  weight = DOUBLE_ZERO; // a double from the start: see DOUBLE_ZERO
  /** Readings seen. */
  count = 0;
  /**
   * The mean (F) at 0, then the weighted sum of squared deviations
   * (Welford's M2, F) at F: one array rather than two (a typed array costs a
   * stream about 100 bytes of heap). The mean of feature j is moments[j];
   * views {@link mean} and {@link m2}, made per call.
   */
  readonly moments: Float64Array;

  /**
   * `at`: the moments (2F, zeros), where a caller lays out many arrays in
   * one buffer (typed_block.ts). Default: an array of their own.
   */
  constructor(
    features: number,
    opts: NormalizerOptions = {},
    at: Float64Array = new Float64Array(2 * features),
  ) {
    this.features = features;
    const forgetting = opts.forgetting ?? 1, minStd = opts.minStd ?? 1e-6;
    this.#settings = sharedValues("normalizer", [forgetting, minStd]);
    if (!(this.forgetting > 0 && this.forgetting <= 1)) {
      throw new RangeError(
        `Cannot build normalizer: 'forgetting' must be in (0, 1]: current value is ${this.forgetting}`,
      );
    }
    if (at.length !== 2 * features) {
      throw new RangeError(
        `Cannot build normalizer: 'at' must be an array of ${
          2 * features
        } numbers (the mean, then M2): current length is ${at.length}`,
      );
    }
    this.moments = at;
  }

  /** The mean (F): a view of the moments. */
  get mean(): Float64Array {
    return this.moments.subarray(0, this.features);
  }

  /** Welford's M2 (F): a view of the moments. */
  get m2(): Float64Array {
    return this.moments.subarray(this.features);
  }

  /** Adds one reading x (F) to the statistics. */
  update(x: ArrayLike<number>): void {
    const lam = this.forgetting;
    this.weight = lam * this.weight + 1;
    this.count++;
    const w = this.weight, F = this.features, mo = this.moments;
    for (let j = 0; j < F; j++) {
      const d = x[j] - mo[j];
      mo[j] += d / w;
      mo[F + j] = lam * mo[F + j] + d * (x[j] - mo[j]);
    }
  }

  /** Weighted population variance of feature j (0 before two readings). */
  variance(j: number): number {
    return this.weight > 0 ? this.moments[this.features + j] / this.weight : 0;
  }

  /**
   * Standard deviation used to scale feature j (at least minStd). The sum
   * of variance() and minStd written out: called per feature and reading,
   * and each call V8's mid tier (Maglev) does not inline returns its double
   * as a new heap object; written out, this one is small enough to inline.
   */
  scale(j: number): number {
    const w = this.weight, minStd = this.#settings[1];
    const s = Math.sqrt(w > 0 ? this.moments[this.features + j] / w : 0);
    return s > minStd ? s : minStd;
  }

  /** Writes (x - mean) / scale for each feature into out (F) at outOff. */
  normalize(x: ArrayLike<number>, out: Float32Array | Float64Array, outOff = 0): void {
    for (let j = 0; j < this.features; j++) {
      out[outOff + j] = (x[j] - this.moments[j]) / this.scale(j);
    }
  }

  /** Maps a normalised value of feature j back to its original units. */
  denormalize(j: number, z: number): number {
    return z * this.scale(j) + this.moments[j];
  }
}
