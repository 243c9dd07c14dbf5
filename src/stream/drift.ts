/**
 * The drift detector: a third anomaly detector, with a long look-back, for
 * what the other two do not see: a slow drift (a small persistent bias the
 * forecasts keep re-learning, and a 16-reading shape does not show) and a
 * change of period (a daily cycle that moved by hours or runs twice a day:
 * every short window keeps its shape, but the day no longer matches the
 * stream's days).
 *
 * It compares each hour of the stream with the same hour of the stream's
 * learned day. Per target, the readings of each hour of the clock (UTC) are
 * averaged; when the hour is over, its mean m (of the normalised value z,
 * the stream's level normaliser) is set against the daily profile p[h], the
 * mean the target had at that hour of the day over the last days
 * (exponential forgetting over PROFILE_DAYS days), in units of the typical
 * size of that deviation (σ, the mean |m - p| of the hours learned):
 *
 *   e = (m - p[h]) / σ
 *
 * Over the last W hours (the setting, `anomaly.drift.hours`), two sums, each
 * scaled by √W as a mean's standard error is:
 *
 *   bias     = |Σ e| / √W           a drift: the hours stray the same way
 *   mismatch = Σ (|e| - 1) / √W     the day not matching: a change of period,
 *                                   whose deviations change sign (E|e| = 1
 *                                   by σ's definition)
 *
 * The statistic is the larger of them over the targets, and its evidence,
 * as for the shape detector, comes from the stream's own past statistics
 * (src/stream/log_tail.ts on a linear scale: -ln of the share at least as
 * large, an exponential tail beyond the largest seen, as a sum of many
 * deviations has), so a stream whose days vary a lot (weather, a weekly
 * rhythm) needs more to raise the same evidence. The evidence of an hour
 * holds for the readings of the next. The sums are bounded by the window
 * (a cumulative sum, Page's CUSUM, was tried first: on real series, whose
 * level moves and stays, it grew without bound until the profile caught up,
 * days later; docs/anomalies_method.md).
 *
 * What it learns, it learns late: a statistic enters the distribution W
 * hours later, and only if every reading since was learned (none was inside
 * an anomaly), so a drift that builds over hours is measured against the
 * statistics from before it, not against its own first stages; the profile
 * and σ learn an hour only if all of its readings were learned. When an
 * anomaly ends (resolved, or accepted as the new normal) the window empties;
 * when the detector's own evidence reaches `restart` (the fixed threshold),
 * it restarts, as a change detector does after an alarm: the profile moves to
 * the window's level and the window empties, so that one change is reported
 * once (docs/anomalies_method.md compares the restart without the move).
 *
 * D = 28 days, a month (7 before the sixteenth round of issue 11): a weekly
 * rhythm, a week of holidays or a drift moves the learned day by at most
 * 1/28 of the difference a day, so a week of them does not leak into the
 * reference the next days are measured against; leave-one-family-out chose
 * 28 over 7 in every fold (docs/anomalies_method.md, "The sixteenth round:
 * the learned day remembers 28 days"). The days counters are the
 * checkpoint's as before: a stream restored from a checkpoint of D = 7 with
 * more than 7 days seen learns at 1 / min(days seen + 1, 28) from its next
 * day on.
 *
 * Nothing happens during the stream's warm-up; an
 * hour of the day is compared only once the profile has seen it, σ only
 * after MIN_HOURS deviations, and the evidence is 0 until MIN_STATISTICS
 * statistics were counted: about five days into a stream at one reading per
 * 5 minutes, the first of them its warm-up.
 *
 * State: one Float64Array (the checkpoint holds it as it is; all zeros is a
 * new detector), 8 + J·(2P + W + 2) + W + 96 doubles: 1,328 bytes for one
 * target and W = 6. Per reading O(J) arithmetic, per hour O(J·W + 96); no
 * allocation.
 */
import { LOG_TAIL_BINS, LogTail } from "./log_tail.ts";
import { DOUBLE_ZERO } from "../model/floats.ts";

/** The drift detector's settings (the preset's `anomaly.drift`). */
export interface DriftOptions {
  /** W: hours the sums span; 0 turns the detector off. */
  hours: number;
  /**
   * D: days the learned day remembers (1 to DRIFT_MAX_DAYS): each hour of
   * the day learns at 1 / min(days seen, D). The presets' 28.
   */
  days: number;
  /** Readings of history the statistics' distribution is estimated from (exponential forgetting). */
  history: number;
  /** Readings before the detector learns or measures anything (the stream's warm-up). */
  warmup: number;
  /**
   * Evidence (nats) at or above which the detector restarts once it has
   * reported it (the preset's fixed threshold): the profile moves to the
   * window's level and the window empties.
   */
  restart: number;
}

