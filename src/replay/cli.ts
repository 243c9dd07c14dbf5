/**
 * `forecastd replay FILE [options]` once its command line is parsed
 * (src/cli/replay.ts): reads the CSV, runs {@link replay}, prints a table
 * (or JSON) on stdout, writes the optional files, draws a progress bar on
 * stderr when stderr is a terminal.
 *
 * Permissions: the `replay` task grants --allow-read and --allow-write, as a
 * replay reads any CSV and may write results where it is told. When run from
 * main.ts (`dropPermissions`), the command gives up write access at once
 * unless --anomaly-out, --json-out or --report was asked for, and read
 * access once the CSV is loaded, so nothing else is read or written.
 */
import { getPreset, type Preset } from "../stream/preset.ts";
import { parsePreset } from "../stream/preset_schema.ts";
import { readCsv, type SensorTable } from "./csv.ts";
import { FSNET_ROWS, fsnetSplit, onlineSplit, type ProtocolName } from "./protocol.ts";
import type { TimeForm, TimeFormat } from "./timestamp.ts";
import { replay, type ReplayReport } from "./replay.ts";
import { ReportCollector } from "./report_data.ts";
import { reportHtml } from "./report_html.ts";
import { labelKey, type LabelReport, parseLabels, scoreAlerts } from "./labels.ts";

/** How the command runs. */
export interface RunReplayOptions {
  /** Give up write access unless an output file is asked for, and read access after loading. */
  dropPermissions?: boolean;
  /** What the HTML report says made it. Default "forecastd". */
  madeBy?: string;
}

/** The parsed command line. */
export interface ReplayArgs {
  file: string;
  timestamp?: string;
  /** How the timestamps are written; "auto" detects it (timestamp.ts). */
  timeFormat: TimeFormat;
  columns?: string[];
  targets?: string[];
  /** Rows to feed; "all" for every row. */
  rows: number | "all";
  preset: Preset;
  horizons: number[];
  without: string[];
  protocol: ProtocolName;
  warmupPasses: number;
  json: boolean;
  jsonOut?: string;
  anomalyOut?: string;
  /** The HTML report's file (report_html.ts). */
  report?: string;
  /** The Observation field written as anomaly_score. */
  anomalyScore: AnomalyField;
  /** Windows file (NAB layout) and kinds file to check the alerts against. */
  labels?: string;
  kinds?: string;
}

/**
 * The Observation fields that can be written as NAB's anomaly_score, all in
 * [0, 1]; `alert` is 1 where the reading opened an alert.
 */
export const ANOMALY_FIELDS = ["onset", "likelihood", "score", "percentile", "alert"] as const;
export type AnomalyField = typeof ANOMALY_FIELDS[number];

function usage(constraint: string, value: string): RangeError {
  return new RangeError(`Cannot run replay: ${constraint}: current value is "${value}"`);
}

