/**
 * What a replay's HTML report shows, collected while the replay runs
 * (replay.ts calls {@link ReportCollector.forecast} with each forecast it
 * scores and {@link ReportCollector.row} with each row): per target, every
 * reading with the one-step forecast made for it and its interval; the
 * alerts; and the error at each step ahead 1..Hmax for the blend and each
 * expert.
 *
 * The errors are scored here on their own, as replay.ts scores them: a
 * forecast's h-th step is compared with the h-th accepted reading after its
 * origin, in z-scored values (the protocol's fixed scale). So the report's
 * step errors are a second computation of the replay's figures: the mean of
 * steps 1..H is the replay's MSE at horizon H (tests/replay/report_data_test.ts).
 *
 * Shapes: N rows, C columns, J targets, Hm = Hmax steps.
 */
import type { Forecast, Observation, ReadingError } from "../stream/stream.ts";
import type { SensorTable } from "./csv.ts";
import { columnScale, type Split } from "./protocol.ts";
import type {
  ReportAlert,
  ReportJson,
  ReportSeries,
  ReportStep,
  ReportSummary,
} from "./report_page/report_json.ts";

/** What the collector needs to know of the replay. */
export interface ReportCollectorOptions {
  /** The replay's rows and scale (as replay() gets it). */
  split: Split;
  /** The columns forecast, in the stream's order. */
  targets: readonly string[];
  /** Hm: the steps the stream forecasts. */
  hmax: number;
}

/** A forecast waiting for the readings it forecast. */
interface Pending {
  forecast: Forecast;
  experts: Readonly<Record<string, number[][]>>;
  /** Steps scored so far. */
  done: number;
}

/** Per step (Hm) sums over the scored values. */
interface StepSums {
  n: Float64Array;
  sq: Map<string, Float64Array>;
  abs: Float64Array;
  hits: Float64Array;
  covered: Float64Array;
}

/** A number kept to 6 significant digits: the chart needs no more, the file stays small. */
function short(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(6));
}

/** Collects a report's data from a replay's callbacks. */
export class ReportCollector {
  readonly #table: SensorTable;
  readonly #hm: number;
  readonly #targets: readonly string[];
  /** (J) column of each target, and 1 / its scale. */
  readonly #col: number[];
  readonly #inv: number[];
  readonly #series: ReportSeries[];
  readonly #alerts: ReportAlert[] = [];
  readonly #pending: Pending[] = [];
  #captured: Pending | null = null;
  #sums: StepSums | null = null;

  constructor(table: SensorTable, opts: ReportCollectorOptions) {
    this.#table = table;
    this.#hm = opts.hmax;
    this.#targets = opts.targets;
    const C = table.columns.length;
    const { std } = columnScale(table.values, C, opts.split.scaleRows);
    this.#col = opts.targets.map((t) => table.columns.indexOf(t));
    this.#inv = this.#col.map((c) => 1 / std[c]);
    this.#series = opts.targets.map((target) => ({
      target,
      ts: [],
      value: [],
      point: [],
      lower: [],
      upper: [],
      gap: [],
    }));
  }

  /** For ReplayOptions.onForecast: the forecasts made from `row`, to score. */
  readonly forecast = (
    _row: number,
    forecast: Forecast,
    experts: Readonly<Record<string, number[][]>>,
  ): void => {
    this.#sums ??= {
      n: new Float64Array(this.#hm),
      sq: new Map(
        [...Object.keys(experts), "blend"].map((e) => [e, new Float64Array(this.#hm)]),
      ),
      abs: new Float64Array(this.#hm),
      hits: new Float64Array(this.#hm),
      covered: new Float64Array(this.#hm),
    };
    // scored from the next reading on: row() adds it after scoring this one
    this.#captured = { forecast, experts, done: 0 };
  };

  /** For ReplayOptions.onRow: each row, accepted (`obs`) or refused. */
  readonly row = (row: number, obs: Observation | null, _rejected: ReadingError | null): void => {
    if (obs === null) return;
    const C = this.#table.columns.length;
    const J = this.#targets.length;
    const y = (j: number) => this.#table.values[row * C + this.#col[j]];
    const oneStep: Pending | undefined = this.#pending.find((p) => p.done === 0);
    for (let j = 0; j < J; j++) {
      const s = this.#series[j];
      s.ts.push(this.#table.ts[row]);
      s.value.push(y(j));
      s.gap.push(obs.gap);
      const path = oneStep?.forecast.targets[this.#targets[j]];
      s.point.push(path ? short(path.point[0]) : null);
      s.lower.push(path ? short(path.lower[0]) : null);
      s.upper.push(path ? short(path.upper[0]) : null);
    }
    const sums = this.#sums;
    for (const p of this.#pending) {
      const k = p.done++; // this reading is step k + 1 of p
      if (!sums) break;
      for (let j = 0; j < J; j++) {
        const target = this.#targets[j];
        const path = p.forecast.targets[target];
        const z = this.#inv[j];
        const d = (y(j) - path.point[k]) * z;
        sums.n[k]++;
        sums.sq.get("blend")![k] += d * d;
        sums.abs[k] += Math.abs(d);
        for (const [e, xs] of Object.entries(p.experts)) {
          const de = (y(j) - xs[k][j]) * z;
          sums.sq.get(e)![k] += de * de;
        }
        const lo = path.lower[k], hi = path.upper[k];
        if (lo !== null && hi !== null) {
          sums.covered[k]++;
          if (y(j) >= lo && y(j) <= hi) sums.hits[k]++;
        }
      }
    }
    // a forecast whose Hm steps have all come is done
    while (this.#pending.length > 0 && this.#pending[0].done >= this.#hm) this.#pending.shift();
    if (this.#captured) {
      this.#pending.push(this.#captured);
      this.#captured = null;
    }
    if (obs.event) {
      const e = obs.event;
      const prefix = `${e.stream}: `;
      this.#alerts.push({
        // 16 digits, as the daemon's: the chart's marks order alerts by id
        id: String(this.#alerts.length + 1).padStart(16, "0"),
        type: e.type,
        stream: e.stream,
        ts: e.ts,
        since: e.since,
        row,
        line: this.#table.lines[row],
        score: e.score,
        message: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message,
      });
    }
  };

  /** The error at each step 1..Hm, over what was scored so far. */
  steps(): ReportStep[] {
    const s = this.#sums;
    return Array.from({ length: this.#hm }, (_, k) => {
      const n = s?.n[k] ?? 0;
      const mse: Record<string, number | null> = {};
      for (const [e, sq] of s?.sq ?? []) mse[e] = n > 0 ? sq[k] / n : null;
      return {
        step: k + 1,
        n,
        mse,
        mae: n > 0 ? s!.abs[k] / n : null,
        coverage: s && s.covered[k] > 0 ? s.hits[k] / s.covered[k] : null,
      };
    });
  }

  /** The report's data: the replay's own summary, and what was collected. */
  json(summary: ReportSummary, made: ReportJson["made"]): ReportJson {
    return {
      summary,
      series: this.#series,
      alerts: this.#alerts,
      steps: this.steps(),
      made,
    };
  }
}
