/**
 * Alerts in the daemon's log: each alert that opens, resolves or becomes
 * the new normal is logged at info as `alert.opened`, `alert.resolved` or
 * `alert.new_normal`, with its id, stream, the reading's time and its
 * message, so that the log alone tells what happened and when. The log is
 * one more subscriber of the AlertSource port, like the channels.
 */
import type { StoredAlert } from "../domain/alert.ts";
import type { Logger } from "../log.ts";
import type { AlertSource } from "./alert_source.ts";

/** The fields of an alert's log entry. */
export function alertLogFields(a: StoredAlert): Record<string, unknown> {
  return {
    id: a.id,
    stream: a.stream,
    time: new Date(a.ts).toISOString(),
    since: new Date(a.since).toISOString(),
    score: a.score,
    likelihood: a.likelihood,
    message: a.message,
  };
}

/** Logs every alert of `source` until the function it returns is called. */
export function logAlerts(source: AlertSource, log: Logger): () => void {
  return source.subscribe({ send: (a) => log.info(`alert.${a.type}`, alertLogFields(a)) });
}
