/**
 * `forecastd replay FILE [options]` (also `deno task replay`): parses the
 * command line, then runs the replay (src/replay/cli.ts) with its
 * permissions dropped as soon as it can.
 */
import { print } from "../log.ts";
import { KERNEL_KINDS, type KernelKind, useKernels } from "../model/kernels.ts";
import {
  ANOMALY_FIELDS,
  type AnomalyField,
  loadPreset,
  type ReplayArgs,
  runReplay,
} from "../replay/cli.ts";
import { CsvError } from "../replay/csv.ts";
import { FSNET_ROWS, type ProtocolName, PROTOCOLS } from "../replay/protocol.ts";
import { TIME_FORMATS, type TimeFormat } from "../replay/timestamp.ts";
import { parseCommandArgs } from "./args.ts";
import { UsageError } from "./usage_error.ts";
import { VERSION } from "./version.ts";

/** The command's help. */
export const REPLAY_HELP = `Usage: forecastd replay FILE [options]
       deno task replay FILE [options]        (paths relative to the project root)

Feeds a CSV file (a timestamp column and numeric columns) reading by reading
through the daemon's engine and scores its forecasts: MSE and MAE of z-scored
values, interval coverage, per expert (persistence, seasonal, linear, lstm)
and their blend.

Data:
  --timestamp NAME     the timestamp column (default: the first column); times without a zone
                       are UTC
  --time-format F      how the timestamps are written: auto (default: the first row decides;
                       dates with / need a day or month above 12 somewhere to tell their order),
                       iso (YYYY-MM-DD HH:MM:SS, ISO 8601), mdy (M/D/YYYY H:MM [AM|PM]),
                       dmy (DD.MM.YYYY HH:MM), excel (spreadsheet serial days), epoch-s, epoch-ms
  --columns A,B        the input columns (default: every numeric column but the timestamp)
  --targets A,B        the columns to forecast and score (default: all input columns)
  --rows N|all         rows to feed (default: all; 14400 under --protocol fsnet)

Model:
  --preset NAME|FILE   a built-in preset from models/ (default: default), or a preset
                       file ending in .json (see models/ for the fields)
  --horizons 1,24,48   horizons to report (default: 1 and the preset's); the stream forecasts
                       max(horizons) steps ahead, overriding the preset's horizons
  --without lstm       run without the LSTM expert (the blend of the cheap experts)
  --kernels wasm|ts    the model's kernels: WebAssembly SIMD (default) or the TypeScript
                       ones (the test oracle); see docs/model.md

Protocol:
  --protocol online    (default) score every forecast; z-score with the mean and std of all rows
  --protocol fsnet     FSNet/OneNet on ETT: first 14400 rows (or --rows), rows [0, 20%) train and
                       [20%, 25%) validation are fed unscored; targets from 25% on are scored,
                       z-scored with the training rows' mean and population std
  --warmup-passes N    passes over the warm-up rows (default: 1); above 1 only with --protocol
                       fsnet: the stream is rewound after each pass but the last, which runs on
                       into the scored rows; readings, learned and alerts count every pass

Output:
  --json               the report as JSON on stdout
  --json-out FILE      the report as JSON into FILE
  --report FILE.html   a report to look at in a browser, one file that opens offline: each
                       target's readings against the forecast made for them and its interval,
                       the alerts, and the error at each step ahead for the blend and each expert
  --anomaly-out FILE   NAB results layout, one line per row: timestamp,value,anomaly_score
                       (value: the first target; anomaly_score: see --anomaly-score, 0 for a
                       rejected row or before the first score)
  --anomaly-score F    the observation's field written as anomaly_score: onset (default: the
                       likelihood where an incident begins, 0 elsewhere), likelihood, score,
                       percentile, or alert (1 where the daemon opened an alert, 0 elsewhere)
  --labels FILE        anomaly windows in NAB's combined_windows.json layout, keyed by the
                       CSV's folder and name ("family/file.csv"): the report adds which windows
                       an alert opened in, how late, and the false alerts per week
  --kinds FILE         the kind of each window, keyed likewise ({"family/file.csv": ["spike",
                       ...]}): the report adds windows hit per kind (needs --labels)
  -h, --help           this help
`;

/** The experts a replay can run without. */
const WITHOUT = ["lstm"];

function usage(constraint: string, value: string): UsageError {
  return new UsageError(`Cannot run replay: ${constraint}: current value is "${value}"`);
}

