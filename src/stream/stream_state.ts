/**
 * A stream's whole state as one FCDS checkpoint (state.ts), and the
 * migrations that let checkpoints of older layouts restore.
 *
 * Arrays, by name: the history ring (`hist`); the origin slots (`originStep`, `originTs`,
 * `originX`, `originLags`, `preds`, `comb`, `qUsed`, `active`); the accuracy (`sqErr`,
 * `scoredCount`); the change limits (`change2`); the normalisers (`levelMean`, `levelM2`,
 * `changeMean`, `changeM2`); the blend (`blendCov`, `blendCount`, `blendLongLoss`); the intervals
 * (`q`, `m`, `n`, `hits`); the anomaly scorer (`recent`, `bins`, `unusual`) and range (`rangeLo`,
 * `rangeHi`); the value bounds' ranges (`boundLo`, `boundHi`); the period's recent intervals
 * (`periodRecent`); the shape detector (`shapeRing`, `shapeRough`, `shapeMemory`, `shapePending`,
 * `shapeBins`), the false-alarm budget (`budgetBins`), the drift detector (`driftState`, all of its
 * state in one array), with the shape and drift detectors the stuck runs (`stuckState`), the level
 * shift's (when on, `levelShiftState`), with a drift detector its fusion after the scorer (`fusionState`; the pairs' record `pairsState`); then each expert's, in the experts'
 * order (the seasonal expert's `seasonMeans`, `seasonSum` for a season over 2,048 readings; the
 * linear expert's `rlsP<h>`, `rlsW<h>`, `rlsC<h>`; the LSTM's `lastInput`, `params`, `h`, `c`,
 * `adamM`, `adamV`, `xs`, `ys`, `h0`, `c0`).
 *
 * Scalars ({@link StreamScalars}): the time line, the counters, the history ring's length and head,
 * the normalisers' weights, the scorer's counters and its onset rings' latest entries (`scorer`),
 * the alert machine's counters, the shape detector's (`shape`), the budget's and the alerts'
 * threshold (`budget`), with a drift detector the fusion's run, count, base alerts and base budget
 * and the drift detector's latest fresh reading (`fusion`), the learning guard's (`guard`) and the
 * evidence guard's (`evidenceGuard`), with the stuck runs the scale of their counts not yet
 * forgotten (`stuck`), then each expert's (the seasonal expert's `seasonal` for a bucketed season,
 * the LSTM's `hasInput` and `trainer`).
 *
 * Older layouts, all FCDS version 2, restore as follows:
 * - before the blend solved for convex weights: `blendLoss` (the experts' mean squared errors)
 *   instead of `blendCov`; it is read past and the blend starts over (persistence first),
 *   everything else restores;
 * - before alerts kept their own peaks: no `peaks`; the reported onsets stand in for them;
 * - before the density test: no `unusual` and a `scorer` of three or four numbers; the test starts
 *   to count at the restore, as does the run onset when it is missing (no incident under way);
 * - before the value bounds: no `boundLo`, `boundHi`; the ranges start at the restore (no relative
 *   bound until a column has two values);
 * - before the divergence guard: no scalar `recoveries`; none so far;
 * - before the period was estimated: no `periodRecent` nor scalar `period`; the period restored
 *   stands, as if a window of intervals had shown it;
 * - before issue 11: no `rlsC<h>` (the linear expert's held ridge: the cycle starts afresh), no
 *   shape detector's nor budget's arrays and scalars (they start afresh: the detector is silent
 *   until its memory refills, the budget uses the fixed threshold until it has half a week of
 *   record and is `held`, budget.ts), no `guard` (the alerts were the guard, and every alert paused
 *   learning); a `budget` of four numbers, not held;
 * - before seasons were bounded (a season of more than 2,048 readings held raw in `hist`): the ring
 *   is cut to the newest rows the live ring holds and its season becomes the seasonal expert's
 *   bucket means (`seasonMeans`, `seasonSum`, scalar `seasonal`; season_profile.ts); a season of
 *   over 10,080 readings was none then: with a period, the season restored is the preset's, so such
 *   a stream now gains one;
 * - before the experts had an interface: a stream without the LSTM also held `lastInput` (zeros)
 *   and the scalars `hasInput` and `trainer` (null); they are read past;
 * - before the fusion's rings were two numbers each: `fusionState` held the rings (refractory
 *   doubles each) before the base budget's record; each ring becomes its latest entry in the
 *   `fusion` scalars (reduceFusionRings, alert_fusion.ts), with no change in what follows;
 * - before the scorer's rings were two numbers each (up to commit 967b38f): arrays `onsets` and
 *   `peaks`, refractory doubles each; each becomes its latest entry (its largest) in the `scorer`
 *   scalars (reduceScorerRings, scorer_rings.ts), with no change in what follows. forecastd before
 *   this step cannot read the new layout (it requires `onsets`).
 * - before the stuck runs (issue 11's twelfth round): no `stuckState`, 17 `fusion` scalars; the
 *   runs start afresh (no run scores until `warmup` readings are counted again), their latest fresh
 *   reading at zero;
 * - before the thirteenth round: no scalar `stuck` (the counts were forgotten up to the reading: a
 *   scale of 1), and `stuckState` without the shape or drift detector too, which is read past.
 *   Before the level shift: no `levelShiftState`, 19 `fusion` scalars; the pairs, 21; their record, 23: zeros.
 */
