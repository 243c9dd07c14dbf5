/**
 * `forecastd help` (also `forecastd --help` and `forecastd serve --help`):
 * the commands, then serve's options as the schema describes them.
 */
import { formatOptionsHelp } from "../config/mod.ts";
import { print } from "../log.ts";
import { SHUTDOWN_TIMEOUT_MS } from "./shutdown.ts";
import { VERSION } from "./version.ts";

/** The daemon's help: every command, every option of serve. */
/** The default of --shutdown-timeout, in seconds, as the help gives it. */
const STOP_S = SHUTDOWN_TIMEOUT_MS / 1000;

export const HELP =
  `forecastd ${VERSION}: online forecasting and anomaly alerts for IoT sensor streams

Usage:
  forecastd [serve] [options]           run the daemon (the default command)
  forecastd serve --demo [options]      the daemon with a simulated sensor: forecasts and an alert
                                        within a minute
  forecastd export STREAM [FILE] [options]
                                        write a stream's model (configuration and checkpoint, JSON)
                                        to FILE, or to stdout (forecastd export --help)
  forecastd import STREAM FILE [--force] [options]
                                        read a model into the data directory as STREAM; the
                                        daemon must be stopped; --force replaces an existing stream
                                        (forecastd import --help)
  forecastd streams [--json]            the streams of a running daemon, over its API
                                        (forecastd streams --help)
  forecastd forecast STREAM [--json]    a stream's forecast and intervals, per target
  forecastd alerts [--follow] [--json]  the latest alerts; --follow prints new ones as they come
  forecastd ack ID                      acknowledge an alert
                                        (the clients take --url and --token, or FORECASTD_URL and
                                        FORECASTD_TOKEN; each has its own --help)
  forecastd demo [--readings N ...]     offline: learn a simulated sensor in the console
                                        (forecastd demo --help)
  forecastd replay FILE [options]       feed a CSV through the engine and score it
                                        (forecastd replay --help)
  forecastd token [--role read|write]   make an API token and print it with its hash
                                        (forecastd token --help)
  forecastd version                     print the version
  forecastd help                        print this help

From a source checkout, run deno task start in place of forecastd (deno task start --help,
deno task start streams): it runs each command with the permissions it needs and no more.

Options of serve, export and import. Each option is also an environment variable and a key of
the JSON file named by --config; a flag beats the variable, which beats the file:
${
    formatOptionsHelp(undefined, [
      ["--help, -h", "print this help"],
      ["--print-config", "print the resolved configuration as JSON (secrets masked) and exit"],
    ])
  }

Readings: publish to the MQTT broker (sensors/{stream}/{value} by default), or POST to
/v1/readings, or send over the WebSocket /v1/ingest/ws. Forecasts: GET
/v1/streams/{stream}/forecast. Alerts: /v1/alerts/events (SSE), /v1/alerts/ws, MQTT
forecastd/alerts/{stream}, webhooks. The HTTP API is described in docs/api.md, the options in
docs/configuration.md.

SIGINT or SIGTERM stops the daemon: sources stop, requests finish, every changed model is
saved, Deno KV is closed; it exits within --shutdown-timeout (${STOP_S} s) in any case.
`;

/** Prints the help. */
export function helpCommand(): number {
  print(HELP);
  return 0;
}
