/**
 * Which stored alerts a listing takes: the one filter the alert history
 * (src/store/alert_log.ts) applies and the alert source port
 * (src/alerts/alert_source.ts) offers its adapters.
 */
/** Which stored alerts to list; every filter given must match. */
export interface AlertFilter {
  /** Only this stream's alerts. */
  stream?: string;
  /** Only alerts in this state. */
  state?: string;
  /** Only alerts with `time >= since` (ms). */
  since?: number;
  /** Only alerts with `time < until` (ms). */
  until?: number;
  /** Only alerts after this id (exclusive): a resume point, as SSE's `Last-Event-ID`. */
  after?: string;
  /** Only alerts before this id (exclusive). */
  before?: string;
  /** At most this many. Default 100. */
  limit?: number;
  /** Newest first. Default false (oldest first). */
  reverse?: boolean;
}