/** P: hours of the day the profile holds. */
export const DRIFT_PHASES = 24;
/** The longest window W, hours. */
export const DRIFT_MAX_HOURS = 168;
/** The longest memory D of the learned day, days. */
export const DRIFT_MAX_DAYS = 365;
/** Deviations before σ is used. */
const MIN_HOURS = 24;
/** Statistics counted before the evidence is used: two days, so the tail is not a first impression. */
const MIN_STATISTICS = 48;
/** Hours σ averages over at most. */
const SCALE_HOURS = 168;
/** A deviation counts into σ at most this many σ (one wild hour must not inflate it). */
const SCALE_CLIP = 4;
/**
 * The statistic's unit in the tail's histogram (linear, 0 to 12 in bins of
 * 0.25): statistics up to 24 are told apart, larger ones share the top bin.
 */
const STAT_UNIT = 2;
const HOUR_MS = 3_600_000;

// the header of the state array
const TAKEN = 0,
  HOUR = 1,
  COUNT = 2,
  UNLEARNED = 3,
  DEVIATIONS = 4,
  HOURS = 5,
  EVIDENCE = 6,
  TOTAL = 7;
const HEADER = 8;

/** The arrays of a detector that is off: read by no one, written by no one. */
const OFF_EMPTY = new Float64Array(0);
const OFF_BINS = new Float64Array(LOG_TAIL_BINS);

/** Scores how far the stream's recent hours stray from its learned day. */
export class DriftDetector {
  readonly opts: DriftOptions;
  /** J: targets. */
  readonly J: number;
  /**
   * The whole state (all zeros: a new detector), with named views:
   * header [readings taken, hour in progress + 1 (0: none), its readings,
   * the last unlearned hour's number + 1, deviations counted, hours ended,
   * the evidence held, the distribution's mass], then the views below.
   */
  readonly state: Float64Array;
  /** The hour in progress: the sum of z per target (J). */
  readonly sum: Float64Array;
  /** p: the daily profile (P, J), and the days each hour was learned (P, J). */
  readonly profile: Float64Array;
  readonly days: Float64Array;
  /** e of the last W hours (W, J) by hour number mod W (0: not measured). */
  readonly recent: Float64Array;
  /** σ: the mean |m - p| per target (J). */
  readonly scale: Float64Array;
  /** The statistics of the last W hours, + 1 (0: none), by hour number mod W. */
  readonly pending: Float64Array;
  /** (LOG_TAIL_BINS) histogram of statistic / STAT_UNIT. */
  readonly bins: Float64Array;
  readonly tail: LogTail;
  // outputs of the last update()
  /** The statistic of the hour that ended at this reading (NaN: none ended, or not measured). */
  statistic = NaN;
  /** Evidence (nats): that of the last hour measured, held for the readings of the next. */
  evidence = DOUBLE_ZERO; // a double from the start: see DOUBLE_ZERO

  constructor(targets: number, opts: DriftOptions) {
    const W = opts.hours;
    if (!Number.isInteger(W) || W < 0 || W > DRIFT_MAX_HOURS) {
      throw new RangeError(
        `Cannot create drift detector: the window must be 0 to ${DRIFT_MAX_HOURS} hours: current value is ${W}`,
      );
    }
    const D = opts.days;
    if (!Number.isInteger(D) || D < 1 || D > DRIFT_MAX_DAYS) {
      throw new RangeError(
        `Cannot create drift detector: the learned day's memory must be 1 to ${DRIFT_MAX_DAYS} days: current value is ${D}`,
      );
    }
    this.opts = opts;
    this.J = targets;
    const on = W > 0, J = on ? targets : 0, P = DRIFT_PHASES;
    const sizes = [J, P * J, P * J, W * J, J, W, LOG_TAIL_BINS];
    // off (the default), nothing is ever written: every stream shares the same empty arrays
    this.state = on ? new Float64Array(HEADER + sizes.reduce((a, b) => a + b, 0)) : OFF_EMPTY;
    let off = HEADER;
    const view = (n: number) => {
      const v = on ? this.state.subarray(off, off + n) : n === LOG_TAIL_BINS ? OFF_BINS : OFF_EMPTY;
      off += n;
      return v;
    };
    [this.sum, this.profile, this.days, this.recent, this.scale, this.pending, this.bins] = sizes
      .map(view);
    this.tail = new LogTail(opts.history, MIN_STATISTICS, this.bins, "linear");
  }

  /** Whether the detector runs at all. */
  get enabled(): boolean {
    return this.opts.hours > 0;
  }

  /** Whether the evidence is being measured: enough statistics counted. */
  get ready(): boolean {
    return this.enabled && this.state[TOTAL] >= MIN_STATISTICS;
  }

