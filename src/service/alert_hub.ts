/**
 * The in-process fan-out of stored alerts to live subscribers (SSE and
 * WebSocket clients, the MQTT publisher, webhooks). An alert reaches the hub
 * only after the store gave it its id, so a subscriber that reconnects can
 * resume from the last id it saw.
 */
import type { StoredAlert } from "../domain/alert.ts";
import type { AlertSubscriber } from "../alerts/alert_source.ts";

/** Alert fan-out. */
export class AlertHub {
  readonly #subs = new Set<AlertSubscriber>();

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(sub: AlertSubscriber): () => void {
    this.#subs.add(sub);
    return () => this.#subs.delete(sub);
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subs.size;
  }

  /** Sends `event` to every subscriber whose filter matches; one failing does not stop the rest. */
  publish(event: StoredAlert, onError: (e: unknown) => void): void {
    for (const sub of this.#subs) {
      if (sub.streams && !sub.streams.has(event.stream)) continue;
      try {
        sub.send(event);
      } catch (e) {
        onError(e);
      }
    }
  }
}
