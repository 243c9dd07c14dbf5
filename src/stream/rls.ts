/**
 * Multi-output recursive least squares with exponential forgetting: the
 * online linear expert. One inverse-covariance P (d, d) serves all J outputs
 * (they share the features), each output has its weight column in W (d, J).
 *
 *   k = P·φ / (λ + φᵀ·P·φ)
 *   W += k ⊗ (y - Wᵀ·φ)
 *   P = (P - k ⊗ (P·φ)) / λ
 *
 * Plain RLS minimises Σ λ^(t-i)·|y_i - Wᵀ·φ_i|² + λ^t·δ·|W|², δ the `ridge`:
 * its regularisation fades with forgetting. When the features stop exciting
 * some direction (a constant column, a column that duplicates another or is
 * an affine function of it), P grows without bound along it ("wind-up") and
 * one reading can then throw the weights far off.
 *
 * With `holdRidge` (the presets' default) the ridge does not fade: after each update
 * one pseudo-observation of feature k (cycling over the d features) with
 * target 0 and weight c = d·(1 - λ)·δ puts back, on average, what forgetting
 * took from δ·I, so the expert minimises
 *
 *   Σ λ^(t-i)·|y_i - Wᵀ·φ_i|² + δ·|W|²      (approximately: the ridge ripples
 *                                            by d·(1 - λ) of itself per cycle)
 *
 * for good. Every direction keeps information of at least about δ, so P stays
 * below about I/δ, and a direction no feature excites shrinks its weights to
 * 0: the expert's predicted change to none, i.e. to persistence. A pseudo-
 * observation is a rank-one update without forgetting:
 *
 *   g = P·e_k / (1/c + P_kk),   W -= g ⊗ W_k,   P -= g ⊗ (P·e_k)
 *
 * Guards: P is updated as a symmetric matrix (the upper triangle, mirrored);
 * an update whose denominator or errors are not finite is skipped (counted
 * in `skipped`); forgetting stops while a diagonal element of P exceeds ten
 * times 1/δ (without `holdRidge` this is what bounds P: as a ridge of a tenth
 * would); a diagonal element that is not positive resets P to I/δ.
 *
 * Per update O(d²·2 + d·J·2) arithmetic on buffers made once; no allocation.
 * Many models can keep their state in one buffer (`at`, {@link rlsBytes})
 * and share their scratch (`scratch`): a typed array of its own costs about
 * 300 bytes of memory beside its values, and a stream holds one model per
 * horizon.
 */

/** How the expert regularises (the preset's `linear` settings). */
export interface RlsOptions {
  /**
   * Keep the ridge at δ for good by cyclic pseudo-observations (true), or let
   * it fade with forgetting as plain RLS does (false: the linear expert of
   * forecastd before issue 11, bit for bit). Default false; the presets'
   * `linear.holdRidge` is true.
   */
  holdRidge?: boolean;
  /**
   * Where P, W and the cycle live: {@link rlsBytes}(d, J) bytes of `buffer`
   * from `byteOffset` (a multiple of 8), zeros. Default: arrays of their own.
   */
  at?: { buffer: ArrayBuffer; byteOffset: number };
  /**
   * Scratch the model overwrites within each update: models updated one at
   * a time may share one. Default: its own.
   */
  scratch?: RlsScratch;
}

/** Bytes of P (d, d), W (d, J) and the cycle (2 int32) of one model in a shared buffer. */
export function rlsBytes(d: number, J: number): number {
  return 8 * (d * d + d * J) + 8;
}

/** An update's scratch: P·φ (d), P·e_k (d) and the errors (J). */
export class RlsScratch {
  readonly Pphi: Float64Array;
  readonly Pk: Float64Array;
  readonly err: Float64Array;

  constructor(d: number, J: number) {
    const b = new ArrayBuffer(8 * (2 * d + J));
    this.Pphi = new Float64Array(b, 0, d);
    this.Pk = new Float64Array(b, 8 * d, d);
    this.err = new Float64Array(b, 16 * d, J);
  }
}

export class Rls {
  // Numeric fields start as numbers (= 0, set in the constructor): a field declared without a
  // value starts undefined, V8 then keeps it as a pointer, and a loop that starts from it (denom)
  // boxes every double it adds, 200 bytes an update at d = 13 (see docs/scaling.md).
  readonly d: number = 0;
  readonly J: number = 0;
  readonly forgetting: number = 0;
  /** δ: the ridge (initial P = I / δ). */
  readonly ridge: number = 0;
  readonly holdRidge: boolean;
  /** P (d, d): inverse covariance, symmetric. */
  readonly P: Float64Array;
  /** W (d, J): weights, row k for feature k. */
  readonly W: Float64Array;
  /** [next feature of the pseudo-observation cycle, updates skipped as not finite]. */
  readonly cycle: Int32Array;
  readonly #Pphi: Float64Array;
  readonly #Pk: Float64Array;
  readonly #err: Float64Array;
  readonly #maxDiag: number = 0;
  /** c: the weight of one pseudo-observation. */
  readonly #c: number = 0;

