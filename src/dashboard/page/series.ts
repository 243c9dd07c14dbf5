/**
 * The chart's data: the readings the page keeps of the chosen stream (from
 * `GET /v1/streams/{id}/recent`, fetched again with `after` for the new
 * ones) and the forecast ahead, as the aligned columns uPlot draws.
 *
 * Columns of {@link ChartData}: x (seconds, ascending), the readings, the
 * forecast point (the forecast made for each past reading, then the path
 * ahead), the interval's lower and upper bound. A reading after a gap (the
 * stream's readings stopped for longer than its preset allows) gets a row of
 * nulls before it, so its line is broken there instead of drawn across it.
 */
import type { ForecastJson, RecentJson } from "./api_types.ts";
import { parseTime } from "./format.ts";

/** The kept readings of one target, oldest first. */
export interface Kept {
  ts: number[];
  value: number[];
  point: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
  /** A gap came before the reading. */
  gap: boolean[];
}

/** No readings. */
export function emptyKept(): Kept {
  return { ts: [], value: [], point: [], lower: [], upper: [], gap: [] };
}

/**
 * `kept` with the readings of `json` for `target` that are newer than its
 * last one, keeping the newest `max`.
 */
export function mergeRecent(kept: Kept, json: RecentJson, target: string, max: number): Kept {
  const cols = json.targets[target];
  const out: Kept = {
    ts: [...kept.ts],
    value: [...kept.value],
    point: [...kept.point],
    lower: [...kept.lower],
    upper: [...kept.upper],
    gap: [...kept.gap],
  };
  if (!cols) return out;
  const last = out.ts.length ? out.ts[out.ts.length - 1] : -Infinity;
  json.timestamps.forEach((iso, i) => {
    const ts = parseTime(iso);
    if (ts === null || ts <= last) return;
    out.ts.push(ts);
    out.value.push(cols.value[i]);
    out.point.push(cols.point[i]);
    out.lower.push(cols.lower[i]);
    out.upper.push(cols.upper[i]);
    out.gap.push(json.gap[i] ?? false);
  });
  const drop = Math.max(0, out.ts.length - max);
  if (drop > 0) {
    for (const k of Object.keys(out) as (keyof Kept)[]) out[k].splice(0, drop);
  }
  return out;
}

/** uPlot's aligned columns. */
export interface ChartData {
  /** Seconds since the epoch (uPlot's time unit), ascending. */
  x: number[];
  value: (number | null)[];
  point: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
}

/**
 * The chart's columns: kept readings at or after `fromTs` (ms; default all),
 * then the forecast ahead of `target` (its steps after the last reading).
 */
export function chartData(
  kept: Kept,
  forecast: ForecastJson | null,
  target: string,
  fromTs = -Infinity,
): ChartData {
  const d: ChartData = { x: [], value: [], point: [], lower: [], upper: [] };
  const push = (
    ts: number,
    value: number | null,
    point: number | null,
    lower: number | null,
    upper: number | null,
  ) => {
    d.x.push(ts / 1000);
    d.value.push(value);
    d.point.push(point);
    d.lower.push(lower);
    d.upper.push(upper);
  };
  let prev: number | null = null;
  for (let i = 0; i < kept.ts.length; i++) {
    const ts = kept.ts[i];
    if (ts < fromTs) continue;
    // a gap came before this reading: break the lines halfway
    if (prev !== null && kept.gap[i]) push((prev + ts) / 2, null, null, null, null);
    push(ts, kept.value[i], kept.point[i], kept.lower[i], kept.upper[i]);
    prev = ts;
  }
  const path = forecast?.targets[target];
  if (forecast && path) {
    forecast.timestamps.forEach((iso, k) => {
      const ts = parseTime(iso);
      if (ts === null || (prev !== null && ts <= prev)) return;
      push(ts, null, path.point[k], path.lower[k], path.upper[k]);
      prev = ts;
    });
  }
  return d;
}

/** Rows where both bounds are numbers: what the band is drawn over. */
export function bandRows(d: ChartData): number {
  let n = 0;
  for (let i = 0; i < d.x.length; i++) {
    if (Number.isFinite(d.lower[i]) && Number.isFinite(d.upper[i])) n++;
  }
  return n;
}
