/**
 * The one place that writes to the console.
 *
 * Log entries go to stderr, one per line, in one of two formats
 * (`--log-format`):
 *
 * - `json` (the default): one JSON object per line with the keys in a fixed
 *   order, then the entry's fields, for `jq`, journald, Loki:
 *
 *     {"ts":"2025-01-01T00:00:00.000Z","level":"info","event":"mqtt.connected","url":"mqtt://..."}
 *
 * - `text`, for a person at a terminal: the time, the level, the event, then
 *   `key=value` pairs (strings quoted when they hold a space, a quote or an
 *   `=`; objects as JSON), and an error's stack on the lines below:
 *
 *     2025-01-01T00:00:00.000Z INFO  mqtt.connected url=mqtt://... clientId=forecastd-1
 *
 * Event names are dotted, lower case, from the general to the particular
 * (`mqtt.connected`, `ingest.rejected`, `checkpoint.written`), so a log can be
 * filtered with `jq 'select(.event | startswith("mqtt."))'`.
 *
 * `print()` is for the few friendly start-up lines a person reads (one per
 * endpoint): plain text on stdout. Logs stay on stderr so that stdout holds
 * only what the program prints on purpose (those lines, `--print-config`).
 * When stdout is where the log goes (`2>&1 | jq`, journald), the start-up
 * lines would break a JSON log: `stdoutIsLog()` (src/cli/stdout_is_log.ts)
 * says so, and the daemon
 * leaves them out (its `forecastd.ready` entry has the addresses).
 *
 * Logging never throws: a field that cannot be serialised is written as a
 * string describing it. {@link limitLog} writes at most a few entries of an
 * event a minute and sums up the rest, for events an outsider can cause at
 * any rate (readings refused over MQTT).
 */
/** The levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level: entries below the logger's level are dropped. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The formats of a log line. */
export const LOG_FORMATS = ["json", "text"] as const;

/** How log lines are written: JSON objects or text for a person. */
export type LogFormat = typeof LOG_FORMATS[number];

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
  /** How lines are written. Default "json". */
  format?: LogFormat;
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
  const format = opts.format ?? "json";
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new RangeError(
      `Cannot create logger: 'format' must be one of ${LOG_FORMATS.join(", ")}: ` +
        `current value is ${JSON.stringify(format)}`,
    );
  }
  const line = format === "json" ? formatEntry : formatTextEntry;
  return makeLogger(
    level,
    opts.sink ?? stderrSink,
    opts.clock ?? Date.now,
    opts.fields ?? {},
    line,
  );
}

type LineFormat = typeof formatEntry;

