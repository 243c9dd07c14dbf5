/**
 * The data of a replay's HTML report (`forecastd replay --report FILE.html`),
 * as the report's page reads it from the JSON inside the file. Times are ms
 * since the epoch; errors are of z-scored values, as in the replay's text
 * and JSON reports (docs/replay.md).
 */

/** Accuracy at one reported horizon (the replay's `horizons`). */
export interface ReportHorizon {
  horizon: number;
  origins: number;
  mse: number | null;
  mae: number | null;
  coverage: number | null;
  coverageAtH: number | null;
  /** MSE of each expert and of the blend. */
  experts: Record<string, number | null>;
}

/** What was replayed and how, and what it measured: the replay's own report. */
export interface ReportSummary {
  file: string;
  rows: number;
  columns: string[];
  targets: string[];
  timeForm: string;
  protocol: string;
  preset: string;
  without: string[];
  hmax: number;
  periodMs: number;
  readings: number;
  rejectedRows: number;
  learned: number;
  alerts: number;
  gaps: number;
  horizons: ReportHorizon[];
}

/** One target's readings and the one-step forecast made for each, oldest first. */
export interface ReportSeries {
  target: string;
  /** (N) the reading's time. */
  ts: number[];
  /** (N) the reading. */
  value: number[];
  /** (N) the forecast made one step before, and its interval; null where none was scored. */
  point: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  /** (N) a gap came before the reading (the chart breaks its lines there). */
  gap: boolean[];
}

/** An alert the replay raised. */
export interface ReportAlert {
  id: string;
  type: "opened" | "resolved" | "new_normal";
  stream: string;
  /** The reading's time, and when the anomaly began. */
  ts: number;
  since: number;
  /** The row of the file (0 is the first data row), and its line (1 is the header). */
  row: number;
  line: number;
  score: number;
  message: string;
}

/** The error at one step ahead, over every scored origin. */
export interface ReportStep {
  step: number;
  /** Values scored at this step (origins x targets). */
  n: number;
  /** MSE of each expert and of the blend ("blend"); null before any was scored. */
  mse: Record<string, number | null>;
  /** MAE of the blend. */
  mae: number | null;
  /** Share of values inside the blend's interval; null when no interval was given. */
  coverage: number | null;
}

/** Everything the report shows. */
export interface ReportJson {
  summary: ReportSummary;
  series: ReportSeries[];
  alerts: ReportAlert[];
  /** Steps 1 .. hmax. */
  steps: ReportStep[];
  /** What made the report, and when (RFC 3339). */
  made: { by: string; at: string };
}
