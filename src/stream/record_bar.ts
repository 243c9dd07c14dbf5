/**
 * The bar a record of upcrossings sets: the one rule the false-alarm budget
 * (budget.ts, the alerts' threshold) and the agreeing pairs' own record
 * (pairs_record.ts, the pairs' bar) read their records by.
 *
 * A record counts, for every level i·0.25 nats (i = 1 .. 200, bin i - 1),
 * how often the evidence crossed it upwards, forgetting over `history`
 * readings (lazily: the bins are `pending` readings behind, so each is read
 * times f = (1 - 1 / history)^pending), and the readings N. With b the
 * budget a reading (B alerts a week: b = B·P / 604,800,000 at a sampling
 * period of P ms), the bar for a target rate of r a reading (b, or e^-nats) is
 *
 *   the record's own level e,     from N·b >= aloneFrom (a long record);
 *   max(v + σ·ln(u(v) / r), e)    from a week of budget (N·b >= 1);
 *   v + σ·ln(u(v) / r)            from half a week (N·b >= 0.5);
 *
 * clamped to [lo, hi] (hi wins where lo > hi). v is the highest level
 * crossed at least 20 times, u(v) its rate a reading (crossings / N), and
 * beyond it the rate is extrapolated as an exponential in nats (the peaks-
 * over-threshold estimate) with scale σ, the slope between v and the
 * highest level crossed at least 80 times, but at least 1. e is the lowest
 * level crossed at most N·b + 1 times (what the budget allows over the
 * record, and one more), or `beyond` where every level was crossed more
 * often. Before half a week of budget, or before any level was crossed 20
 * times, the record sets no bar (`sets` false): a rate per week is not
 * estimated from a day.
 *
 * Where the two callers differ, the rule says so in {@link RecordBar}'s
 * settings: the budget's target is its own rate (r = b: `atBudget`), which a
 * long record reaches (aloneFrom 20), and a record whose every level was
 * crossed too often bounds it beyond the last level (beyond 50 nats); the
 * pairs' target is a valid p-value's rate at the alerts' threshold τ
 * (r = e^-τ: nats τ), which the record's own level does not measure
 * (aloneFrom Infinity), and such a record does not bound it (beyond
 * -Infinity). ln(u(v) / r) is ln(crossed / (b·N)) for the one and
 * ln(crossed / N) + τ for the other, as each computed it before, to the bit.
 *
 * O(bins). No allocation: the inputs that change from call to call and the
 * results travel in the {@link RecordBar}'s fields (a double passed to or
 * returned from a call V8 does not inline would be a new heap object; so
 * b, too, is computed here rather than by a function of its own).
 */
import { DOUBLE_ZERO } from "../model/floats.ts";

/** Nats between the levels a record counts. */
export const BUDGET_BIN = 0.25;
/** Levels of evidence counted: i·0.25 nats for i = 1 .. 200 (bin i - 1). */
export const BUDGET_BINS = 200;
/** Upcrossings a level needs before its rate is used; N·b from which the budget's record sets τ alone. */
export const TAIL_COUNT = 20;
/** A week (ms): b = falseAlertsPerWeek·periodMs / WEEK_MS false alerts a reading. */
export const WEEK_MS = 604_800_000;

/** What {@link recordBar} reads of a record (an AlertBudget is one). */
export interface UpcrossingRecord {
  /** (BUDGET_BINS) upcrossings of level (i + 1)·0.25 nats, forgotten up to `pending` readings ago. */
  readonly bins: Float64Array;
  /** N: readings counted (forgetting). */
  readonly readings: number;
  /** Readings since the bins were last forgotten. */
  readonly pending: number;
  readonly opts: { readonly history: number; readonly falseAlertsPerWeek: number };
}

/** Where a caller's rule differs (see the module comment). */
export interface RecordBarRule {
  /** Whether the target rate is the budget's own, b (else e^-nats). */
  atBudget: boolean;
  /** N·b from which the record's own level e alone sets the bar (Infinity: never). */
  aloneFrom: number;
  /** e where every level was crossed more than N·b + 1 times (-Infinity: no bound then). */
  beyond: number;
}

/** One caller's inputs and results of {@link recordBar}, reused from call to call. */
export class RecordBar {
  // doubles from the start (see DOUBLE_ZERO): a rule of 20 first would make them small integers
  readonly atBudget: boolean;
  readonly aloneFrom: number = DOUBLE_ZERO;
  readonly beyond: number = DOUBLE_ZERO;
  /** Input: the sampling period (ms). */
  periodMs = DOUBLE_ZERO;
  /** Input: the target rate e^-nats a reading, unless {@link atBudget}. */
  nats = DOUBLE_ZERO;
  /** Input: the bar's bounds (nats). */
  lo = DOUBLE_ZERO;
  hi = DOUBLE_ZERO;
  /** Result: whether the record sets a bar (half a week of budget and a level crossed 20 times). */
  sets = false;
  /** Result: the bar (nats) when {@link sets}, within [lo, hi]. */
  level = DOUBLE_ZERO;

  constructor(rule: RecordBarRule) {
    this.atBudget = rule.atBudget;
    this.aloneFrom = rule.aloneFrom;
    this.beyond = rule.beyond;
  }
}

/** Sets `out.sets` and `out.level` from `record` and `out`'s inputs (see the module comment). */
export function recordBar(out: RecordBar, record: UpcrossingRecord): void {
  out.sets = false;
  const bins = record.bins, n = record.readings;
  const b = (record.opts.falseAlertsPerWeek * out.periodMs) / WEEK_MS;
  const allowed = b * n;
  // less than half a week of record (or none, or no budget, or no sampling period)
  if (!(allowed >= 0.5) || !(n > 0)) return;
  const f = Math.pow(1 - 1 / record.opts.history, record.pending);
  // the highest levels crossed at least TAIL_COUNT and 4·TAIL_COUNT times
  let v = -1, w = -1;
  for (let i = BUDGET_BINS - 1; i >= 0 && w < 0; i--) {
    const c = bins[i] * f;
    if (v < 0 && c >= TAIL_COUNT) v = i;
    if (c >= 4 * TAIL_COUNT) w = i;
  }
  if (v < 0) return;
  out.sets = true;
  // the record: the lowest level crossed at most `allowed` times, and one
  let empirical = out.beyond;
  for (let i = 0; i < BUDGET_BINS; i++) {
    if (bins[i] * f <= allowed + 1) {
      empirical = (i + 1) * BUDGET_BIN;
      break;
    }
  }
  // the bar is written straight into out.level, as the two rules this function replaced
  // wrote theirs: a local joined from two branches measured 20 to 50 bytes a reading more
  if (allowed >= out.aloneFrom) {
    out.level = Math.min(out.hi, Math.max(out.lo, empirical));
    return;
  }
  const crossed = bins[v] * f;
  let sigma = 1;
  if (w >= 0 && w < v) {
    sigma = Math.max(1, ((v - w) * BUDGET_BIN) / Math.log((bins[w] * f) / crossed));
  }
  // ln(u(v) / r), u(v) = crossed / N: r = b, or r = e^-nats
  if (out.atBudget) out.level = (v + 1) * BUDGET_BIN + sigma * Math.log(crossed / allowed);
  else out.level = (v + 1) * BUDGET_BIN + sigma * (Math.log(crossed / n) + out.nats);
  // the record bounds it from a week of budget on (before, one crossing more is half the record)
  if (allowed >= 1) out.level = Math.max(out.level, empirical);
  out.level = Math.min(out.hi, Math.max(out.lo, out.level));
}
