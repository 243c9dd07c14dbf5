/**
 * One stream's online forecaster: a vector of I values per timestamp, J of
 * them forecast, Hmax steps ahead, by experts (expert.ts, registered in
 * experts.ts) that a blend weighs per (target, horizon).
 *
 * Per reading, in this order ({@link StreamModel.observe}):
 *   1. score it against the forecasts made for it (residuals, interval hits,
 *      the experts' and the blend's errors, the anomaly score);
 *   2. learn from it, unless it is anomalous (an anomaly does not become the
 *      new normal) or the stream is frozen: the blend, the normalisers, the
 *      change limits, then each expert;
 *   3. step the alert machine;
 *   4. advance: each expert's live state, then the history ring;
 *   5. forecast the next 1..Hmax steps with every ready expert, blend them
 *      per (target, horizon), and put intervals around the blend.
 *
 * Learning is leak-free: a value trains a model only once it has arrived.
 * The blend starts with persistence and then weighs the experts by the
 * combination that has had the least squared error lately (blend.ts), so a
 * new model is never worse than the simple forecasts for long.
 *
 * Time: the sampling period is the configured one or, by evidence, the
 * median of the intervals between readings, estimated again when the recent
 * intervals disagree with it for a while (period_estimator.ts); the season
 * in readings follows from it. A reading at or before the last timestamp is
 * rejected (duplicate, out of order). A gap longer than `gaps.maxPeriods`
 * periods resets the windows (the experts' live state and training windows,
 * the history, pending forecasts) and keeps every learned weight; when gaps
 * come often, the reading that makes them too many says so
 * (`Observation.periodWarning`). {@link StreamModel.rewind} does the same
 * on purpose and forgets the last timestamp, so the same readings can be fed
 * again.
 *
 * Bad input changes nothing: every reading is checked completely before
 * anything is touched (reading_error.ts, value_bounds.ts). A model gone bad
 * is repaired after the reading (divergence_guard.ts), and a checkpoint is
 * checked before it restores (restore_check.ts).
 *
 * Where the rest lives: the reading checks (reading_error.ts), the history
 * ring (history.ts), the origin slots (origin_slots.ts), the change limits
 * (change_limits.ts), the read models (read_models.ts), the alert events
 * (alert_event.ts), the scoring of a reading (scoring.ts), the checkpoint
 * and its migrations (stream_state.ts over state.ts), anomaly scores and the
 * alert machine (anomaly.ts), the shape detector (shape.ts) and the
 * false-alarm budget (budget.ts).
 *
 * Three alert machines run side by side: `alerts` opens the alerts a user
 * is sent, on the fused evidence (the residuals' and the shape detector's)
 * at the threshold the stream's false-alarm budget sets (budget.ts; the
 * preset's `anomaly.threshold` without one); `guard`, on the residuals'
 * evidence alone at the preset's fixed threshold, decides what the models do
 * not learn from: a reading the forecasts missed by far must not pull them
 * off, but a shape never seen before is what they must learn; and
 * `evidenceGuard`, on the fused evidence at the fixed threshold, what the
 * anomaly path (the surprise histogram, the shape memory, the budget's
 * record) does not learn from: an anomaly of either kind must not become
 * the norm it is judged by. Without the shape detector and a budget the
 * three move step for step. The drift detector's evidence is fused after
 * the scorer (alert_fusion.ts): it opens alerts, and the scorer's side
 * keeps its own alert machine and budget (`fusion.base`, `fusion.baseBudget`)
 * for the warm-up and young-stream rules, so that it changes nothing learned.
 *
 * Longer than 500 lines: observe()'s orchestration with its three alert
 * machines (the alerts at the budget, the learning guard at the fixed
 * threshold, the anomaly path's own record) and the read models share the
 * stream's private state; every concept that stands alone is a file of its
 * own (the experts, blend, history ring, origin slots, state codec, alert
 * text, shape detector, budget, period estimator, divergence guard).
 */
