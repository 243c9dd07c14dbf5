/**
 * The in-process fan-out of stored alerts to live subscribers (SSE and
 * WebSocket clients, the MQTT publisher, webhooks). An alert reaches the hub
 * only after the store gave it its id, so a subscriber that reconnects can
 * resume from the last id it saw.
 */
import type { AlertEvent } from "../store/store.ts";

/** A subscriber, optionally limited to some streams. */
export interface Subscription {
  streams?: ReadonlySet<string>;
  send(event: AlertEvent): void;
}

/** Alert fan-out. */
export class AlertHub {
  readonly #subs = new Set<Subscription>();

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(sub: Subscription): () => void {
    this.#subs.add(sub);
    return () => this.#subs.delete(sub);
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subs.size;
  }

  /** Sends `event` to every subscriber whose filter matches; one failing does not stop the rest. */
  publish(event: AlertEvent, onError: (e: unknown) => void): void {
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
