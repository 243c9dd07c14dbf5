/**
 * The one place that writes to the console.
 *
 * Log entries are JSON lines on stderr, one object per line with the keys in a
 * fixed order, then the entry's fields:
 *
 *   {"ts":"2025-01-01T00:00:00.000Z","level":"info","event":"mqtt.connected","url":"mqtt://..."}
 *
 * Event names are dotted, lower case, from the general to the particular
 * (`mqtt.connected`, `ingest.rejected`, `checkpoint.written`), so a log can be
 * filtered with `jq 'select(.event | startswith("mqtt."))'`.
 *
 * `print()` is for the few friendly start-up lines a person reads (one per
 * endpoint): plain text on stdout. Logs stay on stderr so that stdout holds
 * only what the program prints on purpose (those lines, `--print-config`).
 *
 * Logging never throws: a field that cannot be serialised is written as a
 * string describing it.
 */

/** The levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level: entries below the logger's level are dropped. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Extra key/value pairs of an entry. */
export type LogFields = Record<string, unknown>;

/** Receives each formatted line (without its newline) and the entry's level. */
export type LogSink = (line: string, level: LogLevel) => void;

/** A parsed log line, as tests read it back. */
export interface LogEntry {
  ts: string;
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

/** Writes JSON lines at or above its level. */
export interface Logger {
  /** The least severe level written. */
  readonly level: LogLevel;
  /** True when entries of `level` are written (to skip building costly fields). */
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger with the same level and sink that adds `fields` to every entry. */
  child(fields: LogFields): Logger;
}

/** The logger's settings. */
export interface LoggerOptions {
  /** Least severe level written. Default "info". */
  level?: LogLevel;
  /** Where lines go. Default: stderr. */
  sink?: LogSink;
  /** Milliseconds since the epoch for `ts`. Default `Date.now`. */
  clock?: () => number;
  /** Fields bound to every entry. Default none. */
  fields?: LogFields;
}

/** Keys every entry starts with; a field of the same name is written as `_<key>`. */
const RESERVED = new Set(["ts", "level", "event"]);

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** True when `s` is one of LOG_LEVELS. */
export function isLogLevel(s: unknown): s is LogLevel {
  return typeof s === "string" && (LOG_LEVELS as readonly string[]).includes(s);
}

/** The default sink: each line on stderr. */
export const stderrSink: LogSink = (line) => console.error(line);

/** Plain text on stdout, for the friendly start-up lines (`forecastd listening on http://...`). */
export function print(line: string): void {
  console.log(line);
}

/** Creates a logger; `createLogger({ level: "debug", sink })` writes to `sink` for tests. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? "info";
  if (!isLogLevel(level)) {
    throw new RangeError(
      `Cannot create logger: 'level' must be one of ${LOG_LEVELS.join(", ")}: ` +
        `current value is ${JSON.stringify(level)}`,
    );
  }
  return makeLogger(level, opts.sink ?? stderrSink, opts.clock ?? Date.now, opts.fields ?? {});
}

function makeLogger(
  level: LogLevel,
  sink: LogSink,
  clock: () => number,
  bound: LogFields,
): Logger {
  const min = RANK[level];
  const log = (lvl: LogLevel, event: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    sink(formatEntry(clock(), lvl, event, bound, fields), lvl);
  };
  return {
    level,
    enabled: (lvl) => RANK[lvl] >= min,
    log,
    debug: (event, fields) => log("debug", event, fields),
    info: (event, fields) => log("info", event, fields),
    warn: (event, fields) => log("warn", event, fields),
    error: (event, fields) => log("error", event, fields),
    child: (fields) => makeLogger(level, sink, clock, { ...bound, ...fields }),
  };
}

/** One JSON line: ts, level, event, then bound fields, then the call's fields (which win). */
export function formatEntry(
  nowMs: number,
  level: LogLevel,
  event: string,
  bound: LogFields,
  fields?: LogFields,
): string {
  const entry: Record<string, unknown> = { ts: isoTime(nowMs), level, event };
  for (const source of [bound, fields]) {
    if (!source) continue;
    for (const [k, v] of Object.entries(source)) entry[RESERVED.has(k) ? `_${k}` : k] = v;
  }
  try {
    return JSON.stringify(entry, replacer);
  } catch (e) {
    // A cycle or a throwing toJSON: keep the entry, describe the failure.
    const safe: Record<string, unknown> = { ts: entry.ts, level, event };
    safe.log_error = `fields could not be serialised: ${e instanceof Error ? e.message : e}`;
    return JSON.stringify(safe);
  }
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(ms);
}

/** Errors as {name, message, stack, cause}; bigints and non-finite numbers as strings. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = value.cause;
    for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = v;
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

/** A logger that keeps its lines in memory, for tests. */
export interface CapturedLog {
  log: Logger;
  /** The lines written, in order. */
  lines: string[];
  /** The lines parsed back. */
  entries(): LogEntry[];
}

/** A logger at `level` (default "debug") whose lines are kept in memory. */
export function captureLog(level: LogLevel = "debug", clock?: () => number): CapturedLog {
  const lines: string[] = [];
  const log = createLogger({ level, clock, sink: (line) => lines.push(line) });
  return { log, lines, entries: () => lines.map((l) => JSON.parse(l) as LogEntry) };
}
