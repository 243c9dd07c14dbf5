/** `forecastd streams`: the streams of a running daemon, one line each. */
import type { StreamJson } from "../dashboard/page/api_types.ts";
import {
  formatDuration,
  formatPercent,
  formatSkill,
  NONE,
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

/** The command's help. */
export const STREAMS_HELP = `Usage: forecastd streams [options]

Lists the streams of a running forecastd (GET /v1/streams): each stream's state, readings, the
time of its newest reading (UTC), its sampling period, and its accuracy one step ahead: SKILL is
how much smaller the forecast's squared error is than repeating the last value's (+34%: a third
smaller), COVER the share of readings that fell inside the 90% interval.

Options:
${CLIENT_OPTIONS_HELP}
`;

const ACTION = "Cannot list streams";

/** The table of `streams`, `width` columns wide at most. */
export function formatStreams(streams: readonly StreamJson[], width = 80): string[] {
  if (streams.length === 0) return ["no streams yet: send a reading (docs/ingest.md)"];
  const seconds = needsSeconds(streams.map((s) => s.lastReading));
  const rows = streams.map((s) => {
    const one = s.horizons.find((h) => h.horizon === 1) ?? s.horizons[0];
    return [
      s.id,
      stateLabel(s.state),
      String(s.readings),
      formatUtc(s.lastReading, seconds),
      s.periodMs === null ? NONE : formatDuration(s.periodMs),
      formatSkill(one?.skill),
      formatPercent(one?.coverage),
      s.targets.join(","),
    ];
  });
  return formatTable(
    [
      { title: "STREAM", shrink: true, min: 10 },
      { title: "STATE" },
      { title: "READINGS", align: "right" },
      { title: "LAST READING" },
      { title: "EVERY", align: "right" },
      { title: "SKILL", align: "right" },
      { title: "COVER", align: "right" },
      { title: "TARGETS", shrink: true, min: 7 },
    ],
    rows,
    width,
  );
}

/** Lists the streams; returns the exit status. */
export async function streamsCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(ACTION, {
    args,
    options: CLIENT_OPTIONS,
    allowPositionals: false,
  }, STREAMS_HELP);
  if (values.help) {
    print(STREAMS_HELP);
    return 0;
  }
  const client = apiClient(ACTION, values, clientEnv());
  // every page, following `next` (the API lists 1,000 streams a page at most)
  const streams: StreamJson[] = [];
  let after: string | null = null;
  do {
    const query: string = after === null ? "" : `&after=${encodeURIComponent(after)}`;
    const page: { streams: StreamJson[]; next: string | null } = await client.getJson(
      ACTION,
      `/v1/streams?limit=1000${query}`,
    );
    streams.push(...page.streams);
    after = page.next;
  } while (after !== null);
  if (values.json) print(JSON.stringify({ streams }, null, 2));
  else for (const line of formatStreams(streams, outputWidth())) print(line);
  return 0;
}
