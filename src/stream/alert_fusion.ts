/**
 * The drift detector's evidence fused after the scorer: what the alerts
 * open on, without touching what anything learns.
 *
 * The scorer (anomaly.ts) fuses the forecast residuals' evidence with the
 * shape detector's (the smaller p-value, Bonferroni over two), and that
 * evidence decides what the models and the anomaly path learn: the guards'
 * freshness, the evidence guard, and, through the alerts' warm-up and the
 * false-alarm budget's record, which readings count as young or quiet
 * (scoring.ts). The drift detector (drift.ts) is fused here, after it: the
 * alerts' evidence is the harmonic mean p-value of all three detectors
 * (anomaly.ts, fuseEvidence "hmp"; the Cauchy combination's form for small
 * p-values, close to valid under the detectors' dependence),
 *
 *   λ = ln(e^λ_residual + e^λ_shape + e^λ_drift) - ln 3,
 *
 * never below Bonferroni's max(λ_residual, λ_shape, λ_drift) - ln 3 and at
 * most ln 3 above it, where the three agree (the tenth round of issue 11,
 * chosen by leave-one-family-out over both development sets); the drift
 * detector before it scores gives no p-value (NaN) and is left out of the
 * sum and of the ln 3 (then ln(e^λ_residual + e^λ_shape) - ln 2: the
 * eleventh round; it counted as p = 1 in the sum before),
 * with its own onset rule (onset_rule.ts, its own rings, each held as its
 * latest entry),
 * its own alert machine (the stream's `alerts`, what a user is sent) and its
 * own false-alarm budget (the stream's `budget`, which must count the
 * evidence it sets the threshold of). The scorer's side keeps the alert
 * machine and the budget it had without the drift detector (`base`,
 * `baseBudget` here): they decide which readings are in the alerts' warm-up
 * and whether the budget sets the threshold yet, as they did before, so that
 * with the drift detector on the forecasts and everything learned are the
 * same, to the bit, as with it off. A drift alert therefore never pauses
 * learning: the models learn a drift (they must follow a slow change), the
 * detector restarts after reporting it (drift.ts).
 *
 * The drift detector's alerts are its own: an alert may open on a reading
 * that is fresh by the fused evidence (above every fresh reading of the
 * refractory period, onset_rule.ts) or on one where the drift detector's
 * part of the fused evidence, λ_drift - ln 3, reaches the threshold the
 * alerts open at by itself and is above every reading of the refractory
 * period fresh by that same rule. A burst of forecast residuals thus no
 * longer holds off, for a whole refractory period, a change of the day the
 * drift detector sees hours later (a synthetic change of period 447
 * readings after a false alert of 13.2 nats, reported at 11.2), while the
 * drift detector's echo of a residuals' incident (its hour holding the
 * incident's readings, below the threshold on its own) opens nothing: one
 * alert per incident. Of the readings fresh by one rule within a
 * refractory period each is larger than every earlier one, so the largest
 * is the latest and the drift detector's rule keeps two numbers, not a
 * ring. The onsets (what NAB scores) stay those of the fused evidence.
 *
 * A stuck sensor's run (shape_stuck.ts, the shape detector's evidence for
 * a value repeated exactly) opens alerts by the same rule as the drift
 * detector: its part, λ_stuck - ln 2 - ln tests (a second look of the
 * shape detector's, Bonferroni's within its share), is the alerts'
 * evidence where it is the larger, and a reading is fresh by it where it
 * reaches the threshold the alerts open at and is above every reading of
 * the refractory period fresh by this same rule (two numbers more in the
 * `fusion` scalars; a checkpoint written before them restores them at
 * zero). It moves neither the fused evidence nor the onsets (what NAB's
 * optimised score ranks): counted in the fusion it made onsets of every
 * long run on the NAB files whose values rest at zero (the twelfth round
 * of issue 11).
 *
 * Detectors that agree (`agreeingPairs`, on in the presets with a drift
 * detector: the fifteenth round of issue 11) open alerts by the same rule:
 * each pair of the detectors that give a p-value is combined by Fisher's
 * method, -ln P(Γ(2, 1) >= λ_i + λ_j), and the part is the pairs' harmonic
 * mean less ln 2 (a second look, as a change of level's),
 *
 *   λ_pairs = ln Σ_pairs e^λ_ij - ln k - ln 2   (k pairs: 3, or 1 while
 *                                                 the drift detector is not
 *                                                 scoring),
 *
 * the alerts' evidence at the reading it is fresh (two numbers more in the
 * `fusion` scalars, 23; a checkpoint of 21 restores them at zero). The
 * harmonic mean counts two detectors that agree for at most ln 3 more than
 * one alone; Fisher's method adds their evidence (the residuals at 9.76
 * nats and the shape detector at 7.59: 9.18 fused, 13.75 by this part).
 * Fisher's method is
 * exact for independent detectors, and the residuals and the shape detector
 * see the same readings: the false-alarm budget of this part rests on the
 * measured noise files (no false alert added), not on a proof. It moves
 * neither the fused evidence nor the onsets.
 *
 * With the drift detector off there is nothing to fuse: the
 * alerts' evidence is the scorer's, `base` is the stream's `alerts` and
 * `baseBudget` its `budget`, and this holds no state.
 *
 * State (drift detector on): one Float64Array, the checkpoint's
 * `fusionState`: the base budget's record (BUDGET_BINS), 200 doubles, 1,600
 * bytes; the scalars travel as the checkpoint's `fusion`, with the rings of
 * onsets and fresh readings as their latest entries (LatestRing: value and
 * slot each; a checkpoint written before the drift detector's own rule has
 * none of its two, it starts afresh). A checkpoint written while the rings
 * were dense (`fusionState` held them, refractory doubles each, before the
 * budget's record) restores through {@link reduceFusionRings}. Per reading
 * O(1) besides the budget's.
 */
