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
 * Sums run in the block's scratch, not in local variables: V8's mid-tier
 * compiler (Maglev, which runs a function until TurboFan takes it over) keeps
 * a number a loop carries from one iteration to the next as a heap object,
 * one per iteration (a local `acc += x` in the d·d loop made d·d of them an
 * update); a typed array's element is a plain double to either compiler.
 * A stream holds one model per horizon, and a typed array costs about 100
 * bytes of JS heap beside its values (300 with a buffer of its own): the
 * models of one expert keep their numbers in one {@link RlsBlock} (one
 * Float64Array and one Int32Array over one buffer) and index it by offset.
 */

import { typedBlock } from "../model/typed_block.ts";

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
   * Where the model's numbers live: model `model` of `block` (zeros), made
   * for the same d and J. Default: a block of its own, of one model.
   */
  at?: { block: RlsBlock; model: number };
}

/**
 * The numbers of `n` models of one shape (d features, J outputs), and
 * `extra` numbers of their owner's, in one buffer:
 *
 *   f (Float64Array): [P (d, d) | W (d, J)] per model, at {@link modelOffset}(h);
 *                     then the scratch the models overwrite within an update
 *                     (they update one at a time): P·φ (d), P·e_k (d), the
 *                     errors (J), two sums (the denominator, a running sum), at
 *                     `scratch`; then the owner's `extra`, at `extra`;
 *                     then per model its settings [λ, δ, 10/δ, c], at `settings` + 4h
 *                     (numbers in an object's fields would each be a boxed
 *                     number of their own, for every model of every stream)
 *   cycles (Int32Array): per model [next feature of the pseudo-observation
 *                     cycle, updates skipped as not finite], at 2h
 */
export class RlsBlock {
  readonly d: number = 0;
  readonly J: number = 0;
  readonly n: number = 0;
  readonly f: Float64Array;
  readonly cycles: Int32Array;
  /** Where the shared scratch starts in f. */
  readonly scratch: number = 0;
  /** Where the owner's extra numbers start in f. */
  readonly extra: number = 0;
  /** Where the models' settings start in f. */
  readonly settings: number = 0;

  constructor(d: number, J: number, n: number, extra = 0) {
    this.d = d;
    this.J = J;
    this.n = n;
    this.scratch = n * (d * d + d * J);
    this.extra = this.scratch + 2 * d + J + 2;
    this.settings = this.extra + extra;
    const spec = [[Float64Array, this.settings + 4 * n], [Int32Array, 2 * n]] as const;
    [this.f, this.cycles] = typedBlock(spec);
  }

  /** Where model h's P starts in f (its W follows at + d·d). */
  modelOffset(h: number): number {
    return h * (this.d * this.d + this.d * this.J);
  }
}

export class Rls {
  // Four fields: the block, the model's index in it and its offset (small integers, not boxed)
  // and the flag; d, J and the other offsets are read from the block in each method (an object
  // of 11 fields was 112 bytes, 12 a stream; 56 now). The settings, fractions, are numbers of
  // the block. The integers start as numbers (= 0, set in the constructor): a field declared
  // without a value starts undefined, V8 then keeps it as a pointer (see docs/scaling.md).
  readonly holdRidge: boolean;
  /**
   * The block the numbers live in: P at #p, W at #p + d·d, the scratch at
   * its `scratch`, the settings [λ, δ, 10/δ, c] at #k(); the cycle at 2·#h.
   */
  readonly #b: RlsBlock;
  /** The model's index in the block. */
  readonly #h: number = 0;
  /** Where the model's P starts in the block's f (its W follows at + d·d). */
  readonly #p: number = 0;

  /** d: features. */
  get d(): number {
    return this.#b.d;
  }

  /** J: outputs. */
  get J(): number {
    return this.#b.J;
  }

