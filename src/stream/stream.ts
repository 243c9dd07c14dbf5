/**
 * One stream's online forecaster: a vector of I values per timestamp, J of
 * them forecast, Hmax steps ahead.
 *
 * Per reading, in this order:
 *   1. score it against the forecasts made for it (residuals, interval hits,
 *      the experts' and the blend's errors, the anomaly score and alert state);
 *   2. learn from it, unless it is anomalous (an anomaly does not become the
 *      new normal): normalisers, the linear expert of every horizon whose
 *      target just arrived, the LSTM (TBPTT over its rolling window);
 *   3. forecast the next 1..Hmax steps with every expert, blend them per
 *      (target, horizon), and put intervals around the blend.
 *
 * Learning is leak-free: a value trains a model only once it has arrived. The
 * horizon-h linear model learns at time t from the features of t-h and the
 * change x_t - x_{t-h}; the LSTM learns one step ahead (the change of every
 * column) and forecasts further by feeding its forecasts back.
 *
 * Experts: persistence (x_t), seasonal persistence (the value one season
 * before the target time), an online linear model (RLS on the last rows of
 * every column and calendar inputs, predicting the change from x_t; one model
 * per horizon) and the LSTM. The blend starts with persistence and then
 * weighs them by the combination that has had the least squared error lately
 * (see blend.ts), so a new model is never worse than the simple forecasts for
 * long.
 *
 * Time: the sampling period is the configured one or the interval between the
 * first two readings. A reading at or before the last timestamp is rejected
 * (duplicate, out of order). A gap longer than `gaps.maxPeriods` periods
 * resets the windows (the LSTM's state and TBPTT window, the history the
 * experts look back on, pending forecasts) and keeps every learned weight.
 * {@link StreamModel.rewind} does the same on purpose and forgets the last
 * timestamp, so the same readings can be fed again.
 */
import { Network, type Workspace } from "../model/network.ts";
import { OnlineTrainer } from "../model/tbptt.ts";
import { Normalizer } from "../model/normalize.ts";
import type { Floats } from "../model/floats.ts";
import type { Preset } from "./preset.ts";
import { CALENDAR_FEATURES, calendarFeatures } from "./calendar.ts";
import { Rls } from "./rls.ts";
import { Blend } from "./blend.ts";
import { Intervals } from "./intervals.ts";
import {
  AlertMachine,
  type AlertTransition,
  AnomalyScorer,
  evidenceToUnit,
  RangeTracker,
} from "./anomaly.ts";
import { encodeState, readState, restoreArrays, type StateArrays } from "./state.ts";
import type { AlertEvent, TargetContext } from "../domain/alert.ts";

/** A reading the stream refuses, with a machine-readable reason. */
export class ReadingError extends Error {
  readonly reason: "not_finite" | "duplicate" | "out_of_order" | "missing_value" | "bad_timestamp";
  constructor(reason: ReadingError["reason"], message: string) {
    super(message);
    this.name = "ReadingError";
    this.reason = reason;
  }
}

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
}

/** What one reading did. */
export interface Observation {
  ts: number;
  /** The model learned from this reading. */
  learned: boolean;
  /** A gap before this reading reset the windows. */
  gap: boolean;
  /**
   * Anomaly score of the reading alone (grows with the surprise, below 1),
   * the smoothed likelihood, the onset (the likelihood at a reading that
   * begins an incident, 0 at the others) and the percentile; null until a
   * one-step forecast existed. See anomaly.ts.
   */
  score: number | null;
  likelihood: number | null;
  onset: number | null;
  percentile: number | null;
  /** The alert this reading opened or ended. */
  event: AlertEvent | null;
}

/** A forecast from the latest reading. */
export interface Forecast {
  /** Time of the reading the forecast was made from (ms). */
  origin: number;
  /** Times of the forecast steps (ms), Hmax of them (NaN before the period is known). */
  timestamps: number[];
  targets: Record<string, { point: number[]; lower: (number | null)[]; upper: (number | null)[] }>;
}

/** Per-horizon accuracy so far. */
export interface HorizonStats {
  horizon: number;
  /** Forecasts scored at this horizon (per target). */
  scored: number;
  /** MSE on normalised values of the blend and each expert. */
  mse: Record<string, number>;
  /** 1 - MSE / MSE of persistence, of the blend and each expert. */
  skill: Record<string, number>;
  /** Share of values inside the interval. */
  coverage: number;
}

const PERSISTENCE = 0, SEASONAL = 1, LINEAR = 2, LSTM = 3;
const NAMES = ["persistence", "seasonal", "linear", "lstm"];
const MAX_SEASON = 10_080; // readings: a week at one per minute

