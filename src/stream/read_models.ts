/**
 * What a stream reports: the {@link Observation} of each reading, the
 * {@link Forecast} from the newest, each expert's forecast, and the
 * accuracy per horizon ({@link HorizonStats}). The functions read a
 * stream's state and change nothing; StreamModel's methods of the same
 * names call them.
 */
import type { AlertEvent } from "../domain/alert.ts";
import type { StreamModel } from "./stream.ts";

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
  /**
   * What the divergence guard re-initialised after this reading, null
   * (nearly always) for nothing: an expert's name, "intervals", "blend",
   * "accuracy", or "stream" (learning restarted). See divergence_guard.ts.
   */
  recovered: string[] | null;
  /**
   * Set (nearly always null) on the reading that made gaps frequent: more
   * than the period estimator's warnShare of the recent readings came after
   * a gap. The stream's period (configured or estimated) and the median of
   * the recent intervals, in ms.
   */
  periodWarning: PeriodWarning | null;
}

/** Gaps have become frequent: the period the stream uses and the one its readings show. */
export interface PeriodWarning {
  periodMs: number;
  source: "configured" | "estimated";
  observedMs: number;
  /** Share of the recent readings that came after a gap. */
  gapShare: number;
}

/**
 * Why a forecast step has its interval or not: `calibrated` (it has one),
 * `not_calibrated` (no forecast of this horizon has been scored yet: a new
 * stream), `recalibrating` (the interval state was reset after it went bad,
 * and no forecast of this horizon has been scored since).
 */
export type IntervalStatus = "calibrated" | "not_calibrated" | "recalibrating";

