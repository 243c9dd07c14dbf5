/**
 * How the page writes states, numbers, shares, durations and times.
 * A missing number is written as an en dash.
 */
import type { StreamState } from "./api_types.ts";

/** Shown for a number that is not there (null, NaN). */
export const NONE = "–";

const STATE_LABELS: Record<StreamState, string> = {
  warming_up: "warming up",
  learning: "learning",
  anomaly: "anomaly",
  frozen: "frozen",
};

/** A stream state as words ("warming_up" -> "warming up"); an unknown one as it is. */
export function stateLabel(state: string): string {
  return STATE_LABELS[state as StreamState] ?? state;
}

/** A value with up to `digits` decimals, trailing zeros dropped ("21.5", "-0.125"). */
export function formatValue(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  const s = v.toFixed(digits);
  const trimmed = s.includes(".") ? s.replace(/\.?0+$/, "") : s;
  return trimmed === "-0" ? "0" : trimmed;
}

/** A share as a whole percentage ("91%"). */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return NONE;
  return `${Math.round(share * 100)}%`;
}

/**
 * Skill against persistence as a signed percentage: "+34%" (the forecast's
 * error is 34% below the last value's), "-5%" (worse than the last value).
 */
export function formatSkill(skill: number | null | undefined): string {
  if (skill === null || skill === undefined || !Number.isFinite(skill)) return NONE;
  const p = Math.round(skill * 100);
  return p > 0 ? `+${p}%` : `${p}%`;
}

/** Interval coverage against its target: "88% of 90%". */
export function formatCoverage(coverage: number | null | undefined, target: number): string {
  if (coverage === null || coverage === undefined || !Number.isFinite(coverage)) return NONE;
  return `${formatPercent(coverage)} of ${formatPercent(target)}`;
}

/** A duration in the two largest units: "45 s", "12 min", "1 h 20 min", "2 d 3 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return NONE;
  const sign = ms < 0 ? "-" : "";
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${sign}${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${sign}${min} min`;
  const h = Math.floor(min / 60), m = min % 60;
  if (h < 24) return `${sign}${h} h${m ? ` ${m} min` : ""}`;
  const d = Math.floor(h / 24), hh = h % 24;
  return `${sign}${d} d${hh ? ` ${hh} h` : ""}`;
}

/** Where and how times are written. */
export interface TimeFormat {
  /** IANA zone. Default: the browser's. */
  timeZone?: string;
}

/** A time as "2025-06-02 14:05" in the zone of `fmt` (default: the browser's). */
export function formatTime(ms: number | null | undefined, fmt: TimeFormat = {}): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return NONE;
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: fmt.timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(ms));
  const p = (type: string) => parts.find((x) => x.type === type)?.value ?? "";
  return `${p("year")}-${p("month")}-${p("day")} ${p("hour")}:${p("minute")}`;
}

/** An RFC 3339 string (or null) as ms, or null. */
export function parseTime(iso: string | null | undefined): number | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}
