/**
 * The lines of `/metrics`' text (src/api/metrics.ts): a family's HELP and
 * TYPE, a series' labels and value, and a per-stream family's lines of one
 * stream, from the stream's stats objects or from the workers' columns
 * (HorizonColumns), byte for byte the same; the columns of several workers
 * merged in id order.
 */
import type { HorizonColumns } from "../service/application.ts";
import type { HorizonScore, StreamScores } from "./metrics.ts";

/** A series' labels as the text format writes them: `{k="v",...}`, or "" for none. */
export function labelText(labels: Record<string, string>): string {
  let out = "";
  for (const k in labels) out += `${out === "" ? "{" : ","}${k}="${escapeLabel(labels[k])}"`;
  return out === "" ? "" : `${out}}`;
}

/** A sample value as the text format writes it (NaN, +Inf, -Inf). */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** A family's HELP and TYPE lines. */
export function familyHeader(f: { name: string; type: string; help: string }): string {
  return `# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n` +
    `# TYPE ${f.name} ${f.type}\n`;
}

/** A per-stream family as its lines need it. */
export interface SeriesFamily {
  name: string;
  /** The value of one stream at one horizon; a value not finite is left out. */
  value: (h: HorizonScore) => number;
  /** Where the same value is among a horizon's numbers in HorizonColumns' `values`. */
  field: number;
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  // most values (stream ids, numbers) have none: no new strings for them
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** The streams of several HorizonColumns merged in id order, each stream's numbers where they are. */
export interface StreamTable {
  /** Ids, escaped for a label. */
  ids: string[];
  /** The values array each stream's numbers are in. */
  values: Float64Array[];
  /** Where a stream's first horizon is in its values. */
  at: Int32Array;
  /** Its horizons. */
  counts: Int32Array;
}

/** Numbers a horizon takes in HorizonColumns' `values`. */
const COLUMN_FIELDS = 5;

/** The lines of family `f` for stream `s`: its finite values at the exported horizons. */
export function statsLines(
  s: StreamScores,
  f: SeriesFamily,
  horizons: ReadonlySet<number>,
): string {
  let out = "";
  let stream: string | null = null; // escaped once, when it has a series
  for (const h of s.horizons) {
    if (!horizons.has(h.horizon)) continue;
    const v = f.value(h);
    if (!Number.isFinite(v)) continue;
    stream ??= escapeLabel(s.stream);
    out += `${f.name}{stream="${stream}",horizon="${h.horizon}"} ${v}\n`;
  }
  return out;
}

/** The same, for stream `i` of `t`, from its numbers in the columns. */
export function columnLines(
  t: StreamTable,
  i: number,
  f: SeriesFamily,
  horizons: ReadonlySet<number>,
): string {
  let out = "";
  const x = t.values[i];
  for (let o = t.at[i], end = o + t.counts[i] * COLUMN_FIELDS; o < end; o += COLUMN_FIELDS) {
    const horizon = x[o];
    if (!horizons.has(horizon)) continue;
    const v = x[o + f.field];
    if (!Number.isFinite(v)) continue;
    out += `${f.name}{stream="${t.ids[i]}",horizon="${horizon}"} ${v}\n`;
  }
  return out;
}

/**
 * The streams of `all` (each in id order) in id order, as mergeHorizonColumns
 * (src/shard/horizon_columns.ts) gives them: on equal ids the earlier list's
 * first.
 */
export function mergeColumns(all: readonly HorizonColumns[]): StreamTable {
  let n = 0;
  for (const c of all) n += c.streams.length;
  const table: StreamTable = {
    ids: new Array(n),
    values: new Array(n),
    at: new Int32Array(n),
    counts: new Int32Array(n),
  };
  const next = all.map(() => 0); // each list's next stream
  const offset = all.map(() => 0); // where its numbers are
  for (let i = 0; i < n; i++) {
    let k = -1;
    for (let j = 0; j < all.length; j++) {
      if (next[j] < all[j].streams.length) {
        if (k < 0 || all[j].streams[next[j]] < all[k].streams[next[k]]) k = j;
      }
    }
    const c = all[k], m = next[k]++;
    table.ids[i] = escapeLabel(c.streams[m]);
    table.values[i] = c.values;
    table.at[i] = offset[k];
    table.counts[i] = c.counts[m];
    offset[k] += c.counts[m] * COLUMN_FIELDS;
  }
  return table;
}