import type { Network, Workspace } from "../model/network.ts";
import { Normalizer } from "../model/normalize.ts";
import type { OnlineTrainer } from "../model/tbptt.ts";
import type { AlertEvent } from "../domain/alert.ts";
import type { Preset } from "./preset.ts";
import { Blend, blendBlock } from "./blend.ts";
import { Intervals, intervalsBlock } from "./intervals.ts";
import {
  AlertMachine,
  AnomalyScorer,
  evidenceToUnit,
  type MachineScalars,
  RangeTracker,
  scorerBlock,
  unitToEvidence,
} from "./anomaly.ts";
import { SHAPE_BLOCKS, shapeBlock, ShapeDetector } from "./shape.ts";
import { StuckRuns } from "./shape_stuck.ts";
import { DriftDetector } from "./drift.ts";
import { levelRestart, LevelShift } from "./level_shift.ts";
import { AlertFusion } from "./alert_fusion.ts";
import { AlertBudget, BUDGET_BINS } from "./budget.ts";
import type { Expert, ExpertContext, ExpertFactory } from "./expert.ts";
import { EXPERTS } from "./experts.ts";
import { LstmExpert } from "./lstm_expert.ts";
import { History } from "./history.ts";
import { BlockArena, blockBytes, sharedBlock, typedBlock } from "../model/typed_block.ts";
import { MAX_SEASON } from "./season_profile.ts";
import { originBlock, OriginSlots } from "./origin_slots.ts";
import { ChangeLimits } from "./change_limits.ts";
import { checkReading, ReadingError } from "./reading_error.ts";
import { ValueBounds, type ValueBoundsOptions } from "./value_bounds.ts";
import { PERIOD_DEFAULTS, PeriodEstimator } from "./period_estimator.ts";
import {
  type Forecast,
  type HorizonStats,
  type IntervalStatus,
  type Observation,
  type PeriodWarning,
  readExpertForecast,
  readForecast,
  readLatest,
  readStats,
} from "./read_models.ts";
import { alertEvent } from "./alert_event.ts";
import { scoreReading } from "./scoring.ts";
import { encodeStream, restoreStream, stateArrays } from "./stream_state.ts";
import { checkRestored, type RestoreCheckOptions } from "./restore_check.ts";
import {
  divergedExperts,
  divergedParts,
  SCAN_EVERY,
  signsOfDivergence,
} from "./divergence_guard.ts";

export { ReadingError };
export type { Forecast, HorizonStats, IntervalStatus, Observation, PeriodWarning };

/** How to build a stream. */
export interface StreamOptions {
  id: string;
  preset: Preset;
  /** Names of the I values of each reading, in order. */
  columns: string[];
  /** Names of the values to forecast (default: all columns). */
  targets?: string[];
  /** Sampling period in ms (default: the interval between the first two readings). */
  periodMs?: number;
  /** Scratch shared with other streams of the same LSTM shape. */
  workspace?: Workspace<Float32Array>;
  /** How large a value may be (value_bounds.ts; default |x| <= 1e15, 1e6 widths of its range). */
  bounds?: ValueBoundsOptions;
}

/** The lowest evidence (nats) a false-alarm budget may open alerts at: one in a hundred. */
export const BUDGET_FLOOR = Math.log(100);

/** One stream's online forecaster. */
export class StreamModel implements ExpertContext {
  readonly id: string;
  readonly preset: Preset;
  readonly columns: string[];
  readonly targets: string[];
  /** Column index of each target (J). */
  readonly targetIndex: Int32Array;
  readonly I: number = 0;
  readonly J: number = 0;
  readonly Hm: number = 0;
  /** The experts, in blend order (see experts.ts), E of them. */
  readonly experts: readonly Expert[];
  readonly E: number = 0;
  readonly expertNames: string[];
  readonly workspace?: Workspace<Float32Array>;
  readonly level: Normalizer;
  readonly change: Normalizer;
  readonly history: History;
  /** The range of each column's values, and how far beyond it a value may lie. */
  readonly bounds: ValueBounds;
  readonly origins: OriginSlots;
  readonly limits: ChangeLimits;
  readonly blend: Blend;
  readonly intervals: Intervals;
  readonly scorer: AnomalyScorer;
  readonly range: RangeTracker;
  readonly alerts: AlertMachine;
  /**
   * The learning guard: the alert machine on the residuals' evidence alone
   * at the preset's fixed `threshold`, whatever the budget and the shape
   * detector; while it is in an anomaly the models do not learn.
   */
  readonly guard: AlertMachine;
  /**
   * The evidence guard: the alert machine on the fused evidence at the
   * preset's fixed `threshold`; while it is in an anomaly the surprise
   * histogram, the shape memory and the budget's record do not learn.
   */
  readonly evidenceGuard: AlertMachine;
  /** The second detector: the novelty of the recent values' shape (shape.ts). */
  readonly shape: ShapeDetector;
  /**
   * The shape detector's evidence for a stuck sensor: runs of one value
   * (shape_stuck.ts). Null without the shape detector or without the drift
   * detector: its evidence enters the alerts through the fusion alone
   * (alert_fusion.ts), so with either off it is neither kept nor counted.
   */
  readonly stuck: StuckRuns | null;
  /** The forecast residuals' evidence for a change of level: their CUSUM (level_shift.ts). */
  readonly levelShift: LevelShift;
  /** The third detector: the recent days' deviation from the learned day (drift.ts). */
  readonly drift: DriftDetector;
  /** The false-alarm budget that sets the alerts' threshold (budget.ts). */
  readonly budget: AlertBudget;
  /**
   * The drift detector's evidence fused after the scorer (alert_fusion.ts),
   * with the alert machine and budget of the scorer's evidence (the
   * stream's `alerts` and `budget` without a drift detector).
   */
  readonly fusion: AlertFusion;
  /** Whether the open (or last) alert paused learning: it reached the guard's threshold. */
  alertPaused = true;
  /** Scratch (J), shared: the targets' normalised values, for the shape and drift detectors. */
  readonly zJ: Float64Array;
  /** Squared errors (Hm, J, E + 1) of each expert and, last, the blend, raw units. */
  readonly sqErr: Float64Array;
  /** Forecasts scored per horizon (Hm). */
  readonly scoredCount: Float64Array;
  /** Learning switched off by the user. */
  frozen = false;

