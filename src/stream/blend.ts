/**
 * Online combination of E experts, one weight vector per (target, horizon):
 * exponential weights on each expert's recent squared error (the
 * exponentially weighted average forecaster with discounting), measured
 * relative to the best expert so that the weights do not depend on the
 * sensor's units:
 *
 *   L_e ← β·L_e + (1 - β)·(y - ŷ_e)²
 *   w_e ∝ exp(-η·(L_e / min L - 1))
 *
 * An expert whose long-run error (memory ×20) is more than twice the best
 * long-run error is left out: when a sensor sticks, every expert is briefly
 * perfect and the short memory alone would hand weight to one that is
 * hopeless in general (seasonal persistence one step ahead, say).
 * An expert 10% worse than the best lately gets e^(-η/10) of its weight.
 * Errors at horizon h are correlated over about h readings, so a slot's
 * memory 1/(1 - β) grows with its horizon (`memory + memoryPerStep·(h - 1)`
 * readings) to keep the number of independent errors it averages steady. An
 * expert joins once it has `warmup` scored forecasts in that slot, so one
 * that starts late (the LSTM, seasonal persistence) does not disturb the
 * blend before its record means anything. Heavy-tailed errors move L_e but
 * cannot flip a weight vector in one reading, which plain exponentiated
 * gradient on real sensor data did.
 */
export class Blend {
  readonly experts: number;
  readonly slots: number;
  readonly sharpness: number;
  /** β per slot. */
  readonly decay: Float64Array;
  readonly warmup: number;
  /** L (slots, E): discounted mean squared error. */
  readonly loss: Float64Array;
  /** Long-run discounted mean squared error (slots, E). */
  readonly longLoss: Float64Array;
  /** Scratch (E) for combine(). */
  readonly #w: Float64Array;
  /** Scored forecasts (slots, E). */
  readonly count: Float64Array;

  /**
   * @param memory for each slot, 1 / (1 - β): how many readings its errors are averaged over
   */
  constructor(
    slots: number,
    experts: number,
    sharpness: number,
    memory: ArrayLike<number>,
    warmup: number,
  ) {
    this.slots = slots;
    this.experts = experts;
    this.sharpness = sharpness;
    this.decay = Float64Array.from(memory, (m) => 1 - 1 / m);
    this.warmup = warmup;
    this.loss = new Float64Array(slots * experts);
    this.count = new Float64Array(slots * experts);
    this.longLoss = new Float64Array(slots * experts);
    this.#w = new Float64Array(experts);
  }

  /** The active experts of slot s that have a record and are not hopeless, as a bit mask. */
  #eligible(s: number, active: number): number {
    const E = this.experts, base = s * E;
    let bestLong = Infinity;
    for (let e = 0; e < E; e++) {
      if (active & (1 << e) && this.count[base + e] >= this.warmup) {
        bestLong = Math.min(bestLong, this.longLoss[base + e]);
      }
    }
    let mask = 0;
    for (let e = 0; e < E; e++) {
      if (
        active & (1 << e) && this.count[base + e] >= this.warmup &&
        this.longLoss[base + e] <= 2 * bestLong
      ) mask |= 1 << e;
    }
    return mask;
  }

  /**
   * The unnormalised weight exp(-η·(L_e / min L - 1)) of each eligible
   * expert of slot s into out (E), 0 for the others; returns their sum.
   */
  #raw(s: number, active: number, out: Float64Array): number {
    const E = this.experts, base = s * E;
    const ok = this.#eligible(s, active);
    let best = Infinity;
    for (let e = 0; e < E; e++) if (ok & (1 << e)) best = Math.min(best, this.loss[base + e]);
    let total = 0;
    for (let e = 0; e < E; e++) {
      out[e] = ok & (1 << e)
        ? Math.exp(-this.sharpness * (this.loss[base + e] / (best + 1e-300) - 1))
        : 0;
      total += out[e];
    }
    return total;
  }

  /** The weight of each expert in slot s (E values into out), given the `active` bit mask. */
  weights(s: number, active: number, out: Float64Array): void {
    const total = this.#raw(s, active, out);
    if (total === 0) {
      // no expert has a record yet: the first one (persistence) alone
      out.fill(0);
      out[0] = 1;
      return;
    }
    for (let e = 0; e < this.experts; e++) out[e] /= total;
  }

  /** The combined forecast of slot s from the experts' forecasts p (E) at off. */
  combine(s: number, p: Float64Array, off: number, active: number): number {
    const w = this.#w;
    const total = this.#raw(s, active, w);
    if (total === 0) return p[off];
    let y = 0;
    for (let e = 0; e < this.experts; e++) if (w[e] > 0) y += w[e] * p[off + e];
    return y / total;
  }

  /** Learns from the outcome y of slot s given the experts' forecasts p (E) at off. */
  update(s: number, p: Float64Array, off: number, y: number, active: number): void {
    const E = this.experts, base = s * E, b = this.decay[s];
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      const err = (y - p[off + e]) ** 2;
      const n = this.count[base + e];
      // the first readings average plainly, then the discount takes over
      const a = Math.max(1 - b, 1 / (n + 1));
      this.loss[base + e] += a * (err - this.loss[base + e]);
      const a2 = Math.max((1 - b) / 20, 1 / (n + 1));
      this.longLoss[base + e] += a2 * (err - this.longLoss[base + e]);
      this.count[base + e] = n + 1;
    }
  }
}