/** A forecast from the latest reading. */
export interface Forecast {
  /** Time of the reading the forecast was made from (ms). */
  origin: number;
  /** Times of the forecast steps (ms), Hmax of them (NaN before the period is known). */
  timestamps: number[];
  /**
   * Per target and step: the point forecast, the interval's bounds (null
   * when it has none) and why it has one or not. Every number is finite.
   */
  targets: Record<
    string,
    {
      point: number[];
      lower: (number | null)[];
      upper: (number | null)[];
      interval: IntervalStatus[];
    }
  >;
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

/** The forecast of horizons 1 … horizon (at most Hm) from the newest reading (null before the first). */
export function readForecast(m: StreamModel, horizon: number): Forecast | null {
  if (m.readings === 0) return null;
  const { J, Hm, origins } = m;
  const H = Math.min(Math.max(1, horizon), Hm);
  const o = m.step % origins.S;
  const timestamps = Array.from({ length: H }, (_, k) => m.lastTs + (k + 1) * m.periodMs);
  const targets: Forecast["targets"] = {};
  for (let j = 0; j < J; j++) {
    const point: number[] = [], lower: (number | null)[] = [], upper: (number | null)[] = [];
    const interval: IntervalStatus[] = [];
    const none = m.intervalsReset ? "recalibrating" : "not_calibrated";
    for (let h = 1; h <= H; h++) {
      const cOff = (o * Hm + (h - 1)) * J + j;
      const f = origins.forecasts[cOff], q = origins.forecasts[origins.qUsedAt + cOff];
      const given = Number.isFinite(q);
      point.push(f);
      lower.push(given ? f - q : null);
      upper.push(given ? f + q : null);
      interval.push(given ? "calibrated" : none);
    }
    targets[m.targets[j]] = { point, lower, upper, interval };
  }
  return { origin: m.lastTs, timestamps, targets };
}

/**
 * readForecast(m, 1)'s numbers without its objects, for the per-reading
 * path: per target j, in target order, `out[3j]` the point forecast of one
 * step from the newest reading, `out[3j + 1]` and `out[3j + 2]` its
 * interval's bounds (NaN when it has none); all NaN before the first
 * reading. `out` holds at least 3 J numbers.
 */
export function readOneStep(m: StreamModel, out: Float64Array): void {
  const { J, Hm, origins } = m;
  if (m.readings === 0) {
    out.fill(NaN, 0, 3 * J);
    return;
  }
  const o = m.step % origins.S;
  for (let j = 0; j < J; j++) {
    const cOff = o * Hm * J + j;
    const f = origins.forecasts[cOff], q = origins.forecasts[origins.qUsedAt + cOff];
    const given = Number.isFinite(q);
    out[3 * j] = f;
    out[3 * j + 1] = given ? f - q : NaN;
    out[3 * j + 2] = given ? f + q : NaN;
  }
}

/** The newest reading's value of a target (NaN before the first, or for an unknown target). */
export function readLatest(m: StreamModel, target: string): number {
  const j = m.targets.indexOf(target);
  if (j < 0 || m.readings === 0) return NaN;
  return m.origins.record[m.origins.xAt + (m.step % m.origins.S) * m.J + j];
}

/** One expert's forecast from the newest reading, (Hm, J) raw values; null for an unknown expert. */
export function readExpertForecast(m: StreamModel, expert: string): number[][] | null {
  const e = m.expertNames.indexOf(expert);
  if (e < 0 || m.readings === 0) return null;
  const { J, Hm, E, origins } = m;
  const o = m.step % origins.S;
  const out: number[][] = [];
  for (let h = 1; h <= Hm; h++) {
    const row: number[] = [];
    for (let j = 0; j < J; j++) row.push(origins.preds[((o * Hm + (h - 1)) * J + j) * E + e]);
    out.push(row);
  }
  return out;
}

/**
 * Accuracy per horizon so far: MSE (divided by each target's current
 * variance, so columns in different units weigh alike) and skill of the
 * blend and each expert, and interval coverage.
 */
export function readStats(m: StreamModel): HorizonStats[] {
  const { Hm, E } = m;
  const out: HorizonStats[] = [];
  for (let h = 1; h <= Hm; h++) {
    const mse: Record<string, number> = {}, skill: Record<string, number> = {};
    for (let e = 0; e <= E; e++) mse[e === E ? "blend" : m.expertNames[e]] = horizonMse(m, h, e);
    for (const k of Object.keys(mse)) skill[k] = 1 - mse[k] / mse.persistence;
    out.push({
      horizon: h,
      scored: m.scoredCount[h - 1],
      mse,
      skill,
      coverage: horizonCoverage(m, h),
    });
  }
  return out;
}

/** Numbers a horizon takes in {@link readBlendStats}' output. */
export const BLEND_STATS_FIELDS = 5;

/**
 * The blend's part of {@link readStats}, without an object: for each
 * horizon h = 1..Hm, `BLEND_STATS_FIELDS` numbers written at
 * `out[at + (h - 1) * 5 ...]`: the horizon, the forecasts scored, the
 * blend's MSE, its skill and the interval coverage, the same numbers
 * (bit for bit) as readStats' `horizon`, `scored`, `mse.blend`,
 * `skill.blend` and `coverage`. Returns the offset after the last one.
 */
export function readBlendStats(m: StreamModel, out: Float64Array, at: number): number {
  const { Hm, E } = m;
  const p = m.expertNames.indexOf("persistence");
  for (let h = 1; h <= Hm; h++, at += BLEND_STATS_FIELDS) {
    const blend = horizonMse(m, h, E);
    out[at] = h;
    out[at + 1] = m.scoredCount[h - 1];
    out[at + 2] = blend;
    // readStats' `mse.persistence` is undefined without that expert: NaN
    out[at + 3] = 1 - blend / (p < 0 ? NaN : horizonMse(m, h, p));
    out[at + 4] = horizonCoverage(m, h);
  }
  return at;
}

/** MSE at horizon `h` of expert `e` (E: the blend), in normalised units; NaN before any score. */
function horizonMse(m: StreamModel, h: number, e: number): number {
  const { J, E } = m;
  const n = m.scoredCount[h - 1] * J;
  let sum = 0;
  for (let j = 0; j < J; j++) {
    sum += m.sqErr[((h - 1) * J + j) * (E + 1) + e] / m.level.scale(m.targetIndex[j]) ** 2;
  }
  return n > 0 ? sum / n : NaN;
}

/** Share of readings inside the interval at horizon `h`; NaN before any. */
function horizonCoverage(m: StreamModel, h: number): number {
  const { J } = m;
  const { hits: inside, n: count } = m.intervals;
  let hits = 0, scored = 0;
  for (let j = 0; j < J; j++) {
    const s = (h - 1) * J + j;
    hits += inside[s];
    scored += Math.max(0, count[s] - 1);
  }
  return scored > 0 ? hits / scored : NaN;
}