  // time and counters
  /** The sampling period, configured or estimated from the intervals. */
  readonly period: PeriodEstimator;
  /** Season in readings, 0 for none. */
  season = 0;
  /** Time of the newest reading (ms), NaN before the first and after a rewind. */
  lastTs = NaN;
  /** Number of the newest reading (1 for the first). */
  step = 0;
  readings = 0;
  learnedReadings = 0;
  gaps = 0;
  /** When the open (or last) anomaly began (ms). */
  anomalySince = NaN;
  /** Step of the last reading not learned from (anomalous or frozen). */
  lastSkipped = -1;
  /** Parts of the model the divergence guard has re-initialised (divergence_guard.ts). */
  recoveries = 0;
  /** The interval state was reset by the guard: an interval not calibrated since is recalibrating. */
  intervalsReset = false;
  #pendingEvent: AlertEvent | null = null;
  /** The LSTM expert, if the preset has it. */
  #lstm: LstmExpert | undefined;
  /** The factory of each expert, to re-initialise one. */
  readonly #factories: ExpertFactory[];
  /** The options the stream was built with. */
  readonly #options: StreamOptions;
  /** Experts that threw during the current reading, bit e for expert e. */
  #failed = 0;
  /** The stream's scalars before the current reading, to put back if it fails (shared scratch). */
  readonly #saved: Float64Array;
  /** The current reading made gaps too frequent (see PeriodEstimator.countGap). */
  #periodWarning = false;
  #savedEvent: AlertEvent | null = null;
  /** Scratch (I), shared: the change of each column since the previous reading. */
  readonly #row: Float64Array;

