/**
 * Alerts against labelled anomaly windows: which windows an alert opened in,
 * how late, what kind of anomaly each was, and how many alerts opened outside
 * every window (false alerts) and how often per week. The windows file is
 * NAB's `combined_windows.json` layout (`{"family/file.csv": [[start, end],
 * ...]}`, timestamps as NAB writes them, UTC); the optional kinds file maps
 * the same keys to the kind of each window, in order (as
 * tests/fixtures/make_synthetic_nab.ts writes it).
 *
 * As NAB scores, the first min(⌊0.15·N⌋, 750) rows of a file are its
 * probationary period: alerts in them are neither hits nor false alerts, and
 * its time does not count towards the alerts per week. A window is hit when
 * an alert opens at a row inside it (its ends included); an alert that opens
 * outside every window is false.
 */
import { parseTimestamp } from "./timestamp.ts";

/** One labelled window of a file. */
export interface LabelledWindow {
  /** Start and end, ms (inclusive). */
  start: number;
  end: number;
  /** The kind of anomaly, "unknown" without a kinds file. */
  kind: string;
}

/** How one window fared. */
export interface WindowResult extends LabelledWindow {
  /** The row of the first alert inside it, or -1. */
  firstRow: number;
  /** Readings from the window's start to that alert (-1 when missed). */
  delay: number;
}

/** Tallies per kind (or family). */
export interface HitCount {
  windows: number;
  hit: number;
}

/** What the alerts of one file did against its windows. */
export interface LabelReport {
  windows: WindowResult[];
  /** Alerts that opened outside every window, after the probationary period. */
  falseAlerts: number;
  /** Weeks of readings after the probationary period (from its end to the last row). */
  weeks: number;
  /** falseAlerts / weeks (0 when no time was scored). */
  falseAlertsPerWeek: number;
  /** Windows and hits per kind. */
  byKind: Record<string, HitCount>;
}

const WEEK_MS = 7 * 86_400_000;

/** The rows of NAB's probationary period for a file of n rows. */
export function probationRows(n: number): number {
  return Math.min(Math.floor(0.15 * n), 750);
}

/** The key of a data file in a windows file: its folder and name ("family/file.csv"). */
export function labelKey(path: string): string {
  return path.split(/[\\/]/).filter((s) => s !== "").slice(-2).join("/");
}

/** The labelled windows of every file, read from NAB's windows JSON and an optional kinds JSON. */
export function parseLabels(
  windowsJson: string,
  kindsJson?: string,
): Map<string, LabelledWindow[]> {
  const fail = (what: string, value: unknown) =>
    new RangeError(`Cannot read labels: ${what}: current value is ${JSON.stringify(value)}`);
  const windows = JSON.parse(windowsJson) as Record<string, unknown>;
  const kinds = kindsJson === undefined ? {} : JSON.parse(kindsJson) as Record<string, unknown>;
  const out = new Map<string, LabelledWindow[]>();
  for (const [key, list] of Object.entries(windows)) {
    if (!Array.isArray(list)) throw fail(`the windows of "${key}" must be a list`, list);
    const k = kinds[key] ?? [];
    if (!Array.isArray(k) || (kindsJson !== undefined && k.length !== list.length)) {
      throw fail(`the kinds of "${key}" must list one kind per window (${list.length})`, k);
    }
    out.set(
      key,
      list.map((w, i) => {
        const [a, b] = Array.isArray(w) ? w.map((t) => parseTimestamp(String(t))) : [NaN, NaN];
        if (!(a <= b)) throw fail(`each window of "${key}" must be [start, end] in time order`, w);
        return { start: a, end: b, kind: typeof k[i] === "string" ? k[i] : "unknown" };
      }),
    );
  }
  return out;
}

/**
 * Scores the alerts of one file: `ts` (N) the rows' timestamps, `opened` the
 * rows at which an alert opened (ascending), `windows` the file's labels.
 */
export function scoreAlerts(
  ts: ArrayLike<number>,
  opened: readonly number[],
  windows: readonly LabelledWindow[],
): LabelReport {
  const n = ts.length;
  const first = probationRows(n);
  const results: WindowResult[] = windows.map((w) => ({ ...w, firstRow: -1, delay: -1 }));
  let falseAlerts = 0;
  for (const r of opened) {
    if (r < first) continue;
    const t = ts[r];
    const w = results.find((x) => t >= x.start && t <= x.end);
    if (!w) falseAlerts++;
    else if (w.firstRow < 0) {
      w.firstRow = r;
      let start = r;
      while (start > 0 && ts[start - 1] >= w.start) start--;
      w.delay = r - start;
    }
  }
  const weeks = n > first ? Math.max(0, ts[n - 1] - ts[Math.min(first, n - 1)]) / WEEK_MS : 0;
  const byKind: Record<string, HitCount> = {};
  for (const w of results) {
    const c = byKind[w.kind] ??= { windows: 0, hit: 0 };
    c.windows++;
    if (w.firstRow >= 0) c.hit++;
  }
  return {
    windows: results,
    falseAlerts,
    weeks,
    falseAlertsPerWeek: weeks > 0 ? falseAlerts / weeks : 0,
    byKind,
  };
}

/** Adds the tallies of `from` into `into` (per kind or per family). */
export function addCounts(into: Record<string, HitCount>, from: Record<string, HitCount>): void {
  for (const [k, c] of Object.entries(from)) {
    const t = into[k] ??= { windows: 0, hit: 0 };
    t.windows += c.windows;
    t.hit += c.hit;
  }
}
