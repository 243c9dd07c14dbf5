/**
 * Leave-one-family-out selection of the anomaly settings (not part of the
 * test suite). For each corpus (the 24 NAB files of ../shared/data/nab and
 * the synthetic set of tests/fixtures/make_synthetic_nab.ts) and each family
 * F of its four: the candidate setting with the best mean NAB standard score
 * (over the LSTM seeds) on the other three families, pooled, is chosen, and
 * F is scored with it. Prints the four held-out scores beside the score of
 * each candidate on all files.
 *
 *   deno run --allow-read --allow-write=/tmp --allow-run bench/lofo.ts \
 *     [--seeds=1,2,3] [--grid=FILE.json] [--corpus=nab|synthetic|both] \
 *     [--mode=fast|exact] [--out=/tmp/forecastd-lofo] [--record=auto|always] [--reuse=false|true] \
 *     [--onset=true|false] [--calibration=false|true|pairs] [--sources=false|true]
 *
 * `--mode=exact` replays every file through the engine with every candidate
 * and seed (what the daemon would do: about two minutes per candidate and
 * seed for both corpora on 2 cores); the figures in BENCHMARKS.md come from
 * it. `--mode=fast` (the default) is for exploring: the settings chosen here act on the anomaly path
 * only (the scorer, the shape detector and the fusion, the budget, the alert
 * machine), which does not feed the forecasts, except that readings inside
 * an open alert are not learned from. So the engine runs once per file and
 * seed with the default preset, recording per reading the one-step surprise,
 * the range record, the target's normalised and raw values (the stuck runs,
 * src/stream/shape_stuck.ts, count the raw ones) and the gaps; every
 * candidate then re-runs the anomaly path alone on that record, in the order
 * StreamModel.observe() runs it (`simulate` below mirrors src/stream/scoring.ts).
 * How it is fast enough: the anomaly path feeds the forecasts only through
 * the readings left unlearned while the learning guard (the alert machine at
 * the fixed threshold) is in an anomaly, which the budget does not move.
 * With the recording's own settings the re-run reproduces the engine's onset
 * and alert columns exactly (checked every run: `selfCheck`); with other
 * settings the forecasts would differ where other readings are left
 * unlearned, which the re-run ignores. The drift detector is fused after
 * the scorer (src/stream/alert_fusion.ts) and changes nothing learned, so a
 * candidate that differs from the recording only in `anomaly.drift.hours`,
 * `anomaly.drift.days` or the agreeing pairs' (`anomaly.agreeingPairs`,
 * `anomaly.pairsRecord`: src/stream/pairs_record.ts, whose record `simulate`
 * keeps as the stream does) is re-run exactly. The figures of the setting finally
 * chosen come from real replays (bench/nab.ts), not from here.
 *
 * `--onset=false` leaves out NAB's optimised score of the onset column
 * (printed "-"), the slow part of a candidate that differs from another only
 * in the alerts' budget (the onsets do not depend on it).
 *
 * `--calibration=true` (fast mode) prints, per family, how far the alerts'
 * evidence (the fused evidence, or a stuck run's part where it is the larger:
 * src/stream/alert_fusion.ts) is from a valid p-value on the normal stretches
 * of the recordings (the default preset's anomaly path, `simulate`): the share of
 * readings at or above x nats against e^-x, and the upcrossings of 7 nats a
 * week (docs/anomalies_method.md, "How far from valid it is"), then stops.
 * A normal reading: after NAB's probationary rows, outside every window and
 * a window's length after it, the alerts warmed up; seeds and files pooled.
 *
 * `--calibration=pairs` (fast mode) prints, per grid candidate and family
 * (and a row "noise files": every reading after the probation of the files
 * without windows), how far the agreeing pairs' evidence
 * (src/stream/alert_fusion.ts) is from valid on those normal readings: the
 * share of readings at or above x nats against e^-x of the residuals', the
 * shape detector's, the drift detector's, their (residual, shape) pair's
 * by Fisher's method, the same pair with the shape detector's evidence
 * taken half the file away (the two tails as they are, their alignment
 * broken: what the pair's tail would be were the two independent) and the
 * pairs' part; the readings at which the part
 * reaches the alerts' threshold τ against Σ e^-τ (the count a valid p-value
 * allows), its upcrossings of τ a week, the same two of the fused
 * evidence, and the part's readings at or above τ where the fused evidence
 * is below it (what the part adds to the alerts) with their upcrossings a
 * week; then stops.
 *
 * `--sources=true` (fast mode) adds, per candidate, what carries the alerts'
 * evidence where each false alert on the files without windows (the noise
 * files) opens, after NAB's probationary rows: the part of the harmonic
 * mean with the largest share (`carrier`, bench/lofo_sources.ts), and for
 * the residuals which of their tests: a range record of a reading inside
 * the forecast's interval (s <= 1) or outside it, the density test's
 * record, one reading, the two-reading sum (docs/anomalies_method.md, "The
 * fourteenth round").
 *
 * `--reuse=true` (exact mode) keeps the columns of a candidate and seed
 * whose replays finished in an earlier run with the same `--out` and grid
 * (marked by a file `complete` beside them), so a run that was stopped
 * resumes; delete OUT/cand to start over.
 *
 * The grid file: [{"name": "...", "set": "anomaly.shape.window=16;..."}, ...]
 * (bench/nab.ts's --set syntax); without one, the built-in grid below. A
 * candidate may also carry `"budget": {...}` (fast mode only), another rule
 * for the threshold of the alerts' own budget, prototyped here before the
 * engine (`CandidateBudget` below; the scorer's side keeps the engine's, so
 * what is learned is the recording's and the re-run stays exact): `young`,
 * the threshold while the record is shorter than half a week, "fixed" (the
 * engine's: the fallback), "budget" (ln(readings a week / budget) + `margin`),
 * "fall" (from the fallback down to that level as the record grows to half a
 * week) or "extrapolate" (the record's own tail as soon as a level was crossed
 * 20 times); `empirical`, the record's bound on the extrapolation, "from1"
 * (the engine's: from one week of budget on, the lowest level crossed at
 * most N·b + 1 times), "from2" (the same from two weeks on) or "poisson"
 * (from one week on, at most the 95% quantile of a Poisson count of mean
 * N·b); `bound`, what that bound counts (see `BudgetRule`: "all", the
 * engine's, and the seventh round's records that leave out incidents,
 * repeats or a young record's crossings). BENCHMARKS.md, "Issue 11, sixth
 * round" and "seventh round".
 * Scores: `onset` with NAB's optimised threshold, `alert` (the alerts the
 * daemon opens) at 0.5. Output: a table on stderr, `RESULT {json}` per corpus;
 * with `--corpus=both`, then leave one of the eight families out over both
 * corpora (step 4 below), and its `RESULT {json}` (corpus "both").
 */
