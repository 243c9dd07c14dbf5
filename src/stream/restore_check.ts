/**
 * What a restored stream must hold before it may take readings: every array
 * finite where it holds numbers and within range, every scalar of its type
 * and range, the counters consistent. A checkpoint is checked on a scratch
 * stream restored from it (StreamModel.restore), so a damaged one is refused
 * with its reason before the live stream changes; a checksum recomputed over
 * edited values (issue item 9: NaN or 1e30 weights, a NaN interval state,
 * `lastTs` in 2100, `readings: -5`) does not get it in.
 *
 * The limits are the divergence guard's (divergence_guard.ts): NaN only
 * where an array holds "none", ±Infinity only for an empty range, no
 * magnitude beyond {@link EXPLODED}; the LSTM's weights at most
 * {@link WEIGHT_LIMIT}. Sums of squares (variances, squared errors, the
 * blend's moments) need only be finite and not negative.
 */
import { showValue } from "../domain/show_value.ts";
import { EXPLODED, MAY_BE_INFINITE, MAY_BE_NAN, WEIGHT_LIMIT } from "./divergence_guard.ts";
import { stateArrays } from "./stream_state.ts";
import type { LatestRing } from "./onset_rule.ts";
import { LstmExpert } from "./lstm_expert.ts";
import { LinearExpert } from "./linear_expert.ts";
import type { StreamModel } from "./stream.ts";
import { SeasonalExpert } from "./seasonal_expert.ts";
import { MAX_SEASON } from "./season_profile.ts";
import { STUCK_PER_TARGET } from "./shape_stuck.ts";
import { DRIFT_PART, LEVEL_PART, PAIRS_PART, STUCK_PART } from "./alert_fusion.ts";
import { LEVEL_TARGETS_AT } from "./level_shift.ts";

/** How one array's values are checked. */
interface ArrayRule {
  /** Largest magnitude (default EXPLODED). */
  limit?: number;
  /** Values must be at least 0. */
  nonNegative?: boolean;
  /** Values must be integers (counts). */
  integer?: boolean;
}

const COUNT: ArrayRule = { nonNegative: true, integer: true, limit: Number.MAX_SAFE_INTEGER };
const SQUARES: ArrayRule = { nonNegative: true, limit: Infinity };

/** Arrays with a rule of their own; any other: finite, at most EXPLODED in magnitude. */
const RULES: Readonly<Record<string, ArrayRule>> = {
  params: { limit: WEIGHT_LIMIT },
  adamV: { nonNegative: true },
  q: { nonNegative: true },
  m: { nonNegative: true },
  qUsed: { nonNegative: true },
  n: COUNT,
  hits: COUNT,
  scoredCount: COUNT,
  blendCount: COUNT,
  levelM2: SQUARES,
  changeM2: SQUARES,
  change2: SQUARES,
  sqErr: SQUARES,
  blendLongLoss: SQUARES,
  blendCov: { limit: Infinity },
  bins: { nonNegative: true },
  shapeBins: { nonNegative: true },
  budgetBins: { nonNegative: true },
  shapeRough: { nonNegative: true },
  periodRecent: { nonNegative: true },
  originStep: { integer: true, limit: Number.MAX_SAFE_INTEGER },
};

const fail = (what: string) => new RangeError(`Cannot restore stream state: ${what}`);

/** The constraint an array's rule states. */
function ruleText(r: ArrayRule): string {
  const limit = r.limit ?? EXPLODED;
  const parts = [r.integer ? "integers" : "finite numbers"];
  if (r.nonNegative) parts.push("of at least 0");
  if (limit !== Infinity && !r.integer) {
    parts.push(r.nonNegative ? `and at most ${limit}` : `of at most ${limit} in magnitude`);
  }
  return parts.join(" ");
}

/** Throws unless every value of array `name` keeps its rule. */
function checkArray(name: string, a: ArrayLike<number>): void {
  const r = RULES[name] ?? {};
  const limit = r.limit ?? EXPLODED;
  const nanOk = MAY_BE_NAN.has(name), infOk = MAY_BE_INFINITE.has(name);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v !== v && nanOk) continue;
    if ((v === Infinity || v === -Infinity) && infOk) continue;
    const ok = Number.isFinite(v) && Math.abs(v) <= limit && !(r.nonNegative && v < 0) &&
      !(r.integer && !Number.isInteger(v));
    if (!ok) {
      throw fail(`array "${name}" must hold ${ruleText(r)}: current value at [${i}] is ${v}`);
    }
  }
}

