/**
 * The port every alert channel (SSE, WebSocket, MQTT, webhook) reads from:
 * live alerts as they are stored, and the stored history to resume from. The
 * service implements it; a channel takes it and its own options, nothing
 * else of the daemon.
 */
import type { StoredAlert } from "../domain/alert.ts";

/** A live subscriber, optionally limited to some streams. */
export interface AlertSubscriber {
  streams?: ReadonlySet<string>;
  send(alert: StoredAlert): void;
}

/** Which stored alerts to list; every filter given must match. */
export interface AlertListFilter {
  /** Only this stream's alerts. */
  stream?: string;
  /** Only alerts in this state. */
  state?: string;
  /** Only alerts with `time >= since` (ms). */
  since?: number;
  /** Only alerts with `time < until` (ms). */
  until?: number;
  /** Only alerts after this id (exclusive): a resume point. */
  after?: string;
  /** Only alerts before this id (exclusive). */
  before?: string;
  /** At most this many. Default 100. */
  limit?: number;
  /** Newest first. Default false (oldest first). */
  reverse?: boolean;
}

/** Live alerts and their history. */
export interface AlertSource {
  /** Adds a live subscriber; returns the function that removes it. */
  subscribe(sub: AlertSubscriber): () => void;
  /** Live subscribers now. */
  readonly subscribers: number;
  /** Stored alerts matching `filter`, in id order. */
  listAlerts(filter: AlertListFilter): Promise<StoredAlert[]>;
}