import type { MachineScalars } from "./anomaly.ts";
import { type FusionScalars, reduceFusionRings } from "./alert_fusion.ts";
import { reduceScorerRings } from "./scorer_rings.ts";
import { packedState, readState, restoreArrays, type StateArrays } from "./state.ts";
import { History } from "./history.ts";
import { rebucket } from "./season_profile.ts";
import { SeasonalExpert } from "./seasonal_expert.ts";
import type { StreamModel } from "./stream.ts";

/** The scalar part of a stream's state (NaN travels as null). */
export interface StreamScalars {
  periodMs: number | null;
  season: number;
  lastTs: number | null;
  step: number;
  readings: number;
  learnedReadings: number;
  gaps: number;
  anomalySince: number | null;
  lastSkipped: number;
  histLen: number;
  histHead: number;
  frozen: boolean;
  /** The level normaliser's weight and count. */
  level: [number, number];
  change: [number, number];
  /**
   * The scorer's total and count, the range's count, the run onset, the
   * unusual total and most, its onsets' latest entry and slot, its fresh
   * readings' latest entry and slot (onset_rule.ts).
   */
  scorer: number[];
  /** The alert machine's state, seen, run, run onset and duration. */
  alerts: MachineScalars;
  /** Parts the divergence guard re-initialised, and whether the intervals were reset (optional). */
  recoveries?: [number, boolean];
  /** The period estimator's scalars (optional; see period_estimator.ts). */
  period?: number[];
  /**
   * The shape detector's filled, head, taken, remembered, used,
   * lastUnlearned, roughCount, periodMs, lastTs and its tail's total
   * (optional: issue 11).
   */
  shape?: (number | null)[];
  /** The budget's readings, pending, last, the alerts' threshold (issue 11), `held` (optional). */
  budget?: [number, number, number, number, boolean?];
  /** The learning guard's state, seen, run, run onset, duration, and alertPaused (optional: issue 11). */
  guard?: [...MachineScalars, boolean];
  /** With a drift detector: the fusion's scalars (alert_fusion.ts; optional). */
  fusion?: FusionScalars;
  /** The evidence guard's state, seen, run, run onset and duration (optional: issue 11). */
  evidenceGuard?: MachineScalars;
  /** The stuck runs' scale of the counts not yet forgotten (shape_stuck.ts; optional: 1 before it). */
  stuck?: [number];
  /** Each expert's own scalars. */
  [expert: string]: unknown;
}

/** Arrays older states held that no stream has now: read past, not restored. */
const RETIRED = ["blendLoss", "lastInput"];
/** Arrays older states may lack. */
const OPTIONAL = [
  "blendCov",
  "unusual",
  "boundLo",
  "boundHi",
  "periodRecent",
  "seasonMeans",
  "seasonSum",
];
/** Arrays of issue 11 (the shape detector, the budget): older states lack them, they start afresh. */
const ISSUE11 = [
  "shapeRing",
  "shapeRough",
  "shapeMemory",
  "shapePending",
  "shapeBins",
  "budgetBins",
  "driftState",
  "fusionState",
  "stuckState",
  "levelShiftState",
  "pairsState",
];