  /**
   * Takes one reading: the targets' normalised values z (J) at ts (ms).
   * `learn` false (inside an anomaly) keeps this reading's hour out of the
   * profile, σ and the distribution. Sets `statistic` and `evidence`;
   * returns the evidence.
   */
  update(z: ArrayLike<number>, ts: number, learn: boolean): number {
    this.statistic = NaN;
    if (!this.enabled) return 0;
    const s = this.state;
    const n = s[TAKEN]++;
    if (n < this.opts.warmup) return 0;
    const hour = Math.floor(ts / HOUR_MS) + 1;
    if (s[HOUR] !== 0 && hour !== s[HOUR]) {
      if (hour > s[HOUR]) this.#endHour(s[HOUR] - 1);
      else this.sum.fill(0); // a rewind: the hour in progress is dropped
      s[COUNT] = 0;
    }
    s[HOUR] = hour;
    if (!learn) s[UNLEARNED] = s[HOURS] + 1;
    let finite = true;
    for (let j = 0; j < this.J; j++) finite &&= Number.isFinite(z[j]);
    if (finite) {
      for (let j = 0; j < this.J; j++) this.sum[j] += z[j];
      s[COUNT]++;
    }
    this.evidence = s[EVIDENCE];
    return this.evidence;
  }

  /** The hour `hour` (hours since the epoch) is over: measure it, then learn it. */
  #endHour(hour: number): void {
    const s = this.state, J = this.J, W = this.opts.hours;
    const h = s[HOURS]++;
    const learned = s[UNLEARNED] !== h + 1;
    // an anomaly just ended (resolved, or accepted as the new normal): what
    // the window held was reported
    if (learned && s[UNLEARNED] === h) this.recent.fill(0);
    const phase = ((hour % DRIFT_PHASES) + DRIFT_PHASES) % DRIFT_PHASES;
    const scaled = s[DEVIATIONS] >= MIN_HOURS;
    const slot = h % W;
    let stat = 0, measured = false, deviated = false;
    for (let j = 0; j < J; j++) {
      const m = this.sum[j] / s[COUNT];
      this.sum[j] = 0;
      this.recent[slot * J + j] = 0;
      if (!(s[COUNT] > 0)) continue;
      const at = phase * J + j;
      if (this.days[at] === 0) {
        if (learned) {
          this.profile[at] = m;
          this.days[at] = 1;
        }
        continue;
      }
      const d = m - this.profile[at];
      deviated = true;
      const sigma = this.scale[j];
      if (scaled && sigma > 0) {
        this.recent[slot * J + j] = d / sigma;
        let sum = 0, abs = 0;
        for (let w = 0; w < W; w++) {
          const e = this.recent[w * J + j];
          sum += e;
          if (e !== 0) abs += Math.abs(e) - 1;
        }
        stat = Math.max(stat, Math.abs(sum) / Math.sqrt(W), abs / Math.sqrt(W));
        measured = true;
      }
      if (learned) {
        this.profile[at] += (m - this.profile[at]) / Math.min(this.days[at] + 1, this.opts.days);
        this.days[at]++;
        const a = Math.abs(d), rate = 1 / Math.min(s[DEVIATIONS] + 1, SCALE_HOURS);
        this.scale[j] += rate * ((sigma > 0 ? Math.min(a, SCALE_CLIP * sigma) : a) - sigma);
      }
    }
    if (learned && deviated) s[DEVIATIONS]++;
    // what was measured W hours ago is learned now, if every hour since was
    this.tail.total = s[TOTAL];
    const old = this.pending[slot];
    if (old > 0 && s[UNLEARNED] <= h - W) {
      this.tail.add((old - 1) / STAT_UNIT);
      s[TOTAL] = this.tail.total;
    }
    this.pending[slot] = 0;
    s[EVIDENCE] = 0;
    if (!measured) return;
    this.statistic = stat;
    this.pending[slot] = stat + 1;
    s[EVIDENCE] = s[TOTAL] >= MIN_STATISTICS ? this.tail.evidence(stat / STAT_UNIT) : 0;
    if (s[EVIDENCE] >= this.opts.restart) this.#restart();
  }

  /**
   * After a change was reported (the next readings carry its evidence), the
   * detector restarts, as a change detector does after an alarm: the
   * stream's level over the window becomes the profile's (the day keeping
   * its shape) and the window empties, so that one drift or level change is
   * reported once, not again every hour until the profile has learned it; a
   * change of period that goes on is reported again once its window has
   * filled with it (a new alert only if its evidence has grown:
   * src/stream/anomaly.ts's onsets).
   */
  #restart(): void {
    const J = this.J, W = this.opts.hours;
    for (let j = 0; j < J; j++) {
      let sum = 0, count = 0;
      for (let w = 0; w < W; w++) {
        const e = this.recent[w * J + j];
        if (e !== 0) {
          sum += e;
          count++;
        }
      }
      const shift = count > 0 ? (sum / count) * this.scale[j] : 0;
      for (let p = 0; p < DRIFT_PHASES; p++) this.profile[p * J + j] += shift;
    }
    this.recent.fill(0);
  }
}