import { readCsv } from "../src/replay/csv.ts";
import { getPreset, type Preset } from "../src/stream/preset.ts";
import { Engine } from "../src/stream/engine.ts";
import { ReadingError } from "../src/stream/stream.ts";
import {
  AlertMachine,
  AnomalyScorer,
  evidenceToUnit,
  unitToEvidence,
} from "../src/stream/anomaly.ts";
import { ShapeDetector } from "../src/stream/shape.ts";
import { StuckRuns } from "../src/stream/shape_stuck.ts";
import { levelRestart, LevelShift } from "../src/stream/level_shift.ts";
import { DriftDetector } from "../src/stream/drift.ts";
import { fusedEvidence, shapeEvidence } from "../src/stream/scoring.ts";
import { AlertFusion, PAIRS_PART } from "../src/stream/alert_fusion.ts";
import { carrier } from "./lofo_sources.ts";
import { AlertBudget, BUDGET_BINS, type BudgetOptions } from "../src/stream/budget.ts";
import {
  addCounts,
  type HitCount,
  type LabelledWindow,
  parseLabels,
  probationRows,
  scoreAlerts,
} from "../src/replay/labels.ts";
import { writeSyntheticCorpus } from "../tests/fixtures/make_synthetic_nab.ts";
import { withOverrides } from "./preset_overrides.ts";
import { exitOnFlagError, integerList, oneOf, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NAB_DIR = `${ROOT}../shared/data/nab`;
const SCORER = `${ROOT}../shared/tools/nab_score.py`;
/** Mirrors BUDGET_FLOOR of src/stream/stream.ts. */
const BUDGET_FLOOR = Math.log(100);

const flags = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    seeds: integerList([1, 2, 3], 1, 1_000_000),
    grid: text("a grid JSON file", ""),
    corpus: oneOf(["nab", "synthetic", "both"], "both"),
    out: text("a directory", "/tmp/forecastd-lofo"),
    record: oneOf(["auto", "always"], "auto"),
    mode: oneOf(["fast", "exact"], "fast"),
    reuse: oneOf(["false", "true"], "false"),
    onset: oneOf(["true", "false"], "true"),
    calibration: oneOf(["false", "true", "pairs"], "false"),
    sources: oneOf(["false", "true"], "false"),
  }, "Cannot run lofo")
);

/** One reading of a file as the engine saw it. */
interface Recording {
  key: string;
  rows: number;
  /** Per row: timestamp text and value (for the results files). */
  text: string[];
  ts: number[];
  /** z of the target before the reading (the level normaliser's), NaN for a rejected row. */
  z: number[];
  /** The target's raw value (the stuck runs count it exactly; JSON keeps NaN as null). */
  x: number[];
  /** The target's signed one-step residual over its interval's half-width (NaN: none; src/stream/level_shift.ts). */
  u: number[];
  /** The one-step surprise (-1: none), the range record, a gap before the row, rejected. */
  s: number[];
  record: number[];
  gap: number[];
  rejected: number[];
  periodMs: number[];
  /** The engine's own columns, to check `simulate` against. */
  onset: number[];
  alert: number[];
}

/** Runs the engine on one file and records what the anomaly path saw. */
function record(
  key: string,
  table: Awaited<ReturnType<typeof readCsv>>,
  preset: Preset,
): Recording {
  const engine = new Engine();
  const st = engine.create("r", { preset, columns: table.columns });
  const rec: Recording = {
    key,
    rows: table.rows,
    text: [],
    ts: [],
    z: [],
    x: [],
    u: [],
    s: [],
    record: [],
    gap: [],
    rejected: [],
    periodMs: [],
    onset: [],
    alert: [],
  };
  for (let r = 0; r < table.rows; r++) {
    const x = table.values[r];
    const z = (x - st.level.mean[0]) / st.level.scale(0);
    rec.text.push(`${table.timestampText[r]},${x}`);
    rec.ts.push(table.ts[r]);
    try {
      const o = engine.observe("r", table.ts[r], table.values.subarray(r, r + 1));
      rec.z.push(z);
      rec.x.push(x);
      rec.u.push(o.likelihood === null ? NaN : st.levelShift.u[0]);
      rec.s.push(o.likelihood === null ? -1 : st.scorer.surprise);
      rec.record.push(o.likelihood === null ? 0 : st.scorer.record);
      rec.gap.push(o.gap ? 1 : 0);
      rec.rejected.push(0);
      rec.onset.push(o.onset ?? 0);
      rec.alert.push(o.event?.type === "opened" ? 1 : 0);
    } catch (e) {
      if (!(e instanceof ReadingError)) throw e;
      rec.z.push(NaN);
      rec.x.push(x);
      rec.u.push(NaN);
      rec.s.push(-1);
      rec.record.push(0);
      rec.gap.push(0);
      rec.rejected.push(1);
      rec.onset.push(0);
      rec.alert.push(0);
    }
    rec.periodMs.push(st.periodMs);
  }
  return rec;
}

/** Another rule for the alerts' budget (a grid candidate's `budget`; see the module comment). */
interface BudgetRule {
  young?: "fixed" | "budget" | "fall" | "extrapolate";
  /** Nats added to the young threshold ("budget", "fall", "extrapolate"). */
  margin?: number;
  empirical?: "from2" | "poisson" | "from1";
  /**
   * What the record's bound counts (the seventh round; BENCHMARKS.md, "Issue
   * 11, seventh round"): "all" (the engine's: every upcrossing of a level);
   * "incidents-out" (a level's upcrossings less those of the fixed threshold:
   * an excursion that reached it opens an alert whatever the budget, so it is
   * not the budget's to count); "runs" (runs declustering: an upcrossing of a
   * level within `refractory` readings of its last one counted is the same
   * incident); "peak" (a reading counts only the levels above the highest it
   * counted in the last `refractory` readings, the alerts' own rule);
   * "young-out" (the upcrossings counted while the record held less than half
   * a week, whose evidence a model still learning gave, left out);
   * "young-out-allowed" (the same, with the allowance over the readings since
   * then, N'·b + 1); "young-out-strict" (the same without the one more: the
   * lowest level crossed at most N'·b times since).
   */
  /**
   * The eleventh round: the threshold from the fused p-value's own
   * calibration, ln(readings a week / budget) + `margin` (a valid p-value
   * crosses it at most at the budget's rate): "always" (the record is not
   * used), "min" (the lower of it and the record's threshold) or, the
   * twelfth round, "young" (the higher of the two until the record holds
   * `weeks` weeks of budget, N·b >= weeks, then it alone: the engine's at
   * `weeks` 1).
   */
  calibrated?: "always" | "min" | "young";
  /** "young": the weeks of budget from which the record no longer bounds it (default 1). */
  weeks?: number;
  bound?:
    | "all"
    | "incidents-out"
    | "runs"
    | "peak"
    | "young-out"
    | "young-out-allowed"
    | "young-out-strict";
}

