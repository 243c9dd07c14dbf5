/**
 * The port every alert channel (SSE, WebSocket, MQTT, webhook) reads from:
 * live alerts as they are stored, and the stored history to resume from. The
 * service implements it; a channel takes it and its own options, nothing
 * else of the daemon.
 */
import type { AlertFilter } from "../domain/alert_filter.ts";
import type { StoredAlert } from "../domain/alert.ts";

/** A live subscriber, optionally limited to some streams. */
export interface AlertSubscriber {
  streams?: ReadonlySet<string>;
  send(alert: StoredAlert): void;
}

export type { AlertFilter };

/** Live alerts and their history. */
export interface AlertSource {
  /** Adds a live subscriber; returns the function that removes it. */
  subscribe(sub: AlertSubscriber): () => void;
  /** Live subscribers now. */
  readonly subscribers: number;
  /** Stored alerts matching `filter`, in id order. */
  listAlerts(filter: AlertFilter): Promise<StoredAlert[]>;
}
