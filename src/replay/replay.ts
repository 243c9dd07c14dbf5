/**
 * A replay: recorded rows fed reading by reading through the daemon's engine
 * (Engine.observe, so StreamModel.observe: score, learn, forecast), with the
 * forecasts scored against the values that follow. No I/O: rows come in as a
 * {@link SensorTable}, per-row results go out through callbacks.
 *
 * Scoring is leak-free and uses only the engine's public output. After the
 * reading of row t is observed, `forecast()` and `expertForecast()` give the
 * forecasts of the next Hmax readings made from it; they are kept and each
 * step is compared with the reading it forecast when that reading is fed (the
 * h-th accepted reading after the origin, so a rejected row is not a step).
 * The engine learns from a reading only after its forecasts were made, as a
 * live stream does.
 *
 * For each reported horizon H, an origin counts once its H steps have all
 * arrived (origins whose window runs past the last row are dropped), and
 *
 *   MSE_H = mean over origins × steps 1..H × targets of ((y − ŷ) / std)²
 *
 * with std the protocol's fixed per-column scale, i.e. the squared error of
 * z-scored values. MAE_H likewise with |·|. Coverage_H is the share of those
 * values inside the engine's interval [lower, upper] for their step, over the
 * values that had an interval (the engine gives none until it is calibrated).
 *
 * With `warmupPasses` P > 1 the warm-up rows are fed P times: after each pass
 * but the last the stream is rewound (Engine.rewind: windows reset, last
 * timestamp forgotten, everything learned kept), and the last pass runs on
 * from the warm-up rows into the scored rows, so the model meets them with
 * the real end of the warm-up as its context. Only the last pass captures
 * forecasts, so exactly the same origins are scored whatever P is.
 *
 * Shapes: N rows, C columns, J targets, Hm = Hmax steps, E experts (+1 for
 * the blend, always last).
 */
import { Engine } from "../stream/engine.ts";
import type { Preset } from "../stream/preset.ts";
import {
  type Forecast,
  type Observation,
  ReadingError,
  type StreamModel,
} from "../stream/stream.ts";
import type { SensorTable } from "./csv.ts";
import { columnScale, type Split } from "./protocol.ts";

/** How to replay a table. */
export interface ReplayOptions {
  /** The stream's preset, as the daemon would build it (horizons = Hmax). */
  preset: Preset;
  /** Horizons to report, each in 1..preset.horizons. */
  horizons: number[];
  /** Rows fed, scored and scaled by. */
  split: Split;
  /** Columns to forecast. Default: all. */
  targets?: string[];
  /** Sampling period in ms. Default: the engine infers it from the first two readings. */
  periodMs?: number;
  /**
   * Passes over the warm-up rows [0, split.warmupRows), an integer of at
   * least 1; more than 1 needs warm-up rows. Each pass but the last ends with
   * a rewind of the stream (Engine.rewind); the last runs on into the scored
   * rows. Default: 1.
   */
  warmupPasses?: number;
  /**
   * Called once per row of the last pass, in order: the observation, or null
   * with the engine's rejection when the engine refused the reading.
   */
  onRow?: (row: number, obs: Observation | null, rejected: ReadingError | null) => void;
  /**
   * Called with each forecast that is scored, from the origin `row` (before
   * that row's onRow): the blend's, and each expert's path, (Hm, J) raw
   * values. Default: none (the paths are then not copied out).
   */
  onForecast?: (
    row: number,
    forecast: Forecast,
    experts: Readonly<Record<string, number[][]>>,
  ) => void;
  /** Called about every `progressEvery` rows fed (all passes) and after the last. */
  onProgress?: (done: number, total: number) => void;
  /** Default: 1/200 of the rows fed. */
  progressEvery?: number;
}

/** Accuracy at one reported horizon. */
export interface HorizonReport {
  horizon: number;
  /** Forecast origins scored (those whose H steps all arrived). */
  origins: number;
  /** MSE of the blend (the engine's forecast), z-scored, steps 1..H. */
  mse: number;
  /** MAE of the blend, z-scored, steps 1..H. */
  mae: number;
  /** Share of values of steps 1..H inside the interval; null when no interval was given. */
  coverage: number | null;
  /** The same at step H alone. */
  coverageAtH: number | null;
  /** MSE of each expert and of the blend, the same values as `mse`. */
  experts: Record<string, number>;
}