/**
 * src/stream/budget.ts's threshold, written out again with the rule's
 * variants; the defaults (young "fixed", empirical "from1") give the
 * engine's, which a run can check with a candidate `"budget": {}`.
 */
class CandidateBudget extends AlertBudget {
  readonly rule: BudgetRule;
  /** The refractory period of "runs" and "peak" (in readings counted). */
  readonly refractory: number;
  /** The bound's own record ("runs", "peak", "young-out..."), forgotten as `bins` is. */
  readonly boundBins = new Float64Array(BUDGET_BINS);
  /** "runs": the reading (counted) at which each level was last crossed. */
  readonly crossedAt = new Float64Array(BUDGET_BINS).fill(-Infinity);
  /** "peak": the highest evidence counted in the refractory period, and its reading. */
  peak = 0;
  peakAt = -Infinity;
  /** Readings counted. */
  counted = 0;
  /** Whether the record held less than half a week at the last threshold ("young-out..."). */
  young = true;
  /** N when the record stopped being young, forgotten as N is ("young-out-..."). */
  youngReadings = 0;

  constructor(opts: BudgetOptions, rule: BudgetRule, refractory: number) {
    super(opts);
    this.rule = rule;
    this.refractory = refractory;
  }

  override update(evidence: number): void {
    const BIN = 0.25, last = this.last, rule = this.rule.bound ?? "all";
    super.update(evidence);
    if (rule === "all" || rule === "incidents-out") return;
    const g = 1 - 1 / this.opts.history, n = this.counted++;
    for (let i = 0; i < BUDGET_BINS; i++) this.boundBins[i] *= g;
    // levels (i + 1)·BIN in (last, evidence]: bins from..to-1, as AlertBudget counts them
    let from = Math.max(0, Math.floor(last / BIN));
    const to = Math.min(BUDGET_BINS, Math.floor(evidence / BIN));
    if (rule === "runs") {
      for (let i = from; i < to; i++) {
        if (n - this.crossedAt[i] > this.refractory) this.boundBins[i] += 1;
        this.crossedAt[i] = n;
      }
      return;
    }
    if (rule === "peak") {
      from = Math.max(from, Math.floor((n - this.peakAt <= this.refractory ? this.peak : 0) / BIN));
      for (let i = from; i < to; i++) this.boundBins[i] += 1;
      if (to > from) [this.peak, this.peakAt] = [evidence, n];
      return;
    }
    this.youngReadings = this.young ? this.readings : this.youngReadings * g;
    if (!this.young) { for (let i = from; i < to; i++) this.boundBins[i] += 1; }
  }

  /** The upcrossings of level (i + 1)·0.25 the rule's bound counts; `f`: the bins' pending forgetting. */
  boundCount(i: number, f: number, fallback: number): number {
    const rule = this.rule.bound ?? "all";
    if (rule === "all" || (rule.startsWith("young-out") && this.young)) return this.bins[i] * f;
    if (rule !== "incidents-out") return this.boundBins[i];
    const top = Math.min(BUDGET_BINS, Math.floor(fallback / 0.25)) - 1; // the fixed threshold's level
    return (this.bins[i] - (i < top ? this.bins[top] : 0)) * f;
  }

  override threshold(periodMs: number, fallback: number): number {
    const tau = this.#threshold(periodMs, fallback), c = this.rule.calibrated;
    if (!c || !this.enabled || !(periodMs > 0)) return tau;
    const b = (this.opts.falseAlertsPerWeek * periodMs) / 604_800_000;
    const level = Math.min(
      fallback,
      Math.max(this.opts.floor, -Math.log(b) + (this.rule.margin ?? 0)),
    );
    if (c === "young") {
      return b * this.readings >= (this.rule.weeks ?? 1) ? level : Math.max(tau, level);
    }
    return c === "always" ? level : Math.min(tau, level);
  }

  #threshold(periodMs: number, fallback: number): number {
    const BIN = 0.25, BINS = this.bins.length, TAIL = 20, WEEK_MS = 604_800_000;
    if (!this.enabled || !(periodMs > 0) || !(this.readings > 0)) return fallback;
    const { young = "fixed", margin = 0, empirical = "from1" } = this.rule;
    const f = Math.pow(1 - 1 / this.opts.history, this.pending);
    const b = (this.opts.falseAlertsPerWeek * periodMs) / WEEK_MS;
    const allowed = b * this.readings;
    this.young = allowed < 0.5;
    const level = Math.min(fallback, Math.max(this.opts.floor, -Math.log(b) + margin));
    const short = young === "budget"
      ? level
      : young === "fall"
      ? fallback - (fallback - level) * Math.min(1, allowed / 0.5)
      : fallback;
    if (allowed < 0.5 && young !== "extrapolate") return short;
    let v = -1, w = -1;
    for (let i = BINS - 1; i >= 0 && w < 0; i--) {
      const c = this.bins[i] * f;
      if (v < 0 && c >= TAIL) v = i;
      if (c >= 4 * TAIL) w = i;
    }
    if (v < 0) return young === "extrapolate" ? fallback : short;
    const crossed = this.bins[v] * f;
    const rb = this.rule.bound ?? "all";
    // the allowance over the record the bound counts, and one more (but "young-out-strict")
    let slack = rb.startsWith("young-out-") && !this.young
      ? b * (this.readings - this.youngReadings) + (rb === "young-out-strict" ? 0 : 1)
      : allowed + 1;
    if (empirical === "poisson") {
      // the 95% quantile of a Poisson count of mean `allowed`
      let q = 0, term = Math.exp(-allowed), cdf = term;
      while (cdf < 0.95) {
        q++;
        term *= allowed / q;
        cdf += term;
      }
      slack = q;
    }
    let bound = BINS * BIN;
    for (let i = 0; i < BINS; i++) {
      const count = this.boundCount(i, f, fallback);
      if (count <= slack) {
        bound = (i + 1) * BIN;
        break;
      }
    }
    if (allowed >= TAIL) return Math.min(fallback, Math.max(this.opts.floor, bound));
    let sigma = 1;
    if (w >= 0 && w < v) {
      sigma = Math.max(1, ((v - w) * BIN) / Math.log((this.bins[w] * f) / crossed));
    }
    const extrapolated = (v + 1) * BIN + sigma * Math.log(crossed / allowed) +
      (allowed < 0.5 ? margin : 0);
    const from = empirical === "from2" ? 2 : 1;
    return Math.min(
      fallback,
      Math.max(this.opts.floor, extrapolated, allowed >= from ? bound : 0),
    );
  }
}

