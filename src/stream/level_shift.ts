/**
 * The forecast residuals' evidence for a change of level: a two-sided
 * cumulative sum (Page's CUSUM) of the signed one-step residuals, scored
 * against the stream's own excursions of that sum. A level shift of a few
 * interval half-widths, or a slow drift the forecasts trail, gives a run
 * of residuals of one sign, none of them rare by itself (4 to 10 nats of
 * residual evidence on the development files, below the alerts' threshold
 * at the false-alarm budget); their sum grows while the run lasts.
 *
 * For each target the signed residual u = (value - forecast) / half-width
 * of the 90% one-step interval (the surprise of anomaly.ts with its sign;
 * the same floor on the half-width) feeds
 *
 *   S+ = max(0, S+ + u - k),   S- = max(0, S- - u - k),
 *
 * each a sum of its own. An excursion of a sum starts when it leaves 0 and
 * ends when it returns there; its peak is what the stream's own record
 * holds (learned late, when the excursion ends, and only if every reading
 * of it was learned: an anomaly's excursion never becomes the norm). The
 * evidence of a sum S is the rate per reading at which one sum's
 * excursions reach S,
 *
 *   λ = -ln P(an excursion's peak >= S) + ln(2J·readings / excursions),
 *
 * the first term from src/stream/log_tail.ts (a histogram of ln peak, a
 * Pareto tail beyond the largest seen, fitted to the top 5%), the second
 * the excursions' rate (both counted with Laplace's one more; the 2J sums
 * of J targets share the record): a rate per reading, what the false-alarm
 * budget's threshold is (budget.ts). The evidence is the largest over the
 * 2J sums less ln 2J (Bonferroni's). When a sum's evidence reaches
 * `restart` (the fixed threshold of the alerts' part: the preset's fixed
 * threshold plus the fusion's ln 6) it restarts at 0 without
 * learning the excursion, as a change detector does after an alarm: one
 * change is reported once, and the forecasts, which follow the new level,
 * start a fresh sum. A gap ends every excursion unlearned.
 *
 * Nothing is scored or learned before the stream has counted `warmup`
 * readings, nor until MIN_EXCURSIONS excursions were learned. It enters the
 * alerts only (alert_fusion.ts, a second look of the residuals): nothing
 * learned depends on it.
 *
 * State: one Float64Array (the checkpoint's `levelShiftState`; all zeros is a new
 * detector, and a checkpoint written before it restores so): the readings
 * counted, the excursions learned, the histogram's total, the 96 bins of
 * the peaks' histogram, then per target and sum (S+, then S-) the sum, its
 * excursion's peak and whether every reading of it was learned (1) or not
 * (0): 99 + 6·J doubles, 840 bytes for one target. Per reading O(J) arithmetic and O(96) for the
 * evidence; no allocation.
 */
import { LOG_TAIL_BINS, LogTail } from "./log_tail.ts";
import { unitToEvidence } from "./anomaly.ts";

/** Excursions learned before the evidence is used. */
export const MIN_EXCURSIONS = 30;

const READINGS = 0, EXCURSIONS = 1, TOTAL = 2, BINS = 3;
/**
 * Doubles per target: for S+ and then S-, the sum, its excursion's peak and
 * whether every reading of the excursion was learned (1) or not (0).
 */
export const LEVEL_PER_TARGET = 6;
const PER_TARGET = LEVEL_PER_TARGET;
/** Where the targets' doubles start in the state. */
export const LEVEL_TARGETS_AT = BINS + LOG_TAIL_BINS;
const TARGETS = LEVEL_TARGETS_AT;

/** The level-shift evidence's settings. */
export interface LevelShiftOptions {
  /**
   * k: the allowance, in interval half-widths (0: off). A calibrated 90%
   * interval has |u| < 1 nine times in ten (σ about 0.6), so at k = 0.5 a
   * shift in the residuals' mean of half a half-width (0.8 σ) or more grows
   * the sum; the textbook choice, it detects a shift of 2k soonest.
   */
  allowance: number;
  /** Readings over which the counts forget (the anomaly path's `history`). */
  history: number;
  /** Readings counted before anything is scored or learned. */
  warmup: number;
  /**
   * Evidence (nats, after ln 2J) at which a sum restarts: where its part
   * of the alerts' evidence reaches the preset's fixed threshold (stream.ts
   * passes that threshold plus the fusion's ln 2 + ln 3, alert_fusion.ts),
   * so an alert opens on it at any budget before it restarts.
   */
  restart: number;
}