import { AlertMachine, type AlertOptions, evidenceToUnit, fuseEvidence } from "./anomaly.ts";
import { unitToEvidence } from "./anomaly.ts";
import { LatestRing, type OnsetRings, stepOnset } from "./onset_rule.ts";
import { AlertBudget, BUDGET_BINS, type BudgetOptions } from "./budget.ts";
import { DOUBLE_ZERO } from "../model/floats.ts";
import { PairsRecord } from "./pairs_record.ts";

/** The onset rule's settings (the preset's `anomaly`). */
export interface FusionOptions extends AlertOptions {
  /** Readings after an onset during which only stronger evidence is another onset. */
  refractory: number;
  /** Nats by which evidence must exceed the incident's onset to be an onset of its own. */
  escalation: number;
  /** Nats by which evidence must exceed every onset of the refractory period (onset_rule.ts). */
  onsetMargin?: number;
  /** How the detectors' evidence is fused: "hmp" (the default) or "min" (Bonferroni's). */
  fusion?: "hmp" | "min";
  /** Pairs of detectors that agree, by Fisher's method, open alerts by their own rule (unset: no). */
  agreeingPairs?: boolean;
  /** The agreeing pairs open at their own record's bar (pairs_record.ts; unset: at the alerts'). */
  pairsRecord?: boolean;
}

const EMPTY = new Float64Array(0);

/** The parts that open alerts by their own rule (indices of {@link AlertFusion.partPeak}). */
export const DRIFT_PART = 0;
export const STUCK_PART = 1;
export const LEVEL_PART = 2;
export const PAIRS_PART = 3;
const PARTS = 4;