/**
 * The anomaly path of StreamModel.observe() alone, on a recording: the shape
 * and drift detectors, the scorer with fusion, the budget, the alert machine, in the
 * stream's order. Returns the onset and alert columns.
 */
export function simulate(
  rec: Recording,
  preset: Preset,
  rule?: BudgetRule,
  evidence?: number[],
  carriers?: (string | null)[],
  trace?: PairsTrace,
): { onset: number[]; alert: number[] } {
  const a = preset.anomaly;
  const scorer = new AnomalyScorer(a);
  const alerts = new AlertMachine(a);
  const guard = new AlertMachine(a);
  const shape = new ShapeDetector(1, { ...a.shape, history: a.history, warmup: a.warmup });
  const stuck = new StuckRuns(1, { history: a.history, warmup: a.warmup });
  const drift = new DriftDetector(1, {
    ...a.drift,
    history: a.history,
    warmup: a.warmup,
    restart: unitToEvidence(a.threshold),
  });
  const level = new LevelShift(1, {
    allowance: drift.enabled ? a.levelShift.allowance : 0,
    history: a.history,
    warmup: a.warmup,
    restart: levelRestart(a.threshold),
  });
  const budgetOpts = {
    falseAlertsPerWeek: a.falseAlertsPerWeek,
    history: a.history,
    floor: BUDGET_FLOOR,
  };
  // the alerts' budget: the engine's, or a candidate's rule (the scorer's side keeps the engine's)
  const budget = rule ? new CandidateBudget(budgetOpts, rule, a.refractory) : new AlertBudget({
    ...budgetOpts,
    pValueMargin: drift.enabled ? a.pValueMargin : undefined,
  });
  const fusion = new AlertFusion(drift.enabled, a, budgetOpts, alerts, budget);
  const { base, baseBudget } = fusion;
  const z = new Float64Array(1), x = new Float64Array(1), target = [0];
  const onset: number[] = [], alert: number[] = [];
  for (let r = 0; r < rec.rows; r++) {
    if (rec.rejected[r]) {
      onset.push(0);
      alert.push(0);
      evidence?.push(NaN);
      if (trace) { for (const col of Object.values(trace)) col.push(NaN); }
      continue;
    }
    if (rec.gap[r]) {
      shape.resetWindow();
      stuck.resetRuns();
      level.resetRuns();
    }
    const learn = guard.state !== "anomaly" || a.learnDuringAnomaly;
    z[0] = rec.z[r];
    shape.update(z, rec.ts[r], learn);
    // the stuck runs count the raw value, as src/stream/scoring.ts does
    x[0] = rec.x[r] ?? NaN;
    if (shape.enabled) stuck.update(x, target);
    drift.update(z, rec.ts[r], learn);
    let o = 0, opened = 0;
    if (rec.s[r] >= 0) {
      scorer.update(
        rec.s[r],
        rec.record[r],
        learn,
        base.state === "warming_up",
        ...shapeEvidence(shape),
      );
      const fixed = unitToEvidence(a.threshold);
      base.threshold = baseBudget.enabled
        ? evidenceToUnit(baseBudget.threshold(rec.periodMs[r], fixed))
        : a.threshold;
      if (learn && base.state !== "warming_up") baseBudget.update(scorer.smoothed);
      // the signed residual (JSON keeps NaN as null), as src/stream/scoring.ts counts it
      level.u[0] = rec.u[r] ?? NaN;
      level.update(learn);
      let likelihood = scorer.likelihood, fresh = scorer.fresh, nats = scorer.smoothed;
      o = scorer.onset;
      const openAt = unitToEvidence(alerts.threshold);
      if (fusion.enabled) {
        fusion.update(
          scorer.residual,
          ...fusedEvidence(shape, drift),
          alerts.state === "warming_up",
          openAt,
          shape.enabled ? stuck.evidence : 0,
          level.evidence,
          rec.periodMs[r],
        );
        alerts.threshold = budget.enabled
          ? evidenceToUnit(budget.threshold(rec.periodMs[r], fixed))
          : a.threshold;
        if (learn && alerts.state !== "warming_up") {
          budget.update(fusion.smoothed);
          fusion.learnPairs();
        }
        [likelihood, fresh, o, nats] = [
          fusion.likelihood,
          fusion.fresh,
          fusion.onset,
          fusion.smoothed,
        ];
      }
      if (trace) {
        const [sh, dr] = fusedEvidence(shape, drift);
        const on = fusion.enabled && alerts.state !== "warming_up";
        trace.residual.push(on ? scorer.residual : NaN);
        trace.shape.push(on ? sh : NaN);
        trace.drift.push(on ? dr : NaN);
        // the (residual, shape) pair by Fisher's method, as src/stream/alert_fusion.ts has it
        const x = Math.max(0, scorer.residual) + Math.max(0, sh);
        trace.pairRS.push(on && !Number.isNaN(sh) ? x - Math.log(1 + x) : NaN);
        trace.pairs.push(on ? fusion.part[PAIRS_PART] : NaN);
        trace.tau.push(on ? openAt : NaN);
        trace.fused.push(on ? fusion.smoothed : NaN);
      }
      // the alerts' evidence: the fused evidence, or a stuck run's part where it is the larger
      evidence?.push(
        alerts.state === "warming_up" ? NaN : Math.max(nats, unitToEvidence(likelihood)),
      );
      guard.step(scorer.likelihood, scorer.fresh ? scorer.likelihood : 0);
      if (base !== alerts) base.step(scorer.likelihood, scorer.fresh ? scorer.likelihood : 0);
      const t = alerts.step(likelihood, fresh ? likelihood : 0);
      opened = t === "opened" ? 1 : 0;
      if (carriers) {
        const [sh, dr, tests] = fusedEvidence(shape, drift);
        carriers[r] = opened
          ? carrier(
            scorer,
            rec.s[r],
            sh,
            dr,
            tests,
            shape.enabled ? stuck.evidence : 0,
            level.evidence,
            fusion.part[PAIRS_PART],
          )
          : null;
      }
    } else {
      if (trace) { for (const col of Object.values(trace)) col.push(NaN); }
      if (alerts.state === "warming_up") alerts.step(0);
      if (guard.state === "warming_up") guard.step(0);
      if (base !== alerts && base.state === "warming_up") base.step(0);
      evidence?.push(NaN);
    }
    onset.push(o);
    alert.push(opened);
  }
  return { onset, alert };
}

