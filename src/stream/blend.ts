/**
 * Online combination of E experts, one weight vector per (target, horizon):
 * normalised exponentiated gradient on the squared error (Kivinen and
 * Warmuth, 1997), with a fixed share of uniform weight so an expert that fell
 * behind can come back (Herbster and Warmuth, 1998).
 *
 * The gradient of (Σ w_e ŷ_e - y)² with respect to w_e is 2(ŷ - y)ŷ_e; adding
 * a constant to every ŷ_e shifts every component equally, which the
 * normalisation cancels, so the combination works on levels directly. The
 * step is divided by a running RMS of the gradient, making the learning rate
 * independent of the sensor's units.
 */
export class Blend {
  readonly experts: number;
  readonly slots: number;
  readonly rate: number;
  readonly share: number;
  /** w (slots, E): convex weights. */
  readonly w: Float64Array;
  /** Running mean square of the gradient (slots). */
  readonly g2: Float64Array;
  readonly #g: Float64Array;

  constructor(slots: number, experts: number, rate: number, share: number) {
    this.slots = slots;
    this.experts = experts;
    this.rate = rate;
    this.share = share;
    this.w = new Float64Array(slots * experts).fill(1 / experts);
    this.g2 = new Float64Array(slots);
    this.#g = new Float64Array(experts);
  }

  /**
   * The combined forecast of slot s from the experts' forecasts p (E) at off,
   * over the experts in the `active` bit mask (their weights renormalised).
   */
  combine(s: number, p: Float64Array, off: number, active: number): number {
    const E = this.experts, w = this.w;
    let y = 0, total = 0;
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      y += w[s * E + e] * p[off + e];
      total += w[s * E + e];
    }
    return y / total;
  }

  /**
   * Learns from the outcome y of slot s, given the experts' forecasts p (E)
   * at off that were combined for it, and an active mask (experts whose
   * forecast was not available keep their weight).
   */
  update(s: number, p: Float64Array, off: number, y: number, active: number): void {
    const E = this.experts, w = this.w, g = this.#g;
    const err = this.combine(s, p, off, active) - y;
    let mean = 0, n = 0;
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      g[e] = 2 * err * p[off + e];
      mean += g[e];
      n++;
    }
    if (n < 2) return;
    mean /= n;
    let sq = 0;
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      g[e] -= mean; // the level-free part of the gradient
      sq += g[e] * g[e];
    }
    this.g2[s] = this.g2[s] === 0 ? sq / n : 0.99 * this.g2[s] + 0.01 * (sq / n);
    const scale = this.rate / Math.sqrt(this.g2[s] + 1e-300);
    let total = 0, activeWeight = 0;
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      activeWeight += w[s * E + e];
      const v = w[s * E + e] * Math.exp(-scale * g[e]);
      w[s * E + e] = v;
      total += v;
    }
    // renormalise the active experts to the weight they held, then mix in the share
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      const v = (w[s * E + e] / total) * activeWeight;
      w[s * E + e] = (1 - this.share) * v + (this.share * activeWeight) / n;
    }
  }
}
