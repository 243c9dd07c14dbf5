/**
 * `forecastd alerts [--follow]`: the latest alerts of a running daemon, and
 * with --follow the live ones as they come, resumed after a dropped
 * connection (follow_alerts.ts).
 */
import type { StoredAlert } from "../domain/alert.ts";
import { print } from "../log.ts";
import { parseCommandArgs } from "./args.ts";
import type { ApiClient } from "./api_client.ts";
import {
  apiClient,
  CLIENT_OPTIONS,
  CLIENT_OPTIONS_HELP,
  clientEnv,
  outputWidth,
} from "./client_args.ts";
import { followAlerts } from "./follow_alerts.ts";
import { type Column, formatTable } from "./format_table.ts";
import { formatUtc } from "./format_utc.ts";
import { UsageError } from "./usage_error.ts";
import { wrapText } from "./wrap_text.ts";

/** The command's help. */
export const ALERTS_HELP = `Usage: forecastd alerts [options]

Prints the latest alerts of a running forecastd (GET /v1/alerts), oldest first: each alert's id,
the time of the reading that raised it (UTC), its stream, its type (opened, resolved, new
normal), its state (open, acknowledged, resolved) and, below, its message; with --json one
alert per line (JSON Lines). forecastd ack ID acknowledges one.

Options:
  --stream ID     only this stream's alerts
  --state STATE   only alerts in this state: open, acknowledged or resolved
  --limit N       how many of the latest to print, 1 to 1000 (default 20; 10 with --follow)
  --follow        then print each new alert as it comes, until Ctrl-C; after a dropped
                  connection it reconnects and resumes after the last alert printed
${CLIENT_OPTIONS_HELP}
`;

const ACTION = "Cannot list alerts";
const STATES = ["open", "acknowledged", "resolved"];
const TYPES: Record<StoredAlert["type"], string> = {
  opened: "opened",
  resolved: "resolved",
  new_normal: "new normal",
};

/** The summary line's columns: fixed widths, so that live alerts line up under the header. */
const COLUMNS: Column[] = [
  { title: "ID", width: 6 },
  { title: "TIME (UTC)", width: 19 },
  { title: "STREAM", width: 16 },
  { title: "TYPE", width: 10 },
  { title: "STATE", width: 12 },
];

/** An alert's id as people type it: without the leading zeros. */
export function shortId(id: string): string {
  return id.replace(/^0+(?=\d)/, "");
}

/** The header line of the alert lines. */
export function alertHeader(width = 80): string {
  return formatTable(COLUMNS, [], width)[0];
}

/** An alert as lines: its summary under the header's columns, then its message, wrapped. */
export function formatAlert(a: StoredAlert, width = 80): string[] {
  const summary = formatTable(COLUMNS, [[
    shortId(a.id),
    formatUtc(a.ts, true),
    a.stream,
    TYPES[a.type] ?? a.type,
    a.state,
  ]], width)[1];
  const prefix = `${a.stream}: `;
  const message = a.message.startsWith(prefix) ? a.message.slice(prefix.length) : a.message;
  return [summary, ...wrapText(message, width, " ".repeat(8))];
}

const OPTIONS = {
  ...CLIENT_OPTIONS,
  stream: { type: "string" },
  state: { type: "string" },
  limit: { type: "string" },
  follow: { type: "boolean" },
} as const;

/** Prints the alerts, and follows them with --follow; returns the exit status. */
export async function alertsCommand(args: string[], signal?: AbortSignal): Promise<number> {
  const { values } = parseCommandArgs(ACTION, {
    args,
    options: OPTIONS,
    allowPositionals: false,
  }, ALERTS_HELP);
  if (values.help) {
    print(ALERTS_HELP);
    return 0;
  }
  if (values.state !== undefined && !STATES.includes(values.state)) {
    throw new UsageError(
      `${ACTION}: --state must be one of ${STATES.join(", ")}: current value is ` +
        JSON.stringify(values.state),
    );
  }
  const limit = values.limit === undefined ? (values.follow ? 10 : 20) : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new UsageError(
      `${ACTION}: --limit must be an integer from 1 to 1000: current value is ` +
        JSON.stringify(values.limit),
    );
  }
  const client = apiClient(ACTION, values, clientEnv());
  const width = outputWidth();
  const show = values.json
    ? (a: StoredAlert) => print(JSON.stringify(a))
    : (a: StoredAlert) => formatAlert(a, width).forEach((l) => print(l));

  const latest = await page(client, { ...values, limit });
  if (!values.json && (latest.length > 0 || values.follow)) print(alertHeader(width));
  if (!values.json && latest.length === 0 && !values.follow) print("no alerts");
  for (const a of latest) show(a);
  if (!values.follow) return 0;

  // resume after the newest stored alert of these streams, whatever its state
  const newest = values.state === undefined
    ? latest.at(-1)
    : (await page(client, { stream: values.stream, limit: 1 })).at(-1);
  let retrying = false;
  await followAlerts({
    client,
    stream: values.stream,
    after: newest?.id ?? "0",
    signal,
    onAlert: (a) => {
      if (values.state === undefined || a.state === values.state) show(a);
    },
    onRetry: (reason, waitMs) => {
      retrying = true;
      console.error(
        `forecastd alerts: the alert feed broke off (${reason}); reconnecting in ` +
          `${Math.round(waitMs / 1000)} s`,
      );
    },
    onConnected: () => {
      if (retrying) console.error("forecastd alerts: reconnected; resuming after the last alert");
      retrying = false;
    },
  });
  return 0;
}

/** The latest `limit` alerts matching the filters, oldest first. */
async function page(
  client: ApiClient,
  f: { stream?: string; state?: string; limit: number },
): Promise<StoredAlert[]> {
  const q = new URLSearchParams({ order: "desc", limit: String(f.limit) });
  if (f.stream !== undefined) q.set("stream", f.stream);
  if (f.state !== undefined) q.set("state", f.state);
  const body = await client.getJson<{ alerts: StoredAlert[] }>(ACTION, `/v1/alerts?${q}`);
  return body.alerts.reverse();
}