/** What a replay measured. */
export interface ReplayReport {
  /** Rows fed (N). */
  rows: number;
  columns: string[];
  targets: string[];
  split: Split;
  /** Sampling period the engine used, ms. */
  periodMs: number;
  /** Readings the engine accepted, every pass. */
  readings: number;
  /** Rows the engine refused, by reason, every pass. */
  rejected: Record<string, number>;
  /** Readings the models learned from (not those inside an anomaly), every pass. */
  learned: number;
  /** Alert events (opened, resolved, new normal), every pass. */
  alerts: number;
  /** Gaps that reset the windows. */
  gaps: number;
  /** Wall time of the replay loop (engine and scoring), s. */
  seconds: number;
  /** Time inside Engine.observe, s. */
  observeSeconds: number;
  readingsPerSecond: number;
  horizons: HorizonReport[];
}

/** Per reported horizon: sums over its origins. */
interface Totals {
  origins: number;
  sq: Float64Array; // (E + 1)
  abs: number;
  hits: number;
  covN: number;
  hitsAtH: number;
  covNAtH: number;
}

/** Replays the first `split.rows` rows of a table through a fresh engine. */
export function replay(table: SensorTable, opts: ReplayOptions): ReplayReport {
  const { split, preset } = opts;
  const N = split.rows;
  if (N > table.rows) {
    throw new RangeError(
      `Cannot replay ${table.source}: the rows fed must be at most the rows read (${table.rows}): current value is ${N}`,
    );
  }
  const passes = opts.warmupPasses ?? 1;
  if (!Number.isInteger(passes) || passes < 1) {
    throw new RangeError(
      `Cannot replay: the warm-up passes must be an integer of at least 1: current value is ${passes}`,
    );
  }
  if (passes > 1 && split.warmupRows === 0) {
    throw new RangeError(
      `Cannot replay: more than one warm-up pass needs warm-up rows (this split has none): current value is ${passes}`,
    );
  }
  const Hm = preset.horizons;
  const reported = [...new Set(opts.horizons)].sort((a, b) => a - b);
  for (const h of reported) {
    if (!Number.isInteger(h) || h < 1 || h > Hm) {
      throw new RangeError(
        `Cannot replay: every reported horizon must be an integer in 1..${Hm} (the stream's Hmax): current value is ${h}`,
      );
    }
  }
  const engine = new Engine();
  const stream: StreamModel = engine.create("replay", {
    preset,
    columns: table.columns,
    targets: opts.targets,
    periodMs: opts.periodMs,
  });
  const C = table.columns.length;
  const J = stream.J;
  const experts = [...stream.expertNames];
  const E = experts.length;
  const E1 = E + 1;
  const col = stream.targetIndex;
  const { std } = columnScale(table.values, C, split.scaleRows);
  const inv = Float64Array.from(col, (c) => 1 / std[c]);

  // pending origins, a ring of S slots; each lives for Hm accepted readings
  const S = Hm + 1;
  const live = new Uint8Array(S);
  const done = new Int32Array(S); // steps scored so far
  const pred = new Float64Array(S * Hm * J * E1); // (S, Hm, J, E+1) raw values
  const lo = new Float64Array(S * Hm * J); // (S, Hm, J), NaN without interval
  const hi = new Float64Array(S * Hm * J);
  const cumSq = new Float64Array(S * E1);
  const cumAbs = new Float64Array(S), cumHits = new Float64Array(S), cumCov = new Float64Array(S);
  const atH = new Int32Array(Hm + 1).fill(-1); // step -> index in `reported`
  reported.forEach((h, k) => (atH[h] = k));
  const totals: Totals[] = reported.map(() => ({
    origins: 0,
    sq: new Float64Array(E1),
    abs: 0,
    hits: 0,
    covN: 0,
    hitsAtH: 0,
    covNAtH: 0,
  }));
  let captured = 0;

  const scoreStep = (values: Float64Array, base: number) => {
    for (let o = 0; o < S; o++) {
      if (!live[o]) continue;
      const h = ++done[o];
      let stepHits = 0, stepCov = 0;
      for (let j = 0; j < J; j++) {
        const y = values[base + col[j]];
        const p = (o * Hm + (h - 1)) * J + j;
        for (let e = 0; e < E1; e++) {
          const d = (y - pred[p * E1 + e]) * inv[j];
          cumSq[o * E1 + e] += d * d;
          if (e === E) cumAbs[o] += Math.abs(d);
        }
        if (!Number.isNaN(lo[p])) {
          stepCov++;
          if (y >= lo[p] && y <= hi[p]) stepHits++;
        }
      }
      cumHits[o] += stepHits;
      cumCov[o] += stepCov;
      const k = atH[h];
      if (k >= 0) {
        const t = totals[k];
        t.origins++;
        for (let e = 0; e < E1; e++) t.sq[e] += cumSq[o * E1 + e];
        t.abs += cumAbs[o];
        t.hits += cumHits[o];
        t.covN += cumCov[o];
        t.hitsAtH += stepHits;
        t.covNAtH += stepCov;
      }
      if (h === Hm) live[o] = 0;
    }
  };

  const capture = (row: number) => {
    const o = captured++ % S;
    const f = stream.forecast(Hm)!;
    const paths: Record<string, number[][]> | null = opts.onForecast ? {} : null;
    for (let j = 0; j < J; j++) {
      const t = f.targets[stream.targets[j]];
      for (let h = 1; h <= Hm; h++) {
        const p = (o * Hm + (h - 1)) * J + j;
        pred[p * E1 + E] = t.point[h - 1];
        lo[p] = t.lower[h - 1] ?? NaN;
        hi[p] = t.upper[h - 1] ?? NaN;
      }
    }
    for (let e = 0; e < E; e++) {
      const xs = stream.expertForecast(experts[e])!;
      if (paths) paths[experts[e]] = xs;
      for (let h = 1; h <= Hm; h++) {
        for (let j = 0; j < J; j++) pred[((o * Hm + (h - 1)) * J + j) * E1 + e] = xs[h - 1][j];
      }
    }
    live[o] = 1;
    done[o] = 0;
    cumSq.fill(0, o * E1, (o + 1) * E1);
    cumAbs[o] = cumHits[o] = cumCov[o] = 0;
    if (paths) opts.onForecast!(row, f, paths);
  };

  const W = split.warmupRows;
  const total = (passes - 1) * W + N; // rows fed
  const every = opts.progressEvery ?? Math.max(1, Math.floor(total / 200));
  const firstOrigin = split.firstTarget - 1;
  let fed = 0;
  const t0 = performance.now();
  // the passes over the warm-up rows before the last: learned from, nothing
  // scored or reported per row; each ends with a rewind, so the next pass
  // starts from the first row with everything learned so far
  for (let p = 1; p < passes; p++) {
    for (let r = 0; r < W; r++) {
      try {
        engine.observe("replay", table.ts[r], table.values.subarray(r * C, (r + 1) * C));
      } catch (e) {
        if (!(e instanceof ReadingError)) throw e;
      }
      fed++;
      if (opts.onProgress && (fed % every === 0 || fed === total)) opts.onProgress(fed, total);
    }
    engine.rewind("replay");
  }
  // the last pass: the warm-up rows once more, then on into the scored rows
  for (let r = 0; r < N; r++) {
    let obs: Observation | null = null;
    let rejected: ReadingError | null = null;
    try {
      obs = engine.observe("replay", table.ts[r], table.values.subarray(r * C, (r + 1) * C));
    } catch (e) {
      if (!(e instanceof ReadingError)) throw e;
      rejected = e;
    }
    if (obs) {
      // the truth for pending forecasts, then the forecast made from this reading
      scoreStep(table.values, r * C);
      if (r >= firstOrigin && r < N - 1) capture(r);
    }
    opts.onRow?.(r, obs, rejected);
    fed++;
    if (opts.onProgress && (fed % every === 0 || fed === total)) opts.onProgress(fed, total);
  }
  const seconds = (performance.now() - t0) / 1000;

  const names = [...experts, "blend"];
  const horizons: HorizonReport[] = reported.map((horizon, k) => {
    const t = totals[k];
    const n = t.origins * horizon * J;
    const expertMse: Record<string, number> = {};
    names.forEach((name, e) => (expertMse[name] = n > 0 ? t.sq[e] / n : NaN));
    return {
      horizon,
      origins: t.origins,
      mse: expertMse.blend,
      mae: n > 0 ? t.abs / n : NaN,
      coverage: t.covN > 0 ? t.hits / t.covN : null,
      coverageAtH: t.covNAtH > 0 ? t.hitsAtH / t.covNAtH : null,
      experts: expertMse,
    };
  });
  const c = engine.counters;
  return {
    rows: N,
    columns: [...table.columns],
    targets: [...stream.targets],
    split,
    periodMs: stream.periodMs,
    readings: c.readings,
    rejected: { ...c.rejects },
    learned: c.learned,
    alerts: c.alerts,
    gaps: stream.gaps,
    seconds,
    observeSeconds: c.observeSeconds,
    readingsPerSecond: seconds > 0 ? c.readings / seconds : NaN,
    horizons,
  };
}
