/**
 * Timestamps of recorded data, in the forms sensor logs and spreadsheets
 * write them. **A time without a zone is UTC**: recorded files carry no zone
 * and the result must not depend on the machine replaying them. Impossible
 * dates (`2016-02-30`, hour 24) are refused rather than rolled over. The
 * result is whole milliseconds since the epoch.
 *
 * The formats (`--time-format`):
 *
 * | format     | reads                                                                          |
 * | ---------- | ------------------------------------------------------------------------------ |
 * | `iso`      | `YYYY-MM-DD HH:MM:SS` (ETT, NAB), ISO 8601 `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional zone `Z`, `+HH:MM`, `+HHMM`, `+HH`; a date alone is midnight |
 * | `mdy`      | `M/D/YYYY H:MM[:SS]`, month first (US, Excel's CSV export); `-` or `.` between the parts too; `AM`/`PM` for a 12-hour clock |
 * | `dmy`      | `DD.MM.YYYY HH:MM[:SS]`, day first (Europe); `/` or `-` too; `AM`/`PM`       |
 * | `excel`    | spreadsheet serial dates: days since 1899-12-30, the fraction the time of day (45658.5 is 2025-01-01 12:00) |
 * | `epoch-s`  | seconds since 1970-01-01T00:00:00Z                                             |
 * | `epoch-ms` | milliseconds since 1970                                                        |
 *
 * **The rule of `auto`** (the default), for a column: the first row's
 * timestamp decides, and every row must then be of that format.
 *
 * - ISO: `iso`.
 * - A date with dots (`31.12.2025`): `dmy`, as Europe writes it.
 * - A date with `/` or `-` and the year last: month first or day first,
 *   decided by the column's values. A first part above 12 anywhere makes it
 *   `dmy`, a second part above 12 `mdy`; when neither comes (a log of the
 *   first twelve days of a month) the order cannot be known, and the file
 *   is refused: give `--time-format mdy` or `dmy`.
 * - A number, by its size: below 10^6, `excel` (days; as seconds it would be
 *   the first eleven days of 1970); below 10^11, `epoch-s`; `epoch-ms` above
 *   (the rule the ingest adapters use between seconds and milliseconds).
 *
 * A single timestamp without its column ({@link parseTimestamp} with `auto`)
 * reads the same forms, except a date with `/` or `-`: one value cannot say
 * which order it has.
 */

/** The timestamp formats, `auto` first. */
export const TIME_FORMATS = ["auto", "iso", "mdy", "dmy", "excel", "epoch-s", "epoch-ms"] as const;

/** A timestamp format: `auto`, or one of the forms. */
export type TimeFormat = typeof TIME_FORMATS[number];

/** A form of timestamp: what `auto` decides on. */
export type TimeForm = Exclude<TimeFormat, "auto">;

/** Each form as error messages and reports state it. */
export const TIME_FORM_RULES: Readonly<Record<TimeForm, string>> = {
  iso: "a date and time YYYY-MM-DD HH:MM:SS or ISO 8601 (UTC unless a zone is given)",
  mdy: "a date and time M/D/YYYY H:MM[:SS] [AM|PM], month first (UTC)",
  dmy: "a date and time DD.MM.YYYY HH:MM[:SS] [AM|PM], day first (UTC)",
  excel: "a number of days since 1899-12-30, as spreadsheets count them (UTC)",
  "epoch-s": "a number of seconds since 1970",
  "epoch-ms": "a number of milliseconds since 1970",
};

/** The accepted forms of `auto`, as stated in error messages. */
export const TIMESTAMP_RULE =
  "must be a date and time (YYYY-MM-DD HH:MM:SS, UTC unless a zone is given), an ISO 8601 time, DD.MM.YYYY HH:MM, M/D/YYYY H:MM or D/M/YYYY H:MM, a spreadsheet serial date, or seconds or milliseconds since 1970";

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
/** A date with the year last: two parts, the separator, the year, an optional time. */
const YEAR_LAST =
  /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:\s*([AaPp])\.?[Mm]\.?)?)?$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Numbers below this magnitude are seconds, at or above it milliseconds. */
export const SECONDS_BELOW = 1e11;
/** Numbers below this are spreadsheet days under `auto`. */
export const DAYS_BELOW = 1e6;
/** Days from 1899-12-30 (spreadsheets' day 0) to 1970-01-01. */
const EXCEL_EPOCH_DAYS = 25_569;

/** The form `auto` reads `text` in when it is a number (by its size), or null. */
export function numberTimeForm(text: string): TimeForm | null {
  const s = text.trim();
  return NUMBER.test(s) ? numberForm(Number(s)) : null;
}

/** The form `auto` reads one number as, by its size. */
function numberForm(n: number): TimeForm {
  const a = Math.abs(n);
  return a < DAYS_BELOW && n >= 0 ? "excel" : a < SECONDS_BELOW ? "epoch-s" : "epoch-ms";
}

/**
 * Milliseconds since the epoch that `text` names in `format` (default
 * `auto`, see the module's rule for a value alone), or NaN when it names
 * no valid time in it.
 */