/** One stream's online forecaster. */
export class StreamModel {
  readonly id: string;
  readonly preset: Preset;
  readonly columns: string[];
  readonly targets: string[];
  /** Column index of each target (J). */
  readonly targetIndex: Int32Array;
  readonly I: number;
  readonly J: number;
  readonly Hm: number;
  /** Experts in use (3, or 4 with the LSTM). */
  readonly E: number;
  readonly expertNames: string[];
  readonly net: Network<Float32Array> | null;
  readonly trainer: OnlineTrainer<Float32Array> | null;
  readonly level: Normalizer;
  readonly change: Normalizer;
  readonly rls: Rls[];
  readonly blend: Blend;
  readonly intervals: Intervals;
  readonly scorer: AnomalyScorer;
  readonly range: RangeTracker;
  readonly alerts: AlertMachine;
  /** Learning switched off by the user. */
  frozen = false;

  // time
  periodMs: number;
  season = 0;
  lastTs = NaN;
  step = 0;
  readings = 0;
  learnedReadings = 0;
  gaps = 0;
  anomalySince = NaN;
  #pendingEvent: AlertEvent | null = null;
  /** Step of the last reading not learned from (anomalous or frozen). */
  lastSkipped = -1;
  // history ring of raw rows (C, I) and, per origin slot, what forecasting needs
  readonly #C: number;
  hist: Float64Array;
  histLen = 0;
  histHead = 0; // index of the newest row
  readonly #lags: number;
  readonly #d: number; // linear features
  readonly #S: number; // origin slots = Hm + 1
  readonly originStep: Float64Array; // (S) step of the origin in the slot, NaN if none (NaN equals no step)
  readonly originTs: Float64Array; // (S)
  readonly originX: Float64Array; // (S, J) raw target values at the origin
  readonly originLags: Float64Array; // (S, lags·I) normalised lag rows, newest first; NaN if short
  readonly preds: Float64Array; // (S, Hm, J, E)
  readonly comb: Float64Array; // (S, Hm, J)
  readonly qUsed: Float64Array; // (S, Hm, J) interval half-width, NaN before calibration
  readonly active: Int32Array; // (S) expert mask at that origin
  // skill accumulators (Hm, J, E + 1): squared errors, last slot the blend
  readonly sqErr: Float64Array;
  readonly scoredCount: Float64Array; // (Hm)
  readonly change2: Float64Array; // (Hm, J) running mean square of the normalised change
  // LSTM input of the latest reading (2I + calendar) and scratch
  readonly #uIn: number;
  readonly lastInput: Float32Array;
  hasInput = false;
  readonly #u: Float32Array;
  readonly #y: Float32Array;
  readonly #target: Float32Array;
  readonly #hRoll: Float32Array;
  readonly #cRoll: Float32Array;
  readonly #phi: Float64Array;
  readonly #tmpJ: Float64Array;
  readonly #row: Float64Array;