/** Every array of the stream's state, by name: the live arrays. */
export function stateArrays(m: StreamModel): StateArrays {
  const a: StateArrays = {
    hist: m.history.rows,
    ...m.origins.arrays(),
    sqErr: m.sqErr,
    scoredCount: m.scoredCount,
    change2: m.limits.ms,
    levelMean: m.level.mean,
    levelM2: m.level.m2,
    changeMean: m.change.mean,
    changeM2: m.change.m2,
    blendCov: m.blend.cov,
    blendCount: m.blend.count,
    blendLongLoss: m.blend.longLoss,
    q: m.intervals.q,
    m: m.intervals.m,
    n: m.intervals.n,
    hits: m.intervals.hits,
    recent: m.scorer.recent,
    bins: m.scorer.bins,
    unusual: m.scorer.unusual,
    rangeLo: m.range.lo,
    rangeHi: m.range.hi,
    ...m.bounds.arrays(),
    ...m.period.arrays(),
    shapeRing: m.shape.ring,
    shapeRough: m.shape.rough,
    shapeMemory: m.shape.memory,
    shapePending: m.shape.pending,
    shapeBins: m.shape.bins,
    budgetBins: m.budget.bins,
    driftState: m.drift.state,
    // (only with the shape and drift detectors: shape_stuck.ts, stream.ts)
    ...(m.stuck ? { stuckState: m.stuck.state } : {}),
    ...(m.levelShift.enabled ? { levelShiftState: m.levelShift.state } : {}), // (when on)
    ...m.fusion.arrays(), // (only with a drift detector: a checkpoint without one is as before)
  };
  for (const e of m.experts) Object.assign(a, e.arrays?.());
  return a;
}

/** The scalar part of the stream's state. */
export function stateScalars(m: StreamModel): StreamScalars {
  const s: StreamScalars = {
    periodMs: m.periodMs,
    season: m.season,
    lastTs: m.lastTs,
    step: m.step,
    readings: m.readings,
    learnedReadings: m.learnedReadings,
    gaps: m.gaps,
    anomalySince: m.anomalySince,
    lastSkipped: m.lastSkipped,
    histLen: m.history.length,
    histHead: m.history.head,
    frozen: m.frozen,
    level: [m.level.weight, m.level.count],
    change: [m.change.weight, m.change.count],
    scorer: [
      m.scorer.total,
      m.scorer.count,
      m.range.count,
      m.scorer.runOnset,
      m.scorer.unusualTotal,
      m.scorer.mostUnusual,
      m.scorer.onsets.value,
      m.scorer.onsets.slot,
      m.scorer.peaks.value,
      m.scorer.peaks.slot,
    ],
    alerts: m.alerts.scalars(),
    recoveries: [m.recoveries, m.intervalsReset],
    period: m.period.scalars(),
    shape: [
      m.shape.filled,
      m.shape.head,
      m.shape.taken,
      m.shape.remembered,
      m.shape.used,
      m.shape.lastUnlearned,
      m.shape.roughCount,
      m.shape.periodMs,
      m.shape.lastTs,
      m.shape.tail.total,
    ],
    budget: [m.budget.readings, m.budget.pending, m.budget.last, m.alerts.threshold, m.budget.held],
    ...(m.fusion.enabled ? { fusion: m.fusion.scalars() } : {}),
    guard: [...m.guard.scalars(), m.alertPaused],
    evidenceGuard: m.evidenceGuard.scalars(),
    ...(m.stuck ? { stuck: [m.stuck.scale] as [number] } : {}),
  };
  for (const e of m.experts) Object.assign(s, e.scalars?.());
  return s;
}

/** The stream's whole state as an FCDS checkpoint, packed (compressed: state.ts, version 4). */
export function encodeStream(m: StreamModel): Uint8Array {
  // NaN is not JSON: timestamps and the period travel as null
  const scalars = JSON.parse(JSON.stringify(stateScalars(m)));
  return packedState(scalars, stateArrays(m), stateCounts(m));
}

/**
 * The whole length of each array the stream holds only in part (the
 * seasonal profile's means, held up to the highest bucket written; the
 * shape detector's memory, held up to the slots in use): a checkpoint
 * holds the whole array, the rest as trailing zeros.
 */
export function stateCounts(m: StreamModel): Record<string, number> {
  const counts: Record<string, number> = {};
  const seasonal = m.experts.find((e) => e instanceof SeasonalExpert);
  const means = seasonal?.meansLength() ?? 0;
  if (means > 0) counts.seasonMeans = means;
  if (m.shape.memoryLength > 0) counts.shapeMemory = m.shape.memoryLength;
  return counts;
}

/**
 * Takes the arrays held in part out of `stored` and `live` (restoreArrays
 * checks lengths, and these are shorter live), checking each against its
 * whole length; returns them, to be loaded once the scalars are restored.
 */
