/**
 * Recorded sensor data from CSV: one timestamp column and numeric columns.
 *
 * The format is RFC 4180 as spreadsheets and pandas write it: a header line of
 * column names, then one record per line, fields separated by commas, a field
 * in double quotes may hold commas, line breaks and `""` (one quote). Also
 * accepted: a UTF-8 byte order mark, CRLF or CR line ends, blank lines
 * (skipped), spaces around numbers. Every other irregularity is an error that
 * names the file, the line, the column and the value: a replay must not score
 * data it silently misread.
 *
 * The whole file is read at once: recorded files here are at most a few
 * hundred thousand rows, and the values take 8 bytes per cell.
 */
import {
  detectTimeForm,
  numberTimeForm,
  parseTimestamp,
  TIME_FORM_RULES,
  type TimeForm,
  type TimeFormat,
} from "./timestamp.ts";

/** How to read a CSV file. */
export interface ReadCsvOptions {
  /** Name of the file in error messages. Default "CSV". */
  source?: string;
  /** The timestamp column. Default: the first column. */
  timestamp?: string;
  /**
   * The numeric columns to read, in this order. Default: every column but the
   * timestamp whose value in the first data row is a number.
   */
  columns?: string[];
  /** Read at most this many data rows. Default: all. */
  maxRows?: number;
  /**
   * How the timestamps are written (timestamp.ts). Default "auto": the
   * first row decides by the rule of timestamp.ts, and every row must then
   * be of its form.
   */
  timeFormat?: TimeFormat;
}

/** Rows of a CSV file: N rows of C numeric columns. */
export interface SensorTable {
  source: string;
  /** Every column name of the header, in file order. */
  header: string[];
  timestampColumn: string;
  /** The form the timestamps were read in. */
  timeForm: TimeForm;
  /** True when `timeForm` was detected (`auto`), false when it was given. */
  timeFormDetected: boolean;
  /** The C columns read, in the order asked for. */
  columns: string[];
  /** N: data rows read. */
  rows: number;
  /** (N) the timestamp fields as written in the file. */
  timestampText: string[];
  /** (N) the timestamps, ms since the epoch. */
  ts: Float64Array;
  /** (N, C) row-major values. */
  values: Float64Array;
  /** (N) the line of the file each row starts on (1 is the header). */
  lines: Int32Array;
}

/** A CSV file that cannot be read as sensor data. */
export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CsvError";
  }
}

/** One record: its fields and the line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

const QUOTE = 34, COMMA = 44, LF = 10, CR = 13, SPACE = 32, TAB = 9;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The records of CSV text, blank lines skipped. */
export function* csvRecords(text: string, source = "CSV"): Generator<CsvRecord> {
  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (pos < n) {
    const start = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      if (text.charCodeAt(pos) === QUOTE) {
        blank = false;
        let value = "";
        pos++;
        for (;;) {
          const q = text.indexOf('"', pos);
          if (q < 0) {
            throw new CsvError(
              `Cannot read ${source}: a quoted field must end with a quote: the field opened on line ${start} is still open at the end of the file`,
            );
          }
          const chunk = text.slice(pos, q);
          line += lineBreaks(chunk);
          value += chunk;
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            pos = q + 2;
          } else {
            pos = q + 1;
            break;
          }
        }
        while (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB) pos++;
        const c = text.charCodeAt(pos);
        if (pos < n && c !== COMMA && c !== LF && c !== CR) {
          const rest = text.slice(pos, text.indexOf("\n", pos) >>> 0).slice(0, 40);
          throw new CsvError(
            `Cannot read ${source}: on line ${line} a quoted field must be followed by a comma or the end of the line: current text after it is ${
              JSON.stringify(rest)
            }`,
          );
        }
        fields.push(value);
      } else {
        let end = pos;
        while (end < n) {
          const c = text.charCodeAt(end);
          if (c === COMMA || c === LF || c === CR) break;
          end++;
        }
        const value = text.slice(pos, end);
        if (blank && value.trim() !== "") blank = false;
        fields.push(value);
        pos = end;
      }
      if (text.charCodeAt(pos) === COMMA) {
        pos++;
        blank = false;
        continue;
      }
      break;
    }
    if (pos < n) {
      pos += text.charCodeAt(pos) === CR && text.charCodeAt(pos + 1) === LF ? 2 : 1;
      line++;
    }
    if (!blank) yield { fields, line: start };
  }
}

/** Line breaks (LF, CRLF or CR) in s. */
function lineBreaks(s: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === LF || (c === CR && s.charCodeAt(i + 1) !== LF)) k++;
  }
  return k;
}

/** Whether a field is a finite decimal number (spaces around it allowed; "" is not). */
export function isNumber(field: string): boolean {
  return NUMBER.test(field.trim());
}

