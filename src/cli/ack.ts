/** `forecastd ack ID`: acknowledges an alert of a running daemon. */
import type { StoredAlert } from "../domain/alert.ts";
import { print } from "../log.ts";
import { parseCommandArgs } from "./args.ts";
import { shortId } from "./alerts.ts";
import { apiClient, CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, clientEnv } from "./client_args.ts";
import { formatUtc } from "./format_utc.ts";
import { UsageError } from "./usage_error.ts";

/** The command's help. */
export const ACK_HELP = `Usage: forecastd ack ID [options]

Acknowledges the alert ID (POST /v1/alerts/ID/ack): someone has seen it. Its state becomes
acknowledged on every channel; the stream's anomaly goes on until a reading resolves it. The id
is the one forecastd alerts prints (leading zeros may be left out). The API token, if the daemon
has tokens, must have the write role.

Options:
${CLIENT_OPTIONS_HELP}
`;

/** The line that says what was acknowledged. */
export function formatAck(a: StoredAlert): string {
  return `acknowledged alert ${shortId(a.id)} of stream ${a.stream} (${a.type} at ` +
    `${formatUtc(a.ts, true)} UTC)`;
}

/** Acknowledges the alert; returns the exit status. */
export async function ackCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("Cannot acknowledge an alert", {
    args,
    options: CLIENT_OPTIONS,
    allowPositionals: true,
  }, ACK_HELP);
  if (values.help) {
    print(ACK_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      "Cannot acknowledge an alert: the command must name one alert: forecastd ack ID " +
        `[options]: current arguments are ${JSON.stringify(positionals)}`,
    );
  }
  const id = positionals[0];
  const action = `Cannot acknowledge alert ${JSON.stringify(id)}`;
  if (!/^[0-9]{1,16}$/.test(id)) {
    throw new UsageError(
      `${action}: the id must be 1 to 16 digits, as forecastd alerts prints it: current value ` +
        `is ${JSON.stringify(id)}`,
    );
  }
  const client = apiClient(action, values, clientEnv());
  const alert = await client.postJson<StoredAlert>(action, `/v1/alerts/${id}/ack`);
  print(values.json ? JSON.stringify(alert, null, 2) : formatAck(alert));
  return 0;
}