function takePartial(
  stored: StateArrays,
  live: StateArrays,
  counts: Record<string, number>,
): StateArrays {
  const taken: StateArrays = {};
  for (const [name, n] of Object.entries(counts)) {
    const a = stored[name];
    if (a === undefined) continue; // optional: restoreArrays reports it missing
    if (a.constructor !== live[name].constructor || a.length !== n) {
      throw new RangeError(
        `Cannot restore stream state: array "${name}" must hold ${n} ${
          live[name].constructor.name
        } values for this configuration: it holds ${a.length}`,
      );
    }
    taken[name] = a;
    delete stored[name];
    delete live[name];
  }
  return taken;
}

/**
 * Restores a checkpoint made by {@link encodeStream} (or an older layout,
 * see above) into a stream built with the same options. Throws naming what
 * does not fit.
 */
export function restoreStream(m: StreamModel, bytes: Uint8Array): void {
  const stored = readState(bytes);
  const s = stored.scalars as StreamScalars;
  // the history ring's size depends on the period: size it from the stored one first
  if (s.periodMs !== null && !(typeof s.periodMs === "number" && s.periodMs > 0)) {
    throw new RangeError(
      `Cannot restore stream state: 'periodMs' must be a positive number of ms or null: current value is ${
        JSON.stringify(s.periodMs)
      }`,
    );
  }
  if (typeof s.periodMs === "number") {
    m.setPeriod(s.periodMs);
    m.history.reallocate(m.historyCapacity());
  }
  const raw = unboundSeason(m, stored.arrays, s);
  rebucketSeason(m, stored.arrays, s);
  reduceFusionRings(stored.arrays, s, m.fusion.opts.refractory);
  reduceScorerRings(stored.arrays, s, m.scorer.opts.refractory);
  const live = stateArrays(m);
  const partial = takePartial(stored.arrays, live, stateCounts(m));
  const cycles = Array.from({ length: m.Hm }, (_, h) => `rlsC${h}`), pairs = m.fusion.pairsRecord;
  const missing = restoreArrays(stored.arrays, live, {
    // a stream without the stuck runs or the pairs' record reads past those of a checkpoint
    retired: [...RETIRED, ...(m.stuck ? [] : ["stuckState"]), ...(pairs ? [] : ["pairsState"])],
    optional: [...OPTIONAL, ...ISSUE11, ...cycles],
  });
  // issue 11's state absent: it starts afresh
  for (const name of [...ISSUE11, ...cycles]) if (missing.includes(name)) live[name].fill(0);
  if (missing.includes("shapePending")) m.shape.pending.fill(NaN);
  if (missing.includes("blendCov")) m.blend.reset();
  if (missing.includes("boundLo") || missing.includes("boundHi")) m.bounds.reset();
  const num = (v: number | null) => (v === null ? NaN : v);
  m.periodMs = num(s.periodMs);
  // with a period, the season is the preset's (setPeriod above sized the arrays by it)
  if (typeof s.periodMs !== "number") m.season = s.season;
  m.lastTs = num(s.lastTs);
  m.step = s.step;
  m.readings = s.readings;
  m.learnedReadings = s.learnedReadings;
  m.gaps = s.gaps;
  m.anomalySince = num(s.anomalySince);
  m.lastSkipped = s.lastSkipped;
  m.history.length = s.histLen;
  m.history.head = s.histHead;
  m.frozen = s.frozen;
  [m.level.weight, m.level.count] = s.level;
  [m.change.weight, m.change.count] = s.change;
  [
    m.scorer.total,
    m.scorer.count,
    m.range.count,
    m.scorer.runOnset = 0,
    m.scorer.unusualTotal = 0,
    m.scorer.mostUnusual = 0,
    m.scorer.onsets.value = 0,
    m.scorer.onsets.slot = 0,
    m.scorer.peaks.value = 0,
    m.scorer.peaks.slot = 0,
  ] = s.scorer;
  m.alerts.restoreScalars(s.alerts);
  [m.recoveries, m.intervalsReset] = s.recoveries ?? [0, false];
  if (s.period && !missing.includes("periodRecent")) m.period.restoreScalars(s.period);
  else m.period.reset();
  restoreIssue11(m, s);
  for (const e of m.experts) e.restoreScalars?.(s);
  const seasonal = m.experts.find((e) => e instanceof SeasonalExpert);
  if (partial.seasonMeans) seasonal?.profile.loadMeans(partial.seasonMeans as Float64Array);
  if (partial.shapeMemory) m.shape.loadMemory(partial.shapeMemory as Float32Array, m.shape.used);
  if (raw) seasonal?.seed(raw);
}

/**
 * A checkpoint written before seasons were bounded, whose history ring held
 * a whole season longer than the live ring (`seasonPoints`): converts it in
 * place (`hist`, `histLen`, `histHead` become the newest rows that fit the
 * live ring) and returns the stored ring, from which the seasonal expert
 * builds its bucket means; null for any other checkpoint.
 */
