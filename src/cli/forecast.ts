/** `forecastd forecast STREAM`: a stream's forecast from a running daemon, a table per target. */
import type { ForecastJson } from "../dashboard/page/api_types.ts";
import {
  formatDuration,
  formatPercent,
  formatValue,
  parseTime,
  stateLabel,
} from "../dashboard/page/format.ts";
import { print } from "../log.ts";
import { parseCommandArgs } from "./args.ts";
import {
  apiClient,
  CLIENT_OPTIONS,
  CLIENT_OPTIONS_HELP,
  clientEnv,
  outputWidth,
} from "./client_args.ts";
import { formatTable } from "./format_table.ts";
import { formatUtc, needsSeconds } from "./format_utc.ts";
import { UsageError } from "./usage_error.ts";

/** The command's help. */
export const FORECAST_HELP = `Usage: forecastd forecast STREAM [options]

Prints the forecast of STREAM from its newest reading (GET /v1/streams/STREAM/forecast): per
target, each step's time (UTC), the forecast and its interval (LOWER to UPPER, empty until the
stream's intervals are calibrated).

Options:
  --horizon N     steps ahead, 1 to 512 (default: the stream's preset's)
${CLIENT_OPTIONS_HELP}
`;

/** The forecast as the API sends it, with the model's state. */
export interface ForecastBody extends ForecastJson {
  model: { version: number; updatedAt: string | null; state: string };
}

/** The lines of `f`: a heading, then a table per target, `width` columns at most. */
export function formatForecast(f: ForecastBody, width = 80): string[] {
  const times = f.timestamps.map(parseTime);
  const origin = parseTime(f.origin);
  const seconds = needsSeconds([origin, ...times]);
  const lines = [
    `${f.stream}: forecast from the reading of ${formatUtc(origin, seconds)} UTC, ${
      f.periodMs === null ? "sampling period not known yet" : `every ${formatDuration(f.periodMs)}`
    }, ${formatPercent(f.coverage)} intervals; model ${stateLabel(f.model.state)}, ` +
    `${f.model.version} readings learned`,
  ];
  for (const [target, path] of Object.entries(f.targets)) {
    lines.push("", target);
    // one number of decimals per table (at most 3), so that the points line up
    const all = [...path.point, ...path.lower, ...path.upper];
    const digits = Math.max(0, ...all.map((v) => formatValue(v).split(".")[1]?.length ?? 0));
    const show = (v: number | null) =>
      v === null || !Number.isFinite(v) ? formatValue(v) : v.toFixed(digits);
    const rows = path.point.map((p, k) => [
      String(k + 1),
      formatUtc(times[k] ?? null, seconds),
      show(p),
      show(path.lower[k]),
      show(path.upper[k]),
    ]);
    lines.push(
      ...formatTable(
        [
          { title: "STEP", align: "right" },
          { title: "TIME (UTC)" },
          { title: "FORECAST", align: "right" },
          { title: "LOWER", align: "right" },
          { title: "UPPER", align: "right" },
        ],
        rows,
        width,
      ),
    );
  }
  return lines;
}

const OPTIONS = { ...CLIENT_OPTIONS, horizon: { type: "string" } } as const;

/** Prints the forecast; returns the exit status. */
export async function forecastCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("Cannot forecast", {
    args,
    options: OPTIONS,
    allowPositionals: true,
  }, FORECAST_HELP);
  if (values.help) {
    print(FORECAST_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      "Cannot forecast: the command must name one stream: forecastd forecast STREAM [options]: " +
        `current arguments are ${JSON.stringify(positionals)}`,
    );
  }
  const id = positionals[0];
  const action = `Cannot forecast stream ${JSON.stringify(id)}`;
  let query = "";
  if (values.horizon !== undefined) {
    const n = Number(values.horizon);
    if (!/^\d+$/.test(values.horizon) || n < 1 || n > 512) {
      throw new UsageError(
        `${action}: --horizon must be an integer from 1 to 512: current value is ` +
          JSON.stringify(values.horizon),
      );
    }
    query = `?horizon=${n}`;
  }
  const client = apiClient(action, values, clientEnv());
  const body = await client.getJson<ForecastBody>(
    action,
    `/v1/streams/${encodeURIComponent(id)}/forecast${query}`,
  );
  if (values.json) print(JSON.stringify(body, null, 2));
  else for (const line of formatForecast(body, outputWidth())) print(line);
  return 0;
}
