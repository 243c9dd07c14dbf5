import { type BlockArena, sharedBlock, typedBlock } from "../model/typed_block.ts";
import { DOUBLE_ONE, DOUBLE_ZERO } from "../model/floats.ts";
/**
 * Longer than 500 lines: the blend, its exact subset solver, the bound on
 * one reading's pull and the pooling over horizons share one record and
 * scratch, and are read together.
 *
 * The record of the blend whose pooled prefix sums the shared scratch holds: a
 * pass of combine() over a stream's slots reads them, any change to that
 * record (update, reset, forget, {@link Blend.newPass}) drops them.
 */
let poolOwner: Float64Array | null = null;

/** The most experts a {@link Blend} takes (its solver tries every subset of them). */
export const MAX_BLEND_EXPERTS = 8;

/** The blend's own array: cov (slots, E, E), then count and longLoss (slots, E) each. */
export function blendBlock(slots: number, experts: number) {
  return [[Float64Array, slots * experts * (experts + 2)]] as const;
}

/** The solver's scratch (their order in the class), one for every blend of E experts. */
function scratchBlock(experts: number) {
  return [
    [Float64Array, experts],
    [Float64Array, experts * experts],
    [Float64Array, experts],
    [Int32Array, experts],
    [Float64Array, experts],
    [Float64Array, experts * experts],
    [Float64Array, SUMS],
  ] as const;
}

/**
 * The solver's running sums ({@link Blend}'s #s). A sum a loop carries from one iteration to the
 * next in a local variable is a new heap object each iteration while V8 runs the function in its
 * mid tier (Maglev), as is a double picked by `?:`; an element of a Float64Array is not.
 */
const SUMS = 2;

