/**
 * The bound on what a live alert client (SSE, WebSocket) may hold in
 * forecastd's memory: the bytes queued for it and how long they may stay.
 *
 * A client is dropped when
 *
 * - its queue grows over `maxBytes` (reason `over_limit`), or
 * - its queue has not been empty for `drainTimeoutMs` (reason `undrained`):
 *   a client that reads empties its queue now and then; a dead one never does.
 *
 * The channel tells the guard after each message it queued (`check()`),
 * and the replay of stored alerts waits for `room()` before each alert, so a
 * long history is sent at the pace the client reads it and only the live
 * alerts can push a queue towards the limit. What the kernel's socket
 * buffers hold is not forecastd's memory and not counted: a client that
 * stopped reading is seen only once those are full.
 */

/** How much a client may hold; every field has the default it names. */
export interface SlowClientOptions {
  /** Bytes queued for one client before it is dropped. Default 1 MiB (`DEFAULT_MAX_QUEUED_BYTES`). */
  maxBytes?: number;
  /** How long a client's queue may stay non-empty before it is dropped, ms. Default 30,000. */
  drainTimeoutMs?: number;
  /** How often a non-empty queue is looked at, ms. Default a tenth of `drainTimeoutMs`, at most 1,000. */
  pollMs?: number;
}

/** Why a client was dropped, as logged with `<channel>.client_too_slow`. */
export interface TooSlow {
  /** `over_limit`: the queue grew over `limit` bytes; `undrained`: not empty for `timeoutMs`. */
  reason: "over_limit" | "undrained";
  /** Bytes queued for the client when it was dropped. */
  queued: number;
  /** The byte limit. */
  limit: number;
  /** The drain timeout, ms. */
  timeoutMs: number;
}

/** Bytes a live alert client may have queued, by default. */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
/** How long a live alert client's queue may stay non-empty, ms, by default. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** Watches one client's queue; calls `onTooSlow` once, when the client must be dropped. */
export class SlowClientGuard {
  readonly maxBytes: number;
  readonly drainTimeoutMs: number;
  readonly #pollMs: number;
  readonly #queued: () => number;
  readonly #onTooSlow: (why: TooSlow) => void;
  #stopped = false;
  /** When the queue was last seen empty (ms, performance.now()). */
  #lastEmpty = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;
  #waiting: (() => void)[] = [];

  /** `queued` reads the bytes queued for the client now. */
  constructor(queued: () => number, opts: SlowClientOptions, onTooSlow: (why: TooSlow) => void) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.drainTimeoutMs = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    for (
      const [name, v] of [["maxBytes", this.maxBytes], ["drainTimeoutMs", this.drainTimeoutMs]]
    ) {
      if (typeof v !== "number" || !(v > 0)) {
        throw new RangeError(
          `Cannot watch an alert client: ${name} must be a positive number: current value is ${v}`,
        );
      }
    }
    this.#pollMs = opts.pollMs ?? Math.min(1000, this.drainTimeoutMs / 10);
    this.#queued = queued;
    this.#onTooSlow = onTooSlow;
  }

  /**
   * Looks at the queue after a message was queued: drops the client (and
   * returns false) when it is over the limit; else starts watching a
   * non-empty queue. False too once the guard is stopped.
   */
  check(): boolean {
    if (this.#stopped) return false;
    const queued = this.#queued();
    if (queued > this.maxBytes) {
      this.#drop("over_limit", queued);
      return false;
    }
    if (queued === 0) this.#lastEmpty = performance.now();
    else if (this.#timer === undefined) {
      this.#lastEmpty = performance.now();
      this.#timer = setInterval(() => this.#poll(), this.#pollMs);
    }
    return true;
  }

  /**
   * Resolves once at most half the limit is queued (at once when so), or
   * when the guard stops: what a replay waits for before each alert.
   */
  room(): Promise<void> {
    if (this.#stopped || this.#queued() <= this.maxBytes / 2) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops watching (the client is gone); wakes whatever waits for room. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const w of this.#waiting.splice(0)) w();
  }

  #poll(): void {
    const queued = this.#queued();
    const now = performance.now();
    if (queued <= this.maxBytes / 2) { for (const w of this.#waiting.splice(0)) w(); }
    if (queued === 0) {
      this.#lastEmpty = now;
      clearInterval(this.#timer);
      this.#timer = undefined;
    } else if (now - this.#lastEmpty >= this.drainTimeoutMs) {
      this.#drop("undrained", queued);
    }
  }

  #drop(reason: TooSlow["reason"], queued: number): void {
    this.stop();
    this.#onTooSlow({ reason, queued, limit: this.maxBytes, timeoutMs: this.drainTimeoutMs });
  }
}
