/**
 * The one alert event: what the engine raises when a reading opens or ends
 * an alert, and the same event as stored and delivered (with its id, its
 * lifecycle state and when it was acknowledged). Every channel (SSE,
 * WebSocket, MQTT, webhook) and the API send the stored form.
 */

/** One target's value and the one-step forecast it was compared with. */
export interface TargetContext {
  value: number;
  forecast: number;
  lower: number;
  upper: number;
}

/** An alert opened or ended by a reading, with its context. */
export interface AlertEvent {
  type: "opened" | "resolved" | "new_normal";
  stream: string;
  /** The reading's time (ms). */
  ts: number;
  /** When the anomaly began (ms). */
  since: number;
  /** Per target: the reading, the forecast and the interval it was compared with. */
  targets: Record<string, TargetContext>;
  score: number;
  likelihood: number;
  /** Share of this stream's past readings that were less surprising. */
  percentile: number;
  /**
   * Of the last `of` readings (`anomaly.density`), how many were unusual
   * (evidence of at least `anomaly.densityLevel`), and the most any such
   * window of this stream had held before.
   */
  unusual: { count: number; of: number; most: number };
  /** Whether the model is learning after this reading. */
  learning: boolean;
  message: string;
}

/** Lifecycle of a stored alert: opened events start `open`, the others are `resolved`. */
export type AlertState = "open" | "acknowledged" | "resolved";

/** An alert event as stored and delivered. */
export interface StoredAlert extends AlertEvent {
  /** 16 digits, increasing: the SSE event id and the position to resume after. */
  id: string;
  /** The reading's time (ms), as `ts`: what the history is filtered and pruned by. */
  time: number;
  state: AlertState;
  /** When it was acknowledged (ms), once it is. */
  acknowledgedAt?: number;
}