/**
 * Online combination of E experts, one weight vector per (target, horizon):
 * constrained least squares on the experts' recent errors (stacking; the
 * "optimal combination" of Bates and Granger, with discounting). Each slot
 * keeps the discounted second moments of its experts' errors,
 *
 *   A_ab ← β·A_ab + (1 - β)·(y - ŷ_a)·(y - ŷ_b)
 *
 * and combines with the convex weights that would have had the least
 * discounted squared error of the *combination* over that memory:
 *
 *   w = argmin wᵀ·(A + ρ·d·I)·w   subject to  w ≥ 0, Σ w = 1
 *
 * over the n eligible experts, where d = (tr A - 1ᵀ·A·1 / n) / n is how much
 * their errors differ (an error they all share adds the same to every
 * convex combination and so moves no weight).
 *
 * Weighing each expert by its own error (exponential weights, which this
 * replaced) never beats the best expert; the combination does when the
 * experts' errors are not perfectly correlated (the linear model and
 * seasonal persistence at long horizons), and it gives no weight to an
 * expert that adds nothing. The weights depend on A only up to a factor, so
 * they do not depend on the sensor's units. Unlike exponentiated gradient
 * on the mixture's loss, which on real sensor data flipped its weights on
 * single heavy-tailed errors, a reading moves A by its share 1 - β of the
 * memory and the weights are solved afresh from A, so they have no momentum
 * of their own. The ridge ρ keeps the solution stable when two experts'
 * errors are nearly collinear; it is relative to d, not to the experts' mean
 * squared error, so that a jump nobody foresaw does not swamp the
 * differences between them and spread the weight evenly.
 *
 * One reading's pull on the record is bounded (`pull`): when an active
 * expert's error is more than `bound` times the root of the best long-run
 * mean squared error, all of the reading's errors are scaled by one factor
 * so that the largest is that bound (an error the experts share stays
 * shared, and their order stays), and the record learns those. On ETTh2 a
 * column's rare jumps otherwise hand one reading the weights of hundreds.
 * It applies from slot `from` on: the stream starts it at the two-step
 * slots, so the one-step forecasts, which alone feed the anomaly path
 * (scoring.ts) and the learning guard, are the unbounded blend's.
 *
 * The weights of a long horizon are solved from few independent errors (a
 * slot's errors correlate over h readings), so they vary from one reading
 * to the next more than the experts' merits do. Neighbouring horizons ask
 * for nearly the same weights, so a slot may solve from its moments pooled
 * with those of up to `steps` horizons either side (`pool`): each slot's A
 * divided by its trace over the eligible experts (errors grow with h, and
 * the weights depend on A only up to a factor) and summed, slots whose
 * eligible experts have not all joined left out. The window is centred (as
 * many horizons below as above, fewer near the first pooled and the last
 * slot): a one-sided window leans toward the weights of the horizons on its
 * side, which on a short seasonal stream (where the seasonal expert
 * overtakes the linear one within a few steps) are wrong ones. With a
 * `ratio`, it reaches only as far as the neighbours' errors (traces) on both
 * sides stay within that factor of the slot's own: horizons whose errors are
 * nearly as large pose nearly the same problem. The sums are running sums
 * over a target's horizons, made once a pass (newPass) in a scratch every
 * blend of the same shape shares, so a slot costs O(E²) whatever `steps`. Like the
 * bound it starts at the two-step slots (`from`), and it pools only those:
 * the one-step weights, which feed the anomaly path, stay the slot's own.
 *
 * An expert whose long-run error (memory ×20) is more than twice the best
 * long-run error is left out: when a sensor sticks, every expert that
 * repeats a past value is exact for a while, and the memory alone would
 * then split the weight between them, handing some to one that is hopeless
 * in general (seasonal persistence one step ahead, say) just as the sensor
 * wakes up.
 *
 * Errors at horizon h are correlated over about h readings, so a slot's
 * memory 1/(1 - β) grows with its horizon (`memory + memoryPerStep·(h - 1)`
 * readings) to keep the number of independent errors it averages large
 * enough for E² moments. An expert joins once it has `warmup` scored
 * forecasts in that slot, so one that starts late (the LSTM, seasonal
 * persistence) does not disturb the blend before its record means anything.
 *
 * The constrained problem is solved exactly: the optimum lies inside one
 * face of the simplex, where it is the equality-constrained solution
 * w ∝ A_S⁻¹·1 with error 1 / (1ᵀ·A_S⁻¹·1). All eligible experts are tried
 * first (their solution, when feasible, is the optimum, as it usually is);
 * otherwise every subset S of them is tried and the feasible one with the
 * least error wins. That is up to 2^E - 1 systems of up to E unknowns per
 * (target, horizon) slot and reading, so E is capped at
 * {@link MAX_BLEND_EXPERTS}: at 8, the worst case is 255 systems of up to 8
 * unknowns per slot, against 15 of up to 4 with the four experts a stream
 * has today, and each further expert doubles the count. Beyond that an
 * active-set solver would be the way. Experts are the bits of an int mask
 * (expert e is bit e).
 */
/** One reading's pull on a blend's record: errors beyond `bound` long-run RMS errors, from slot `from` on. */
export interface BlendPull {
  /** The largest error a reading may teach, in the best long-run RMS errors (0: no bound). */
  bound: number;
  /** The first slot the bound applies to. */
  from: number;
}

/** Pooling of a slot's error moments with those of its neighbouring horizons. */
export interface BlendPool {
  /** Horizons either side whose moments a slot solves from with its own, at most (0: none). */
  steps: number;
  /**
   * How much larger or smaller a neighbour's error (its trace over the eligible experts) may be
   * than the slot's own for the window to reach it (0: any).
   */
  ratio: number;
  /** Slots from one horizon to the next (the stream's target count). */
  stride: number;
  /** The first slot pooled; only slots from it on are pooled with. */
  from: number;
}