function unboundSeason(m: StreamModel, arrays: StateArrays, s: StreamScalars): History | null {
  const hist = arrays.hist;
  const C = m.history.capacity, I = m.I;
  if (!(hist instanceof Float64Array) || "seasonMeans" in arrays) return null;
  if (hist.length <= C * I || hist.length % I !== 0 || m.season <= m.preset.seasonPoints) {
    return null;
  }
  const stored = new History(I, hist.length / I);
  const R = stored.capacity;
  if (!isIndex(s.histLen, R + 1) || !isIndex(s.histHead, R)) return null; // refused by restoreArrays
  stored.rows = hist;
  stored.length = s.histLen;
  stored.head = s.histHead;
  const live = new History(I, R);
  live.rows = hist.slice();
  live.length = stored.length;
  live.head = stored.head;
  live.resize(C);
  arrays.hist = live.rows;
  s.histLen = live.length;
  s.histHead = live.head;
  return stored;
}

/**
 * A checkpoint whose season was kept in another number of buckets than the
 * preset keeps now (`pi-small` at one reading a second held 2,010 before it
 * kept 288): its means become the preset's buckets (season_profile.ts,
 * `rebucket`), so the stream keeps its season and everything else it
 * learned. Anything else is left for the restore's checks.
 */
function rebucketSeason(m: StreamModel, arrays: StateArrays, s: StreamScalars): void {
  const seasonal = m.experts.find((e) => e instanceof SeasonalExpert);
  // (meansLength() sizes the profile for the restored period: 0 when the season is not bucketed)
  if (!seasonal || seasonal.meansLength() === 0) return;
  const p = seasonal.profile;
  const { seasonMeans: means, seasonSum: sum } = arrays;
  const stored = (s as { seasonal?: unknown }).seasonal;
  if (!(means instanceof Float64Array) || !(sum instanceof Float64Array)) return;
  if (means.length === p.meansLength || !Array.isArray(stored)) return;
  const [phase, complete] = stored;
  if (!isIndex(phase + 1, p.season + 1) || !Number.isInteger(complete) || complete < 0) return;
  const r = rebucket({ means, sum, phase, complete }, m.I, p.season, p.width);
  if (!r) return;
  arrays.seasonMeans = r.means;
  arrays.seasonSum = r.sum;
  (s as { seasonal?: unknown }).seasonal = [r.phase, r.complete];
}

const isIndex = (v: unknown, n: number) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) < n;

/** The shape detector's, the budget's and the guard's scalars; a state before issue 11 starts them afresh. */
function restoreIssue11(m: StreamModel, s: StreamScalars): void {
  const num = (v: number | null) => (v === null ? NaN : v);
  const [
    filled,
    head,
    taken,
    remembered,
    used,
    lastUnlearned,
    roughCount,
    periodMs,
    lastTs,
    total,
  ] = s.shape ?? [0, 0, 0, 0, 0, -1, 0, null, null, 0];
  const sh = m.shape;
  sh.filled = num(filled);
  sh.head = num(head);
  sh.taken = num(taken);
  sh.remembered = num(remembered);
  sh.used = num(used);
  sh.lastUnlearned = num(lastUnlearned);
  sh.roughCount = num(roughCount);
  sh.periodMs = num(periodMs);
  sh.lastTs = num(lastTs);
  sh.tail.total = num(total);
  const b = m.budget; // no record (before issue 11): held (budget.ts)
  [b.readings, b.pending, b.last, m.alerts.threshold, b.held = false] = s.budget ??
    [0, 0, 0, m.preset.anomaly.threshold, true];
  // held only where it can move the threshold (a checkpoint before this held it anywhere)
  if (!b.mayHold) b.held = false;
  m.fusion.restoreScalars(s.fusion, m.alerts, m.budget);
  // the stuck runs' counts stand for themselves times their own scale
  if (m.stuck) m.stuck.scale = s.stuck ? s.stuck[0] : 1; // (restore_check.ts checks it)
  // before issue 11 the alerts were the guard, and every alert paused learning
  const [state, seen, run, runOnset, duration, paused] = s.guard ?? [...s.alerts, true];
  const guard: MachineScalars = [state, seen, run, runOnset, duration];
  m.guard.restoreScalars(guard);
  m.alertPaused = paused;
  // a state of issue 11 before the evidence guard: the guard's stands in for it
  m.evidenceGuard.restoreScalars(s.evidenceGuard ?? guard);
}
