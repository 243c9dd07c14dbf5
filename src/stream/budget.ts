/**
 * The alert threshold of a false-alarm budget: "at most B false alerts per
 * stream per week", turned into the evidence level at which this stream's
 * alerts open, from the stream's own record of evidence.
 *
 * At a sampling period of P ms a week holds W = 604,800,000 / P readings, so
 * the budget is b = B / W alerts per reading. An alert opens where the
 * smoothed evidence rises through the threshold (and the incident is new:
 * src/stream/anomaly.ts), so the stream's alerts per reading at a threshold
 * τ are at most the rate u(τ) at which its evidence crosses τ upwards: an
 * excursion above τ, however long, crosses once. The budget counts the
 * upcrossings of every level (bins of 0.25 nats from 0 to 50) by the
 * evidence of the readings it learns from (not those inside an open alert:
 * anomalies, not false alarms), forgetting over `history` readings as the
 * scorer does, and the readings N, and sets
 *
 *   τ = the lowest level with u(τ) <= b      when that level was crossed at
 *       least 20 times (a long record);
 *   τ = max(v + σ·ln(u(v) / b), e)           otherwise,
 *
 * where v is the highest level crossed at least 20 times: beyond the data
 * the rate is extrapolated as an exponential in nats (the peaks-over-
 * threshold estimate) with scale σ, the slope between v and the highest
 * level crossed at least 80 times, but at least 1. Calibrated evidence has
 * σ = 1 (λ = -ln p: ten times rarer is ln 10 more); a stream whose evidence
 * runs heavier than calibrated (a model still learning) gets a larger σ and
 * so a higher threshold. Where the record reaches, it bounds the
 * extrapolation from below: e is the lowest level crossed at most N·b + 1
 * times (what the budget allows over the record, and one more, so that a
 * short record does not demand a level never reached). The far tail of real
 * evidence is heavier than an exponential (a value beyond every one seen adds
 * ln n for the record, on top of its own evidence), so on pure noise the
 * extrapolation alone let through 1.1 to 1.4 alerts per week for a budget of
 * one. τ never falls below `floor` nats, and never rises above the fallback
 * (the preset's fixed threshold, one in 100,000): the budget makes a stream's
 * alerts more sensitive where its record allows, never deafer than a stream
 * without one. A record whose tail looks heavier than that in a few weeks is
 * mostly the stream's own incidents and a model still learning it (each
 * incident crosses the high levels several times as its evidence rises and
 * falls back), and the thresholds it extrapolated, up to 18 nats on NAB's
 * machine temperature file, missed the incidents themselves: on the 24 NAB
 * files the cap raised the daemon's own score from 60.79 to 62.89 (seeds
 * 1-3), and it is the same or higher on every family of both development
 * sets (docs/anomalies_method.md). The stream counts only readings
 * after its warm-up, whose evidence speaks for the stream, not for models
 * still learning it. Until the record
 * holds half a week of readings, or before any level was crossed 20 times,
 * τ is the fallback (the preset's fixed threshold): a rate per week is not
 * estimated from a day.
 *
 * **At the p-value's calibration** (`pValueMargin`, the alerts' own budget
 * with the drift detector on: the default presets since the eleventh round
 * of issue 11): τ = ln(W / B) + margin from the first reading, capped and
 * floored as above, and the record does not move it. A valid p-value is
 * below e^-τ at a rate of e^-τ a reading, so a budget of B a week read as a
 * p-value threshold is ln(W / B); the fused evidence is not exactly valid
 * (on the development files' normal stretches it is at or above 7 nats 4
 * to 12 times as often as e^-7), and the margin, 2 nats, is chosen by leave
 * one family out (docs/anomalies_method.md, "The eleventh round"). The
 * record still counts (the scorer's budget, which keeps the record, decides
 * what a stream learns). One exception (the twelfth round): a stream
 * restored from a checkpoint that had no record (one written before issue
 * 11: `held`, set by the restore, stream_state.ts) has a mature model but
 * an empty record, and its alerts open at the higher of τ and the record's
 * threshold (the fixed one until half a week) until the record holds a
 * week of budget (N·b >= 1), so that it does not alert on what a record
 * would have held off (a trend setting two records in a row). A new stream,
 * whose model and record are young together, opens at τ from the start:
 * holding every young record so cost 2.12 points on NAB and leave one
 * family out chose τ (docs/anomalies_method.md, "The twelfth round"). A
 * budget without the p-value's calibration (no drift detector: pi-small)
 * is not held (`mayHold`): its threshold is the record's already, and a
 * mark there moved nothing and never cleared (the thirteenth round).
 *
 * Forgetting is applied lazily (when a level is crossed), so a reading costs
 * O(levels it crosses); `threshold()` scans the levels, O(bins).
 */
import { DOUBLE_ZERO } from "../model/floats.ts";
import {
  BUDGET_BIN,
  BUDGET_BINS,
  RecordBar,
  recordBar,
  TAIL_COUNT,
  WEEK_MS,
} from "./record_bar.ts";

export { BUDGET_BINS };
/** The budget's rule (record_bar.ts): a long record's own level sets τ, and beyond the last level. */
const BUDGET_RULE = { atBudget: true, aloneFrom: TAIL_COUNT, beyond: BUDGET_BINS * BUDGET_BIN };
/** N·b from which a `held` record no longer bounds the p-value's threshold: a week of budget. */
const HELD_BUDGETS = 1;