/** Throws unless `v` is an integer from `lo` to `hi`; `rule` names the range in the message. */
function integer(name: string, v: unknown, lo: number, hi: number, rule?: string): void {
  if (typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi) return;
  const range = rule ??
    (hi >= Number.MAX_SAFE_INTEGER
      ? `an integer of at least ${lo}`
      : `an integer from ${lo} to ${hi}`);
  throw fail(`'${name}' must be ${range}: current value is ${showValue(v)}`);
}

function finite(name: string, v: unknown, lo = -Infinity): void {
  if (typeof v === "number" && Number.isFinite(v) && v >= lo) return;
  const range = lo === -Infinity ? "a finite number" : `a finite number of at least ${lo}`;
  throw fail(`'${name}' must be ${range}: current value is ${showValue(v)}`);
}

function boolean(name: string, v: unknown): void {
  if (typeof v !== "boolean") {
    throw fail(`'${name}' must be true or false: current value is ${showValue(v)}`);
  }
}

/** The largest count a checkpoint may hold. */
const MAX = Number.MAX_SAFE_INTEGER;

/** The alert machine's states. */
const MACHINE_STATES = ["warming_up", "normal", "anomaly"];

/** An alert machine's scalars, checked as `name[first]` .. `name[first + 4]`. */
function machine(
  name: string,
  a: { state: unknown; seen: unknown; run: unknown; runOnset: unknown; duration: unknown },
  first = 0,
): void {
  if (!MACHINE_STATES.includes(a.state as string)) {
    throw fail(
      `'${name}[${first}]' must be one of ${MACHINE_STATES.join(", ")}: current value is ${
        showValue(a.state)
      }`,
    );
  }
  integer(`${name}[${first + 1}]`, a.seen, 0, MAX);
  integer(`${name}[${first + 2}]`, a.run, 0, MAX);
  boolean(`${name}[${first + 3}]`, a.runOnset);
  integer(`${name}[${first + 4}]`, a.duration, 0, MAX);
}

/**
 * The latest entries of an onset rule's two rings (onset_rule.ts's
 * LatestRing), value and slot each, checked as `name[first]` .. `name[first + 3]`.
 */
function latestRings(
  name: string,
  r: { opts: { refractory: number }; onsets: LatestRing; peaks: LatestRing },
  first: number,
): void {
  const R = r.opts.refractory, slots = `an integer from 0 to ${R - 1} (the refractory period)`;
  finite(`${name}[${first}]`, r.onsets.value, 0);
  integer(`${name}[${first + 1}]`, r.onsets.slot, 0, R - 1, slots);
  finite(`${name}[${first + 2}]`, r.peaks.value, 0);
  integer(`${name}[${first + 3}]`, r.peaks.slot, 0, R - 1, slots);
}

/** A likelihood threshold: above 0 and below 1. */
function likelihood(name: string, v: number): void {
  if (!(v > 0 && v < 1)) {
    throw fail(
      `'${name}' must be a likelihood above 0 and below 1: current value is ${showValue(v)}`,
    );
  }
}

/** A time in ms (NaN: none) as messages show it. */
function showTime(t: number): string {
  return Number.isFinite(t) && Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : showValue(t);
}

/** What {@link checkRestored} takes besides the stream. */
export interface RestoreCheckOptions {
  /** The latest time (ms) the newest reading may have: a later one would refuse every reading. */
  latestTs?: number;
}

/**
 * Throws a RangeError naming the first value of the restored stream `m`
 * that a healthy stream cannot hold (see above).
 */