/**
 * Per reading of a recording, what the agreeing pairs' calibration
 * (`--calibration=pairs`) looks at: the residuals', the shape detector's and
 * the drift detector's evidence as the fusion takes them, the (residual,
 * shape) pair's evidence (Fisher's method), the pairs' part, the threshold
 * the alerts open at (NaN before the alerts
 * warm up, on a rejected row or without a surprise).
 */
interface PairsTrace {
  residual: number[];
  shape: number[];
  drift: number[];
  pairRS: number[];
  pairs: number[];
  tau: number[];
  /** The fused evidence (the harmonic mean's), for comparison. */
  fused: number[];
}

/** One row of the pairs' calibration: a family's normal readings, or the noise files'. */
interface PairsTally {
  readings: number;
  weeks: number;
  /** Per column of {@link PAIRS_COLUMNS}, readings at or above each of CALIBRATION_LEVELS. */
  above: number[][];
  /** Readings where the pairs' part reaches the alerts' threshold, and its upcrossings of it. */
  exceed: number;
  upcross: number;
  /** The same of the fused evidence. */
  fusedExceed: number;
  fusedUpcross: number;
  /** The part's readings at or above τ where the fused evidence is below it, and their upcrossings. */
  ownExceed: number;
  ownUpcross: number;
  /** Σ e^-τ over the readings: the readings at or above τ a valid p-value allows. */
  promised: number;
  /**
   * The (residual, shape) pair by Fisher's method with the shape detector's
   * evidence taken half the file's readings away (circularly): the same two
   * tails, their alignment broken. Readings counted (both evidences given)
   * and those at or above each of CALIBRATION_LEVELS.
   */
  shiftedReadings: number;
  shiftedAbove: number[];
}

const PAIRS_COLUMNS = ["residual", "shape", "drift", "pairRS", "pairs"] as const;

/**
 * Adds one recording's normal readings (`tallyCalibration`'s, and every
 * reading after the probation of a file without windows to the row
 * "noise files") to `into`, the anomaly path re-run with `preset`.
 */
function tallyPairs(
  c: Corpus,
  rec: Recording,
  preset: Preset,
  into: Record<string, PairsTally>,
): void {
  const t: PairsTrace = {
    residual: [],
    shape: [],
    drift: [],
    pairRS: [],
    pairs: [],
    tau: [],
    fused: [],
  };
  simulate(rec, preset, undefined, undefined, undefined, t);
  const windows = c.labels.get(rec.key) ?? [];
  const rows = [rec.key.split("/")[0], ...(windows.length === 0 ? ["noise files"] : [])];
  for (const name of rows) {
    const y = (into[name] ??= {
      readings: 0,
      weeks: 0,
      above: PAIRS_COLUMNS.map(() => CALIBRATION_LEVELS.map(() => 0)),
      exceed: 0,
      upcross: 0,
      fusedExceed: 0,
      fusedUpcross: 0,
      ownExceed: 0,
      ownUpcross: 0,
      promised: 0,
      shiftedReadings: 0,
      shiftedAbove: CALIBRATION_LEVELS.map(() => 0),
    });
    // a normal stretch's first reading is no upcrossing
    let prev = Infinity, prevFused = Infinity, prevOwn = true;
    const first = probationRows(rec.rows), n = rec.rows - first, half = Math.floor(n / 2);
    const normal = (r: number) =>
      !Number.isNaN(t.tau[r]) &&
      !windows.some((w) => rec.ts[r] >= w.start && rec.ts[r] <= 2 * w.end - w.start);
    for (let r = first; r < rec.rows; r++) {
      const tau = t.tau[r];
      if (!normal(r)) {
        prev = prevFused = Infinity;
        prevOwn = true;
        continue;
      }
      y.readings++;
      y.weeks += rec.periodMs[r] / 604_800_000;
      PAIRS_COLUMNS.forEach((col, k) => {
        const v = t[col][r];
        CALIBRATION_LEVELS.forEach((x, i) => {
          if (v >= x) y.above[k][i]++;
        });
      });
      const v = t.pairs[r];
      if (v >= tau) y.exceed++;
      if (v >= tau && !(prev >= tau)) y.upcross++;
      const u = t.fused[r];
      if (u >= tau) y.fusedExceed++;
      if (u >= tau && !(prevFused >= tau)) y.fusedUpcross++;
      const own = v >= tau && !(u >= tau);
      if (own) y.ownExceed++;
      if (own && !prevOwn) y.ownUpcross++;
      prevOwn = own;
      y.promised += Math.exp(-tau);
      const r2 = first + ((r - first + half) % n), s2 = t.shape[r2];
      if (normal(r2) && !Number.isNaN(s2)) {
        const x = Math.max(0, t.residual[r]) + Math.max(0, s2), e = x - Math.log(1 + x);
        y.shiftedReadings++;
        CALIBRATION_LEVELS.forEach((l, i) => {
          if (e >= l) y.shiftedAbove[i]++;
        });
      }
      prev = v;
      prevFused = u;
    }
  }
}

/** Prints the agreeing pairs' calibration of a corpus's recordings, per candidate, and its `RESULT`. */
function printPairsCalibration(c: Corpus, recordings: Recording[]): void {
  const out: Record<string, unknown>[] = [];
  console.error(
    `| ${c.name} candidate | rows | readings | weeks | ` +
      PAIRS_COLUMNS.map((col) => `${col}: share at ${CALIBRATION_LEVELS.join("/")} nats over e^-x`)
        .join(" | ") +
      " | pairRS, the shape half a file away" +
      " | pairs' part >= τ: observed / promised | upcrossings of τ a week | fused >= τ | its upcrossings a week | part >= τ > fused: readings, upcrossings a week |",
  );
  grid.forEach((g, k) => {
    const tally: Record<string, PairsTally> = {};
    for (const rec of recordings) tallyPairs(c, rec, presets[k], tally);
    for (const [name, y] of Object.entries(tally)) {
      const ratio = y.above.map((col) =>
        col.map((n, i) => n / y.readings / Math.exp(-CALIBRATION_LEVELS[i]))
      );
      out.push({ candidate: g.name, rows: name, ...y, ratio });
      const shifted = y.shiftedAbove.map((n, i) =>
        n / y.shiftedReadings / Math.exp(-CALIBRATION_LEVELS[i])
      );
      out[out.length - 1].shiftedRatio = shifted;
      const cells = [...ratio, shifted].map((col) =>
        col.map((v) => (v >= 10 ? v.toFixed(1) : v.toFixed(2))).join(" / ")
      );
      console.error(
        `| ${g.name} | ${name} | ${y.readings} | ${y.weeks.toFixed(1)} | ${
          cells.join(" | ")
        } | ${y.exceed} / ${y.promised.toFixed(2)} | ${
          (y.upcross / y.weeks).toFixed(3)
        } | ${y.fusedExceed} | ${(y.fusedUpcross / y.weeks).toFixed(3)} | ${y.ownExceed}, ${
          (y.ownUpcross / y.weeks).toFixed(3)
        } |`,
      );
    }
  });
  emitResult({ bench: "lofo", corpus: c.name, seeds: flags.seeds, pairsCalibration: out });
}