  constructor(d: number, J: number, forgetting: number, ridge: number, opts: RlsOptions = {}) {
    if (!(ridge > 0) || !Number.isFinite(ridge)) {
      throw new RangeError(
        `Cannot create linear expert: the ridge must be a finite number above 0: current value is ${ridge}`,
      );
    }
    this.d = d;
    this.J = J;
    this.forgetting = forgetting;
    this.ridge = ridge;
    this.holdRidge = opts.holdRidge ?? false;
    const at = opts.at ?? { buffer: new ArrayBuffer(rlsBytes(d, J)), byteOffset: 0 };
    this.P = new Float64Array(at.buffer, at.byteOffset, d * d);
    for (let i = 0; i < d; i++) this.P[i * d + i] = 1 / ridge;
    this.W = new Float64Array(at.buffer, at.byteOffset + 8 * d * d, d * J);
    this.cycle = new Int32Array(at.buffer, at.byteOffset + 8 * (d * d + d * J), 2);
    const scratch = opts.scratch ?? new RlsScratch(d, J);
    if (scratch.Pphi.length !== d || scratch.err.length !== J) {
      throw new RangeError(
        `Cannot create linear expert: the scratch must be made for d = ${d}, J = ${J}: current value is d = ${scratch.Pphi.length}, J = ${scratch.err.length}`,
      );
    }
    this.#Pphi = scratch.Pphi;
    this.#Pk = scratch.Pk;
    this.#err = scratch.err;
    this.#maxDiag = 10 / ridge;
    this.#c = d * (1 - forgetting) * ridge;
  }

  /** Updates skipped because their arithmetic was not finite. */
  get skipped(): number {
    return this.cycle[1];
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
    if (!this.holdRidge) {
      this.#fadingUpdate(phi, phiOff, y, yOff);
      return;
    }
    const { d, J, P, W } = this;
    const Pphi = this.#Pphi, err = this.#err;
    let denom = this.forgetting;
    for (let i = 0; i < d; i++) {
      let acc = 0;
      const row = i * d;
      for (let k = 0; k < d; k++) acc += P[row + k] * phi[phiOff + k];
      Pphi[i] = acc;
      denom += phi[phiOff + i] * acc;
    }
    let finite = denom > 0 && Number.isFinite(denom);
    for (let j = 0; j < J && finite; j++) {
      let pred = 0;
      for (let k = 0; k < d; k++) pred += W[k * J + j] * phi[phiOff + k];
      err[j] = (y[yOff + j] - pred) / denom;
      finite = Number.isFinite(err[j]);
    }
    if (finite) {
      for (let j = 0; j < J; j++) {
        const e = err[j];
        for (let k = 0; k < d; k++) W[k * J + j] += Pphi[k] * e;
      }
      let maxDiag = 0;
      for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, P[i * d + i]);
      const inv = maxDiag > this.#maxDiag ? 1 : 1 / this.forgetting;
      this.#downdate(Pphi, 1 / denom, inv);
    } else this.cycle[1]++;
    this.#pseudoObservation();
  }

  /**
   * P = (P - s·v ⊗ v)·inv for P·φ = v, as a symmetric matrix: the upper
   * triangle computed, the lower mirrored. A diagonal element that is not
   * positive afterwards (P lost its definiteness to rounding) resets P to I/δ.
   */
  #downdate(v: Float64Array, s: number, inv: number): void {
    const { d, P } = this;
    let ok = true;
    for (let i = 0; i < d; i++) {
      const vi = v[i] * s, row = i * d;
      for (let k = i; k < d; k++) {
        const p = (P[row + k] - vi * v[k]) * inv;
        P[row + k] = p;
        P[k * d + i] = p;
      }
      if (!(P[row + i] > 0)) ok = false;
    }
    if (!ok) {
      P.fill(0);
      for (let i = 0; i < d; i++) P[i * d + i] = 1 / this.ridge;
    }
  }

  /** One pseudo-observation of the next feature of the cycle, target 0, weight c. */
  #pseudoObservation(): void {
    const { d, J, P, W } = this;
    const k = this.cycle[0];
    this.cycle[0] = (k + 1) % d;
    const Pk = this.#Pk;
    for (let i = 0; i < d; i++) Pk[i] = P[i * d + k];
    const s = 1 / (1 / this.#c + Pk[k]);
    for (let j = 0; j < J; j++) {
      const wk = W[k * J + j] * s;
      if (wk === 0) continue;
      for (let i = 0; i < d; i++) W[i * J + j] -= Pk[i] * wk;
    }
    this.#downdate(Pk, s, 1);
  }

  /** Plain RLS with forgetting, exactly as before issue 11 (`holdRidge` false). */
  #fadingUpdate(phi: Float64Array, phiOff: number, y: Float64Array, yOff: number): void {
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