/**
 * The evidence at which a sum restarts for a preset's fixed `threshold` (a
 * likelihood): where the alerts' part, the evidence less ln 2 less ln 3
 * (alert_fusion.ts with three detectors), reaches the threshold.
 */
export function levelRestart(threshold: number): number {
  return unitToEvidence(threshold) + Math.log(6);
}

/** The length of the state of a stream of `targets` targets. */
export function levelStateLength(targets: number): number {
  return TARGETS + PER_TARGET * targets;
}

/** The state of a level shift that is off: none. */
const NO_STATE = new Float64Array(0);
/** The tail's bins of every level shift that is off, never written (update returns first). */
const IDLE_BINS = new Float64Array(LOG_TAIL_BINS);

export class LevelShift {
  readonly opts: LevelShiftOptions;
  readonly J: number;
  /** Whether it runs (an allowance above 0); else it holds no state and its evidence stays 0. */
  readonly enabled: boolean;
  /** The whole state (see the module comment); all zeros: new. */
  readonly state: Float64Array;
  /** The peaks' tail, over a view of the state. */
  readonly tail: LogTail;
  /**
   * Scratch (J), not state: this reading's signed residuals, NaN for a
   * target without a one-step forecast; set by the scorer (scoring.ts)
   * before {@link update}, NaN first.
   */
  readonly u: Float64Array;
  /** The evidence (nats) of the last reading: the largest over the 2J sums, less ln 2J. */
  evidence = 0;

  constructor(targets: number, opts: LevelShiftOptions, state?: Float64Array) {
    this.opts = opts;
    this.J = targets;
    this.enabled = opts.allowance > 0;
    this.state = state ?? (this.enabled ? new Float64Array(levelStateLength(targets)) : NO_STATE);
    // off (every preset's default), its tail is never written: one set of bins for every stream
    // (a stream's own bins are 768 bytes for nothing: docs/scaling.md, end of the thirteenth round)
    this.tail = new LogTail(
      opts.history,
      MIN_EXCURSIONS,
      this.enabled ? this.state.subarray(BINS, BINS + LOG_TAIL_BINS) : IDLE_BINS,
    );
    this.u = new Float64Array(targets).fill(NaN);
  }

  /** Ends every excursion unlearned (a gap, or a rewind). */
  resetRuns(): void {
    if (!this.enabled) return;
    const s = this.state;
    for (let j = 0; j < this.J; j++) {
      s.fill(0, TARGETS + j * PER_TARGET, TARGETS + (j + 1) * PER_TARGET);
    }
  }

  /**
   * Counts one reading's residuals ({@link u}); `learn`: the anomaly path
   * learns from it (outside the evidence guard's anomalies). Sets
   * {@link evidence}.
   */
  update(learn: boolean): void {
    if (!this.enabled) return;
    const s = this.state, J = this.J, k = this.opts.allowance, tail = this.tail;
    const ready = s[READINGS] >= this.opts.warmup;
    const g = 1 - 1 / this.opts.history;
    s[READINGS] = s[READINGS] * g + 1;
    s[EXCURSIONS] *= g;
    if (!ready) return; // (the evidence stays 0)
    tail.total = s[TOTAL];
    // the rate per reading of one side of one target: 2J sums share the record
    const rate = Math.log((2 * J * s[READINGS] + 1) / (s[EXCURSIONS] + 1));
    let best = 0;
    for (let j = 0; j < J; j++) {
      const u = this.u[j];
      if (!Number.isFinite(u)) continue;
      for (let side = 0; side < 2; side++) {
        // o: the side's sum, its excursion's peak, clean (every reading learned)
        const o = TARGETS + j * PER_TARGET + 3 * side;
        const S = Math.max(0, s[o] + (side === 0 ? u : -u) - k);
        if (S === 0) {
          // the excursion is over: its peak enters the record if it was all learned
          if (s[o + 1] > 0 && s[o + 2] === 1) {
            tail.add(s[o + 1]);
            s[EXCURSIONS] += 1;
          }
          s[o] = s[o + 1] = s[o + 2] = 0;
          continue;
        }
        if (s[o + 1] === 0) s[o + 2] = 1; // a new excursion
        s[o] = S;
        s[o + 1] = Math.max(s[o + 1], S);
        if (!learn) s[o + 2] = 0;
        if (tail.total < MIN_EXCURSIONS) continue;
        const lambda = tail.evidence(S) + rate - Math.log(2 * J);
        best = Math.max(best, lambda);
        // an alarm: the sum restarts, the excursion unlearned
        if (lambda >= this.opts.restart) s[o] = s[o + 1] = s[o + 2] = 0;
      }
    }
    s[TOTAL] = tail.total;
    this.evidence = best;
  }
}