/** The levels (nats) of the calibration table, and the level whose upcrossings it counts. */
const CALIBRATION_LEVELS = [4, 6, 7, 8, 9];
const CALIBRATION_CROSSED = 7;

/** One family's normal readings for the calibration table (pooled over files and seeds). */
interface CalibrationTally {
  readings: number;
  /** Readings at or above each of CALIBRATION_LEVELS. */
  above: number[];
  /** Upcrossings of CALIBRATION_CROSSED, and the weeks the normal readings span. */
  crossed: number;
  weeks: number;
}

/** Adds one recording's normal readings (see `--calibration` in the module comment) to `into`. */
function tallyCalibration(c: Corpus, rec: Recording, into: Record<string, CalibrationTally>): void {
  const evidence: number[] = [];
  simulate(rec, base, undefined, evidence);
  const windows = c.labels.get(rec.key) ?? [];
  const t = (into[rec.key.split("/")[0]] ??= {
    readings: 0,
    above: CALIBRATION_LEVELS.map(() => 0),
    crossed: 0,
    weeks: 0,
  });
  let prev = 0;
  for (let r = probationRows(rec.rows); r < rec.rows; r++) {
    const ts = rec.ts[r], e = evidence[r];
    if (Number.isNaN(e) || windows.some((w) => ts >= w.start && ts <= 2 * w.end - w.start)) {
      prev = 0; // a normal stretch starts afresh
      continue;
    }
    t.readings++;
    t.weeks += rec.periodMs[r] / 604_800_000;
    CALIBRATION_LEVELS.forEach((x, i) => {
      if (e >= x) t.above[i]++;
    });
    if (e >= CALIBRATION_CROSSED && prev < CALIBRATION_CROSSED) t.crossed++;
    prev = e;
  }
}

/** Prints the calibration table of a corpus's recordings (all seeds) and its `RESULT`. */
function printCalibration(c: Corpus, recordings: Recording[]): void {
  const tally: Record<string, CalibrationTally> = {};
  for (const rec of recordings) tallyCalibration(c, rec, tally);
  const rows = c.families.map((f) => {
    const t = tally[f];
    return {
      family: f,
      readings: t.readings,
      ratio: CALIBRATION_LEVELS.map((x, i) => t.above[i] / t.readings / Math.exp(-x)),
      crossedPerWeek: t.crossed / t.weeks,
    };
  });
  console.error(
    `| family | ${CALIBRATION_LEVELS.map((x) => `${x} nats`).join(" | ")} | ` +
      `upcrossings of ${CALIBRATION_CROSSED} nats a week | normal readings |`,
  );
  for (const r of rows) {
    const cells = r.ratio.map((v) => (v >= 10 ? v.toFixed(1) : v.toFixed(2)));
    console.error(
      `| ${r.family} | ${cells.join(" | ")} | ${r.crossedPerWeek.toFixed(2)} | ${r.readings} |`,
    );
  }
  emitResult({ bench: "lofo", corpus: c.name, seeds: flags.seeds, calibration: rows });
}

/**
 * The built-in grid, simplest first (a tie goes to the earlier): no shape
 * detector, then its window.
 */
const GRID: { name: string; set: string }[] = [
  { name: "no-shape", set: "anomaly.shape.window=0" },
  ...[16, 32, 64].map((w) => ({ name: `w${w}`, set: `anomaly.shape.window=${w}` })),
];

interface Corpus {
  name: string;
  dir: string;
  families: string[];
  keys: string[];
  /** The windows of each file, with their kinds when the corpus has a kinds file. */
  labels: Map<string, LabelledWindow[]>;
}