/** The scalars of a fusion in the checkpoint (see {@link AlertFusion.scalars}). */
export type FusionScalars = [
  runOnset: number,
  count: number,
  state: AlertMachine["state"],
  seen: number,
  run: number,
  runOnsetSeen: boolean,
  duration: number,
  readings: number,
  pending: number,
  last: number,
  threshold: number,
  driftPeak?: number,
  driftPeakAt?: number,
  onset?: number,
  onsetSlot?: number,
  peak?: number,
  peakSlot?: number,
  stuckPeak?: number,
  stuckPeakAt?: number,
  levelPeak?: number,
  levelPeakAt?: number,
  pairsPeak?: number,
  pairsPeakAt?: number,
  pairsReadings?: number,
  pairsPending?: number,
  pairsLast?: number,
];

/** The alerts' evidence with the drift detector's fused after the scorer. */
export class AlertFusion implements OnsetRings {
  readonly opts: FusionOptions;
  /** Whether there is a drift detector to fuse (else a pass-through with no state). */
  readonly enabled: boolean;
  /** The whole state (all zeros: new): the base budget's bins. */
  readonly state: Float64Array;
  readonly onsets = new LatestRing();
  readonly peaks = new LatestRing();
  /** The alert machine of the scorer's evidence (the stream's `alerts` when not enabled). */
  readonly base: AlertMachine;
  /** The false-alarm budget of the scorer's evidence (the stream's `budget` when not enabled). */
  readonly baseBudget: AlertBudget;
  runOnset = DOUBLE_ZERO;
  fresh = false;
  /** Readings fused. */
  count = 0;
  /**
   * Per part that opens alerts by its own rule ({@link DRIFT_PART},
   * {@link STUCK_PART}, {@link LEVEL_PART}, {@link PAIRS_PART}): the part's evidence at its latest reading fresh by
   * that rule, and that reading's {@link count}: the largest of the
   * refractory period while `count - partPeakAt[i] < refractory`.
   */
  readonly partPeak = new Float64Array(PARTS);
  readonly partPeakAt = new Float64Array(PARTS);
  // outputs of the last update()
  /** The alerts' evidence (nats). */
  smoothed = DOUBLE_ZERO;
  likelihood = DOUBLE_ZERO;
  /** The likelihood at an onset, else 0. */
  onset = DOUBLE_ZERO;
  // the inputs of the last update() (see there)
  // (doubles from the start: see DOUBLE_ZERO)
  #residual = DOUBLE_ZERO;
  #shape = DOUBLE_ZERO;
  #drift = DOUBLE_ZERO;
  #stuck = DOUBLE_ZERO;
  #level = DOUBLE_ZERO;
  #tests = 1;
  #openAt = DOUBLE_ZERO;
  /**
   * Each part's evidence at the last reading fused, by {@link DRIFT_PART}
   * and the others (numbers in an array: no heap number).
   */
  readonly part = new Float64Array(PARTS);
  /** With `pairsRecord` (and the pairs on): the pairs' own record (pairs_record.ts), else null. */
  readonly pairsRecord: PairsRecord | null;
  /** The stream's alerts (the pairs' record counts no reading inside an open alert). */
  readonly #alerts: AlertMachine;
  #periodMs = DOUBLE_ZERO; // (NaN until the period is known: a double)
  /** The level the pairs' part must reach at the last reading fused (nats). */
  #pairsAt = DOUBLE_ZERO;

  constructor(
    enabled: boolean,
    opts: FusionOptions,
    budget: BudgetOptions,
    alerts: AlertMachine,
    alertBudget: AlertBudget,
  ) {
    this.opts = opts;
    this.enabled = enabled;
    this.state = enabled ? new Float64Array(BUDGET_BINS) : EMPTY;
    this.base = enabled ? new AlertMachine(opts) : alerts;
    this.baseBudget = enabled ? new AlertBudget(budget, this.state) : alertBudget;
    this.#alerts = alerts;
    const record = enabled && opts.agreeingPairs === true && opts.pairsRecord === true;
    this.pairsRecord = record ? new PairsRecord(budget) : null;
  }

