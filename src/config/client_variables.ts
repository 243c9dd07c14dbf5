/**
 * The variables of the command-line clients (`forecastd streams`, `forecast`,
 * `alerts`, `ack`), which talk to a running daemon over its API. They are not
 * options of the daemon, so the configuration neither reads them nor refuses
 * them as unknown `FORECASTD_*` variables: a shell that exports them for the
 * clients can still start the daemon.
 */

/** The daemon's URL, `--url` of the clients. */
export const URL_VARIABLE = "FORECASTD_URL";
/** The API token the clients send, `--token`. */
export const TOKEN_VARIABLE = "FORECASTD_TOKEN";

/** Every variable of the clients. */
export const CLIENT_VARIABLES: ReadonlySet<string> = new Set([URL_VARIABLE, TOKEN_VARIABLE]);