/** A comma-separated list, blank items dropped; undefined stays undefined. */
function list(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

const REPLAY_OPTIONS = {
  help: { type: "boolean", short: "h" },
  timestamp: { type: "string" },
  "time-format": { type: "string" },
  columns: { type: "string" },
  targets: { type: "string" },
  rows: { type: "string" },
  preset: { type: "string" },
  horizons: { type: "string" },
  without: { type: "string" },
  kernels: { type: "string" },
  protocol: { type: "string" },
  "warmup-passes": { type: "string" },
  json: { type: "boolean" },
  "json-out": { type: "string" },
  report: { type: "string" },
  "anomaly-out": { type: "string" },
  "anomaly-score": { type: "string" },
  labels: { type: "string" },
  kinds: { type: "string" },
} as const;

/** The replay's arguments and the kernels it runs on. */
export interface ReplayCommandArgs extends ReplayArgs {
  /** The model's kernels (src/model/kernels.ts); default "wasm". */
  kernels: KernelKind;
}

/**
 * Parses the arguments after `replay`; throws a UsageError (a RangeError)
 * naming the bad option and value.
 */
export function parseReplayArgs(args: string[]): ReplayCommandArgs | "help" {
  // node:util's own refusals (an unknown option, `--rows -5`) are argument errors too
  const { values, positionals } = parseCommandArgs("Cannot run replay", {
    args,
    options: REPLAY_OPTIONS,
    allowPositionals: true,
  });
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(
      `Cannot run replay: give exactly one CSV file: current arguments are ${
        positionals.length === 0 ? "none" : JSON.stringify(positionals)
      }`,
    );
  }
  const protocol = (values.protocol ?? "online") as ProtocolName;
  if (!PROTOCOLS.includes(protocol)) {
    throw usage(`--protocol must be one of ${PROTOCOLS.join(", ")}`, values.protocol!);
  }
  let rows: number | "all" = protocol === "fsnet" ? FSNET_ROWS : "all";
  if (values.rows !== undefined) {
    const n = Number(values.rows);
    if (values.rows === "all") rows = "all";
    else if (Number.isInteger(n) && n >= 2) rows = n;
    else throw usage("--rows must be an integer of at least 2 or 'all'", values.rows);
  }
  const preset = loadPreset(values.preset ?? "default");
  let horizons = [1, preset.horizons];
  if (values.horizons !== undefined) {
    horizons = (list(values.horizons) ?? []).map(Number);
    if (horizons.length === 0 || horizons.some((h) => !Number.isInteger(h) || h < 1 || h > 512)) {
      throw usage(
        "--horizons must be a comma-separated list of integers in 1..512",
        values.horizons,
      );
    }
  }
  horizons = [...new Set(horizons)].sort((a, b) => a - b);
  const without = list(values.without) ?? [];
  for (const w of without) {
    if (!WITHOUT.includes(w)) {
      throw usage(`--without must list experts that can be left out (${WITHOUT.join(", ")})`, w);
    }
  }
  let warmupPasses = 1;
  if (values["warmup-passes"] !== undefined) {
    const text = values["warmup-passes"];
    warmupPasses = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(warmupPasses) || warmupPasses < 1) {
      throw usage("--warmup-passes must be an integer of at least 1", text);
    }
    if (warmupPasses > 1 && protocol !== "fsnet") {
      throw usage(
        `--warmup-passes above 1 needs --protocol fsnet, the protocol with warm-up rows (--protocol ${protocol} scores every row)`,
        text,
      );
    }
  }
  const timeFormat = (values["time-format"] ?? "auto") as TimeFormat;
  if (!TIME_FORMATS.includes(timeFormat)) {
    throw usage(`--time-format must be one of ${TIME_FORMATS.join(", ")}`, timeFormat);
  }
  const kernels = (values.kernels ?? "wasm") as KernelKind;
  if (!KERNEL_KINDS.includes(kernels)) {
    throw usage(`--kernels must be one of ${KERNEL_KINDS.join(", ")}`, kernels);
  }
  const anomalyScore = (values["anomaly-score"] ?? "onset") as AnomalyField;
  if (!ANOMALY_FIELDS.includes(anomalyScore)) {
    throw usage(`--anomaly-score must be one of ${ANOMALY_FIELDS.join(", ")}`, anomalyScore);
  }
  if (values.kinds !== undefined && values.labels === undefined) {
    throw usage("--kinds needs --labels (the windows the kinds describe)", values.kinds);
  }
  return {
    file: positionals[0],
    timestamp: values.timestamp,
    timeFormat,
    columns: list(values.columns),
    targets: list(values.targets),
    rows,
    preset,
    horizons,
    without,
    protocol,
    warmupPasses,
    json: values.json ?? false,
    jsonOut: values["json-out"],
    report: values.report,
    anomalyOut: values["anomaly-out"],
    anomalyScore,
    kernels,
    labels: values.labels,
    kinds: values.kinds,
  };
}

/** Runs the command; returns the exit status. */
export async function replayCommand(args: string[]): Promise<number> {
  try {
    const a = parseReplayArgs(args);
    if (a === "help") {
      print(REPLAY_HELP);
      return 0;
    }
    useKernels(a.kernels); // before the engine allocates its networks
    return await runReplay(a, { dropPermissions: true, madeBy: `forecastd ${VERSION}` });
  } catch (e) {
    // a bad option, preset, file or row is the user's to fix: exit status 2
    if (e instanceof RangeError || e instanceof CsvError || e instanceof Deno.errors.NotFound) {
      throw new UsageError((e as Error).message);
    }
    throw e;
  }
}
