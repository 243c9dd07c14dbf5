/**
 * Online per-feature normaliser: running mean and variance by Welford's
 * algorithm, optionally with a forgetting factor λ < 1 so that old readings
 * weigh λ^age and the statistics follow drift (λ = 1: exact Welford over all
 * readings). Statistics are kept in float64 whatever the model's float type.
 */
import { typedBlock } from "./typed_block.ts";

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
  readonly forgetting: number = 0;
  readonly minStd: number = 0;
  /** Total weight of the readings seen (their count when λ = 1). */
  weight = 0;
  /** Readings seen. */
  count = 0;
  readonly mean: Float64Array;
  /** Weighted sum of squared deviations (Welford's M2). */
  readonly m2: Float64Array;

  /**
   * `at`: the mean and M2 (F each, zeros), where a caller lays out many
   * arrays in one buffer (typed_block.ts). Default: a block of their own.
   */
  constructor(
    features: number,
    opts: NormalizerOptions = {},
    at: readonly [Float64Array, Float64Array] = typedBlock([
      [Float64Array, features],
      [Float64Array, features],
    ]),
  ) {
    this.features = features;
    this.forgetting = opts.forgetting ?? 1;
    this.minStd = opts.minStd ?? 1e-6;
    if (!(this.forgetting > 0 && this.forgetting <= 1)) {
      throw new RangeError(
        `Cannot build normalizer: 'forgetting' must be in (0, 1]: current value is ${this.forgetting}`,
      );
    }
    if (at[0].length !== features || at[1].length !== features) {
      throw new RangeError(
        `Cannot build normalizer: 'at' must be two arrays of ${features} numbers: current lengths are ${
          at[0].length
        } and ${at[1].length}`,
      );
    }
    [this.mean, this.m2] = at;
  }

  /** Adds one reading x (F) to the statistics. */
  update(x: ArrayLike<number>): void {
    const lam = this.forgetting;
    this.weight = lam * this.weight + 1;
    this.count++;
    const w = this.weight;
    for (let j = 0; j < this.features; j++) {
      const d = x[j] - this.mean[j];
      this.mean[j] += d / w;
      this.m2[j] = lam * this.m2[j] + d * (x[j] - this.mean[j]);
    }
  }

  /** Weighted population variance of feature j (0 before two readings). */
  variance(j: number): number {
    return this.weight > 0 ? this.m2[j] / this.weight : 0;
  }

  /** Standard deviation used to scale feature j (at least minStd). */
  scale(j: number): number {
    const s = Math.sqrt(this.variance(j));
    return s > this.minStd ? s : this.minStd;
  }

  /** Writes (x - mean) / scale for each feature into out (F) at outOff. */
  normalize(x: ArrayLike<number>, out: Float32Array | Float64Array, outOff = 0): void {
    for (let j = 0; j < this.features; j++) {
      out[outOff + j] = (x[j] - this.mean[j]) / this.scale(j);
    }
  }

  /** Maps a normalised value of feature j back to its original units. */
  denormalize(j: number, z: number): number {
    return z * this.scale(j) + this.mean[j];
  }
}