/** A built-in preset by name, or a preset file when the name ends in ".json". */
export function loadPreset(nameOrFile: string): Preset {
  if (!nameOrFile.endsWith(".json")) return getPreset(nameOrFile);
  let text: string;
  try {
    text = Deno.readTextFileSync(nameOrFile);
  } catch (e) {
    throw new RangeError(
      `Cannot read --preset file: it must be a readable JSON file: "${nameOrFile}" gave ${
        (e as Error).message
      }`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RangeError(
      `Cannot read --preset file "${nameOrFile}": it must be JSON: ${(e as Error).message}`,
    );
  }
  return parsePreset(json, `preset file "${nameOrFile}"`);
}

/** The preset the stream is built with: Hmax = the largest reported horizon, experts left out. */
export function streamPreset(a: ReplayArgs): Preset {
  const Hmax = Math.max(...a.horizons);
  return {
    ...a.preset,
    horizons: Hmax,
    model: { ...a.preset.model, enabled: a.preset.model.enabled && !a.without.includes("lstm") },
  };
}

/** The JSON report: the settings, then what the replay measured. */
export interface ReplayJson extends Omit<ReplayReport, "horizons"> {
  file: string;
  /** The form the timestamps were read in, and whether it was detected. */
  timeForm: TimeForm;
  timeFormDetected: boolean;
  protocol: ProtocolName;
  preset: string;
  without: string[];
  warmupPasses: number;
  /** Hmax: steps the stream forecast. */
  hmax: number;
  /** Rows the engine refused, all reasons. */
  rejectedRows: number;
  horizons: ReplayReport["horizons"];
  /** The alerts against the labelled windows (with --labels). */
  labels?: LabelReport;
}

/** Runs the replay `a` describes; returns the exit status. */
export async function runReplay(a: ReplayArgs, opts: RunReplayOptions = {}): Promise<number> {
  if (
    opts.dropPermissions && a.jsonOut === undefined && a.anomalyOut === undefined &&
    a.report === undefined
  ) {
    Deno.permissions.revokeSync({ name: "write" });
  }
  const table = await readCsv(a.file, {
    timestamp: a.timestamp,
    timeFormat: a.timeFormat,
    columns: a.columns,
    maxRows: a.rows === "all" ? undefined : a.rows,
  });
  const windows = a.labels === undefined ? undefined : await readWindows(a);
  if (opts.dropPermissions) Deno.permissions.revokeSync({ name: "read" });
  const targets = a.targets ?? table.columns;
  for (const t of targets) {
    if (!table.columns.includes(t)) {
      throw usage(`every target must be one of the columns ${table.columns.join(", ")}`, t);
    }
  }
  const n = a.rows === "all" ? table.rows : a.rows;
  if (n > table.rows) {
    throw new RangeError(
      `Cannot run replay: --rows ${n}${
        a.protocol === "fsnet" && a.rows === FSNET_ROWS ? " (the fsnet default)" : ""
      } must be at most the rows of ${a.file} (give --rows all or fewer): current count is ${table.rows}`,
    );
  }
  const split = a.protocol === "fsnet" ? fsnetSplit(n) : onlineSplit(n);
  const preset = streamPreset(a);

  const firstTarget = table.columns.indexOf(targets[0]);
  const C = table.columns.length;
  const nab: string[] = a.anomalyOut === undefined ? [] : ["timestamp,value,anomaly_score"];
  const html = a.report === undefined
    ? null
    : new ReportCollector(table, { split, targets, hmax: preset.horizons });
  const opened: number[] = [];
  const bar = Deno.stderr.isTerminal()
    ? progressBar(a.file.split(/[\\/]/).pop() ?? a.file)
    : undefined;
  const report = replay(table, {
    preset,
    horizons: a.horizons,
    split,
    targets,
    warmupPasses: a.warmupPasses,
    onRow: (r, obs, rejected) => {
      html?.row(r, obs, rejected);
      const alert = obs?.event?.type === "opened";
      if (alert) opened.push(r);
      if (a.anomalyOut === undefined) return;
      const score = a.anomalyScore === "alert" ? (alert ? 1 : 0) : obs?.[a.anomalyScore] ?? 0;
      nab.push(`${csvField(table.timestampText[r])},${table.values[r * C + firstTarget]},${score}`);
    },
    onForecast: html?.forecast,
    onProgress: bar?.update,
  });
  bar?.done();

  const json = toJson(a, preset, report, table);
  if (windows) json.labels = scoreAlerts(table.ts.subarray(0, n), opened, windows);
  const text = JSON.stringify(json, null, 2);
  if (a.jsonOut !== undefined) await Deno.writeTextFile(a.jsonOut, text + "\n");
  if (a.anomalyOut !== undefined) await Deno.writeTextFile(a.anomalyOut, nab.join("\n") + "\n");
  if (html !== null) {
    const made = { by: opts.madeBy ?? "forecastd", at: new Date().toISOString() };
    await Deno.writeTextFile(a.report!, reportHtml(html.json(json, made)));
  }
  console.log(a.json ? text : formatReport(json));
  return 0;
}

function toJson(a: ReplayArgs, preset: Preset, r: ReplayReport, t: SensorTable): ReplayJson {
  const { horizons, ...rest } = r;
  return {
    file: a.file,
    timeForm: t.timeForm,
    timeFormDetected: t.timeFormDetected,
    protocol: a.protocol,
    preset: a.preset.name,
    without: a.without,
    warmupPasses: a.warmupPasses,
    hmax: preset.horizons,
    ...rest,
    rejectedRows: Object.values(r.rejected).reduce((s, k) => s + k, 0),
    horizons,
  };
}

/** The labelled windows of the replayed file, from --labels (and --kinds). */
async function readWindows(a: ReplayArgs) {
  const read = async (path: string, what: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      throw new RangeError(
        `Cannot read ${what} file: it must be a readable JSON file: "${path}" gave ${
          (e as Error).message
        }`,
      );
    }
  };
  const labels = parseLabels(
    await read(a.labels!, "--labels"),
    a.kinds === undefined ? undefined : await read(a.kinds, "--kinds"),
  );
  const key = labelKey(a.file);
  const windows = labels.get(key);
  if (!windows) {
    throw usage(
      `--labels must hold windows for "${key}" (the CSV's folder and name): it has ${labels.size} other files`,
      a.labels!,
    );
  }
  return windows;
}

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const num = (x: number | null, digits = 4) =>
  x === null || Number.isNaN(x) ? "-" : x.toFixed(digits);