  constructor(opts: StreamOptions) {
    const p = opts.preset;
    this.id = opts.id;
    this.preset = p;
    this.columns = [...opts.columns];
    if (this.columns.length === 0 || new Set(this.columns).size !== this.columns.length) {
      throw new RangeError(
        `Cannot create stream "${opts.id}": columns must be distinct names, at least one: current value is ${
          JSON.stringify(opts.columns)
        }`,
      );
    }
    this.targets = [...(opts.targets ?? opts.columns)];
    this.targetIndex = Int32Array.from(this.targets, (t) => {
      const i = this.columns.indexOf(t);
      if (i < 0) {
        throw new RangeError(
          `Cannot create stream "${opts.id}": every target must be one of the columns ${
            JSON.stringify(this.columns)
          }: current value is "${t}"`,
        );
      }
      return i;
    });
    const I = this.I = this.columns.length;
    const J = this.J = this.targets.length;
    const Hm = this.Hm = p.horizons;
    this.periodMs = opts.periodMs ?? NaN;
    const useLstm = p.model.enabled;
    this.E = useLstm ? 4 : 3;
    this.expertNames = NAMES.slice(0, this.E);
    const cal = p.calendar ? CALENDAR_FEATURES : 0;
    this.#uIn = 2 * I + cal;
    if (useLstm) {
      this.net = new Network<Float32Array>({
        inputs: this.#uIn,
        hidden: p.model.hidden,
        layers: p.model.layers,
        outputs: I,
        window: p.model.window,
        seed: p.model.seed,
        workspace: opts.workspace,
      });
      this.trainer = new OnlineTrainer(this.net, {
        k1: p.model.k1,
        k2: p.model.window,
        lr: p.model.lr,
        clipNorm: p.model.clipNorm,
        weightDecay: p.model.weightDecay,
      });
    } else {
      this.net = null;
      this.trainer = null;
    }
    this.level = new Normalizer(I, { forgetting: p.normalizer.forgetting });
    this.change = new Normalizer(I, { forgetting: p.normalizer.forgetting });
    this.#lags = p.linear.lags;
    this.#d = this.#lags * I + cal + 1;
    this.rls = Array.from(
      { length: Hm },
      () => new Rls(this.#d, J, p.linear.forgetting, p.linear.ridge),
    );
    // per (horizon, target) slot: a memory that grows by perStep readings per horizon step
    const slotMemory = (memory: number, perStep: number) =>
      Array.from({ length: Hm * J }, (_, s) => memory + perStep * Math.floor(s / J));
    this.blend = new Blend(
      Hm * J,
      this.E,
      p.blend.ridge,
      slotMemory(p.blend.memory, p.blend.memoryPerStep),
      p.blend.warmup,
    );
    this.intervals = new Intervals(
      Hm * J,
      p.intervals.coverage,
      p.intervals.rate,
      slotMemory(p.intervals.memory, p.intervals.memoryPerStep),
    );
    this.scorer = new AnomalyScorer(p.anomaly);
    this.range = new RangeTracker(J, p.anomaly.rangeMargin);
    this.alerts = new AlertMachine(p.anomaly);
    // the seasonal ring needs the period; it is sized for the longest season allowed
    this.#C = Math.max(this.#lags, p.seasonSeconds > 0 ? MAX_SEASON : 1);
    if (Number.isFinite(this.periodMs)) this.#setPeriod(this.periodMs);
    const S = this.#S = Hm + 1;
    this.originStep = new Float64Array(S).fill(NaN);
    this.originTs = new Float64Array(S);
    this.originX = new Float64Array(S * J);
    this.originLags = new Float64Array(S * this.#lags * I);
    this.preds = new Float64Array(S * Hm * J * this.E);
    this.comb = new Float64Array(S * Hm * J);
    this.qUsed = new Float64Array(S * Hm * J);
    this.active = new Int32Array(S);
    this.sqErr = new Float64Array(Hm * J * (this.E + 1));
    this.scoredCount = new Float64Array(Hm);
    this.change2 = new Float64Array(Hm * J);
    this.lastInput = new Float32Array(this.#uIn);
    this.#u = new Float32Array(this.#uIn);
    this.#y = new Float32Array(I);
    this.#target = new Float32Array(I);
    const LH = p.model.layers * p.model.hidden;
    this.#hRoll = new Float32Array(useLstm ? LH : 0);
    this.#cRoll = new Float32Array(useLstm ? LH : 0);
    this.#phi = new Float64Array(this.#d);
    this.#tmpJ = new Float64Array(J);
    this.#row = new Float64Array(I);
    this.hist = new Float64Array(this.#histCapacity() * I);
  }

  #histCapacity(): number {
    return Math.max(this.#lags, Math.min(this.#C, this.season || 1));
  }

  #setPeriod(periodMs: number): void {
    this.periodMs = periodMs;
    const s = Math.round((this.preset.seasonSeconds * 1000) / periodMs);
    this.season = this.preset.seasonSeconds > 0 && s >= 2 && s <= MAX_SEASON ? s : 0;
  }

  /** The raw value of column i, k readings before the newest (k < histLen). */
  #back(k: number, i: number): number {
    const C = this.hist.length / this.I;
    return this.hist[((this.histHead - k + C) % C) * this.I + i];
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
   * non-finite value, a missing value, or a timestamp at or before the last.
   */
  observe(ts: number, values: ArrayLike<number>): Observation {
    if (!Number.isFinite(ts)) {
      throw new ReadingError(
        "bad_timestamp",
        `Cannot ingest reading for "${this.id}": the timestamp must be a finite number of ms: current value is ${ts}`,
      );
    }
    if (values.length !== this.I) {
      throw new ReadingError(
        "missing_value",
        `Cannot ingest reading for "${this.id}": it must hold ${this.I} values (${
          this.columns.join(", ")
        }): current count is ${values.length}`,
      );
    }
    for (let i = 0; i < this.I; i++) {
      if (!Number.isFinite(values[i])) {
        throw new ReadingError(
          "not_finite",
          `Cannot ingest reading for "${this.id}": '${
            this.columns[i]
          }' must be a finite number: current value is ${values[i]}`,
        );
      }
    }
    if (ts <= this.lastTs) {
      const dup = ts === this.lastTs;
      throw new ReadingError(
        dup ? "duplicate" : "out_of_order",
        `Cannot ingest reading for "${this.id}": the timestamp must be after the last one ${
          new Date(this.lastTs).toISOString()
        }: current value is ${new Date(ts).toISOString()}`,
      );
    }
    let gap = false;
    if (Number.isFinite(this.lastTs)) {
      const dt = ts - this.lastTs;
      if (!Number.isFinite(this.periodMs)) {
        this.#setPeriod(dt);
        this.#resizeHistory();
      } else if (dt > this.preset.gaps.maxPeriods * this.periodMs) {
        gap = true;
        this.gaps++;
        this.#resetWindows();
      }
    }
    const obs: Observation = {
      ts,
      learned: false,
      gap,
      score: null,
      likelihood: null,
      onset: null,
      percentile: null,
      event: null,
    };
    this.step++;
    const slot1 = this.#score(values, obs);
    // not learned: a reading anomalous by itself, and every reading inside an
    // open alert (an anomaly does not become the norm; one extreme reading
    // would pull the linear models and the LSTM far off)
    const anomalous = obs.likelihood !== null &&
      this.alerts.anomalous(evidenceToUnit(this.scorer.evidence));
    const suppress = this.frozen ||
      ((anomalous || this.alerts.state === "anomaly") && !this.preset.anomaly.learnDuringAnomaly);
    if (!suppress) {
      this.#learn(values);
      obs.learned = true;
      this.learnedReadings++;
    } else this.lastSkipped = this.step;
    // the alert machine; an alert carries the context of the reading that
    // began it (with debounce, the one that opens it may be less surprising)
    if (obs.likelihood !== null) {
      const starts = this.alerts.state === "normal" && this.alerts.run === 0 &&
        this.alerts.anomalous(obs.likelihood);
      if (starts) this.#pendingEvent = this.#event("opened", ts, values, slot1, obs);
      // alerts open on fresh evidence: a rise within an incident that is not
      // reported as a new onset (anomaly.escalation) must still open its alert
      const t = this.alerts.step(obs.likelihood, this.scorer.fresh ? obs.likelihood : 0);
      if (t === "opened") {
        obs.event = { ...this.#pendingEvent!, ts };
        this.anomalySince = this.#pendingEvent!.since;
      } else if (t !== "none") obs.event = this.#event(t, ts, values, slot1, obs);
    } else if (this.alerts.state === "warming_up") {
      this.alerts.step(0);
    }
    this.#advance(ts, values);
    this.#forecast(ts, values);
    this.lastTs = ts;
    this.readings++;
    return obs;
  }

  /**
   * Restarts the stream's time line, so that the readings it has taken can
   * be fed again (a replay's second pass over its warm-up rows): the windows
   * are reset exactly as after a gap (the LSTM's state and TBPTT window, the
   * history the experts look back on, pending forecasts), and the last
   * timestamp is forgotten, so the next reading may have any timestamp.
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

  /** Forgets the windows, keeps the weights (a gap, or a rewind). */
  #resetWindows(): void {
    this.histLen = 0;
    this.originStep.fill(NaN);
    this.hasInput = false;
    if (this.net && this.trainer) {
      this.net.resetState();
      this.trainer.resetWindow();
    }
  }

  /** Re-sizes the history ring for the season, keeping the rows it holds. */
  #resizeHistory(): void {
    const C = this.#histCapacity();
    const next = new Float64Array(C * this.I);
    const keep = Math.min(this.histLen, C);
    for (let k = keep - 1, r = 0; k >= 0; k--, r++) {
      for (let i = 0; i < this.I; i++) next[r * this.I + i] = this.#back(k, i);
    }
    this.hist = next;
    this.histLen = keep;
    this.histHead = (keep - 1 + C) % C;
  }

  #pushHistory(row: ArrayLike<number>): void {
    const C = this.hist.length / this.I;
    this.histHead = (this.histHead + 1) % C;
    for (let i = 0; i < this.I; i++) this.hist[this.histHead * this.I + i] = row[i];
    if (this.histLen < C) this.histLen++;
  }

  /** Scores the forecasts made for this reading; returns the slot of its one-step origin or -1. */
  #score(values: ArrayLike<number>, obs: Observation): number {
    const { J, Hm, E } = this;
    const S = this.#S;
    let slot1 = -1;
    let surprise = -1;
    for (let h = 1; h <= Hm; h++) {
      const o = (this.step - h + S) % S;
      if (this.originStep[o] !== this.step - h) continue;
      if (h === 1) slot1 = o;
      this.scoredCount[h - 1]++;
      const mask = this.active[o];
      for (let j = 0; j < J; j++) {
        const col = this.targetIndex[j];
        const y = values[col];
        const pOff = ((o * Hm + (h - 1)) * J + j) * E;
        const cOff = (o * Hm + (h - 1)) * J + j;
        const s = (h - 1) * J + j;
        const r = y - this.comb[cOff];
        // accuracy of each expert and the blend, in the target's units
        const acc = s * (E + 1);
        for (let e = 0; e < E; e++) {
          const pe = mask & (1 << e) ? this.preds[pOff + e] : this.preds[pOff + PERSISTENCE];
          this.sqErr[acc + e] += (y - pe) ** 2;
        }
        this.sqErr[acc + E] += r * r;
        const q = this.qUsed[cOff];
        this.intervals.update(s, Math.abs(r), Number.isNaN(q) ? Infinity : q);
        if (h === 1 && !Number.isNaN(q)) {
          // the half-width floored at 1e-3 of the target's spread: an interval
          // that has shrunk to nothing on a noise-free stretch would make every
          // later deviation a new record surprise
          const floor = 1e-3 * this.level.scale(col);
          surprise = Math.max(surprise, Math.abs(r) / Math.max(q, floor, 1e-12));
        }
      }
    }
    // a record: a target outside every value it has had (its evidence, ln n,
    // counts at most the readings of the remembered history)
    const a = this.preset.anomaly;
    let record = 0;
    for (let j = 0; j < J; j++) {
      const y = values[this.targetIndex[j]];
      if (this.range.isRecord(j, y)) record = Math.min(this.range.count, a.history);
      this.range.add(j, y);
    }
    this.range.count++;
    if (surprise >= 0) {
      this.scorer.update(
        surprise,
        record,
        this.alerts.state !== "anomaly" || a.learnDuringAnomaly,
        this.alerts.state === "warming_up",
      );
      obs.score = this.scorer.score;
      obs.likelihood = this.scorer.likelihood;
      obs.onset = this.scorer.onset;
      obs.percentile = this.scorer.percentile;
    }
    return slot1;
  }

