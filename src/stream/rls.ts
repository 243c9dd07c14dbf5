/**
 * Multi-output recursive least squares with exponential forgetting: the
 * online linear expert. One inverse-covariance P (d, d) serves all J outputs
 * (they share the features), each output has its weight column in W (d, J).
 *
 *   k = P·φ / (λ + φᵀ·P·φ)
 *   W += k ⊗ (y - Wᵀ·φ)
 *   P = (P - k ⊗ (P·φ)) / λ
 *
 * When the features stop exciting some direction, forgetting inflates P
 * without bound ("wind-up") and one reading can then throw the weights far
 * off; the guard stops dividing by λ while a diagonal element of P exceeds
 * ten times its initial value, which bounds every direction as a ridge of a
 * tenth would.
 */
export class Rls {
  readonly d: number;
  readonly J: number;
  readonly forgetting: number;
  /** P (d, d): inverse covariance, symmetric. */
  readonly P: Float64Array;
  /** W (d, J): weights, row k for feature k. */
  readonly W: Float64Array;
  readonly #Pphi: Float64Array;
  readonly #maxDiag: number;

  constructor(d: number, J: number, forgetting: number, ridge: number) {
    this.d = d;
    this.J = J;
    this.forgetting = forgetting;
    this.P = new Float64Array(d * d);
    for (let i = 0; i < d; i++) this.P[i * d + i] = 1 / ridge;
    this.W = new Float64Array(d * J);
    this.#Pphi = new Float64Array(d);
    this.#maxDiag = 10 / ridge;
  }

  /** out (J) at off = Wᵀ·φ. */
  predict(phi: Float64Array, phiOff: number, out: Float64Array, off: number): void {
    const { d, J, W } = this;
    for (let j = 0; j < J; j++) out[off + j] = 0;
    for (let k = 0; k < d; k++) {
      const f = phi[phiOff + k];
      if (f === 0) continue;
      const row = k * J;
      for (let j = 0; j < J; j++) out[off + j] += W[row + j] * f;
    }
  }

  /** One update from features φ (d) at phiOff and targets y (J) at yOff. */
  update(phi: Float64Array, phiOff: number, y: Float64Array, yOff: number): void {
    const { d, J, P, W } = this;
    const Pphi = this.#Pphi;
    let denom = this.forgetting;
    for (let i = 0; i < d; i++) {
      let acc = 0;
      const row = i * d;
      for (let k = 0; k < d; k++) acc += P[row + k] * phi[phiOff + k];
      Pphi[i] = acc;
      denom += phi[phiOff + i] * acc;
    }
    for (let j = 0; j < J; j++) {
      let pred = 0;
      for (let k = 0; k < d; k++) pred += W[k * J + j] * phi[phiOff + k];
      const e = (y[yOff + j] - pred) / denom;
      for (let k = 0; k < d; k++) W[k * J + j] += Pphi[k] * e;
    }
    let maxDiag = 0;
    for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, P[i * d + i]);
    const lam = maxDiag > this.#maxDiag ? 1 : this.forgetting;
    for (let i = 0; i < d; i++) {
      const row = i * d;
      const ki = Pphi[i] / denom;
      for (let k = 0; k < d; k++) P[row + k] = (P[row + k] - ki * Pphi[k]) / lam;
    }
  }
}