export function checkRestored(m: StreamModel, opts: RestoreCheckOptions = {}): void {
  const arrays = stateArrays(m);
  for (const name in arrays) checkArray(name, arrays[name]);
  const { origins } = m, { hits, n } = m.intervals;
  for (let s = 0; s < hits.length; s++) {
    if (hits[s] > n[s]) {
      throw fail(
        `array "hits" must hold at most the forecasts scored ("n"): current value at [${s}] is ${
          hits[s]
        }, with ${n[s]} scored`,
      );
    }
  }
  const masks = (1 << m.E) - 1;
  for (let o = 0; o < origins.active.length; o++) {
    const a = origins.active[o];
    if (a < 0 || a > masks) {
      throw fail(
        `array "active" must hold masks of the ${m.E} experts (0 to ${masks}): current value at [${o}] is ${a}`,
      );
    }
  }
  for (let i = 0; i < m.scorer.unusual.length; i++) {
    const u = m.scorer.unusual[i];
    if (u !== 0 && u !== 1) {
      throw fail(`array "unusual" must hold 0 or 1: current value at [${i}] is ${u}`);
    }
  }

  // the time line
  if (!Number.isNaN(m.periodMs) && !(typeof m.periodMs === "number" && m.periodMs > 0)) {
    throw fail(
      `'periodMs' must be a positive number of ms or null: current value is ${
        showValue(m.periodMs)
      }`,
    );
  }
  if (typeof m.periodMs === "number" && m.periodMs === Infinity) {
    throw fail(`'periodMs' must be a positive number of ms or null: current value is Infinity`);
  }
  integer("season", m.season, 0, MAX_SEASON);
  if (!Number.isNaN(m.lastTs)) {
    integer("lastTs", m.lastTs, -8.64e15, 8.64e15, "a time in ms or null");
    if (opts.latestTs !== undefined && m.lastTs > opts.latestTs) {
      throw fail(
        `'lastTs' must be at most ${showTime(opts.latestTs)} (later, every reading would be ` +
          `refused as out of order): current value is ${showTime(m.lastTs)}`,
      );
    }
  }
  if (!Number.isNaN(m.anomalySince)) finite("anomalySince", m.anomalySince);

  const p = m.period;
  integer("period[0]", p.count, 0, p.window, `an integer from 0 to ${p.window} (the window)`);
  integer("period[1]", p.head, -1, p.window - 1, `an integer from -1 to ${p.window - 1}`);
  integer("period[2]", p.disagree, 0, p.window, `an integer from 0 to ${p.window} (the window)`);
  if (!(p.gapShare >= 0 && p.gapShare <= 1)) {
    throw fail(
      `'period[3]' must be a share from 0 to 1: current value is ${showValue(p.gapShare)}`,
    );
  }

  // the counters
  integer("step", m.step, 0, MAX);
  integer("readings", m.readings, 0, MAX);
  integer("learnedReadings", m.learnedReadings, 0, MAX);
  if (m.learnedReadings > m.readings) {
    throw fail(
      `'learnedReadings' must be at most 'readings' (${m.readings}): current value is ${m.learnedReadings}`,
    );
  }
  integer("gaps", m.gaps, 0, MAX);
  integer("lastSkipped", m.lastSkipped, -1, m.step, `an integer from -1 to 'step' (${m.step})`);
  const C = m.history.capacity;
  integer("histLen", m.history.length, 0, C, `an integer from 0 to ${C} (the history's rows)`);
  integer(
    "histHead",
    m.history.head,
    0,
    C - 1,
    `an integer from 0 to ${C - 1} (the history's rows)`,
  );
  boolean("frozen", m.frozen);
  integer("recoveries[0]", m.recoveries, 0, MAX);
  boolean("recoveries[1]", m.intervalsReset);

  // the normalisers, the scorer, the alert machine
  for (const [name, n] of [["level", m.level], ["change", m.change]] as const) {
    finite(`${name}[0]`, n.weight, 0);
    integer(`${name}[1]`, n.count, 0, MAX);
  }
  finite("scorer[0]", m.scorer.total, 0);
  integer("scorer[1]", m.scorer.count, 0, MAX);
  integer("scorer[2]", m.range.count, 0, MAX);
  finite("scorer[3]", m.scorer.runOnset, 0);
  finite("scorer[4]", m.scorer.unusualTotal, 0);
  integer("scorer[5]", m.scorer.mostUnusual, 0, m.scorer.unusual.length);
  latestRings("scorer", m.scorer, 6);
  machine("alerts", m.alerts);
  likelihood("budget[3]", m.alerts.threshold);
  machine("guard", m.guard);
  boolean("guard[5]", m.alertPaused);
  machine("evidenceGuard", m.evidenceGuard);

  // the shape detector and the budget (issue 11)
  const sh = m.shape, R = sh.ring.length / Math.max(1, sh.J);
  integer("shape[0]", sh.filled, 0, R, `an integer from 0 to ${R} (the window's rows)`);
  integer("shape[1]", sh.head, 0, Math.max(0, R - 1), `an integer from 0 to ${R - 1}`);
  integer("shape[2]", sh.taken, 0, MAX);
  integer("shape[3]", sh.remembered, 0, MAX);
  integer("shape[4]", sh.used, 0, sh.M, `an integer from 0 to ${sh.M} (the memory's shapes)`);
  integer("shape[5]", sh.lastUnlearned, -1, MAX);
  integer("shape[6]", sh.roughCount, 0, MAX);
  finite("shape[9]", sh.tail.total, 0);
  finite("budget[0]", m.budget.readings, 0);
  integer("budget[1]", m.budget.pending, 0, MAX);
  finite("budget[2]", m.budget.last, 0);
  boolean("budget[4]", m.budget.held);
  // the fusion after the scorer (alert_fusion.ts): its run, count, and the scorer's own alerts and budget
  const f = m.fusion;
  if (f.enabled) {
    finite("fusion[0]", f.runOnset, 0);
    integer("fusion[1]", f.count, 0, MAX);
    machine("fusion", f.base, 2);
    finite("fusion[7]", f.baseBudget.readings, 0);
    integer("fusion[8]", f.baseBudget.pending, 0, MAX);
    finite("fusion[9]", f.baseBudget.last, 0);
    likelihood("fusion[10]", f.base.threshold);
    finite("fusion[11]", f.partPeak[DRIFT_PART], 0);
    integer("fusion[12]", f.partPeakAt[DRIFT_PART], 0, MAX);
    latestRings("fusion", f, 13);
    finite("fusion[17]", f.partPeak[STUCK_PART], 0);
    integer("fusion[18]", f.partPeakAt[STUCK_PART], 0, MAX);
    finite("fusion[19]", f.partPeak[LEVEL_PART], 0);
    integer("fusion[20]", f.partPeakAt[LEVEL_PART], 0, MAX);
    finite("fusion[21]", f.partPeak[PAIRS_PART], 0);
    integer("fusion[22]", f.partPeakAt[PAIRS_PART], 0, MAX);
    // the agreeing pairs' own record (pairs_record.ts), when kept
    const pr = f.pairsRecord?.record;
    if (pr) {
      finite("fusion[23]", pr.readings, 0);
      integer("fusion[24]", pr.pending, 0, MAX);
      finite("fusion[25]", pr.last, 0);
      for (let i = 0; i < pr.bins.length; i++) finite(`pairsState[${i}]`, pr.bins[i], 0);
    }
  }
  // the stuck runs' counts (shape_stuck.ts), where the stream keeps them: a
  // target's value any, its run at least -1 (after a gap), the counts at least 0
  if (m.stuck) {
    const st = m.stuck.state;
    for (let i = 0; i < st.length; i++) {
      const at = (i - 1) % STUCK_PER_TARGET;
      finite(
        `stuckState[${i}]`,
        st[i],
        i > 0 && at === 0 ? -Infinity : i > 0 && at === 1 ? -1 : 0,
      );
    }
    const scale = m.stuck.scale;
    if (!(typeof scale === "number" && scale >= 0 && scale <= 1)) {
      throw fail(`'stuck[0]' must be a factor from 0 to 1: current value is ${showValue(scale)}`);
    }
  }
  // the level-shift evidence (level_shift.ts): counts at least 0, its sums
  // and peaks at least 0, each excursion's flag (every third of the sums') 0 or 1
  const ls = m.levelShift.state;
  for (let i = 0; i < ls.length; i++) {
    const flag = i >= LEVEL_TARGETS_AT && (i - LEVEL_TARGETS_AT) % 3 === 2;
    if (flag) integer(`levelShiftState[${i}]`, ls[i], 0, 1);
    else finite(`levelShiftState[${i}]`, ls[i], 0);
  }
  const linear = m.experts.find((e) => e instanceof LinearExpert);
  linear?.rls.forEach((r, h) => {
    integer(
      `rlsC${h}[0]`,
      r.cycle[0],
      0,
      r.d - 1,
      `an integer from 0 to ${r.d - 1} (the features)`,
    );
  });

  const seasonal = m.experts.find((e) => e instanceof SeasonalExpert);
  if (seasonal && seasonal.profile.season > 0) {
    const p = seasonal.profile;
    const S = p.season, P = p.points;
    integer("seasonal[0]", p.phase, -1, S - 1, `an integer from -1 to ${S - 1} (the season)`);
    integer("seasonal[1]", p.complete, 0, P, `an integer from 0 to ${P} (the season's buckets)`);
  }

  // the LSTM's trainer
  const lstm = m.experts.find((e) => e instanceof LstmExpert);
  if (lstm) boolean("hasInput", lstm.hasInput);
  const t = m.trainer;
  if (t) {
    integer("trainer[0]", t.length, 0, t.k2, `an integer from 0 to ${t.k2} (the window)`);
    integer("trainer[1]", t.pending, 0, t.k2, `an integer from 0 to ${t.k2} (the window)`);
    integer("trainer[2]", t.updates, 0, MAX);
    integer("trainer[3]", t.adam.t, 0, MAX);
  }
}