  constructor(opts: StreamOptions) {
    const p = opts.preset;
    this.id = opts.id;
    this.preset = p;
    this.columns = [...opts.columns];
    // written a second time: V8 takes a field never written again for a
    // constant, and the first alert would throw away the optimised code
    // that relied on it
    this.#pendingEvent = null;
    this.alertPaused = true;
    this.anomalySince = NaN;
    if (this.columns.length === 0 || new Set(this.columns).size !== this.columns.length) {
      throw new RangeError(
        `Cannot create stream "${opts.id}": columns must be distinct names, at least one: current value is ${
          JSON.stringify(opts.columns)
        }`,
      );
    }
    this.targets = [...(opts.targets ?? opts.columns)];
    const I = this.I = this.columns.length;
    const J = this.J = this.targets.length;
    const Hm = this.Hm = p.horizons;
    // the stream's own arrays of a size known now, and those of its small parts, in one buffer
    const window = PERIOD_DEFAULTS.window;
    const [
      targetIndex,
      recent,
      bounds,
      level,
      change,
      ms,
    ] = typedBlock([
      [Int32Array, J],
      [Float64Array, window],
      [Float64Array, 2 * I],
      [Float64Array, 2 * I],
      [Float64Array, 2 * I],
      [Float64Array, Hm * J],
    ]);
    this.targetIndex = targetIndex;
    // scratch, written before read within one reading: one block for every stream of I columns
    const [saved, sorted, row, zJ] = sharedBlock("stream scratch", [
      [Float64Array, 17],
      [Float64Array, window],
      [Float64Array, I],
      [Float64Array, J],
    ]);
    this.#saved = saved;
    this.#row = row;
    this.zJ = zJ;
    this.targets.forEach((t, j) => {
      const i = this.columns.indexOf(t);
      if (i < 0) {
        throw new RangeError(
          `Cannot create stream "${opts.id}": every target must be one of the columns ${
            JSON.stringify(this.columns)
          }: current value is "${t}"`,
        );
      }
      this.targetIndex[j] = i;
    });
    this.period = new PeriodEstimator(opts.periodMs, {}, [recent, sorted]);
    this.workspace = opts.workspace;
    this.bounds = new ValueBounds(I, opts.bounds, bounds);
    const forgetting = p.normalizer.forgetting;
    this.level = new Normalizer(I, { forgetting }, level);
    this.change = new Normalizer(I, { forgetting }, change);
    this.limits = new ChangeLimits(Hm, J, ms);
    // the experts keep this stream as their context and read the parts below when called
    this.#options = opts;
    const experts: Expert[] = [];
    this.#factories = [];
    for (const make of EXPERTS) {
      const e = make(this);
      if (e === null) continue;
      experts.push(e);
      this.#factories.push(make);
    }
    // (arrays of their exact length: the ones push() grew keep room for more)
    this.experts = experts.slice();
    this.#factories = this.#factories.slice();
    const E = this.E = this.experts.length;
    this.expertNames = this.experts.map((e) => e.name);
    this.#lstm = this.experts.find((e) => e instanceof LstmExpert);
    // the origin slots', the blend's, the intervals' and the stream's own arrays of a size the
    // experts decide, and the anomaly detectors' of a size known now (all but the shape
    // detector's memory, which grows), in one buffer
    const shape = { Hm, J, E, L: p.linear.lags, I };
    const own = [
      [Float64Array, Hm * J * (E + 1)],
      [Float64Array, Hm],
      [Float64Array, 2 * J],
      [Float64Array, BUDGET_BINS],
    ] as const;
    const S = p.anomaly.shape.window;
    const arena = new BlockArena(
      blockBytes(originBlock(shape)) + blockBytes(blendBlock(Hm * J, E)) +
        blockBytes(intervalsBlock(Hm * J)) + blockBytes(own) +
        blockBytes(scorerBlock(p.anomaly)) +
        (S % SHAPE_BLOCKS === 0 && S >= 0 ? blockBytes(shapeBlock(J, S)) : 0),
    );
    this.origins = new OriginSlots(shape, arena);
    // per (horizon, target) slot: a memory that grows by perStep readings per horizon step
    const slotMemory = (memory: number, perStep: number) =>
      Array.from({ length: Hm * J }, (_, s) => memory + perStep * Math.floor(s / J));
    this.blend = new Blend(
      Hm * J,
      E,
      p.blend.ridge,
      slotMemory(p.blend.memory, p.blend.memoryPerStep),
      p.blend.warmup,
      arena,
      // from the two-step slots: the one-step blend feeds the anomaly path, which stays as it was
      { bound: p.blend.pullBound, from: J },
      { steps: p.blend.poolSteps, ratio: p.blend.poolRatio, stride: J, from: J },
    );
    this.intervals = new Intervals(
      Hm * J,
      p.intervals.coverage,
      p.intervals.rate,
      slotMemory(p.intervals.memory, p.intervals.memoryPerStep),
      arena,
    );
    const [sqErr, scoredCount, range, budgetBins] = typedBlock(own, arena);
    [this.sqErr, this.scoredCount] = [sqErr, scoredCount];
    this.scorer = new AnomalyScorer(p.anomaly, arena);
    this.range = new RangeTracker(J, p.anomaly.rangeMargin, range);
    this.alerts = new AlertMachine(p.anomaly);
    this.guard = new AlertMachine(p.anomaly);
    this.evidenceGuard = new AlertMachine(p.anomaly);
    this.shape = new ShapeDetector(J, {
      ...p.anomaly.shape,
      history: p.anomaly.history,
      warmup: p.anomaly.warmup,
    }, arena);
    this.drift = new DriftDetector(J, {
      ...p.anomaly.drift,
      history: p.anomaly.history,
      warmup: p.anomaly.warmup,
      restart: unitToEvidence(p.anomaly.threshold),
    });
    this.stuck = this.shape.enabled && this.drift.enabled
      ? new StuckRuns(J, { history: p.anomaly.history, warmup: p.anomaly.warmup })
      : null;
    // the level-shift evidence opens alerts through the fusion: only with it
    this.levelShift = new LevelShift(J, {
      allowance: this.drift.enabled ? p.anomaly.levelShift.allowance : 0,
      history: p.anomaly.history,
      warmup: p.anomaly.warmup,
      restart: levelRestart(p.anomaly.threshold),
    });
    const budget = {
      falseAlertsPerWeek: p.anomaly.falseAlertsPerWeek,
      history: p.anomaly.history,
      floor: BUDGET_FLOOR,
    };
    // the alerts' own budget may open at the p-value's calibration; the
    // scorer's (the fusion's base) keeps the record, so nothing learned moves
    const pValueMargin = this.drift.enabled ? p.anomaly.pValueMargin : undefined;
    this.budget = new AlertBudget({ ...budget, pValueMargin }, budgetBins);
    this.fusion = new AlertFusion(this.drift.enabled, p.anomaly, budget, this.alerts, this.budget);
    if (Number.isFinite(this.periodMs)) this.setPeriod(this.periodMs);
    this.history = new History(I, this.historyCapacity());
  }

  /** Sampling period (ms), NaN until known. */
  get periodMs(): number {
    return this.period.periodMs;
  }

  set periodMs(ms: number) {
    this.period.periodMs = ms;
  }

  /** The LSTM expert's network (null without it). */
  get net(): Network<Float32Array> | null {
    return this.#lstm?.net ?? null;
  }

  /** The LSTM expert's trainer (null without it): its `updates` are the model version. */
  get trainer(): OnlineTrainer<Float32Array> | null {
    return this.#lstm?.trainer ?? null;
  }

  /** Rows the history ring must hold: the longest look-back of the experts, at least 1. */
  historyCapacity(): number {
    let C = 1;
    for (const e of this.experts) C = Math.max(C, e.lookback?.() ?? 1);
    return C;
  }

  /**
   * Sets the sampling period and the season in readings (0 unless
   * `seasonSeconds` makes 2 … MAX_SEASON readings of it). The caller
   * re-sizes the history ring.
   */
  setPeriod(periodMs: number): void {
    this.periodMs = periodMs;
    const s = Math.round((this.preset.seasonSeconds * 1000) / periodMs);
    this.season = this.preset.seasonSeconds > 0 && s >= 2 && s <= MAX_SEASON ? s : 0;
  }