export class Blend {
  readonly experts: number;
  readonly slots: number;
  /** ρ: ridge added to A's diagonal, relative to how much the eligible experts' errors differ. */
  readonly ridge: number = 0;
  /** β per slot: one array for every blend of the same memories. */
  readonly decay: Float64Array;
  readonly warmup: number;
  /** The bound on one reading's pull (0: none), in the best long-run RMS errors. */
  readonly pullBound: number = 0;
  /** The first slot the bound applies to. */
  readonly pullFrom: number = 0;
  /** Horizons either side a slot's moments are pooled with (0: none), from slot {@link poolFrom} on. */
  readonly poolSteps: number = 0;
  /** A neighbour's error, at most this many times larger or smaller than the slot's own (0: any). */
  readonly poolRatio: number = 0;
  /** Slots from one horizon to the next. */
  readonly poolStride: number = 1;
  /** The first slot pooled. */
  readonly poolFrom: number = 0;
  /**
   * The record, one array rather than three (a typed array costs a stream
   * about 100 bytes of heap): A (slots, E, E) at 0, the discounted mean of
   * the products of the experts' errors, symmetric; the scored forecasts
   * (slots, E) at #count; the long-run discounted mean squared error
   * (slots, E), over 20 times the slot's memory, at #long. Views of each by
   * name below ({@link cov}, {@link count}, {@link longLoss}), made per call.
   */
  readonly record: Float64Array;
  readonly #count: number;
  readonly #long: number;
  /**
   * Scratch (E) for combine(), and for the solver: the subset's system (E, E), its solution (E),
   * its experts (E), the errors (E); the running sums (SUMS). Written before read and one for
   * every blend of E experts.
   */
  readonly #w: Float64Array;
  readonly #m: Float64Array;
  readonly #x: Float64Array;
  readonly #idx: Int32Array;
  readonly #err: Float64Array;
  /** The moments (E, E) weights() solves from: the slot's A, or A pooled over its neighbours. */
  readonly #a: Float64Array;
  /** The running sums (SUMS) of the methods that loop, each written before read. */
  readonly #s: Float64Array;
  /**
   * Pooling's scratch, shared by every blend of the same slots and experts: per slot t the
   * running sum over its target's slots up to t of A / trace (slots, E, E), and per target the
   * mask the sums were made for, plus 1 (stride; 0: none); per slot its trace (NaN: adds nothing).
   */
  readonly #prefix: Float64Array;
  readonly #prefixOk: Int32Array;
  readonly #traces: Float64Array;
  /**
   * The solver's scalars: the ridge r of the slot being weighed, the best 1ᵀ·x so far, the last
   * system's 1ᵀ·x; and update()'s pull factor. Fields rather than arguments and results: a double passed to or returned from
   * a call V8 does not inline is a new heap object, and weights() runs per slot and reading.
   */
  #r = DOUBLE_ZERO; // doubles from the start: see DOUBLE_ZERO
  #best = DOUBLE_ZERO;
  #sum = DOUBLE_ZERO;
  /**
   * The factor update() scales the reading's errors by for the moments (≤ 1; {@link pullBound}).
   * A double from the start (see DOUBLE_ZERO): its first fraction, readings into a stream's life,
   * would otherwise change the field's representation and throw away every Blend method's
   * optimised code, in each worker.
   */
  #pull = DOUBLE_ONE;

