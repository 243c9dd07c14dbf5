/**
 * The agreeing pairs' own record of upcrossings, and the bar it sets them
 * (the seventeenth round of issue 11).
 *
 * The agreeing pairs (alert_fusion.ts) combine two detectors by Fisher's
 * method, exact for independent p-values; the residuals and the shape
 * detector see the same readings, and on the development set's noise files
 * the pairs' part crosses the alerts' threshold τ about eleven times as
 * often as a valid p-value would (docs/anomalies_method.md, "The sixteenth
 * round: the agreeing pairs' dependence"). How much depends on the stream:
 * where the two detectors move together in their tails the pairs agree by
 * dependence, where they rarely agree the pairs are near valid. So each
 * stream counts the pairs' own upcrossings, as the false-alarm budget
 * (budget.ts) counts the fused evidence's: every level 0.25 nats apart,
 * forgetting over `history` readings, on the readings the alerts' budget
 * counts (learned, the alerts warmed up) and not inside an open alert (an
 * incident must not become the dependence it is judged by; the reading that
 * opens the alert counts, the readings after it until it resolves do not).
 *
 * The bar: a valid p-value crosses τ at a rate of e^-τ a reading (the alerts
 * open at τ = ln(readings a week / budget) + 2 nats at the p-value's
 * calibration: budget.ts). The pairs' bar is the level at which their own
 * record crosses at that rate, extrapolated as the budget extrapolates: from
 * v, the highest level crossed at least 20 times, with rate u(v),
 *
 *   bar = v + σ·ln(u(v) / e^-τ),
 *
 * σ the slope between v and the level crossed 80 times but at least 1 (as
 * budget.ts). Pairs that are valid on this stream (u(v) = e^-v, σ = 1) get
 * τ; pairs that agree by dependence get more. As the budget's, from a week
 * of record on the extrapolation is bounded from below by the record itself:
 * the lowest level the pairs crossed at most N·b + 1 times (N the readings
 * counted, b the budget a reading), so a heavy far tail the extrapolation
 * misses holds the bar up. The bar is never below τ (the pairs are never
 * more sensitive than before) and never above the preset's fixed threshold
 * (one in 100,000; the budget's own cap: never deafer than a stream without
 * a budget). Until the record holds half a week of readings, or before any
 * level was crossed 20 times, the bar is τ: a new stream starts from the
 * rule it had before, so nothing gets worse early.
 *
 * State: the record's bins (BUDGET_BINS doubles, 1,600 bytes, the
 * checkpoint's `pairsState`) and three scalars (readings, pending, last; the
 * checkpoint's `fusion` scalars 23..25). A checkpoint written before them
 * restores an empty record: the bar is τ until it holds half a week again.
 * Per reading O(levels crossed); the bar is computed, O(bins), only at a
 * reading where the pairs reach τ.
 */
import { AlertBudget, type BudgetOptions } from "./budget.ts";
import { DOUBLE_ZERO } from "../model/floats.ts";
import { RecordBar, recordBar } from "./record_bar.ts";

/**
 * The pairs' rule (record_bar.ts): a valid p-value's rate at the alerts'
 * threshold, which the record's own level does not measure (never alone),
 * and no bound from a record whose every level was crossed too often.
 */
const PAIRS_RULE = { atBudget: false, aloneFrom: Infinity, beyond: -Infinity };

export class PairsRecord {
  /** The record (counting only: its threshold is not used). */
  readonly record: AlertBudget;
  /** The bar {@link raise} set (nats). */
  bar = DOUBLE_ZERO;
  /** {@link raise}'s inputs to recordBar() and what it found. */
  readonly #found = new RecordBar(PAIRS_RULE);

  constructor(opts: BudgetOptions) {
    this.record = new AlertBudget({ ...opts, pValueMargin: undefined });
    this.bar = DOUBLE_ZERO;
  }

  /** The record's bins (BUDGET_BINS), the checkpoint's `pairsState`. */
  get bins(): Float64Array {
    return this.record.bins;
  }

  /** Counts one reading's pairs' evidence (nats). */
  update(evidence: number): void {
    this.record.update(evidence);
  }

  /** The scalars the checkpoint keeps: the record's readings, pending and last. */
  scalars(): [number, number, number] {
    return [this.record.readings, this.record.pending, this.record.last];
  }

  /** Puts back {@link scalars}; without them (null: a checkpoint before the record), zeros. */
  restoreScalars(s: readonly number[] | null): void {
    [this.record.readings, this.record.pending, this.record.last] = s ?? [0, 0, 0];
  }

  /**
   * Sets {@link bar}: the level the pairs must reach at a sampling period of
   * `periodMs` when the alerts open at `openAt` nats, never below `openAt`
   * nor above `fallback` (the fixed threshold). (Into a field: a double
   * returned by a call V8 does not inline would be a heap object.)
   */
  raise(periodMs: number, openAt: number, fallback: number): void {
    this.bar = openAt;
    if (!(openAt < fallback)) return;
    // recordBar(): at the rate e^-openAt, within [openAt, fallback]
    const rb = this.#found;
    rb.periodMs = periodMs;
    rb.nats = openAt;
    rb.lo = openAt;
    rb.hi = fallback;
    recordBar(rb, this.record);
    if (rb.sets) this.bar = rb.level; // else less than half a week of record: today's rule
  }
}