function makeLogger(
  level: LogLevel,
  sink: LogSink,
  clock: () => number,
  bound: LogFields,
  line: LineFormat,
): Logger {
  const min = RANK[level];
  const log = (lvl: LogLevel, event: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    sink(line(clock(), lvl, event, bound, fields), lvl);
  };
  return {
    level,
    enabled: (lvl) => RANK[lvl] >= min,
    log,
    debug: (event, fields) => log("debug", event, fields),
    info: (event, fields) => log("info", event, fields),
    warn: (event, fields) => log("warn", event, fields),
    error: (event, fields) => log("error", event, fields),
    child: (fields) => makeLogger(level, sink, clock, { ...bound, ...fields }, line),
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

/**
 * One line of text: time, level, event, then `key=value` for the bound
 * fields and the call's (which win); an error's stack on indented lines below.
 */
export function formatTextEntry(
  nowMs: number,
  level: LogLevel,
  event: string,
  bound: LogFields,
  fields?: LogFields,
): string {
  const merged: LogFields = { ...bound, ...fields };
  const parts = [isoTime(nowMs), level.toUpperCase().padEnd(5), event];
  const stacks: string[] = [];
  for (const [k, v] of Object.entries(merged)) {
    if (v instanceof Error) {
      parts.push(`${k}=${textValue(`${v.name}: ${v.message}`)}`);
      const frames = (v.stack ?? "").split("\n").slice(1).map((l) => l.trim()).filter((l) => l);
      stacks.push(...frames.map((l) => `    ${l}`));
    } else parts.push(`${k}=${textValue(v)}`);
  }
  return [parts.join(" "), ...stacks].join("\n");
}

/** A field's value in a text line: bare when it can be, else JSON. */
function textValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v === undefined) return "undefined";
  try {
    return JSON.stringify(v, replacer) ?? String(v);
  } catch (e) {
    return JSON.stringify(`(not serialisable: ${e instanceof Error ? e.message : e})`);
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

/** How {@link limitLog} limits an event. */
export interface LogLimitOptions {
  /** Entries of one event written in a window; the others are counted. Default 10. */
  burst?: number;
  /** The window, ms, from the first entry of the event. Default 60,000. */
  windowMs?: number;
  /** A field whose values the summary counts (`reason`). Default: none. */
  countBy?: string;
  /** Milliseconds for the windows. Default `Date.now`. */
  now?: () => number;
}

/** A logger of entries that an outsider can cause at any rate. */
export interface LimitedLog {
  /**
   * Writes the entry, unless `burst` entries of `event` were written in its
   * window already: then it is only counted, for the window's summary.
   */
  log(level: LogLevel, event: string, fields: LogFields): void;
  /** Writes the summary of each event that had entries left out, and starts new windows. */
  flush(): void;
  /** flush(), and no timer is left. */
  close(): void;
}

/** One event's window. */
interface LimitWindow {
  start: number;
  level: LogLevel;
  logged: number;
  suppressed: number;
  counts: Record<string, number>;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * `log`, limited per event: within a window of `windowMs` from an event's
 * first entry, at most `burst` entries of it are written; at the end of a
 * window in which some were left out, one entry `<event>_summary` (at the
 * level of the entries) says how many of how many, and counts them by the
 * `countBy` field. At the debug level nothing is left out: debug asks for
 * every entry.
 */
export function limitLog(log: Logger, opts: LogLimitOptions = {}): LimitedLog {
  const burst = opts.burst ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const windows = new Map<string, LimitWindow>();

  const summarise = (event: string, w: LimitWindow) => {
    if (w.timer !== null) clearTimeout(w.timer);
    windows.delete(event);
    if (w.suppressed === 0) return;
    log.log(w.level, `${event}_summary`, {
      total: w.logged + w.suppressed,
      logged: w.logged,
      suppressed: w.suppressed,
      windowMs,
      since: isoTime(w.start),
      ...(opts.countBy === undefined ? {} : { [`by_${opts.countBy}`]: w.counts }),
    });
  };

  return {
    log(level, event, fields) {
      if (!log.enabled(level)) return;
      if (log.enabled("debug")) return log.log(level, event, fields);
      const t = now();
      let w = windows.get(event);
      if (w && t - w.start >= windowMs) {
        summarise(event, w);
        w = undefined;
      }
      if (!w) {
        w = { start: t, level, logged: 0, suppressed: 0, counts: {}, timer: null };
        windows.set(event, w);
      }
      if (opts.countBy !== undefined) {
        const key = String(fields[opts.countBy] ?? "unknown");
        w.counts[key] = (w.counts[key] ?? 0) + 1;
      }
      if (w.logged < burst) {
        w.logged++;
        log.log(level, event, fields);
        return;
      }
      w.suppressed++;
      if (w.timer === null) {
        const open = w;
        // the summary comes when the window ends, even if no entry follows
        const timer = setTimeout(() => {
          open.timer = null;
          if (windows.get(event) === open) summarise(event, open);
        }, Math.max(0, open.start + windowMs - t));
        Deno.unrefTimer(timer);
        w.timer = timer;
      }
    },
    flush() {
      for (const [event, w] of [...windows]) summarise(event, w);
    },
    close() {
      this.flush();
    },
  };
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
