/**
 * A stream's recent readings as CSV (RFC 4180: a header row, CRLF line
 * ends), one row per reading and target, oldest first:
 *
 *   time,target,value,forecast,lower,upper,residual
 *   2025-06-02T00:05:00.000Z,temperature,21.5,21.2,20.9,21.6,0.3
 *
 * `time` is RFC 3339 in UTC; `forecast`, `lower` and `upper` are the
 * one-step forecast made for the reading and its interval, and `residual`
 * is `value - forecast`: each is empty where no forecast was made (the
 * first reading kept, or before the interval is calibrated). Numbers are
 * written as JavaScript writes them, in full.
 */
import type { StreamRecent } from "../service/service.ts";

/** The columns, in order. */
export const RECENT_CSV_COLUMNS = [
  "time",
  "target",
  "value",
  "forecast",
  "lower",
  "upper",
  "residual",
] as const;

/** The media type of the CSV. */
export const CSV_TYPE = "text/csv; charset=utf-8; header=present";

/** A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line end. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function num(v: number | null): string {
  return v === null || !Number.isFinite(v) ? "" : String(v);
}

/** `recent` as CSV. */
export function recentCsv(recent: StreamRecent): string {
  const lines = [RECENT_CSV_COLUMNS.join(",")];
  for (const r of recent.readings) {
    const time = new Date(r.ts).toISOString();
    for (const target of recent.targets) {
      const t = r.targets[target];
      if (!t) continue;
      const residual = t.point === null ? null : t.value - t.point;
      lines.push(
        [
          time,
          csvField(target),
          num(t.value),
          num(t.point),
          num(t.lower),
          num(t.upper),
          num(
            residual,
          ),
        ].join(","),
      );
    }
  }
  return lines.join("\r\n") + "\r\n";
}
