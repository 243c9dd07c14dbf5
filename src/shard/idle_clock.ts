/**
 * How long a thread had nothing to do: the time between the end of one
 * piece of work and the start of the next, summed, with a wait under way
 * counted up to the moment it is read. A shard worker keeps one over its
 * ingest batches (its idle time, shown by /healthz), the main thread one per
 * worker over the readings it has sent and not yet had answered (the time it
 * had nothing out for that worker): where the two differ, the worker waited
 * for the main thread (docs/scaling.md, "the idle time of two workers").
 *
 * Works may overlap (several batches in flight): the thread is idle while
 * none is under way. Two calls of the clock a piece of work, none a reading.
 *
 * ```ts
 * const idle = new IdleClock(performance.now());
 * idle.begin(performance.now()); // a batch arrives
 * idle.end(performance.now()); // it is answered
 * idle.ms(performance.now()); // idle time so far
 * ```
 */
export class IdleClock {
  /** Works under way. */
  #busy = 0;
  /** When the last work ended (or the clock started), while none is under way. */
  #since: number;
  /** Idle time of the waits that ended, ms. */
  #ms = 0;

  /** Starts idle at `now` (ms). */
  constructor(now: number) {
    this.#since = now;
  }

  /** A work starts at `now`. */
  begin(now: number): void {
    if (this.#busy++ === 0) this.#ms += Math.max(0, now - this.#since);
  }

  /** A work ends at `now` (one begun before). */
  end(now: number): void {
    if (this.#busy === 0) {
      throw new RangeError(
        "Cannot end a work of the idle clock: one must be under way: current count is 0",
      );
    }
    if (--this.#busy === 0) this.#since = now;
  }

  /** Works under way. */
  get busy(): number {
    return this.#busy;
  }

  /** Idle time up to `now`, ms: the waits that ended and the one under way. */
  ms(now: number): number {
    return this.#busy > 0 ? this.#ms : this.#ms + Math.max(0, now - this.#since);
  }
}
