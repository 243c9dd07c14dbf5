/**
 * Stores the alert events the engine raises, many per commit, then hands
 * each to `publish` with the id the store gave it, in the order they were
 * raised.
 *
 * Events raised while a commit is under way wait and go together in the
 * next one (a burst of alerts costs a few commits, not one each). A write
 * that fails is logged, counted and retried with exponential back-off; the
 * events wait meanwhile, at most `maxWaiting` of them (the oldest beyond it
 * are dropped and counted as failed).
 */
import type { Logger } from "../log.ts";
import type { AlertEvent } from "../domain/alert.ts";
import type { AlertInput, AlertRecord } from "../store/store.ts";
import { BackOff, type BackOffOptions } from "./back_off.ts";

/** Options of AlertWriter; every field has the default it names. */
export interface AlertWriterOptions {
  /** Most events waiting to be stored (while writes fail). Default 10,000. */
  maxWaiting?: number;
  /** Back-off between the retries of a failed write. Default 1 s doubling to 60 s. */
  retry?: BackOffOptions;
}

/** What the writer stores through: the store's batch append. */
export interface AlertSink {
  appendAlerts(inputs: readonly AlertInput[]): Promise<AlertRecord[]>;
}

/** The counters the writer keeps (the service's, shown in /metrics). */
export interface AlertCounters {
  /** Alert events stored. */
  alertsStored: number;
  /** Alert events that could not be stored (dropped while writes failed). */
  alertFailures: number;
}

/** What the writer needs. */
export interface AlertWriterDeps {
  store: AlertSink;
  log: Logger;
  counters: AlertCounters;
  /** Called with each stored event, in order. */
  publish: (stored: AlertRecord) => void;
}

/** Stores alert events in batches; see the module comment. */
export class AlertWriter {
  readonly maxWaiting: number;
  readonly #deps: AlertWriterDeps;
  readonly #backOff: BackOff;
  #waiting: AlertInput[] = [];
  #running: Promise<void> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(deps: AlertWriterDeps, options: AlertWriterOptions = {}) {
    this.#deps = deps;
    this.maxWaiting = options.maxWaiting ?? 10_000;
    if (!Number.isSafeInteger(this.maxWaiting) || this.maxWaiting < 1) {
      throw new RangeError(
        `Cannot create alert writer: maxWaiting must be a positive integer: current value is ${this.maxWaiting}`,
      );
    }
    this.#backOff = new BackOff(options.retry);
  }

  /** Events waiting to be stored. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Queues an event; it is stored with the others that come before the next commit. */
  push(e: AlertEvent): void {
    this.#waiting.push({ ...e, time: e.ts, state: e.type === "opened" ? "open" : "resolved" });
    if (this.#waiting.length > this.maxWaiting) {
      const dropped = this.#waiting.splice(0, this.#waiting.length - this.maxWaiting);
      this.#deps.counters.alertFailures += dropped.length;
      this.#deps.log.error("alert.dropped", {
        events: dropped.length,
        hint: "alerts cannot be stored (see alert.store_failed); the oldest waiting are dropped",
      });
    }
    if (this.#running === null && this.#retryTimer === undefined) this.#running = this.#write();
  }

  /**
   * Resolves when every event queued so far is stored and published, or
   * when a write failed (the events wait for the retry).
   */
  async flush(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  /** Stops the retries; events still waiting stay unstored. Call flush() first. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  async #write(): Promise<void> {
    const { store, log, counters, publish } = this.#deps;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting;
        this.#waiting = [];
        let stored: AlertRecord[];
        try {
          stored = await store.appendAlerts(batch);
        } catch (error) {
          // back in front of the ones that came meanwhile, in order
          this.#waiting = [...batch, ...this.#waiting];
          const retryInMs = this.#backOff.failed();
          log.error("alert.store_failed", { events: batch.length, error, retryInMs });
          if (!this.#stopped) {
            this.#retryTimer = setTimeout(() => {
              this.#retryTimer = undefined;
              if (this.#running === null) this.#running = this.#write();
            }, retryInMs);
          }
          return;
        }
        this.#backOff.succeeded();
        counters.alertsStored += stored.length;
        for (const s of stored) {
          try {
            publish(s);
          } catch (error) {
            log.error("alert.publish_failed", { id: s.id, error });
          }
        }
      }
    } finally {
      this.#running = null;
    }
  }
}