/** The budget's settings (from the preset's `anomaly` settings). */
export interface BudgetOptions {
  /** B: false alerts per stream per week the user accepts (0: no budget, the fixed threshold). */
  falseAlertsPerWeek: number;
  /** Readings of history the rates are estimated from (exponential forgetting). */
  history: number;
  /** The lowest threshold, nats. */
  floor: number;
  /**
   * Nats above ln(readings a week / budget) at which the alerts open, from
   * the fused p-value's own calibration instead of the record (see the
   * module comment); unset: the record's threshold.
   */
  pValueMargin?: number;
}

export class AlertBudget {
  readonly opts: BudgetOptions;
  /** (BUDGET_BINS) upcrossings of level (i + 1)·0.25 nats, forgotten up to `pending` readings ago. */
  readonly bins: Float64Array;
  /** N: readings counted (forgetting). */
  readings = DOUBLE_ZERO; // doubles from the start: see DOUBLE_ZERO
  /** Readings since the bins were last forgotten. */
  pending = 0;
  /** The evidence of the last reading counted. */
  last = DOUBLE_ZERO;
  /**
   * Whether the record bounds the p-value's threshold from below until it
   * holds a week of budget: a stream restored from a checkpoint without a
   * record (see the module comment). Cleared by {@link threshold} once the
   * record holds a week; a new stream's is false, and so is that of a
   * budget that does not {@link mayHold} (the restore clears it there).
   */
  held = false;
  /** The evidence {@link update} counts (a field: see there). */
  #evidence = DOUBLE_ZERO;
  /** #evaluate's inputs and what it found: whether the record sets the threshold, and τ. */
  readonly #bar = new RecordBar(BUDGET_RULE);

  /** `bins`: a view (BUDGET_BINS) to keep the record in, else its own array. */
  constructor(opts: BudgetOptions, bins: Float64Array = new Float64Array(BUDGET_BINS)) {
    this.opts = opts;
    this.bins = bins;
    // written a second time: V8 takes a field never written again for a
    // constant, and the first count, readings later, would throw away the
    // optimised code that relied on it
    this.readings = DOUBLE_ZERO;
    this.pending = 0;
  }

  /** Whether a budget is set at all. */
  get enabled(): boolean {
    return this.opts.falseAlertsPerWeek > 0;
  }

  /**
   * Whether {@link held} can move the threshold: only at the p-value's
   * calibration (`pValueMargin`, with a budget). Elsewhere the threshold is
   * the record's already (a preset without the drift detector, pi-small) or
   * the fixed one (no budget), and `held` would never clear, as the record
   * is not asked whether it holds a week.
   */
  get mayHold(): boolean {
    return this.opts.pValueMargin !== undefined && this.enabled;
  }

  /** Counts one learned reading with its smoothed evidence (nats). */
  update(evidence: number): void {
    // the evidence travels in a field: a double passed to a call V8 does not
    // inline would be a new heap object every reading
    this.#evidence = evidence;
    this.#count();
  }

  /** Counts the reading whose evidence {@link update} set. */
  #count(): void {
    const evidence = this.#evidence;
    const g = 1 - 1 / this.opts.history;
    this.readings = this.readings * g + 1;
    this.pending++;
    const from = Math.max(0, Math.floor(this.last / BUDGET_BIN)); // levels at or below the last are not crossed
    const to = Math.min(BUDGET_BINS, Math.floor(evidence / BUDGET_BIN));
    this.last = evidence > 0 ? evidence : 0;
    if (to <= from) return;
    const f = Math.pow(g, this.pending);
    for (let i = 0; i < BUDGET_BINS; i++) this.bins[i] *= f;
    this.pending = 0;
    // levels (i + 1)·BUDGET_BIN in (last, evidence]: bins from..to-1
    for (let i = from; i < to; i++) this.bins[i] += 1;
  }

  /**
   * The threshold τ (nats) for a sampling period of `periodMs`, never above
   * `fallback`, which it is while the record is too short (or no budget is
   * set). Clears `held` once the record holds a week of budget.
   */
  threshold(periodMs: number, fallback: number): number {
    const margin = this.opts.pValueMargin;
    if (margin !== undefined && this.enabled && periodMs > 0) {
      // the p-value's calibration: ln(W / B) nats and the margin
      const b = (this.opts.falseAlertsPerWeek * periodMs) / WEEK_MS;
      const level = Math.min(fallback, Math.max(this.opts.floor, margin - Math.log(b)));
      if (!this.held) return level;
      if (b * this.readings >= HELD_BUDGETS) {
        this.held = false; // a week of record: as any other stream from now on
        return level;
      }
      // restored without a record: never below the record's threshold
      this.#bar.hi = fallback;
      this.#evaluate(periodMs);
      return this.#bar.sets ? Math.max(level, this.#bar.level) : fallback;
    }
    this.#bar.hi = fallback;
    this.#evaluate(periodMs);
    return this.#bar.sets ? this.#bar.level : fallback;
  }

  /**
   * Whether the record sets the threshold at a sampling period of `periodMs`
   * (else the alerts open at the fixed threshold: no budget, or a record
   * shorter than half a week).
   */
  sets(periodMs: number): boolean {
    this.#bar.hi = Infinity;
    this.#evaluate(periodMs);
    return this.#bar.sets && !Number.isNaN(this.#bar.level);
  }

  /**
   * Finds whether the record alone sets the threshold, and the threshold it
   * sets (see the module comment), never above #bar's `hi`, into #bar:
   * recordBar() (record_bar.ts) at the budget's own rate.
   */
  #evaluate(periodMs: number): void {
    // no budget or no sampling period: b is 0 or not a number, and the record sets nothing
    const bar = this.#bar;
    bar.periodMs = periodMs;
    bar.lo = this.opts.floor;
    recordBar(bar, this);
  }
}
