/**
 * The shape detector's evidence for a stuck sensor: a run of readings that
 * repeat one value exactly, scored against the stream's own runs. A stuck
 * sensor keeps a plausible value, so the forecasts (which predict it one
 * step at a time) and a 16-reading shape (flat, but flat stretches happen)
 * give it 7 to 9 nats on the synthetic road sensors, below the alerts'
 * threshold; a run of a value repeated exactly is rare on a sensor that
 * reports continuous values and common on one that reports counts or sits
 * at zero, and the stream's own runs tell the two apart.
 *
 * For each target, k is the readings since its value last changed (0 when
 * it changed at this reading). The evidence of a run of k ≥ 1 repeats is
 * −ln P(a reading's run is at least k), from the runs the stream has shown:
 *
 * - the readings counted (N) and, per doubling of k (bin b for k in
 *   [2^b, 2^(b+1))), the readings whose run was in the bin (E[b]) and the
 *   runs that ended there (End[b]), all forgetting over `history` readings;
 * - while some run reached the bin of k: P = (readings with a run of at
 *   least 2^bin(k) + 1) / (N + 1), the share, counted low by at most one
 *   doubling;
 * - beyond the longest bin reached (top): the share of the top bins, then
 *   a geometric tail, each further repeat a continuation with probability
 *   q = 1 − (runs ended in the top bins + 1) / (their readings + 2), the
 *   hazard of the longest runs;
 * - a stream that never repeated: P = (repeats + 1) / (N + 1) · q^(k − 1),
 *   q = (repeats of a repeat + 1) / (repeats + 2), a two-state chain with
 *   Laplace's estimates (each repeat of a value never held before halves P).
 *
 * What it learns, it learns late: a run enters the counts when it ends,
 * every run (a stream whose runs recur learns them; a stuck sensor's run is
 * learned when it moves again). A run that began before the stream had
 * counted `warmup` readings scores nothing (a flat line from the first
 * reading is the stream's normal, not a stuck sensor). A gap ends the run;
 * a missing (non-finite) value leaves it as it is.
 *
 * Over J targets the evidence is the largest less ln J (Bonferroni's). It
 * enters the alerts only (alert_fusion.ts): nothing learned depends on it.
 *
 * State: one Float64Array (the checkpoint's `stuckState`; all zeros is a
 * new detector, and a checkpoint written before it restores so): N, then
 * per target the last value, k (−1 after a gap: no value to repeat), the
 * run's start (N then), the repeats and
 * the repeats of a repeat, E and End: 1 + 37·J doubles, 304 bytes for one
 * target; and {@link StuckRuns.scale}, g^n for the n readings the counts
 * (the repeats, the repeats of a repeat, E and End) have not yet forgotten
 * (the checkpoint's `stuck` scalar; 1 in a checkpoint written before it,
 * whose counts were forgotten every reading). Forgetting is lazy, as the
 * budget's (budget.ts): a count stored as c stands for c·scale, the scale is
 * applied where a count is read (a run's evidence) and folded into the
 * counts where one is written (a run ends), so a reading costs O(J) and
 * O(BINS) more for each target in a run that scores or ends, not O(J·BINS);
 * the results are the same as forgetting every reading to float rounding.
 */
import { DOUBLE_ONE } from "../model/floats.ts";

/** Doublings of the run length counted: runs of up to 2^16 readings apart. */
export const STUCK_BINS = 16;
/** Doubles per target: value, k, the run's start, repeats, repeats of a repeat, E, End. */
export const STUCK_PER_TARGET = 5 + 2 * STUCK_BINS;
const PER_TARGET = STUCK_PER_TARGET;

/** The stuck-run evidence's settings. */
export interface StuckOptions {
  /** Readings over which the counts forget (the anomaly path's `history`). */
  history: number;
  /** Readings counted before a run may score. */
  warmup: number;
}

/** The length of the state of a stream of `targets` targets. */
export function stuckStateLength(targets: number): number {
  return 1 + PER_TARGET * targets;
}

export class StuckRuns {
  readonly opts: StuckOptions;
  readonly J: number;
  /** The whole state (see the module comment); all zeros: new. */
  readonly state: Float64Array;
  /** The evidence (nats) of the last reading: the largest over the targets, less ln J. */
  evidence = 0;
  /**
   * g^n for the n readings since the counts were last forgotten: a count
   * stored as c stands for c·scale (see the module comment). Kept as a
   * product, one multiplication a reading: the budget's Math.pow of a count
   * of readings, once for each target in a run, cost more than it saved on
   * streams of several targets (BENCHMARKS.md).
   */
  scale = DOUBLE_ONE; // a double from the start: see DOUBLE_ZERO

