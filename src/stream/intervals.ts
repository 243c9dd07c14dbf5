import { type BlockArena, sharedBlock, typedBlock } from "../model/typed_block.ts";
/**
 * Prediction intervals calibrated online by quantile tracking (the "P"
 * controller of conformal PID control, Angelopoulos, Candès and Tibshirani,
 * 2023): for each (target, horizon) slot the half-width q follows the
 * (coverage) quantile of recent absolute residuals by
 *
 *   q ← q + η·m·(miss - (1 - coverage))
 *
 * where miss is 1 when the value fell outside [ŷ - q, ŷ + q] and m a running
 * mean of |residual| that makes the step scale-free. With a fixed step, over
 * any long stretch the share of misses converges to 1 - coverage, whatever
 * the residuals' distribution. m is not fixed: when the residuals' level
 * changes, misses come while m is large (big steps up) and hits while it is
 * small (small steps down), and the interval ends wider than asked (91.5%
 * for 90% when the level triples every 500 readings, with m over 100
 * readings). So m averages over `memory[s]` readings per slot: the stream
 * keeps 100 for the one-step slots, whose half-width is also the anomaly
 * surprise's scale and must follow the stream quickly, and adds 20 per
 * further horizon step (1,040 at step 48), where the bias showed on ETT. The step η starts large (1 / (1 + n/10) for the n-th
 * residual) so the first intervals settle within tens of readings, and
 * decays to the configured rate. Residuals are in the target's own units.
 */
/** The intervals' own arrays (q, m, n, hits per slot). */
export function intervalsBlock(slots: number) {
  return [
    [Float64Array, slots],
    [Float64Array, slots],
    [Float64Array, slots],
    [Float64Array, slots],
  ] as const;
}

/** Readings of |residual| the step's scale m averages over, by default. */
const MEMORY = 100;

export class Intervals {
  readonly slots: number = 0;
  readonly coverage: number = 0;
  readonly rate: number = 0;
  /** q (slots): current half-widths. */
  readonly q: Float64Array;
  /** m (slots): running mean of |residual|. */
  readonly m: Float64Array;
  /** Scored forecasts per slot. */
  readonly n: Float64Array;
  /** Per slot: the weight of the newest |residual| in m (1 / memory); one for every same memory. */
  readonly mRate: Float64Array;
  /** Of them, inside the interval. */
  readonly hits: Float64Array;

  /**
   * @param memory for each slot, the readings its mean |residual| averages over (default 100)
   * @param arena where the arrays are cut from (typed_block.ts; {@link intervalsBlock}); default a buffer of their own
   */
  constructor(
    slots: number,
    coverage: number,
    rate: number,
    memory: ArrayLike<number> = new Float64Array(slots).fill(MEMORY),
    arena?: BlockArena,
  ) {
    this.slots = slots;
    this.coverage = coverage;
    this.rate = rate;
    [this.q, this.m, this.n, this.hits] = typedBlock(intervalsBlock(slots), arena);
    [this.mRate] = sharedBlock(
      `intervals rate ${Array.from(memory).join(" ")}`,
      [[Float64Array, memory.length]],
      ([rate]) => {
        for (let s = 0; s < memory.length; s++) rate[s] = 1 / memory[s];
      },
    );
  }

  /** Whether slot s has seen a residual (its half-width means something). */
  ready(s: number): boolean {
    return this.n[s] > 0;
  }

  /**
   * Scores slot s with the absolute residual r (normalised) of a forecast
   * whose interval was [ŷ - qUsed, ŷ + qUsed]; returns whether it was inside.
   */
  update(s: number, r: number, qUsed: number): boolean {
    const first = this.n[s] === 0;
    const inside = !first && r <= qUsed;
    if (first) {
      this.m[s] = r;
      this.q[s] = 2 * r;
    } else {
      this.m[s] += this.mRate[s] * (r - this.m[s]);
      const eta = Math.max(this.rate, 1 / (1 + this.n[s] / 10));
      this.q[s] += eta * (this.m[s] + 1e-12) * ((inside ? 0 : 1) - (1 - this.coverage));
      if (this.q[s] < 0) this.q[s] = 0;
      this.hits[s] += inside ? 1 : 0;
    }
    this.n[s] += 1;
    return inside;
  }
}