  /**
   * Fuses one scored reading: the residuals' smoothed evidence, the shape
   * detector's and the drift detector's (0 while not scoring), over `tests`
   * detectors; `quiet` (the alerts warming up) gives no onset; `openAt`,
   * the evidence (nats) of the alerts' threshold as it stands (set at the
   * reading before: the budget moves it slowly), is what the drift
   * detector's part must reach to be fresh by its own rule; `stuck`, the
   * shape detector's evidence for a stuck run (shape_stuck.ts; 0: none),
   * the same for its part; `level`, the residuals' evidence for a change of
   * level (level_shift.ts; 0: none), the same; `periodMs`, the stream's
   * sampling period (the pairs' record's rate per week; 0: unknown).
   */
  update(
    residual: number,
    shape: number,
    drift: number,
    tests: number,
    quiet: boolean,
    openAt: number,
    stuck = 0,
    level = 0,
    periodMs = 0,
  ): void {
    // the numbers travel in fields: a double passed to a call V8 does not
    // inline (#fuse) would be a new heap object every reading
    this.#residual = residual;
    this.#shape = shape;
    this.#drift = drift;
    this.#tests = tests;
    this.#openAt = openAt;
    this.#stuck = stuck;
    this.#level = level;
    this.#periodMs = periodMs;
    this.#fuse(quiet);
  }