  /** Learns from the reading (it is not anomalous). */
  #learn(values: ArrayLike<number>): void {
    const { I, J, Hm, E } = this;
    const S = this.#S;
    // the blend: each (target, horizon) learns from this outcome
    for (let h = 1; h <= Hm; h++) {
      const o = (this.step - h + S) % S;
      if (this.originStep[o] !== this.step - h) continue;
      for (let j = 0; j < J; j++) {
        const y = values[this.targetIndex[j]];
        const pOff = ((o * Hm + (h - 1)) * J + j) * E;
        this.blend.update((h - 1) * J + j, this.preds, pOff, y, this.active[o]);
      }
    }
    // normalisers
    const hadPrev = this.histLen > 0;
    this.level.update(values);
    if (hadPrev) {
      for (let i = 0; i < I; i++) this.#row[i] = values[i] - this.#back(0, i);
      this.change.update(this.#row);
    }
    // the linear model of every horizon whose target arrived now
    const lagN = this.#lags * I;
    for (let h = 1; h <= Hm; h++) {
      const o = (this.step - h + S) % S;
      if (this.originStep[o] !== this.step - h || Number.isNaN(this.originLags[o * lagN])) continue;
      // nor from features that hold a reading the model did not learn from
      if (this.lastSkipped > this.originStep[o] - this.#lags) continue;
      this.#features(o, h);
      for (let j = 0; j < J; j++) {
        const col = this.targetIndex[j];
        const c = (values[col] - this.originX[o * J + j]) / this.level.scale(col);
        this.#tmpJ[j] = c;
        const s = (h - 1) * J + j;
        this.change2[s] = this.change2[s] === 0 ? c * c : 0.999 * this.change2[s] + 0.001 * c * c;
      }
      this.rls[h - 1].update(this.#phi, 0, this.#tmpJ, 0);
    }
    // the LSTM: the last input should have led to this change
    if (this.trainer && this.hasInput && hadPrev && this.lastSkipped !== this.step - 1) {
      for (let i = 0; i < I; i++) {
        this.#target[i] = (values[i] - this.#back(0, i) - this.change.mean[i]) /
          this.change.scale(i);
      }
      this.trainer.push(this.lastInput, this.#target);
    }
  }

  /** Moves the history and the LSTM's live state on by this reading. */
  #advance(ts: number, values: ArrayLike<number>): void {
    const { I } = this;
    const hadPrev = this.histLen > 0;
    for (let i = 0; i < I; i++) {
      this.#u[i] = (values[i] - this.level.mean[i]) / this.level.scale(i);
      this.#u[I + i] = hadPrev
        ? (values[i] - this.#back(0, i) - this.change.mean[i]) / this.change.scale(i)
        : 0;
      this.#row[i] = values[i];
    }
    if (this.preset.calendar) {
      calendarFeatures(
        ts + (Number.isFinite(this.periodMs) ? this.periodMs : 0),
        this.preset.utcOffsetMinutes,
        this.#u,
        2 * I,
      );
    }
    this.#pushHistory(this.#row);
    if (this.net) {
      this.net.step(this.#u, 0, this.#y, 0);
      this.lastInput.set(this.#u);
      this.hasInput = true;
    }
  }

  /** Linear features of origin slot o for horizon h into #phi. */
  #features(o: number, h: number): void {
    const lagN = this.#lags * this.I;
    const phi = this.#phi;
    for (let k = 0; k < lagN; k++) phi[k] = this.originLags[o * lagN + k];
    let k = lagN;
    if (this.preset.calendar) {
      calendarFeatures(
        this.originTs[o] + h * (Number.isFinite(this.periodMs) ? this.periodMs : 0),
        this.preset.utcOffsetMinutes,
        phi,
        k,
      );
      k += CALENDAR_FEATURES;
    }
    phi[k] = 1;
  }

  /** Forecasts 1..Hmax from the newest reading into its origin slot. */
  #forecast(ts: number, values: ArrayLike<number>): void {
    const { I, J, Hm, E } = this;
    const S = this.#S;
    const o = this.step % S;
    this.originStep[o] = this.step;
    this.originTs[o] = ts;
    const lagN = this.#lags * I;
    const haveLags = this.histLen >= this.#lags;
    for (let k = 0; k < this.#lags; k++) {
      for (let i = 0; i < I; i++) {
        // winsorised at ±5: a column that wakes up after being stuck must not
        // multiply weights learned while it was constant by a huge value
        this.originLags[o * lagN + k * I + i] = haveLags
          ? Math.max(-5, Math.min(5, (this.#back(k, i) - this.level.mean[i]) / this.level.scale(i)))
          : NaN;
      }
    }
    for (let j = 0; j < J; j++) this.originX[o * J + j] = values[this.targetIndex[j]];
    let mask = 1 << PERSISTENCE;
    if (this.season > 0 && this.histLen >= this.season) mask |= 1 << SEASONAL;
    if (haveLags) mask |= 1 << LINEAR;
    const lstmReady = this.trainer !== null && this.trainer.updates >= this.preset.model.window;
    if (lstmReady) mask |= 1 << LSTM;
    this.active[o] = mask;
    // the LSTM's path: feed each one-step change back, from a copy of the live state
    if (lstmReady) {
      this.#hRoll.set(this.net!.h);
      this.#cRoll.set(this.net!.c);
    }
    for (let i = 0; i < I; i++) this.#row[i] = values[i];
    for (let h = 1; h <= Hm; h++) {
      if (lstmReady) {
        if (h > 1) {
          // next input: the forecast level, its change, the calendar of the next step
          for (let i = 0; i < I; i++) {
            this.#u[i] = (this.#row[i] - this.level.mean[i]) / this.level.scale(i);
            this.#u[I + i] = this.#y[i];
          }
          if (this.preset.calendar) {
            calendarFeatures(
              ts + (h + 0) * this.periodMs,
              this.preset.utcOffsetMinutes,
              this.#u,
              2 * I,
            );
          }
          this.net!.stepFrom(this.#hRoll, this.#cRoll, this.#u, 0, this.#y, 0);
        }
        for (let i = 0; i < I; i++) {
          this.#row[i] += this.#y[i] * this.change.scale(i) + this.change.mean[i];
        }
      }
      if (haveLags) {
        this.#features(o, h);
        this.rls[h - 1].predict(this.#phi, 0, this.#tmpJ, 0);
      }
      for (let j = 0; j < J; j++) {
        const col = this.targetIndex[j];
        const x = values[col];
        const pOff = ((o * Hm + (h - 1)) * J + j) * E;
        const s = (h - 1) * J + j;
        this.preds[pOff + PERSISTENCE] = x;
        if (mask & (1 << SEASONAL)) {
          const back = this.season * Math.ceil(h / this.season) - h;
          this.preds[pOff + SEASONAL] = this.#back(back, col);
        } else this.preds[pOff + SEASONAL] = x;
        // the predicted changes (in the target's spread), clipped to 3 RMS of
        // the changes seen at this horizon: a linear model fed a column that
        // woke up, or an LSTM rolled out after a jump to a new level, can
        // predict a change far larger than any seen
        const lim = 3 * Math.sqrt(this.change2[s]), sc = this.level.scale(col);
        this.preds[pOff + LINEAR] = haveLags ? x + clip(this.#tmpJ[j], lim) * sc : x;
        if (E > LSTM) {
          this.preds[pOff + LSTM] = lstmReady ? x + clip((this.#row[col] - x) / sc, lim) * sc : x;
        }
        const cOff = (o * Hm + (h - 1)) * J + j;
        this.comb[cOff] = this.blend.combine(s, this.preds, pOff, mask);
        this.qUsed[cOff] = this.intervals.ready(s) ? this.intervals.q[s] : NaN;
      }
    }
  }

  #event(
    t: AlertTransition,
    ts: number,
    values: ArrayLike<number>,
    slot1: number,
    obs: Observation,
  ): AlertEvent {
    const targets: Record<string, TargetContext> = {};
    for (let j = 0; j < this.J; j++) {
      const col = this.targetIndex[j];
      const cOff = slot1 >= 0 ? (slot1 * this.Hm) * this.J + j : -1;
      const f = cOff >= 0 ? this.comb[cOff] : NaN;
      const q = cOff >= 0 ? this.qUsed[cOff] : NaN;
      targets[this.targets[j]] = { value: values[col], forecast: f, lower: f - q, upper: f + q };
    }
    const since = t === "opened" || !Number.isFinite(this.anomalySince) ? ts : this.anomalySince;
    const learning = t !== "opened" && !this.frozen;
    const pct = ((obs.percentile ?? 0) * 100).toFixed(1);
    const first = this.targets[0];
    const c = targets[first];
    const sc = this.scorer;
    const unusual = { count: sc.unusualCount, of: sc.opts.density, most: sc.unusualMost };
    // the density test raised it: say how many readings were unusual
    const dense = sc.densityEvidence > sc.evidence
      ? `; ${unusual.count} of the last ${unusual.of} readings were unusual (never more than ${unusual.most} before)`
      : "";
    const message = t === "opened"
      ? `${this.id}: ${first} = ${c.value} is outside the expected ${c.lower.toFixed(3)} .. ${
        c.upper.toFixed(3)
      } (forecast ${
        c.forecast.toFixed(3)
      }); more unusual than ${pct}% of this stream's readings${dense}; learning paused`
      : t === "resolved"
      ? `${this.id}: back within the expected range since ${
        new Date(ts).toISOString()
      }; learning resumed`
      : `${this.id}: the change since ${
        new Date(since).toISOString()
      } has persisted and is accepted as the new normal; learning resumed`;
    return {
      type: t as AlertEvent["type"],
      stream: this.id,
      ts,
      since,
      targets,
      score: obs.score ?? 0,
      likelihood: obs.likelihood ?? 0,
      percentile: obs.percentile ?? 0,
      unusual,
      learning,
      message,
    };
  }

  /** The forecast made from the newest reading (null before the first). */
  forecast(horizon = this.Hm): Forecast | null {
    if (this.readings === 0) return null;
    const H = Math.min(Math.max(1, horizon), this.Hm);
    const o = this.step % this.#S;
    const timestamps = Array.from({ length: H }, (_, k) => this.lastTs + (k + 1) * this.periodMs);
    const targets: Forecast["targets"] = {};
    for (let j = 0; j < this.J; j++) {
      const point: number[] = [], lower: (number | null)[] = [], upper: (number | null)[] = [];
      for (let h = 1; h <= H; h++) {
        const cOff = (o * this.Hm + (h - 1)) * this.J + j;
        const f = this.comb[cOff], q = this.qUsed[cOff];
        point.push(f);
        lower.push(Number.isNaN(q) ? null : f - q);
        upper.push(Number.isNaN(q) ? null : f + q);
      }
      targets[this.targets[j]] = { point, lower, upper };
    }
    return { origin: this.lastTs, timestamps, targets };
  }

  /** The newest reading's value of a target (NaN before the first). */
  latest(target: string): number {
    const j = this.targets.indexOf(target);
    if (j < 0 || this.readings === 0) return NaN;
    return this.originX[(this.step % this.#S) * this.J + j];
  }

  /** The forecast of one expert from the newest reading, (H, J) raw values. */
  expertForecast(expert: string): number[][] | null {
    const e = this.expertNames.indexOf(expert);
    if (e < 0 || this.readings === 0) return null;
    const o = this.step % this.#S;
    const out: number[][] = [];
    for (let h = 1; h <= this.Hm; h++) {
      const row: number[] = [];
      for (let j = 0; j < this.J; j++) {
        row.push(this.preds[((o * this.Hm + (h - 1)) * this.J + j) * this.E + e]);
      }
      out.push(row);
    }
    return out;
  }

  /**
   * Accuracy per horizon so far: MSE (divided by each target's current
   * variance, so columns in different units weigh alike) and skill of the
   * blend and each expert, and interval coverage.
   */
  stats(): HorizonStats[] {
    const { J, Hm, E } = this;
    const out: HorizonStats[] = [];
    for (let h = 1; h <= Hm; h++) {
      const mse: Record<string, number> = {}, skill: Record<string, number> = {};
      const n = this.scoredCount[h - 1] * J;
      let hits = 0, scored = 0;
      for (let e = 0; e <= E; e++) {
        let sum = 0;
        for (let j = 0; j < J; j++) {
          sum += this.sqErr[((h - 1) * J + j) * (E + 1) + e] /
            this.level.scale(this.targetIndex[j]) ** 2;
        }
        mse[e === E ? "blend" : this.expertNames[e]] = n > 0 ? sum / n : NaN;
      }
      for (const k of Object.keys(mse)) skill[k] = 1 - mse[k] / mse.persistence;
      for (let j = 0; j < J; j++) {
        const s = (h - 1) * J + j;
        hits += this.intervals.hits[s];
        scored += Math.max(0, this.intervals.n[s] - 1);
      }
      out.push({
        horizon: h,
        scored: this.scoredCount[h - 1],
        mse,
        skill,
        coverage: scored > 0 ? hits / scored : NaN,
      });
    }
    return out;
  }

  /** Bytes this stream keeps (its share, without the shared workspace). */
  get bytes(): number {
    let n = 0;
    for (const a of Object.values(this.#arrays())) n += a.byteLength;
    return n;
  }

  #arrays(): StateArrays {
    const a: StateArrays = {
      hist: this.hist,
      originStep: this.originStep,
      originTs: this.originTs,
      originX: this.originX,
      originLags: this.originLags,
      preds: this.preds,
      comb: this.comb,
      qUsed: this.qUsed,
      active: this.active,
      sqErr: this.sqErr,
      scoredCount: this.scoredCount,
      change2: this.change2,
      lastInput: this.lastInput,
      levelMean: this.level.mean,
      levelM2: this.level.m2,
      changeMean: this.change.mean,
      changeM2: this.change.m2,
      blendCov: this.blend.cov,
      blendCount: this.blend.count,
      blendLongLoss: this.blend.longLoss,
      q: this.intervals.q,
      m: this.intervals.m,
      n: this.intervals.n,
      hits: this.intervals.hits,
      recent: this.scorer.recent,
      bins: this.scorer.bins,
      onsets: this.scorer.onsets,
      peaks: this.scorer.peaks,
      unusual: this.scorer.unusual,
      rangeLo: this.range.lo,
      rangeHi: this.range.hi,
    };
    this.rls.forEach((r, h) => {
      a[`rlsP${h}`] = r.P;
      a[`rlsW${h}`] = r.W;
    });
    if (this.net && this.trainer) {
      a.params = this.net.params;
      a.h = this.net.h;
      a.c = this.net.c;
      a.adamM = this.trainer.adam.m;
      a.adamV = this.trainer.adam.v;
      a.xs = this.trainer.xs;
      a.ys = this.trainer.ys;
      a.h0 = this.trainer.h0;
      a.c0 = this.trainer.c0;
    }
    return a;
  }

  /** The scalar part of the state, for {@link toBytes}. */
  scalars() {
    return {
      periodMs: this.periodMs,
      season: this.season,
      lastTs: this.lastTs,
      step: this.step,
      readings: this.readings,
      learnedReadings: this.learnedReadings,
      gaps: this.gaps,
      anomalySince: this.anomalySince,
      lastSkipped: this.lastSkipped,
      histLen: this.histLen,
      histHead: this.histHead,
      hasInput: this.hasInput,
      frozen: this.frozen,
      level: [this.level.weight, this.level.count],
      change: [this.change.weight, this.change.count],
      scorer: [
        this.scorer.total,
        this.scorer.count,
        this.range.count,
        this.scorer.runOnset,
        this.scorer.unusualTotal,
        this.scorer.mostUnusual,
      ],
      alerts: [
        this.alerts.state,
        this.alerts.seen,
        this.alerts.run,
        this.alerts.runOnset,
        this.alerts.duration,
      ],
      trainer: this.trainer
        ? [this.trainer.length, this.trainer.pending, this.trainer.updates, this.trainer.adam.t]
        : null,
    };
  }

  /** The whole state as bytes: restoring it continues exactly where this left off. */
  toBytes(): Uint8Array {
    // NaN is not JSON: timestamps and the period travel as null
    return encodeState(JSON.parse(JSON.stringify(this.scalars())), this.#arrays());
  }

  /** Restores a state made by {@link toBytes} for the same options. */
  restore(bytes: Uint8Array): void {
    const stored = readState(bytes);
    const s = stored.scalars as ReturnType<StreamModel["scalars"]>;
    // the history ring's size depends on the period: size it from the stored one first
    if (typeof s.periodMs === "number") {
      this.#setPeriod(s.periodMs);
      this.hist = new Float64Array(this.#histCapacity() * this.I);
    }
    // states saved before the blend solved for convex weights hold the
    // experts' mean squared errors (blendLoss) instead of their error
    // products (blendCov): everything else restores, the blend starts over.
    // Those saved before alerts kept their own peaks lack `peaks`: the
    // reported onsets stand in for them. Those saved before the density test
    // lack its ring (and its two scalars): it starts to count at the restore.
    const missing = restoreArrays(stored.arrays, this.#arrays(), {
      retired: ["blendLoss"],
      optional: ["blendCov", "peaks", "unusual"],
    });
    if (missing.includes("blendCov")) this.blend.reset();
    if (missing.includes("peaks")) this.scorer.peaks.set(this.scorer.onsets);
    const num = (v: number | null) => (v === null ? NaN : v);
    this.periodMs = num(s.periodMs);
    this.season = s.season;
    this.lastTs = num(s.lastTs);
    this.step = s.step;
    this.readings = s.readings;
    this.learnedReadings = s.learnedReadings;
    this.gaps = s.gaps;
    this.anomalySince = num(s.anomalySince);
    this.lastSkipped = s.lastSkipped;
    this.histLen = s.histLen;
    this.histHead = s.histHead;
    this.hasInput = s.hasInput;
    this.frozen = s.frozen;
    [this.level.weight, this.level.count] = s.level;
    [this.change.weight, this.change.count] = s.change;
    // checkpoints made before incidents were tracked have no run onset (none
    // is under way), those made before the density test no counts
    [
      this.scorer.total,
      this.scorer.count,
      this.range.count,
      this.scorer.runOnset = 0,
      this.scorer.unusualTotal = 0,
      this.scorer.mostUnusual = 0,
    ] = s.scorer;
    [
      this.alerts.state,
      this.alerts.seen,
      this.alerts.run,
      this.alerts.runOnset,
      this.alerts.duration,
    ] = s.alerts as [AlertMachine["state"], number, number, boolean, number];
    if (this.trainer && s.trainer) {
      [this.trainer.length, this.trainer.pending, this.trainer.updates, this.trainer.adam.t] =
        s.trainer;
    }
  }
}

/** v clipped to [-lim, lim]. */
function clip(v: number, lim: number): number {
  return Math.max(-lim, Math.min(lim, v));
}

export type { Floats };