  constructor(targets: number, opts: StuckOptions, state?: Float64Array) {
    this.opts = opts;
    this.J = targets;
    this.state = state ?? new Float64Array(stuckStateLength(targets));
  }

  /** Ends every target's run (a gap: the next reading starts a new one). */
  resetRuns(): void {
    for (let j = 0; j < this.J; j++) {
      this.#end(1 + j * PER_TARGET);
      this.state[2 + j * PER_TARGET] = -1; // no value to repeat
    }
  }

  /**
   * Folds the scale into every target's counts, so that each holds its value
   * (before a count is written; the stream need not otherwise: a count is
   * read through the scale).
   */
  forget(): void {
    if (this.scale === 1) return;
    const s = this.state, f = this.scale;
    for (let o = 1; o < s.length; o += PER_TARGET) {
      for (let i = o + 3; i < o + PER_TARGET; i++) s[i] *= f;
    }
    this.scale = 1;
  }

  /** Counts one reading's target values (`values[targetIndex[j]]`) and sets {@link evidence}. */
  update(values: ArrayLike<number>, targetIndex: ArrayLike<number>): void {
    const s = this.state, J = this.J, g = 1 - 1 / this.opts.history;
    const seen = s[0] > 0;
    s[0] = s[0] * g + 1;
    const N = s[0];
    this.scale *= g; // the counts forget this reading (lazily)
    let best = 0;
    for (let j = 0; j < J; j++) {
      const o = 1 + j * PER_TARGET, x = values[targetIndex[j]];
      if (!Number.isFinite(x)) continue; // a missing value: the run waits
      if (seen && s[o + 1] >= 0 && x === s[o]) s[o + 1]++;
      else {
        this.#end(o);
        s[o] = x;
        s[o + 2] = N;
      }
      const k = s[o + 1];
      if (k >= 1 && s[o + 2] >= this.opts.warmup) best = Math.max(best, this.#evidence(o, k, N));
    }
    this.evidence = Math.max(0, best - Math.log(J));
  }

  /** −ln P(a run of at least k) for the target at offset `o` (see the module comment). */
  #evidence(o: number, k: number, N: number): number {
    const s = this.state, E = o + 5, End = E + STUCK_BINS;
    const f = this.scale; // the counts as forgotten up to this reading
    const b = Math.min(STUCK_BINS - 1, Math.floor(Math.log2(k)));
    let S = 0, top = -1;
    for (let i = STUCK_BINS - 1; i >= 0; i--) {
      const c = s[E + i] * f;
      if (top < 0 && c > 0.5) top = i;
      if (i >= b) S += c;
    }
    if (S > 0.5) return -Math.log((S + 1) / (N + 1));
    if (top < 0) {
      const repeats = s[o + 3] * f, again = s[o + 4] * f;
      return -Math.log((repeats + 1) / (N + 1)) - (k - 1) * Math.log((again + 1) / (repeats + 2));
    }
    let St = 0, Et = 0;
    for (let i = top; i < STUCK_BINS; i++) {
      St += s[E + i] * f;
      Et += s[End + i] * f;
    }
    const q = 1 - (Et + 1) / (St + 2);
    return -Math.log((St + 1) / (N + 1)) - (k - 2 ** (top + 1) + 1) * Math.log(q);
  }

  /** Ends the run of the target at offset `o`: its readings enter the counts (learned late). */
  #end(o: number): void {
    const s = this.state, L = s[o + 1], E = o + 5, End = E + STUCK_BINS;
    s[o + 1] = 0;
    if (!(L >= 1)) return;
    this.forget(); // the counts change: each holds its value first
    s[o + 3] += L;
    s[o + 4] += L - 1;
    // the readings of the run had k = 1..L: those in [2^i, 2^(i+1)) each bin
    for (let i = 0; i < STUCK_BINS && 2 ** i <= L; i++) {
      s[E + i] += Math.min(L, 2 ** (i + 1) - 1) - 2 ** i + 1;
    }
    s[End + Math.min(STUCK_BINS - 1, Math.floor(Math.log2(L)))] += 1;
  }
}