export function parseTimestamp(text: string, format: TimeFormat = "auto"): number {
  const s = text.trim();
  if (format === "auto") {
    if (DATE_TIME.test(s)) return parseIso(s);
    const y = YEAR_LAST.exec(s);
    if (y) return y[2] === "." ? parseYearLast(y, "dmy") : NaN;
    if (NUMBER.test(s)) return parseNumber(s, numberForm(Number(s)));
    return NaN;
  }
  switch (format) {
    case "iso":
      return parseIso(s);
    case "mdy":
    case "dmy": {
      const y = YEAR_LAST.exec(s);
      return y ? parseYearLast(y, format) : NaN;
    }
    default:
      return NUMBER.test(s) ? parseNumber(s, format) : NaN;
  }
}

function parseIso(s: string): number {
  const m = DATE_TIME.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  return utc(
    Number(y),
    Number(mo),
    Number(d),
    hh === undefined ? 0 : Number(hh),
    mi === undefined ? 0 : Number(mi),
    ss === undefined ? 0 : Number(ss),
    frac === undefined ? 0 : Number(`0.${frac}`) * 1000,
    zoneOffsetMs(zone),
  );
}

function parseYearLast(m: RegExpExecArray, order: "mdy" | "dmy"): number {
  const [, a, , b, y, hh, mi, ss, frac, half] = m;
  const [month, day] = order === "mdy" ? [Number(a), Number(b)] : [Number(b), Number(a)];
  let hour = hh === undefined ? 0 : Number(hh);
  if (half !== undefined) {
    // a 12-hour clock: 12 AM is midnight, 12 PM noon
    if (hour < 1 || hour > 12) return NaN;
    hour = (hour % 12) + (half.toLowerCase() === "p" ? 12 : 0);
  }
  return utc(
    Number(y),
    month,
    day,
    hour,
    mi === undefined ? 0 : Number(mi),
    ss === undefined ? 0 : Number(ss),
    frac === undefined ? 0 : Number(`0.${frac}`) * 1000,
    0,
  );
}

function parseNumber(s: string, form: TimeForm): number {
  const n = Number(s);
  if (!Number.isFinite(n)) return NaN;
  switch (form) {
    case "excel":
      return n < 0 ? NaN : Math.round((n - EXCEL_EPOCH_DAYS) * 86_400_000);
    case "epoch-s":
      return Math.round(n * 1000);
    default:
      return Math.round(n);
  }
}

/** A UTC time from its parts, or NaN for an impossible one (2016-02-30, 24:00). */
function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMs: number,
): number {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  const t = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2016-02-30 over to March: refuse it instead
  if (new Date(t).getUTCDate() !== day) return NaN;
  return Math.round(t + ms - offsetMs);
}

/** Offset of a zone designator from UTC in ms (`+01:00` is 3,600,000); 0 for none or Z. */
function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

/** What {@link detectTimeForm} decided, or why it could not. */
export type Detection =
  | { ok: true; form: TimeForm }
  /** `row` is the index of the value the problem is shown with. */
  | { ok: false; row: number; problem: string };

/**
 * The form of a column of timestamps by the rule of `auto` (see the
 * module's comment): the first value decides, and for dates with `/` or `-`
 * the values say which part is the month.
 */
export function detectTimeForm(texts: readonly string[]): Detection {
  if (texts.length === 0) return { ok: true, form: "iso" };
  const first = texts[0].trim();
  if (DATE_TIME.test(first)) return { ok: true, form: "iso" };
  if (NUMBER.test(first)) return { ok: true, form: numberForm(Number(first)) };
  const y = YEAR_LAST.exec(first);
  if (!y) return { ok: false, row: 0, problem: TIMESTAMP_RULE };
  if (y[2] === ".") return { ok: true, form: "dmy" };
  let dayFirst = -1, monthFirst = -1;
  for (let r = 0; r < texts.length && (dayFirst < 0 || monthFirst < 0); r++) {
    const m = YEAR_LAST.exec(texts[r].trim());
    if (!m) continue; // parsed later, and refused there
    if (dayFirst < 0 && Number(m[1]) > 12) dayFirst = r;
    if (monthFirst < 0 && Number(m[3]) > 12) monthFirst = r;
  }
  if (dayFirst >= 0 && monthFirst >= 0) {
    return {
      ok: false,
      row: Math.max(dayFirst, monthFirst),
      problem: "must put the day and the month in the same order on every row (an earlier row " +
        `has ${
          dayFirst < monthFirst ? "the day" : "the month"
        } first; give --time-format mdy or dmy)`,
    };
  }
  if (dayFirst >= 0) return { ok: true, form: "dmy" };
  if (monthFirst >= 0) return { ok: true, form: "mdy" };
  return {
    ok: false,
    row: 0,
    problem: "must say whether the month or the day comes first: no part of any date is above " +
      "12, so both orders read; give --time-format mdy (month first) or dmy (day first)",
  };
}