  /** State for the API: warming up, learning, anomaly or frozen. */
  get state(): "warming_up" | "learning" | "anomaly" | "frozen" {
    if (this.frozen) return "frozen";
    if (this.alerts.state === "anomaly") return "anomaly";
    if (this.alerts.state === "warming_up") return "warming_up";
    return "learning";
  }

  /**
   * Takes one reading: values (I, in column order) at ts (ms). Scores, learns,
   * forecasts. Throws {@link ReadingError} (and changes nothing) for a
   * non-finite value, a missing value, a value out of bounds, or a timestamp
   * at or before the last.
   */
  observe(ts: number, values: ArrayLike<number>): Observation {
    checkReading(this, ts, values);
    this.#save();
    try {
      return this.#take(ts, values);
    } catch (e) {
      // not an expert (those are re-initialised and the reading goes on):
      // put the time line back, repair what went bad, refuse the reading
      this.#restoreSaved();
      this.#repair(values, false);
      throw new ReadingError(
        "engine_error",
        `Cannot ingest reading for "${this.id}": the engine failed on it: ${
          (e as Error)?.message ?? String(e)
        }; the stream's time line is as before it`,
      );
    }
  }

  /** Takes a reading that passed the checks (see {@link observe}). */
  #take(ts: number, values: ArrayLike<number>): Observation {
    const gap = this.#clock(ts);
    const obs: Observation = {
      ts,
      learned: false,
      gap,
      score: null,
      likelihood: null,
      onset: null,
      percentile: null,
      event: null,
      recovered: null,
      periodWarning: null,
    };
    if (this.#periodWarning) {
      const p = this.period;
      obs.periodWarning = {
        periodMs: p.periodMs,
        source: p.configured ? "configured" : "estimated",
        observedMs: p.observedMs,
        gapShare: p.gapShare,
      };
    }
    this.step++;
    const slot1 = scoreReading(this, values, obs);
    if (this.#learnsFrom(obs)) {
      this.#learn(values);
      obs.learned = true;
      this.learnedReadings++;
    } else this.lastSkipped = this.step;
    obs.event = this.#alert(ts, values, slot1, obs);
    this.#advance(ts, values);
    const o = this.#forecast(ts, values);
    this.lastTs = ts;
    this.readings++;
    this.bounds.add(values);
    if (
      this.#failed !== 0 || this.readings % SCAN_EVERY === 0 || signsOfDivergence(this, o)
    ) obs.recovered = this.#repair(values, true);
    return obs;
  }

  /** Saves the scalars a reading changes (no allocation). */
  #save(): void {
    const v = this.#saved;
    v[0] = this.step;
    v[1] = this.readings;
    v[2] = this.learnedReadings;
    v[3] = this.gaps;
    v[4] = this.lastTs;
    v[5] = this.periodMs;
    v[6] = this.season;
    v[7] = this.lastSkipped;
    v[8] = this.anomalySince;
    v[9] = this.history.length;
    v[10] = this.history.head;
    const p = this.period;
    v[11] = p.count;
    v[12] = p.head;
    v[13] = p.disagree;
    v[14] = p.gapShare;
    v[15] = p.warned ? 1 : 0;
    v[16] = p.recent[(p.head + 1) % p.window];
    this.#savedEvent = this.#pendingEvent;
  }

  /**
   * Puts back the scalars saved before a reading that failed: its time line,
   * counters and history position. Arrays it had already updated keep the
   * update (the guard repairs a value gone bad).
   */
  #restoreSaved(): void {
    const v = this.#saved;
    this.step = v[0];
    this.readings = v[1];
    this.learnedReadings = v[2];
    this.gaps = v[3];
    this.lastTs = v[4];
    this.periodMs = v[5];
    this.season = v[6];
    this.lastSkipped = v[7];
    this.anomalySince = v[8];
    if (this.history.capacity !== this.historyCapacity()) {
      this.history.resize(this.historyCapacity());
    }
    this.history.length = Math.min(v[9], this.history.capacity);
    this.history.head = v[10] % this.history.capacity;
    const p = this.period;
    p.recent[(v[12] + 1) % p.window] = v[16];
    p.restoreScalars([v[11], v[12], v[13], v[14], v[15]]);
    this.#pendingEvent = this.#savedEvent;
  }

  /**
   * The divergence guard's repair (divergence_guard.ts): re-initialises every
   * expert that threw during this reading or whose state went bad, resets
   * the interval state, the blend or the accuracy when bad, and restarts
   * learning when any other shared part is. Then forecasts again from the
   * newest reading (when `reforecast`, the reading was taken). Returns what
   * it repaired, or null.
   */
  #repair(values: ArrayLike<number>, reforecast: boolean): string[] | null {
    const done: string[] = [];
    // the experts first: one that forecast NaN from this reading leaves it
    // in the newest origin slot, which the forecast made again replaces
    const bad = new Set(divergedExperts(this));
    for (let e = 0; e < this.E; e++) if (this.#failed & (1 << e)) bad.add(e);
    this.#failed = 0;
    for (const e of [...bad].sort((a, b) => a - b)) {
      this.#reinitExpert(e);
      done.push(this.expertNames[e]);
    }
    reforecast &&= this.readings > 0;
    if (done.length > 0 && reforecast) this.#forecast(this.lastTs, values);
    const expertArrays = new Set<string>();
    for (const e of this.experts) for (const k in e.arrays?.() ?? {}) expertArrays.add(k);
    const parts = divergedParts(stateArrays(this), expertArrays, [
      this.level.weight,
      this.change.weight,
    ]);
    if (parts.has("stream")) {
      this.#relearn();
      done.push("stream");
    } else {
      if (parts.has("intervals")) {
        this.#resetIntervals();
        done.push("intervals");
      }
      if (parts.has("blend")) {
        this.blend.reset();
        done.push("blend");
      }
      if (parts.has("accuracy")) {
        this.sqErr.fill(0);
        this.scoredCount.fill(0);
        done.push("accuracy");
      }
    }
    if (done.length === 0) return null;
    this.recoveries += done.length;
    if (parts.size > 0 && reforecast) this.#forecast(this.lastTs, values);
    return done;
  }

  /** Replaces expert e by a fresh one of its kind; the blend forgets its record. */
  #reinitExpert(e: number): void {
    const fresh = this.#factories[e](this)!;
    (this.experts as Expert[])[e] = fresh;
    if (fresh instanceof LstmExpert) this.#lstm = fresh;
    this.blend.forget(e);
    const { active } = this.origins;
    for (let o = 0; o < active.length; o++) active[o] &= ~(1 << e);
  }

  /** Forgets the interval calibration: every interval is recalibrating. */
  #resetIntervals(): void {
    const iv = this.intervals;
    for (const a of [iv.q, iv.m, iv.n, iv.hits]) a.fill(0);
    this.origins.qUsed.fill(NaN);
    this.intervalsReset = true;
  }

  /**
   * Restarts learning: every learned part as a new stream of the same
   * options has it, keeping the time line (last timestamp, period, season),
   * the counters, the value ranges, the alert machine and `frozen`.
   */
  #relearn(): void {
    const twin = new StreamModel({
      ...this.#options,
      periodMs: Number.isFinite(this.periodMs) ? this.periodMs : undefined,
    });
    const keep = {
      lastTs: this.lastTs,
      step: this.step,
      readings: this.readings,
      learnedReadings: this.learnedReadings,
      gaps: this.gaps,
      frozen: this.frozen,
      recoveries: this.recoveries,
      anomalySince: this.anomalySince,
      lo: Float64Array.from(this.bounds.lo),
      hi: Float64Array.from(this.bounds.hi),
      recent: Float64Array.from(this.period.recent),
      period: this.period.scalars(),
      periodMs: this.periodMs,
      season: this.season,
      alerts: this.alerts.scalars(),
      threshold: this.alerts.threshold,
      guard: this.guard.scalars(),
      evidenceGuard: this.evidenceGuard.scalars(),
      alertPaused: this.alertPaused,
      base: this.fusion.scalars(),
    };
    for (let e = 0; e < this.E; e++) this.#reinitExpert(e);
    restoreStream(this, twin.toBytes());
    this.lastTs = keep.lastTs;
    this.step = keep.step;
    this.lastSkipped = keep.step;
    this.readings = keep.readings;
    this.learnedReadings = keep.learnedReadings;
    this.gaps = keep.gaps;
    this.frozen = keep.frozen;
    this.recoveries = keep.recoveries;
    this.anomalySince = keep.anomalySince;
    this.bounds.lo.set(keep.lo);
    this.bounds.hi.set(keep.hi);
    this.period.recent.set(keep.recent);
    this.period.restoreScalars(keep.period);
    this.periodMs = keep.periodMs;
    this.season = keep.season;
    this.alerts.restoreScalars(keep.alerts);
    this.alerts.threshold = keep.threshold;
    this.guard.restoreScalars(keep.guard);
    this.evidenceGuard.restoreScalars(keep.evidenceGuard);
    this.alertPaused = keep.alertPaused;
    const b = this.fusion.base;
    b.restoreScalars(keep.base.slice(2, 7) as MachineScalars);
    b.threshold = keep.base[10];
    this.intervalsReset = true;
  }

  /**
   * Restarts the stream's time line, so that the readings it has taken can
   * be fed again (a replay's second pass over its warm-up rows): the windows
   * are reset exactly as after a gap (the experts' live state and training
   * windows, the history the experts look back on, pending forecasts), and
   * the last timestamp is forgotten, so the next reading may have any
   * timestamp.
   *
   * Everything learned is kept: the LSTM's weights and Adam moments, the
   * linear experts, the blend, the interval calibration, the normalisers,
   * the sampling period and season, the surprise distribution and range of
   * the anomaly scorer. So are the counters (readings, learned readings,
   * the scorer's and the alert machine's), which count readings taken, not
   * distinct timestamps; a rewind is not counted as a gap. The alert machine
   * carries on as across a gap: its warm-up is not repeated, and an alert
   * open at the rewind stays open and ends by its usual rules, with its event.
   *
   * A rewind changes only state that {@link toBytes} holds (the last
   * timestamp, the windows), so a checkpoint taken after it restores a
   * rewound stream; there is nothing else to persist.
   */
  rewind(): void {
    this.#resetWindows();
    this.lastTs = NaN;
  }

  /**
   * The reading's place on the time line: adds its interval to the period's
   * evidence (a new period re-sizes the history), and reports a gap
   * (resetting the windows) after one longer than `gaps.maxPeriods`
   * periods. Sets #periodWarning when gaps have become frequent.
   */
  #clock(ts: number): boolean {
    this.#periodWarning = false;
    if (!Number.isFinite(this.lastTs)) return false;
    const dt = ts - this.lastTs;
    if (this.period.add(dt)) {
      this.setPeriod(this.period.periodMs);
      this.history.resize(this.historyCapacity());
    }
    const gap = dt > this.preset.gaps.maxPeriods * this.periodMs;
    this.#periodWarning = this.period.countGap(gap);
    if (!gap) return false;
    this.gaps++;
    this.#resetWindows();
    return true;
  }

  /** Forgets the windows, keeps the weights (a gap, or a rewind). */
  #resetWindows(): void {
    this.history.clear();
    this.origins.clear();
    for (let e = 0; e < this.E; e++) this.experts[e].resetWindows?.();
    this.shape.resetWindow();
    this.stuck?.resetRuns();
    this.levelShift.resetRuns();
  }

  /**
   * Whether the stream learns from the scored reading: not when frozen, nor
   * from a reading anomalous by itself or any reading inside an open alert
   * of the guard, the residuals' evidence at the preset's fixed threshold
   * (unless `anomaly.learnDuringAnomaly`): an anomaly does not become the
   * norm, and one extreme reading would pull the linear models and the LSTM
   * far off. An alert the budget opens below the fixed threshold, or the
   * shape detector raised, leaves learning alone.
   */
  #learnsFrom(obs: Observation): boolean {
    if (this.frozen) return false;
    const anomalous = obs.likelihood !== null &&
      this.guard.anomalous(evidenceToUnit(this.scorer.evidence));
    return !((anomalous || this.guard.state === "anomaly") &&
      !this.preset.anomaly.learnDuringAnomaly);
  }

  /** Learns from the reading: the blend, the normalisers, the limits, the experts. */
  #learn(values: ArrayLike<number>): void {
    const { I, J, Hm, E, origins } = this;
    // the blend: each (target, horizon) learns from this outcome
    for (let h = 1; h <= Hm; h++) {
      const o = origins.arrived(this.step, h);
      if (o < 0) continue;
      for (let j = 0; j < J; j++) {
        const pOff = ((o * Hm + (h - 1)) * J + j) * E;
        const at = this.targetIndex[j];
        this.blend.update((h - 1) * J + j, origins.preds, pOff, values, at, origins.active[o]);
      }
    }
    // the normalisers
    const hadPrev = this.history.length > 0;
    this.level.update(values);
    if (hadPrev) {
      for (let i = 0; i < I; i++) this.#row[i] = values[i] - this.history.back(0, i);
      this.change.update(this.#row);
    }
    this.limits.learn(this.step, values, this.targetIndex, origins, this.lastSkipped, this.level);
    for (let e = 0; e < this.E; e++) {
      if (this.#failed & (1 << e)) continue;
      try {
        this.experts[e].learn?.(values);
      } catch {
        this.#failed |= 1 << e; // re-initialised at the end of the reading
      }
    }
  }

  /**
   * Steps the alert machines (the alerts and the learning guard); returns the
   * event the reading raised. An alert carries the context of the reading
   * that began it (with debounce, the one that opens it may be less
   * surprising).
   */
  #alert(
    ts: number,
    values: ArrayLike<number>,
    slot1: number,
    obs: Observation,
  ): AlertEvent | null {
    const base = this.fusion.base;
    if (obs.likelihood === null) {
      if (this.alerts.state === "warming_up") this.alerts.step(0);
      if (this.guard.state === "warming_up") this.guard.step(0);
      if (this.evidenceGuard.state === "warming_up") this.evidenceGuard.step(0);
      if (base !== this.alerts && base.state === "warming_up") base.step(0);
      return null;
    }
    // the guard judges the forecast's residuals alone: a shape never seen is
    // what the models must learn, an outlier they must not be pulled by
    const residual = evidenceToUnit(this.scorer.residual);
    const starts = this.alerts.state === "normal" && this.alerts.run === 0 &&
      obs.likelihood >= this.alerts.threshold;
    // an alert that does not reach the guard's fixed threshold leaves learning alone
    if (starts) {
      this.alertPaused = !obs.learned || residual >= this.guard.threshold;
      this.#pendingEvent = alertEvent(this, "opened", ts, values, slot1, obs);
    }
    // alerts open on fresh evidence: a rise within an incident that is not
    // reported as a new onset (anomaly.escalation) must still open its alert
    this.guard.step(residual, this.scorer.fresh ? residual : 0);
    // the evidence guard, and the scorer's own alerts when the drift detector
    // is fused after the scorer, follow the scorer's evidence
    const scored = this.scorer.likelihood, fresh = this.scorer.fresh;
    this.evidenceGuard.step(scored, fresh ? scored : 0);
    if (base !== this.alerts) base.step(scored, fresh ? scored : 0);
    const f = this.fusion.enabled ? this.fusion.fresh : fresh;
    const t = this.alerts.step(obs.likelihood, f ? obs.likelihood : 0);
    if (t === "opened") {
      this.anomalySince = this.#pendingEvent!.since;
      return { ...this.#pendingEvent!, ts };
    }
    return t === "none" ? null : alertEvent(this, t, ts, values, slot1, obs);
  }

  /** Moves the experts' live state and the history on by this reading. */
  #advance(ts: number, values: ArrayLike<number>): void {
    for (let e = 0; e < this.E; e++) {
      if (this.#failed & (1 << e)) continue;
      try {
        this.experts[e].advance?.(ts, values);
      } catch {
        this.#failed |= 1 << e;
      }
    }
    this.history.push(values);
  }

  /** Forecasts 1..Hmax from the newest reading into its origin slot; returns the slot. */
  #forecast(ts: number, values: ArrayLike<number>): number {
    const { J, Hm, E, origins } = this;
    const o = origins.open(this.step, ts, values, this.targetIndex, this.history, this.level);
    let mask = 0;
    for (let e = 0; e < E; e++) {
      const expert = this.experts[e];
      let ready = false;
      if (!(this.#failed & (1 << e))) {
        try {
          ready = expert.ready();
          if (ready) expert.forecast(o, ts, values, e);
        } catch {
          this.#failed |= 1 << e;
          ready = false;
        }
      }
      if (ready) mask |= 1 << e;
      else {
        // out of the blend: its column holds persistence
        for (let h = 1; h <= Hm; h++) {
          for (let j = 0; j < J; j++) {
            origins.preds[((o * Hm + (h - 1)) * J + j) * E + e] = values[this.targetIndex[j]];
          }
        }
      }
    }
    origins.active[o] = mask;
    this.blend.newPass();
    for (let h = 1; h <= Hm; h++) {
      for (let j = 0; j < J; j++) {
        const s = (h - 1) * J + j;
        const cOff = (o * Hm + (h - 1)) * J + j;
        // comb at cOff, qUsed at qUsedAt + cOff
        origins.forecasts[cOff] = this.blend.combine(s, origins.preds, cOff * E, mask);
        origins.forecasts[origins.qUsedAt + cOff] = this.intervals.ready(s)
          ? this.intervals.half(s)
          : NaN;
      }
    }
    return o;
  }

  /** The forecast made from the newest reading (null before the first). */
  forecast(horizon = this.Hm): Forecast | null {
    return readForecast(this, horizon);
  }

  /** The newest reading's value of a target (NaN before the first). */
  latest(target: string): number {
    return readLatest(this, target);
  }

  /** The forecast of one expert from the newest reading, (H, J) raw values. */
  expertForecast(expert: string): number[][] | null {
    return readExpertForecast(this, expert);
  }

  /** Accuracy per horizon so far (see read_models.ts). */
  stats(): HorizonStats[] {
    return readStats(this);
  }

  /** Bytes this stream keeps in its state (its share, without the shared workspace). */
  get bytes(): number {
    let n = 0;
    for (const a of Object.values(stateArrays(this))) n += a.byteLength;
    return n;
  }

  /** The whole state as bytes: restoring it continues exactly where this left off. */
  toBytes(): Uint8Array {
    return encodeStream(this);
  }

  /**
   * Restores a state made by {@link toBytes} for the same options (older
   * layouts too), all or nothing: the bytes are restored into a scratch
   * stream first and checked (restore_check.ts); a checkpoint that is
   * damaged, of another shape, or holds values a healthy stream cannot
   * (NaN weights, a negative count, `lastTs` after `opts.latestTs`) is
   * refused with a RangeError naming the first problem, and this stream is
   * left as it was.
   */
  restore(bytes: Uint8Array, opts: RestoreCheckOptions = {}): void {
    const scratch = new StreamModel(this.#options);
    restoreStream(scratch, bytes);
    checkRestored(scratch, opts);
    restoreStream(this, bytes);
  }

  /**
   * Restores a state into this stream, just built and not used yet, with the
   * checks of {@link restore} but without its scratch stream (half the work
   * and no second model per stream, for the restore of every stream at
   * start): on a refusal this stream is left part-restored and must be
   * dropped.
   */
  restoreNew(bytes: Uint8Array, opts: RestoreCheckOptions = {}): void {
    restoreStream(this, bytes);
    checkRestored(this, opts);
  }
}