/** Parses CSV text into a {@link SensorTable}. Throws {@link CsvError} naming line, column and value. */
export function parseCsv(text: string, options: ReadCsvOptions = {}): SensorTable {
  const source = options.source ?? "CSV";
  const it = csvRecords(text, source);
  const first = it.next();
  if (first.done) {
    throw new CsvError(
      `Cannot read ${source}: the file must start with a header line of column names: the file is empty`,
    );
  }
  const header = first.value.fields.map((f) => f.trim());
  const seen = new Set<string>();
  for (const [k, name] of header.entries()) {
    if (name === "" || seen.has(name)) {
      throw new CsvError(
        `Cannot read ${source}: the header must name every column once: column ${k + 1} is ${
          name === "" ? "empty" : `a second "${name}"`
        }`,
      );
    }
    seen.add(name);
  }
  const timestampColumn = options.timestamp ?? header[0];
  const tCol = header.indexOf(timestampColumn);
  if (tCol < 0) {
    throw new CsvError(
      `Cannot read ${source}: the timestamp column must be one of ${
        header.join(", ")
      }: current value is "${timestampColumn}"`,
    );
  }
  const maxRows = options.maxRows ?? Infinity;
  let row = it.next();
  const firstData = row.done ? undefined : row.value;
  let columns: string[];
  if (options.columns) {
    columns = [...options.columns];
    for (const c of columns) {
      if (!header.includes(c) || c === timestampColumn) {
        throw new CsvError(
          `Cannot read ${source}: every column must be one of ${
            header.filter((h) => h !== timestampColumn).join(", ")
          }: current value is "${c}"`,
        );
      }
    }
    if (new Set(columns).size !== columns.length) {
      throw new CsvError(
        `Cannot read ${source}: columns must be distinct: current value is ${columns.join(",")}`,
      );
    }
  } else {
    columns = header.filter((_name, k) =>
      k !== tCol && firstData !== undefined && isNumber(firstData.fields[k] ?? "")
    );
  }
  if (columns.length === 0) {
    throw new CsvError(
      `Cannot read ${source}: the file must have a numeric column besides "${timestampColumn}": ${
        firstData ? `the first data row (line ${firstData.line}) has none` : "it has no data rows"
      }`,
    );
  }
  const C = columns.length;
  const idx = columns.map((c) => header.indexOf(c));
  const timestampText: string[] = [];
  const values: number[] = [];
  const lines: number[] = [];
  while (!row.done && timestampText.length < maxRows) {
    const { fields, line } = row.value;
    if (fields.length !== header.length) {
      throw new CsvError(
        `Cannot read ${source}: line ${line} must have ${header.length} fields like the header (${
          header.join(",")
        }): current count is ${fields.length}`,
      );
    }
    for (let c = 0; c < C; c++) {
      const f = fields[idx[c]];
      if (!isNumber(f)) {
        throw new CsvError(
          `Cannot read ${source}: line ${line}, column "${
            columns[c]
          }" must be a finite number: current value is ${JSON.stringify(f)}`,
        );
      }
      values.push(Number(f));
    }
    timestampText.push(fields[tCol].trim());
    lines.push(line);
    row = it.next();
  }
  const { form, detected } = timeFormOf(source, timestampColumn, timestampText, lines, options);
  const ts = new Float64Array(timestampText.length);
  for (let r = 0; r < ts.length; r++) {
    const t = parseTimestamp(timestampText[r], form);
    // under auto, a number must be of the first row's unit too
    const unit = detected ? numberTimeForm(timestampText[r]) : null;
    const sameUnit = unit === null || unit === form;
    if (Number.isNaN(t) || !sameUnit) {
      throw new CsvError(
        `Cannot read ${source}: line ${lines[r]}, column "${timestampColumn}" must be ${
          TIME_FORM_RULES[form]
        }${
          detected ? ` like the first row (read as ${form}; --time-format names another)` : ""
        }: current value is ${JSON.stringify(timestampText[r])}`,
      );
    }
    ts[r] = t;
  }
  return {
    source,
    header,
    timestampColumn,
    timeForm: form,
    timeFormDetected: detected,
    columns,
    rows: timestampText.length,
    timestampText,
    ts,
    values: Float64Array.from(values),
    lines: Int32Array.from(lines),
  };
}

/** The form of the timestamps: the one given, or the one the rule of `auto` finds. */
function timeFormOf(
  source: string,
  column: string,
  texts: readonly string[],
  lines: readonly number[],
  options: ReadCsvOptions,
): { form: TimeForm; detected: boolean } {
  const format = options.timeFormat ?? "auto";
  if (format !== "auto") return { form: format, detected: false };
  const d = detectTimeForm(texts);
  if (d.ok) return { form: d.form, detected: true };
  throw new CsvError(
    `Cannot read ${source}: line ${lines[d.row]}, column "${column}" ${d.problem}: current value ` +
      `is ${JSON.stringify(texts[d.row])}`,
  );
}

/** Reads a CSV file into a {@link SensorTable}; the file name is the source in messages. */
export async function readCsv(path: string, options: ReadCsvOptions = {}): Promise<SensorTable> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "the file must exist"
      : e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
      ? "read permission must be granted (--allow-read)"
      : "the file must be readable";
    throw new CsvError(
      `Cannot read ${path}: ${why}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  return parseCsv(text, { source: path, ...options });
}