  /**
   * @param memory for each slot, 1 / (1 - β): how many readings its errors are averaged over
   * @param arena where cov, count and longLoss are cut from (typed_block.ts; {@link blendBlock}); default a buffer of their own
   * @param pull the bound on one reading's pull on the record; default none
   * @param pool the pooling of a slot's moments with its neighbouring horizons'; default none
   */
  constructor(
    slots: number,
    experts: number,
    ridge: number,
    memory: ArrayLike<number>,
    warmup: number,
    arena?: BlockArena,
    pull: BlendPull = { bound: 0, from: 0 },
    pool: BlendPool = { steps: 0, ratio: 0, stride: 1, from: 0 },
  ) {
    if (!Number.isInteger(experts) || experts < 1 || experts > MAX_BLEND_EXPERTS) {
      throw new RangeError(
        `Cannot create blend: the expert count must be an integer from 1 to ${MAX_BLEND_EXPERTS} (the solver may try every subset of them, 2^E - 1 systems per slot and reading): current value is ${experts}`,
      );
    }
    if (!(ridge >= 0)) {
      throw new RangeError(
        `Cannot create blend: the ridge must be a number at least 0: current value is ${ridge}`,
      );
    }
    if (!(pull.bound >= 0) || !Number.isFinite(pull.bound)) {
      throw new RangeError(
        `Cannot create blend: the pull bound must be a finite number at least 0: current value is ${pull.bound}`,
      );
    }
    if (!Number.isInteger(pool.steps) || pool.steps < 0) {
      throw new RangeError(
        `Cannot create blend: the horizons pooled either side must be an integer at least 0: current value is ${pool.steps}`,
      );
    }
    if (!(pool.ratio === 0 || pool.ratio >= 1) || !Number.isFinite(pool.ratio)) {
      throw new RangeError(
        `Cannot create blend: the pooled errors' ratio must be 0 or a finite number at least 1: current value is ${pool.ratio}`,
      );
    }
    this.pullBound = pull.bound;
    this.pullFrom = pull.from;
    this.poolSteps = pool.steps;
    this.poolRatio = pool.ratio;
    this.poolStride = pool.stride;
    this.poolFrom = pool.from;
    const pooled = pool.steps > 0;
    [this.#prefix, this.#prefixOk, this.#traces] = sharedBlock("blend pool", [
      [Float64Array, pooled ? slots * experts * experts : 0],
      [Int32Array, pooled ? pool.stride : 0],
      [Float64Array, pooled ? slots : 0],
    ]);
    this.slots = slots;
    this.experts = experts;
    this.ridge = ridge;
    this.warmup = warmup;
    [this.record] = typedBlock(blendBlock(slots, experts), arena);
    this.#count = slots * experts * experts;
    this.#long = this.#count + slots * experts;
    [this.#w, this.#m, this.#x, this.#idx, this.#err, this.#a, this.#s] = sharedBlock(
      "blend scratch",
      scratchBlock(experts),
    );
    [this.decay] = sharedBlock(
      `blend decay ${Array.from(memory).join(" ")}`,
      [[Float64Array, memory.length]],
      ([decay]) => {
        for (let s = 0; s < memory.length; s++) decay[s] = 1 - 1 / memory[s];
      },
    );
  }

  /** A (slots, E, E): a view of the record. */
  get cov(): Float64Array {
    return this.record.subarray(0, this.#count);
  }

  /** The scored forecasts (slots, E): a view of the record. */
  get count(): Float64Array {
    return this.record.subarray(this.#count, this.#long);
  }

  /** The long-run mean squared error (slots, E): a view of the record. */
  get longLoss(): Float64Array {
    return this.record.subarray(this.#long);
  }

  /** The active experts of slot s that have a record and are not hopeless, as a bit mask. */
  #eligible(s: number, active: number): number {
    const E = this.experts, r = this.record;
    const cnt = this.#count + s * E, lng = this.#long + s * E, sums = this.#s;
    // the best long-run loss at sums[0]
    sums[0] = Infinity;
    for (let e = 0; e < E; e++) {
      if (active & (1 << e) && r[cnt + e] >= this.warmup) sums[0] = Math.min(sums[0], r[lng + e]);
    }
    const bestLong = sums[0];
    let mask = 0;
    for (let e = 0; e < E; e++) {
      if (active & (1 << e) && r[cnt + e] >= this.warmup && r[lng + e] <= 2 * bestLong) {
        mask |= 1 << e;
      }
    }
    return mask;
  }

  /**
   * Solves A_S·x = 1 for the experts of `subset` (#a, the slot's moments, with the ridge
   * #r on its diagonal) into #x (by position in #idx); sets #sum to 1ᵀ·x, or
   * NaN when the system is not positive definite.
   */
  #solve(subset: number): void {
    const E = this.experts, r = this.#r, A = this.#a;
    this.#sum = NaN;
    const M = this.#m, x = this.#x, idx = this.#idx;
    let n = 0;
    for (let e = 0; e < E; e++) if (subset & (1 << e)) idx[n++] = e;
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) M[a * n + b] = A[idx[a] * E + idx[b]];
      M[a * n + a] += r;
      x[a] = 1;
    }
    // Gaussian elimination without pivoting: every pivot of a positive definite matrix is positive
    for (let c = 0; c < n; c++) {
      const pivot = M[c * n + c];
      if (!(pivot > 0)) return;
      for (let row = c + 1; row < n; row++) {
        const f = M[row * n + c] / pivot;
        for (let k = c; k < n; k++) M[row * n + k] -= f * M[c * n + k];
        x[row] -= f * x[c];
      }
    }
    // back substitution in x, 1ᵀ·x at sums[0]
    const sums = this.#s;
    sums[0] = 0;
    for (let c = n - 1; c >= 0; c--) {
      for (let k = c + 1; k < n; k++) x[c] -= M[c * n + k] * x[k];
      x[c] = x[c] / M[c * n + c];
      sums[0] += x[c];
    }
    this.#sum = sums[0];
  }

  /** The weight of each expert in slot s (E values into out), given the `active` bit mask. */
  weights(s: number, active: number, out: Float64Array): void {
    const E = this.experts, base = s * E * E;
    out.fill(0, 0, E);
    const ok = this.#eligible(s, active);
    if (ok === 0) {
      // no expert has a record yet: the first one (persistence) alone
      out[0] = 1;
      return;
    }
    this.#moments(s, ok);
    const A = this.#a;
    // d: how much the eligible experts' errors differ, the scale of the ridge (the trace at
    // sums[0], the total at sums[1])
    const sums = this.#s;
    sums[0] = 0;
    sums[1] = 0;
    let n = 0;
    for (let a = 0; a < E; a++) {
      if (!(ok & (1 << a))) continue;
      n++;
      sums[0] += A[a * E + a];
      for (let c = 0; c < E; c++) if (ok & (1 << c)) sums[1] += A[a * E + c];
    }
    const spread = (sums[0] - sums[1] / n) / n;
    if (!(spread > 0)) {
      // the eligible experts' errors have not differed (a constant stretch): any of them will do
      for (let e = 0; e < E; e++) if (ok & (1 << e)) out[e] = 1 / n;
      return;
    }
    for (let e = 0; e < E; e++) {
      if (ok & (1 << e) && !(this.record[base + e * E + e] > 0)) {
        // an expert without error lately cannot be improved on (nor solved for without a ridge)
        out[e] = 1;
        return;
      }
    }
    this.#r = this.ridge * spread;
    this.#best = 0;
    // all eligible experts first: when their solution is feasible it is the
    // optimum (the least error over the whole plane Σ w = 1), as it usually is
    this.#candidate(ok, out);
    if (this.#best > 0) return;
    for (let subset = 1; subset < ok; subset++) {
      if ((subset & ok) === subset) this.#candidate(subset, out);
    }
  }

  /** The trace of slot t's A over the experts of mask `ok`, into #s[0]. */
  #trace(t: number, ok: number): void {
    const E = this.experts, r = this.record, base = t * E * E, sums = this.#s;
    sums[0] = 0;
    for (let e = 0; e < E; e++) if (ok & (1 << e)) sums[0] += r[base + e * E + e];
  }

  /**
   * Fills #a with the moments slot s solves from: its A, or from {@link poolFrom} on the sum
   * of A / trace (over the eligible experts `ok`) of its own and the neighbouring horizons'
   * slots, as many on either side (up to poolSteps; with {@link poolRatio}, only while the
   * neighbours' traces on both sides are within it of the slot's own), a slot where one of the
   * experts has fewer than `warmup` scored forecasts, or whose trace is 0, adding nothing: the
   * difference of two of {@link #sums}' running sums.
   */
  #moments(s: number, ok: number): void {
    const E = this.experts, r = this.record, A = this.#a, st = this.poolStride;
    // as many horizons either side (from poolFrom to the last slot), so that the window is
    // centred on the slot's own horizon
    let k = s >= this.poolFrom
      ? Math.min(
        this.poolSteps,
        Math.floor((s - this.poolFrom) / st),
        Math.floor((this.slots - 1 - s) / st),
      )
      : 0;
    if (k > 0) {
      if (poolOwner !== this.record) {
        this.#prefixOk.fill(0);
        poolOwner = this.record;
      }
      const j = s % st;
      if (this.#prefixOk[j] !== ok + 1) this.#sums(j, ok);
      if (this.poolRatio > 0) k = this.#within(s, k);
    }
    if (k === 0) {
      for (let i = 0, own = s * E * E; i < E * E; i++) A[i] = r[own + i];
      return;
    }
    // the window: the difference of two running sums; only the eligible experts' entries are
    // read by weights(), and A is symmetric
    const t0 = s - st * k, t1 = s + st * k;
    const P = this.#prefix, hi = t1 * E * E, lo = (t0 - st) * E * E, before = t0 - st >= 0;
    for (let a = 0; a < E; a++) {
      if (!(ok & (1 << a))) continue;
      for (let c = a; c < E; c++) {
        if (!(ok & (1 << c))) continue;
        // (two stores rather than one of `?:`: see SUMS)
        if (before) A[a * E + c] = P[hi + a * E + c] - P[lo + a * E + c];
        else A[a * E + c] = P[hi + a * E + c] - 0;
        A[c * E + a] = A[a * E + c];
      }
    }
  }

  /**
   * The horizons either side of slot s, at most k, up to which every neighbour's trace (made
   * by {@link #sums}) is within poolRatio of the slot's own on both sides.
   */
  #within(s: number, k: number): number {
    const tr = this.#traces, own = tr[s], ratio = this.poolRatio, st = this.poolStride;
    for (let i = 1; i <= k; i++) {
      const a = tr[s - i * st], b = tr[s + i * st];
      if (!(a * ratio >= own && a <= own * ratio && b * ratio >= own && b <= own * ratio)) {
        return i - 1;
      }
    }
    return k;
  }

  /**
   * The running sums of target j's slots from {@link poolFrom} on (#prefix), for the eligible
   * experts `ok`: A / trace, a slot where one of them has not joined or whose trace is 0 adding
   * nothing. Slots before poolFrom hold zeros.
   */
  #sums(j: number, ok: number): void {
    const E = this.experts, r = this.record, P = this.#prefix, st = this.poolStride;
    const cnt = this.#count;
    for (let t = j; t < this.slots; t += st) {
      const at = t * E * E, prev = (t - st) * E * E, first = t - st < this.poolFrom;
      let ready = t >= this.poolFrom;
      for (let e = 0; e < E; e++) {
        if (ok & (1 << e) && r[cnt + t * E + e] < this.warmup) ready = false;
      }
      this.#trace(t, ok);
      // the trace, then its reciprocal (0: adds nothing) at sums[1] (see SUMS)
      const sums = this.#s, tr = sums[0];
      sums[1] = 0;
      if (ready && tr > 0) sums[1] = 1 / tr;
      const f = sums[1];
      this.#traces[t] = tr;
      if (!(f > 0)) this.#traces[t] = NaN;
      for (let a = 0; a < E; a++) {
        for (let c = a; c < E; c++) {
          if (first) P[at + a * E + c] = 0 + f * r[at + a * E + c];
          else P[at + a * E + c] = P[prev + a * E + c] + f * r[at + a * E + c];
        }
      }
    }
    this.#prefixOk[j] = ok + 1;
  }

  /** Drops the pooled sums (the record changed, or a new pass over the slots begins). */
  newPass(): void {
    if (poolOwner === this.record) poolOwner = null;
  }

  /**
   * Solves for the experts of `subset` (ridge #r); when their weights are all
   * at least 0 and their error 1 / (1ᵀ·A_S⁻¹·1) is below the best so far
   * (1 / #best), writes them to out (E) and makes their sum the new #best,
   * else leaves out and #best alone.
   */
  #candidate(subset: number, out: Float64Array): void {
    const E = this.experts, x = this.#x;
    this.#solve(subset);
    const sum = this.#sum;
    if (!(sum > this.#best)) return;
    let k = 0;
    for (let e = 0; e < E; e++) if (subset & (1 << e) && x[k++] < 0) return;
    k = 0;
    for (let e = 0; e < E; e++) out[e] = subset & (1 << e) ? x[k++] / sum : 0;
    this.#best = sum;
  }

  /** The combined forecast of slot s from the experts' forecasts p (E) at off. */
  combine(s: number, p: Float64Array, off: number, active: number): number {
    const w = this.#w, sums = this.#s;
    this.weights(s, active, w);
    sums[0] = 0;
    for (let e = 0; e < this.experts; e++) if (w[e] > 0) sums[0] += w[e] * p[off + e];
    return sums[0];
  }

  /** Forgets every record: each expert earns its place again, persistence first. */
  reset(): void {
    this.newPass();
    this.record.fill(0);
  }

  /** Forgets expert e's record in every slot (it was re-initialised): it earns its place again. */
  forget(e: number): void {
    this.newPass();
    const E = this.experts;
    for (let s = 0; s < this.slots; s++) {
      this.record[this.#count + s * E + e] = 0;
      this.record[this.#long + s * E + e] = 0;
      for (let c = 0; c < E; c++) {
        this.record[(s * E + e) * E + c] = 0;
        this.record[(s * E + c) * E + e] = 0;
      }
    }
  }

  /**
   * Sets #pull to the factor (at most 1) that scales the errors (#err) of the active experts
   * so that none exceeds pullBound times the root of the best long-run mean
   * squared error of slot s among the experts with a record; 1 when none has
   * one or that error is 0 (a constant stretch: nothing to measure against).
   */
  #bound(s: number, active: number): void {
    const E = this.experts, r = this.record, err = this.#err;
    const cnt = this.#count + s * E, lng = this.#long + s * E, sums = this.#s;
    // the best long-run loss at sums[0], the largest error at sums[1]
    sums[0] = Infinity;
    sums[1] = 0;
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      if (r[cnt + e] >= this.warmup) sums[0] = Math.min(sums[0], r[lng + e]);
      sums[1] = Math.max(sums[1], Math.abs(err[e]));
    }
    const best = sums[0], largest = sums[1];
    const cap = this.pullBound * Math.sqrt(best);
    // no bound (1) at sums[0], the bound's factor at sums[1], and one store of the one chosen by
    // its index, all every call: a division or a store first reached readings later (a stream's
    // first bounded error) would throw away the optimised update() they are inlined into
    const over = best > 0 && largest > cap;
    sums[0] = 1;
    sums[1] = cap / largest;
    this.#pull = sums[over ? 1 : 0];
  }

  /**
   * Learns from the outcome ys[yAt] of slot s given the experts' forecasts p (E) at off. The
   * outcome comes as an index, not a number: V8 does not inline this method, and a double passed
   * to a call it does not inline is a new heap object, per slot and reading.
   */
  update(
    s: number,
    p: Float64Array,
    off: number,
    ys: ArrayLike<number>,
    yAt: number,
    active: number,
  ): void {
    if (poolOwner === this.record) poolOwner = null;
    const E = this.experts, base = s * E * E, b = this.decay[s], y = ys[yAt];
    // the slot's A at base, its counts at cnt and long-run losses at lng
    const r = this.record, cnt = this.#count + s * E, lng = this.#long + s * E;
    const err = this.#err;
    for (let e = 0; e < E; e++) err[e] = y - p[off + e];
    // the reading's errors bounded (by one factor; the long-run record, which sets the bound,
    // learns them too: a change of the errors' scale raises it by up to a factor of 1 + bound²
    // times the long-run rate a reading, a few hundred readings for a tenfold change)
    this.#pull = 1;
    if (this.pullBound > 0 && s >= this.pullFrom) this.#bound(s, active);
    const k = this.#pull;
    for (let a = 0; a < E; a++) {
      if (!(active & (1 << a))) continue;
      const na = r[cnt + a];
      for (let c = a; c < E; c++) {
        if (!(active & (1 << c))) continue;
        // the first readings of a pair average plainly, then the discount takes over
        const n = Math.min(na, r[cnt + c]);
        const rate = Math.max(1 - b, 1 / (n + 1));
        const at = base + a * E + c;
        r[at] += rate * (err[a] * k * (err[c] * k) - r[at]);
        r[base + c * E + a] = r[at];
      }
    }
    for (let e = 0; e < E; e++) {
      if (!(active & (1 << e))) continue;
      const n = r[cnt + e];
      const rate = Math.max((1 - b) / 20, 1 / (n + 1));
      r[lng + e] += rate * (err[e] * k * (err[e] * k) - r[lng + e]);
      r[cnt + e] = n + 1;
    }
  }
}