  /** Where the model's settings [λ, δ, 10/δ, c] start in the block's f. */
  #k(): number {
    return this.#b.settings + 4 * this.#h;
  }

  constructor(d: number, J: number, forgetting: number, ridge: number, opts: RlsOptions = {}) {
    if (!(ridge > 0) || !Number.isFinite(ridge)) {
      throw new RangeError(
        `Cannot create linear expert: the ridge must be a finite number above 0: current value is ${ridge}`,
      );
    }
    const { block, model } = opts.at ?? { block: new RlsBlock(d, J, 1), model: 0 };
    if (block.d !== d || block.J !== J) {
      throw new RangeError(
        `Cannot create linear expert: the block must be made for d = ${d}, J = ${J}: current value is d = ${block.d}, J = ${block.J}`,
      );
    }
    if (!(Number.isInteger(model) && model >= 0 && model < block.n)) {
      throw new RangeError(
        `Cannot create linear expert: the model must be an integer from 0 to ${
          block.n - 1
        }: current value is ${model}`,
      );
    }
    this.holdRidge = opts.holdRidge ?? false;
    this.#b = block;
    this.#h = model;
    this.#p = block.modelOffset(model);
    const f = block.f, k = this.#k();
    for (let i = 0; i < d; i++) f[this.#p + i * d + i] = 1 / ridge;
    f[k] = forgetting;
    f[k + 1] = ridge;
    f[k + 2] = 10 / ridge;
    f[k + 3] = d * (1 - forgetting) * ridge;
  }

  /** λ: the forgetting factor. */
  get forgetting(): number {
    return this.#b.f[this.#k()];
  }

  /** δ: the ridge (initial P = I / δ). */
  get ridge(): number {
    return this.#b.f[this.#k() + 1];
  }

  /** P (d, d): inverse covariance, symmetric (a new view of the block at each call). */
  get P(): Float64Array {
    const { f, d } = this.#b;
    return f.subarray(this.#p, this.#p + d * d);
  }

  /** W (d, J): weights, row k for feature k (a new view of the block at each call). */
  get W(): Float64Array {
    const { f, d, J } = this.#b, w = this.#p + d * d;
    return f.subarray(w, w + d * J);
  }

  /**
   * [next feature of the pseudo-observation cycle, updates skipped as not
   * finite] (a new view of the block at each call).
   */
  get cycle(): Int32Array {
    return this.#b.cycles.subarray(2 * this.#h, 2 * this.#h + 2);
  }

  /** Updates skipped because their arithmetic was not finite. */
  get skipped(): number {
    return this.#b.cycles[2 * this.#h + 1];
  }

  /** out (J) at off = Wᵀ·φ. */
  predict(phi: Float64Array, phiOff: number, out: Float64Array, off: number): void {
    const { f, d, J } = this.#b, w = this.#p + d * d;
    for (let j = 0; j < J; j++) out[off + j] = 0;
    for (let k = 0; k < d; k++) {
      const x = phi[phiOff + k];
      if (x === 0) continue;
      const row = w + k * J;
      for (let j = 0; j < J; j++) out[off + j] += f[row + j] * x;
    }
  }

  /** One update from features φ (d) at phiOff and targets y (J) at yOff. */
  update(phi: Float64Array, phiOff: number, y: Float64Array, yOff: number): void {
    if (!this.holdRidge) {
      this.#fadingUpdate(phi, phiOff, y, yOff);
      return;
    }
    const b = this.#b, { f, d, J } = b, p = this.#p, w = p + d * d, set = this.#k();
    // the scratch: P·φ (d) at pphi, the errors (J) at err, the denominator at den, a sum at sum
    // (each sum an element of f: see the file's comment)
    const pphi = b.scratch, err = b.scratch + 2 * d, den = err + J, sum = den + 1;
    this.#project(phi, phiOff);
    const denom = f[den];
    let finite = denom > 0 && Number.isFinite(denom);
    for (let j = 0; j < J && finite; j++) {
      f[sum] = 0;
      for (let k = 0; k < d; k++) f[sum] += f[w + k * J + j] * phi[phiOff + k];
      const e = (y[yOff + j] - f[sum]) / denom;
      f[err + j] = e;
      finite = Number.isFinite(e);
    }
    if (finite) {
      for (let j = 0; j < J; j++) {
        const e = f[err + j];
        for (let k = 0; k < d; k++) f[w + k * J + j] += f[pphi + k] * e;
      }
      this.#largestDiagonal(sum);
      // the downdate's s at den, its inv at sum (numbers of f, not arguments: see the file's comment)
      f[den] = 1 / denom;
      if (f[sum] > f[set + 2]) f[sum] = 1;
      else f[sum] = 1 / f[set];
      this.#downdate(pphi, den);
    } else b.cycles[2 * this.#h + 1]++;
    this.#pseudoObservation();
  }

  /**
   * What both updates begin with, for features φ (d) at phiOff: P·φ (d) at
   * the scratch's start and the denominator λ + φᵀ·P·φ after the errors (J).
   */
  #project(phi: Float64Array, phiOff: number): void {
    const b = this.#b, { f, d, J } = b, p = this.#p;
    const pphi = b.scratch, den = b.scratch + 2 * d + J;
    f[den] = f[this.#k()];
    for (let i = 0; i < d; i++) {
      const row = p + i * d, at = pphi + i;
      f[at] = 0;
      for (let k = 0; k < d; k++) f[at] += f[row + k] * phi[phiOff + k];
      f[den] += phi[phiOff + i] * f[at];
    }
  }

  /** The largest diagonal element of P (0 if none is positive), into the block's number at `at`. */
  #largestDiagonal(at: number): void {
    const { f, d } = this.#b, p = this.#p;
    f[at] = 0;
    for (let i = 0; i < d; i++) f[at] = Math.max(f[at], f[p + i * d + i]);
  }

  /**
   * P = (P - s·v ⊗ v)·inv for P·φ = v (d numbers of the block at `v`), s and
   * inv the numbers of the block at `at` and `at` + 1, as a symmetric matrix:
   * the upper triangle computed, the lower mirrored. A diagonal element that
   * is not positive afterwards (P lost its definiteness to rounding) resets P
   * to I/δ.
   */
  #downdate(v: number, at: number): void {
    const { f, d } = this.#b, p = this.#p, s = f[at], inv = f[at + 1];
    let ok = true;
    for (let i = 0; i < d; i++) {
      const vi = f[v + i] * s, row = p + i * d;
      for (let k = i; k < d; k++) {
        const x = (f[row + k] - vi * f[v + k]) * inv;
        f[row + k] = x;
        f[p + k * d + i] = x;
      }
      if (!(f[row + i] > 0)) ok = false;
    }
    if (!ok) {
      f.fill(0, p, p + d * d);
      for (let i = 0; i < d; i++) f[p + i * d + i] = 1 / f[this.#k() + 1];
    }
  }

  /** One pseudo-observation of the next feature of the cycle, target 0, weight c. */
  #pseudoObservation(): void {
    const b = this.#b, { f, d, J } = b, p = this.#p, w = p + d * d, c = 2 * this.#h;
    const k = b.cycles[c];
    b.cycles[c] = (k + 1) % d;
    // the scratch: P·e_k (d), the downdate's s and inv (1) at den
    const pk = b.scratch + d, den = b.scratch + 2 * d + J;
    for (let i = 0; i < d; i++) f[pk + i] = f[p + i * d + k];
    f[den] = 1 / (1 / f[this.#k() + 3] + f[pk + k]);
    f[den + 1] = 1;
    for (let j = 0; j < J; j++) {
      const wk = f[w + k * J + j] * f[den];
      if (wk === 0) continue;
      for (let i = 0; i < d; i++) f[w + i * J + j] -= f[pk + i] * wk;
    }
    this.#downdate(pk, den);
  }

  /** Plain RLS with forgetting, exactly as before issue 11 (`holdRidge` false). */
  #fadingUpdate(phi: Float64Array, phiOff: number, y: Float64Array, yOff: number): void {
    const b = this.#b, { f, d, J } = b, p = this.#p, w = p + d * d, set = this.#k();
    // the scratch: P·φ (d) at pphi, the denominator at den, a sum at sum
    const pphi = b.scratch, den = b.scratch + 2 * d + J, sum = den + 1;
    const lambda = f[set];
    this.#project(phi, phiOff);
    const denom = f[den];
    for (let j = 0; j < J; j++) {
      f[sum] = 0;
      for (let k = 0; k < d; k++) f[sum] += f[w + k * J + j] * phi[phiOff + k];
      const e = (y[yOff + j] - f[sum]) / denom;
      for (let k = 0; k < d; k++) f[w + k * J + j] += f[pphi + k] * e;
    }
    this.#largestDiagonal(sum);
    const lam = f[sum] > f[set + 2] ? 1 : lambda;
    for (let i = 0; i < d; i++) {
      const row = p + i * d;
      const ki = f[pphi + i] / denom;
      for (let k = 0; k < d; k++) f[row + k] = (f[row + k] - ki * f[pphi + k]) / lam;
    }
  }
}