  /** Fuses the reading whose evidence {@link update} set. */
  #fuse(quiet: boolean): void {
    const R = this.opts.refractory, n = this.count;
    const residual = this.#residual, shape = this.#shape, drift = this.#drift;
    const tests = this.#tests;
    // the harmonic mean p-value of the detectors that give one,
    // ln(e^λr + e^λs + e^λd) - ln tests, or, `fusion` "min", Bonferroni's
    // (the strongest less ln tests). A detector that gives none (NaN: the
    // drift detector before it scores, a shape detector that does not run)
    // is left out of both, the sum and `tests`; the shape detector counts as
    // the scorer counts it, p = 1 until it scores.
    const s0 = Number.isNaN(shape) ? 0 : shape, d0 = Number.isNaN(drift) ? 0 : drift;
    if (this.opts.fusion === "min") {
      this.smoothed = fuseEvidence(Math.max(residual, s0), d0, "min", tests);
    } else {
      let sum = Math.max(0, residual); // ln Σ e^λ, built up without overflow
      if (!Number.isNaN(shape)) sum = fuseEvidence(sum, shape, "hmp", 1);
      if (!Number.isNaN(drift)) sum = fuseEvidence(sum, drift, "hmp", 1);
      this.smoothed = Math.max(0, sum - Math.log(tests));
    }
    this.likelihood = evidenceToUnit(this.smoothed);
    const starts = stepOnset(
      this,
      n % R,
      this.smoothed,
      quiet,
      this.opts.escalation,
      this.opts.onsetMargin,
    );
    this.onset = starts ? this.likelihood : 0;
    // the parts that open alerts by their own rule: the drift detector's
    // part of the fused evidence, a stuck run's (a second look of the shape
    // detector's: the alerts' evidence where it is the larger, while the run
    // lasts) and a change of level's (a second look of the residuals': the
    // alerts' evidence at the reading it is fresh, so it opens an alert but
    // does not hold it open while its sum stays high) and, the same way,
    // agreeing pairs' (`agreeingPairs`); the onset above stays the fused
    // evidence's
    const part = this.part;
    part[DRIFT_PART] = Math.max(0, d0 - Math.log(tests));
    part[STUCK_PART] = Math.max(0, this.#stuck - Math.log(2 * tests));
    part[LEVEL_PART] = Math.max(0, this.#level - Math.log(2 * tests));
    part[PAIRS_PART] = 0;
    if (this.opts.agreeingPairs) {
      // each pair of the detectors that give a p-value by Fisher's method,
      // -ln P(Γ(2, 1) >= x) = x - ln(1 + x) at x = λ_i + λ_j (anomaly.ts's
      // gammaTailEvidence), then ln Σ e^λ_ij over the k pairs (fuseEvidence
      // "hmp") less ln k, written out: Maglev keeps a double that a call it
      // does not inline returns, or that `?:` or a branch's join picks, as a
      // new heap object every reading
      const hasShape = !Number.isNaN(shape), hasDrift = !Number.isNaN(drift);
      if (hasShape && hasDrift) {
        const r = Math.max(0, residual), s = Math.max(0, shape), d = Math.max(0, drift);
        const xrs = r + s, xrd = r + d, xsd = s + d;
        const rs = xrs - Math.log(1 + xrs), rd = xrd - Math.log(1 + xrd);
        const sd = xsd - Math.log(1 + xsd);
        const two = Math.max(rs, rd) + Math.log1p(Math.exp(-Math.abs(rs - rd)));
        const three = Math.max(two, sd) + Math.log1p(Math.exp(-Math.abs(two - sd)));
        part[PAIRS_PART] = Math.max(0, three - Math.log(3) - Math.LN2);
      } else if (hasShape) {
        const x = Math.max(0, residual) + Math.max(0, shape);
        part[PAIRS_PART] = Math.max(0, x - Math.log(1 + x) - Math.LN2);
      } else if (hasDrift) {
        const x = Math.max(0, residual) + Math.max(0, drift);
        part[PAIRS_PART] = Math.max(0, x - Math.log(1 + x) - Math.LN2);
      }
    }
    // the pairs' bar: their own record's, where they reach the alerts' threshold
    this.#pairsAt = this.#openAt;
    const rec = this.pairsRecord;
    if (rec !== null && part[PAIRS_PART] >= this.#openAt) {
      rec.raise(this.#periodMs, this.#openAt, unitToEvidence(this.opts.threshold));
      this.#pairsAt = rec.bar;
    }
    let own = part[STUCK_PART];
    for (let i = 0; i < PARTS; i++) {
      if (!this.#freshBy(i, quiet)) continue;
      this.fresh = true;
      if (i === LEVEL_PART || i === PAIRS_PART) own = Math.max(own, part[i]);
    }
    if (own > this.smoothed) this.likelihood = evidenceToUnit(own);
    this.count++;
  }

  /**
   * Whether part `i`'s evidence at this reading is fresh by its own rule:
   * at the threshold the alerts open at ({@link update}'s `openAt`) and
   * above every reading fresh by this rule in the refractory period (the
   * latest is the largest). (Numbers from fields and arrays, an index and a
   * flag as arguments: no heap number per call.)
   */
  #freshBy(i: number, quiet: boolean): boolean {
    const v = this.part[i], n = this.count;
    const openAt = i === PAIRS_PART ? this.#pairsAt : this.#openAt;
    const peak = n - this.partPeakAt[i] < this.opts.refractory ? this.partPeak[i] : 0;
    if (quiet || !(v >= openAt) || !(v > peak)) return false;
    this.partPeak[i] = v;
    this.partPeakAt[i] = n;
    return true;
  }

  /**
   * Counts the last reading fused in the pairs' own record, unless an alert
   * is open: the stream calls it where the alerts' budget learns.
   */
  learnPairs(): void {
    if (this.#alerts.state === "normal") this.pairsRecord?.update(this.part[PAIRS_PART]);
  }

  /** The checkpoint's arrays: `fusionState` and, with the pairs' own record, `pairsState`. */
  arrays(): Record<string, Float64Array> {
    if (!this.enabled) return {};
    const rec = this.pairsRecord;
    return rec ? { fusionState: this.state, pairsState: rec.bins } : { fusionState: this.state };
  }

  /**
   * The scalars the checkpoint keeps: the run, the count, the base machine
   * and budget, the drift detector's latest fresh reading, the rings' latest
   * entries, the stuck runs', a change of level's and the agreeing pairs'
   * latest fresh readings.
   */
  scalars(): FusionScalars {
    const b = this.base, g = this.baseBudget;
    return [
      this.runOnset,
      this.count,
      ...b.scalars(),
      g.readings,
      g.pending,
      g.last,
      b.threshold,
      this.partPeak[DRIFT_PART],
      this.partPeakAt[DRIFT_PART],
      this.onsets.value,
      this.onsets.slot,
      this.peaks.value,
      this.peaks.slot,
      this.partPeak[STUCK_PART],
      this.partPeakAt[STUCK_PART],
      this.partPeak[LEVEL_PART],
      this.partPeakAt[LEVEL_PART],
      this.partPeak[PAIRS_PART],
      this.partPeakAt[PAIRS_PART],
      ...(this.pairsRecord?.scalars() ?? []),
    ] as FusionScalars;
  }

  /**
   * Puts back {@link scalars}. Without them (a checkpoint written before the
   * fusion, whose alerts fused the drift detector in the scorer), the base
   * machine and budget start as copies of the stream's `alerts` and
   * `budget`, and the rings afresh.
   */
  restoreScalars(s: FusionScalars | undefined, alerts: AlertMachine, budget: AlertBudget): void {
    if (!this.enabled) return;
    // the pairs' record's scalars, 23..25 (a checkpoint of 23: an empty record)
    this.pairsRecord?.restoreScalars(s && s.length >= 26 ? s.slice(23, 26) as number[] : null);
    const b = this.base, g = this.baseBudget;
    if (!s) g.bins.set(budget.bins);
    [
      this.runOnset,
      this.count,
      b.state,
      b.seen,
      b.run,
      b.runOnset,
      b.duration,
      g.readings,
      g.pending,
      g.last,
      b.threshold,
      this.partPeak[DRIFT_PART] = 0,
      this.partPeakAt[DRIFT_PART] = 0,
      this.onsets.value = 0,
      this.onsets.slot = 0,
      this.peaks.value = 0,
      this.peaks.slot = 0,
      this.partPeak[STUCK_PART] = 0,
      this.partPeakAt[STUCK_PART] = 0,
      this.partPeak[LEVEL_PART] = 0,
      this.partPeakAt[LEVEL_PART] = 0,
      this.partPeak[PAIRS_PART] = 0,
      this.partPeakAt[PAIRS_PART] = 0,
    ] = s ?? [
      0,
      0,
      ...alerts.scalars(),
      budget.readings,
      budget.pending,
      budget.last,
      alerts.threshold,
    ];
  }
}

/**
 * The format step for a checkpoint written while the fusion's rings were
 * dense: its `fusionState` held the onsets' and the fresh readings' rings
 * (`refractory` doubles each) before the base budget's record. Each ring
 * reduces to its latest entry (its largest: onset_rule.ts), appended to the
 * `fusion` scalars (after the drift detector's two, 0 when absent), and
 * `fusionState` keeps the record. Any other checkpoint is left as it is
 * (a `fusionState` of another length is refused by the restore, naming it).
 */
export function reduceFusionRings(
  arrays: Record<string, ArrayLike<number>>,
  scalars: { fusion?: FusionScalars },
  refractory: number,
): void {
  const a = arrays.fusionState, R = refractory;
  if (!(a instanceof Float64Array) || a.length !== 2 * R + BUDGET_BINS) return;
  arrays.fusionState = a.slice(2 * R);
  const s = scalars.fusion;
  if (!Array.isArray(s) || s.length > 13) return; // refused by the restore's checks
  const onsets = new LatestRing(), peaks = new LatestRing();
  onsets.load(a.subarray(0, R));
  peaks.load(a.subarray(R, 2 * R));
  while (s.length < 13) s.push(0);
  s.push(onsets.value, onsets.slot, peaks.value, peaks.slot);
}