async function corpus(name: string): Promise<Corpus> {
  let dir = NAB_DIR;
  if (name === "synthetic") {
    dir = `${flags.out}/synthetic-data`;
    await writeSyntheticCorpus(dir);
  }
  let kinds: string | undefined;
  try {
    kinds = await Deno.readTextFile(`${dir}/kinds.json`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const labels = parseLabels(await Deno.readTextFile(`${dir}/windows.json`), kinds);
  const keys = [...labels.keys()];
  const families = [...new Set(keys.map((k) => k.split("/")[0]))].sort();
  return { name, dir, families, keys, labels };
}

async function nabScore(
  c: Corpus,
  results: string,
  families: string[] | null,
  threshold: number | null,
): Promise<{ score: number | null; fp: number }> {
  const args = [
    SCORER,
    ...["--data", c.dir, "--labels", `${c.dir}/windows.json`, "--results", results],
    ...["--detector", "forecastd", "--profile", "standard", "--json"],
    ...(threshold === null ? [] : ["--threshold", String(threshold)]),
    ...(families ? ["--files-from", "-"] : []),
  ];
  const child = new Deno.Command("python3", { args, stdin: "piped", stdout: "piped" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode((families ?? []).join("\n") + "\n"));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`nab_score.py failed on ${results}`);
  const std = JSON.parse(new TextDecoder().decode(out.stdout)).standard;
  return { score: std.score, fp: std.fp };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Adds the windows an alert opened in, per kind, and the false alerts, of one file's alert column. */
function tallyAlerts(
  c: Corpus,
  rec: Recording,
  alert: number[],
  into: {
    byKind: Record<string, HitCount>;
    falseAlerts: number;
    byFamily: Record<string, FamilyTally>;
  },
): void {
  const opened = alert.flatMap((v, r) => (v ? [r] : []));
  const windows = c.labels.get(rec.key) ?? [];
  const report = scoreAlerts(rec.ts, opened, windows);
  addCounts(into.byKind, report.byKind);
  into.falseAlerts += report.falseAlerts;
  const family =
    (into.byFamily[rec.key.split("/")[0]] ??= { hit: 0, windows: 0, falseAlerts: 0, quiet: 0 });
  for (const t of Object.values(report.byKind)) {
    family.hit += t.hit;
    family.windows += t.windows;
  }
  family.falseAlerts += report.falseAlerts;
  if (windows.length === 0) family.quiet += report.falseAlerts;
}

/** Windows an alert opened in, false alerts, and those on the files without windows, of a family. */
interface FamilyTally {
  hit: number;
  windows: number;
  falseAlerts: number;
  /** False alerts on the family's files without windows (its noise files). */
  quiet: number;
}

async function writeColumn(dir: string, rec: Recording, col: number[]): Promise<void> {
  const [family, file] = rec.key.split("/");
  await Deno.mkdir(`${dir}/${family}`, { recursive: true });
  const lines = ["timestamp,value,anomaly_score", ...rec.text.map((t, r) => `${t},${col[r]}`)];
  await Deno.writeTextFile(`${dir}/${family}/forecastd_${file}`, lines.join("\n") + "\n");
}

const base = getPreset("default");
const grid: { name: string; set: string; budget?: BudgetRule }[] = flags.grid
  ? JSON.parse(await Deno.readTextFile(flags.grid))
  : GRID;
const presets = grid.map((g) => withOverrides(base, g.set));
if (flags.mode === "exact" && flags.sources === "true") {
  console.error("Cannot run lofo: --sources needs --mode=fast: current value is exact");
  Deno.exit(2);
}
if (flags.mode === "exact" && flags.calibration !== "false") {
  console.error("Cannot run lofo: --calibration needs --mode=fast: current value is exact");
  Deno.exit(2);
}
if (flags.mode === "exact" && grid.some((g) => g.budget)) {
  console.error(
    "Cannot run lofo: a candidate's 'budget' rule needs --mode=fast: current value is exact",
  );
  Deno.exit(2);
}

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((p, q) => p + q, 0) / v.length : null;
};
const fmt = (x: number | null) => (x === null ? "-" : x.toFixed(2));

/** Per corpus: each candidate's scores (onset, alert) on all files and without each family. */
const tables = new Map<
  string,
  {
    families: string[];
    rows: {
      name: string;
      onset: Record<string, number | null>;
      alert: Record<string, number | null>;
      onsetFp: Record<string, number | null>;
      alertFp: Record<string, number | null>;
    }[];
  }
>();

for (const name of flags.corpus === "both" ? ["nab", "synthetic"] : [flags.corpus]) {
  const c = await corpus(name);
  // 1. the recordings, one engine run per file and seed (cached; fast mode)
  const recs = new Map<number, Recording[]>();
  for (const seed of flags.mode === "fast" ? flags.seeds : []) {
    const list: Recording[] = [];
    for (const key of c.keys) {
      const path = `${flags.out}/record/${name}/seed${seed}/${key.replace("/", "__")}.json`;
      let rec: Recording | undefined;
      if (flags.record === "auto") {
        try {
          rec = JSON.parse(await Deno.readTextFile(path));
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
        // a recording made before the stuck runs (no raw values) or the
        // level-shift evidence (no signed residuals) is made again
        if (rec && !(Array.isArray(rec.x) && Array.isArray(rec.u))) rec = undefined;
      }
      if (!rec) {
        const table = await readCsv(`${c.dir}/${key}`, { columns: ["value"] });
        rec = record(key, table, { ...base, model: { ...base.model, seed } });
        await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
        await Deno.writeTextFile(path, JSON.stringify(rec));
      }
      // the re-run with the recording's settings must give the engine's columns
      const check = simulate(rec, base);
      const bad = check.onset.findIndex((v, r) =>
        v !== rec!.onset[r] || check.alert[r] !== rec!.alert[r]
      );
      if (bad >= 0) throw new Error(`selfCheck: ${key} seed ${seed} differs at row ${bad}`);
      list.push(rec);
    }
    recs.set(seed, list);
    console.error(`${name} seed ${seed}: ${list.length} recordings (self-check passed)`);
  }
  if (flags.calibration === "true") {
    printCalibration(c, [...recs.values()].flat());
    continue;
  }
  if (flags.calibration === "pairs") {
    printPairsCalibration(c, [...recs.values()].flat());
    continue;
  }
  // 2. every candidate: its columns, scored on all files and per family
  const table: {
    name: string;
    set: string;
    onset: Record<string, number | null>;
    alert: Record<string, number | null>;
    /** False-positive rows (mean over seeds): what a family without windows is scored by. */
    onsetFp: Record<string, number | null>;
    alertFp: Record<string, number | null>;
    /** Windows an alert opened in, per kind, and false alerts (summed over the seeds). */
    byKind: Record<string, HitCount>;
    falseAlerts: number;
    /** The same per family, with the false alerts of its files without windows (summed over the seeds). */
    byFamily: Record<string, FamilyTally>;
    /** `--sources`: the noise files' false alerts by what carries them (summed over the seeds). */
    carriers: Record<string, number>;
  }[] = [];
  const groups: [string, string[] | null][] = [
    ["all", null],
    ...c.families.map((f) => [f, [f]] as [string, string[]]),
    ...c.families.map((f) => [`not ${f}`, c.families.filter((g) => g !== f)] as [string, string[]]),
  ];
  for (let g = 0; g < grid.length; g++) {
    const scores = {
      onset: {} as Record<string, (number | null)[]>,
      alert: {} as Record<string, (number | null)[]>,
      onsetFp: {} as Record<string, (number | null)[]>,
      alertFp: {} as Record<string, (number | null)[]>,
    };
    const tally = {
      byKind: {} as Record<string, HitCount>,
      falseAlerts: 0,
      byFamily: {} as Record<string, FamilyTally>,
      /** `--sources`: the noise files' false alerts by what carries them (summed over the seeds). */
      carriers: {} as Record<string, number>,
    };
    for (const seed of flags.seeds) {
      const dir = `${flags.out}/cand/${name}/${g}/seed${seed}`;
      if (flags.mode === "fast") {
        for (const rec of recs.get(seed)!) {
          const carriers = flags.sources === "true" ? [] as (string | null)[] : undefined;
          const out = simulate(rec, presets[g], grid[g].budget, undefined, carriers);
          await writeColumn(`${dir}/onset`, rec, out.onset);
          await writeColumn(`${dir}/alert`, rec, out.alert);
          tallyAlerts(c, rec, out.alert, tally);
          if (carriers && (c.labels.get(rec.key) ?? []).length === 0) {
            for (let r = probationRows(rec.rows); r < rec.rows; r++) {
              const k = carriers[r];
              if (k) tally.carriers[k] = (tally.carriers[k] ?? 0) + 1;
            }
          }
        }
      } else if (!(flags.reuse === "true" && await exists(`${dir}/complete`))) {
        for (const key of c.keys) {
          const table = await readCsv(`${c.dir}/${key}`, { columns: ["value"] });
          const rec = record(key, table, { ...presets[g], model: { ...presets[g].model, seed } });
          await writeColumn(`${dir}/onset`, rec, rec.onset);
          await writeColumn(`${dir}/alert`, rec, rec.alert);
          tallyAlerts(c, rec, rec.alert, tally);
        }
        await Deno.writeTextFile(`${dir}/complete`, `${grid[g].set}\n`);
      }
      for (const [label, fams] of groups) {
        const o = flags.onset === "true"
          ? await nabScore(c, `${dir}/onset`, fams, null)
          : { score: null, fp: 0 };
        const a = await nabScore(c, `${dir}/alert`, fams, 0.5);
        (scores.onset[label] ??= []).push(o.score);
        (scores.alert[label] ??= []).push(a.score);
        (scores.onsetFp[label] ??= []).push(o.fp);
        (scores.alertFp[label] ??= []).push(a.fp);
      }
    }
    const means = (x: Record<string, (number | null)[]>) =>
      Object.fromEntries(Object.entries(x).map(([k, v]) => [k, mean(v)]));
    const row = {
      name: grid[g].name,
      set: grid[g].set,
      onset: means(scores.onset),
      alert: means(scores.alert),
      onsetFp: means(scores.onsetFp),
      alertFp: means(scores.alertFp),
      byKind: tally.byKind,
      falseAlerts: tally.falseAlerts,
      byFamily: tally.byFamily,
      carriers: tally.carriers,
    };
    table.push(row);
    console.error(
      `${name} ${row.name.padEnd(18)} onset all ${fmt(row.onset.all)} | ${
        c.families.map((f) => `${f} ${fmt(row.onset[f])}`).join(" ")
      } || alert all ${fmt(row.alert.all)} | ${
        c.families.map((f) => `${f} ${fmt(row.alert[f])}`).join(" ")
      }`,
    );
    // (exact mode with --reuse skips the replays it keeps: no tally then)
    const k = flags.seeds.length;
    console.error(
      `${name} ${row.name.padEnd(18)} windows an alert opened in, per kind (mean over seeds): ${
        Object.entries(row.byKind).map(([kind, t]) =>
          `${kind} ${(t.hit / k).toFixed(1)}/${t.windows / k}`
        ).join(", ")
      }; false alerts ${(row.falseAlerts / k).toFixed(1)}`,
    );
    console.error(
      `${name} ${
        row.name.padEnd(18)
      } per family (windows found, false alerts, on files without windows; a seed): ${
        Object.entries(row.byFamily).map(([f, t]) =>
          `${f} ${(t.hit / k).toFixed(1)}/${t.windows / k} ${(t.falseAlerts / k).toFixed(1)} ${
            (t.quiet / k).toFixed(1)
          }`
        ).join(", ")
      }`,
    );
    if (flags.sources === "true") {
      console.error(
        `${name} ${row.name.padEnd(18)} noise files' false alerts by what carries them (a seed): ${
          Object.entries(row.carriers).sort().map(([w, n]) => `${w} ${(n / k).toFixed(2)}`)
            .join(", ") || "none"
        }`,
      );
    }
  }
  // 3. leave one family out, for each column
  const lofo: Record<
    string,
    Record<
      string,
      { chosen: string; heldOut: number | null; heldOutFp: number | null; onOthers: number | null }
    >
  > = {};
  for (const col of ["onset", "alert"] as const) {
    lofo[col] = {};
    for (const f of c.families) {
      // the best on the other families; on a tie the earlier candidate (the grid
      // lists the simpler first)
      let best = -Infinity, k = 0;
      table.forEach((row, i) => {
        const v = row[col][`not ${f}`] ?? -Infinity;
        if (v > best) [best, k] = [v, i];
      });
      lofo[col][f] = {
        chosen: table[k].name,
        heldOut: table[k][col][f],
        heldOutFp: table[k][col === "onset" ? "onsetFp" : "alertFp"][f],
        onOthers: best,
      };
    }
    console.error(`${name} leave-one-family-out, ${col}:`);
    for (const [f, v] of Object.entries(lofo[col])) {
      console.error(
        `  held out ${f.padEnd(24)} chosen ${v.chosen.padEnd(18)} (others ${
          fmt(v.onOthers)
        }) held-out score ${
          v.heldOut === null
            ? `- (no windows; ${fmt(v.heldOutFp)} false-positive rows)`
            : fmt(v.heldOut)
        }`,
      );
    }
  }
  emitResult({ bench: "lofo", corpus: name, seeds: flags.seeds, table, lofo });
  tables.set(name, { families: c.families, rows: table });
}

// 4. both corpora: leave one of the eight families out. The candidate
// chosen for family F of one corpus has the best mean of its score on that
// corpus without F and its score on all of the other corpus (NAB's
// normalised scores are per corpus, so the two are averaged, not pooled);
// a tie goes to the earlier candidate.
if (tables.size === 2) {
  const [a, b] = [tables.get("nab")!, tables.get("synthetic")!];
  const eight: Record<string, Record<string, unknown>> = {};
  for (const col of ["onset", "alert"] as const) {
    eight[col] = {};
    console.error(`both corpora, leave one of the eight families out, ${col}:`);
    for (const [own, other] of [[a, b], [b, a]]) {
      for (const f of own.families) {
        let best = -Infinity, k = 0;
        own.rows.forEach((row, i) => {
          const v = ((row[col][`not ${f}`] ?? -Infinity) + (other.rows[i][col].all ?? -Infinity)) /
            2;
          if (v > best) [best, k] = [v, i];
        });
        const row = own.rows[k], held = row[col][f];
        const fp = row[col === "onset" ? "onsetFp" : "alertFp"][f];
        eight[col][f] = { chosen: row.name, heldOut: held, heldOutFp: fp, onOthers: best };
        console.error(
          `  held out ${f.padEnd(24)} chosen ${row.name.padEnd(18)} (others ${fmt(best)}) ${
            held === null ? `- (no windows; ${fmt(fp)} false-positive rows)` : fmt(held)
          }`,
        );
      }
    }
  }
  emitResult({ bench: "lofo", corpus: "both", seeds: flags.seeds, lofo: eight });
}