/** The human-readable report. */
export function formatReport(j: ReplayJson): string {
  const s = j.split;
  const lines = [
    `forecastd replay ${j.file}: ${j.rows} rows x ${j.columns.length} columns (${
      j.columns.join(", ")
    }), targets ${j.targets.join(", ")}${
      j.timeForm === "iso"
        ? ""
        : `; times read as ${j.timeForm}${j.timeFormDetected ? " (detected)" : ""}`
    }`,
    `  preset ${j.preset}${
      j.without.length ? ` without ${j.without.join(", ")}` : ""
    }, Hmax ${j.hmax}, period ${j.periodMs / 1000} s, protocol ${j.protocol}: ${
      j.protocol === "fsnet"
        ? `rows 0-${s.scaleRows - 1} train (the scale), ${s.scaleRows}-${
          s.warmupRows - 1
        } validation, fed unscored${
          j.warmupPasses > 1 ? ` (${j.warmupPasses} passes)` : ""
        }; targets rows ${s.firstTarget}-${j.rows - 1}`
        : `every forecast scored; the scale from all ${s.scaleRows} rows`
    }`,
    `  ${j.readings} readings in ${j.seconds.toFixed(1)} s (${
      Math.round(j.readingsPerSecond)
    } readings/s); rejected ${j.rejectedRows}${
      j.rejectedRows
        ? ` (${Object.entries(j.rejected).map(([k, v]) => `${k} ${v}`).join(", ")})`
        : ""
    }; learned from ${j.learned}; ${j.alerts} alert events; ${j.gaps} gaps`,
    "",
    "  errors of z-scored values (MSE, MAE over origins x steps 1..H x targets)",
  ];
  const experts = Object.keys(j.horizons[0]?.experts ?? {});
  const head = ["H", "origins", "MSE", "MAE", "cover", "cover@H", "|", ...experts];
  const rows = j.horizons.map((h) => [
    String(h.horizon),
    String(h.origins),
    num(h.mse),
    num(h.mae),
    h.coverage === null ? "-" : `${(100 * h.coverage).toFixed(1)}%`,
    h.coverageAtH === null ? "-" : `${(100 * h.coverageAtH).toFixed(1)}%`,
    "|",
    ...experts.map((e) => num(h.experts[e])),
  ]);
  const width = head.map((t, k) => Math.max(t.length, ...rows.map((r) => r[k].length)));
  for (const r of [head, ...rows]) {
    lines.push("  " + r.map((t, k) => t.padStart(width[k])).join("  "));
  }
  if (j.labels) lines.push("", ...formatLabels(j.labels));
  return lines.join("\n");
}

/** The alerts against the labelled windows: one line per window, then per kind. */
export function formatLabels(l: LabelReport): string[] {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  const hit = l.windows.filter((w) => w.firstRow >= 0).length;
  const lines = [
    `  alerts against ${l.windows.length} labelled windows (after NAB's probationary rows): ${hit} hit, ${l.falseAlerts} false alerts in ${
      l.weeks.toFixed(1)
    } weeks (${l.falseAlertsPerWeek.toFixed(2)} per week)`,
  ];
  for (const w of l.windows) {
    lines.push(
      `    ${w.kind.padEnd(16)} ${day(w.start)} .. ${day(w.end)}  ${
        w.firstRow < 0 ? "missed" : `alert at row ${w.firstRow}, ${w.delay} readings into it`
      }`,
    );
  }
  const kinds = Object.entries(l.byKind);
  if (kinds.length > 1 || (kinds.length === 1 && kinds[0][0] !== "unknown")) {
    lines.push(
      "    per kind: " + kinds.map(([k, c]) => `${k} ${c.hit}/${c.windows}`).join(", "),
    );
  }
  return lines;
}

/** A one-line progress bar redrawn on stderr, at most every 100 ms. */
function progressBar(label: string) {
  const enc = new TextEncoder();
  const t0 = performance.now();
  let last = -Infinity;
  const write = (s: string) => Deno.stderr.writeSync(enc.encode(s));
  return {
    update: (done: number, total: number) => {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const f = done / total;
      const w = 30, k = Math.round(f * w);
      const rate = done / Math.max(1e-9, (now - t0) / 1000);
      const eta = (total - done) / Math.max(rate, 1e-9);
      write(
        `\r${label} [${"#".repeat(k)}${"-".repeat(w - k)}] ${
          (100 * f).toFixed(0).padStart(3)
        }% ${done}/${total} rows, ${Math.round(rate)} rows/s, ${Math.ceil(eta)} s left `,
      );
    },
    done: () => write("\r\x1b[2K"),
  };
}
