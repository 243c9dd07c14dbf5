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
/** The intervals' own array: q, m, n and hits, one run of `slots` numbers each. */
export function intervalsBlock(slots: number) {
  return [[Float64Array, 4 * slots]] as const;
}

/** Readings of |residual| the step's scale m averages over, by default. */
const MEMORY = 100;

export class Intervals {
  readonly slots: number = 0;
  readonly coverage: number = 0;
  readonly rate: number = 0;
  /**
   * The state (4, slots), one array rather than four (a typed array costs a
   * stream about 100 bytes of heap): q, the current half-widths; m, the
   * running mean of |residual|; n, the scored forecasts; hits, those of
   * them inside the interval. Views of each by name below, made per call.
   */
  readonly state: Float64Array;
  /** Per slot: the weight of the newest |residual| in m (1 / memory); one for every same memory. */
  readonly mRate: Float64Array;

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
    [this.state] = typedBlock(intervalsBlock(slots), arena);
    [this.mRate] = sharedBlock(
      `intervals rate ${Array.from(memory).join(" ")}`,
      [[Float64Array, memory.length]],
      ([rate]) => {
        for (let s = 0; s < memory.length; s++) rate[s] = 1 / memory[s];
      },
    );
  }

  /** q (slots): current half-widths (a view of {@link state}). */
  get q(): Float64Array {
    return this.state.subarray(0, this.slots);
  }

  /** m (slots): running mean of |residual| (a view). */
  get m(): Float64Array {
    return this.state.subarray(this.slots, 2 * this.slots);
  }

  /** Scored forecasts per slot (a view). */
  get n(): Float64Array {
    return this.state.subarray(2 * this.slots, 3 * this.slots);
  }

  /** Of them, inside the interval (a view). */
  get hits(): Float64Array {
    return this.state.subarray(3 * this.slots);
  }

  /** Whether slot s has seen a residual (its half-width means something). */
  ready(s: number): boolean {
    return this.state[2 * this.slots + s] > 0;
  }

  /** Slot s's current half-width. */
  half(s: number): number {
    return this.state[s];
  }

  /**
   * Scores slot s with the absolute residual r (normalised) of a forecast
   * whose interval was [ŷ - qUsed, ŷ + qUsed]; returns whether it was inside.
   */
  update(s: number, r: number, qUsed: number): boolean {
    // q at s, m at m, n at n, hits at h
    const st = this.state, S = this.slots, m = S + s, n = 2 * S + s, h = 3 * S + s;
    const first = st[n] === 0;
    const inside = !first && r <= qUsed;
    if (first) {
      st[m] = r;
      st[s] = 2 * r;
    } else {
      st[m] += this.mRate[s] * (r - st[m]);
      const eta = Math.max(this.rate, 1 / (1 + st[n] / 10));
      st[s] += eta * (st[m] + 1e-12) * ((inside ? 0 : 1) - (1 - this.coverage));
      // (one store every reading, of Math.max, not of `?:`, whose double is
      // a heap object in V8's mid tier, Maglev: a store first reached
      // readings later, at the first negative, would throw away the
      // optimised scoring code it is inlined into; the half-width is never
      // -0: it starts at 2r, r ≥ 0, and moves by sums)
      st[s] = Math.max(st[s], 0);
      st[h] += inside ? 1 : 0;
    }
    st[n] += 1;
    return inside;
  }
}
