/**
 * Exponential back-off between retries of something that failed (a
 * checkpoint save, an alert write): the first retry after `minMs`, each
 * later one after twice the delay before, at most `maxMs`; a success starts
 * over.
 *
 * ```ts
 * const backOff = new BackOff({ minMs: 1000, maxMs: 60_000 });
 * const retryInMs = backOff.failed(); // 1000, then 2000, 4000, ... 60000
 * backOff.succeeded();                // the next failure waits 1000 again
 * ```
 */
import { showValue } from "../domain/show_value.ts";

/** Options of BackOff; every field has the default it names. */
export interface BackOffOptions {
  /** Delay before the first retry, ms. Default 1000. */
  minMs?: number;
  /** Longest delay, ms. Default 60,000. */
  maxMs?: number;
}

/** The defaults of BackOffOptions. */
export const BACK_OFF_DEFAULTS: Readonly<Required<BackOffOptions>> = Object.freeze({
  minMs: 1000,
  maxMs: 60_000,
});

/** Failures in a row and the delay they earn; see the module comment. */
export class BackOff {
  readonly minMs: number;
  readonly maxMs: number;
  /** Failures since the last success. */
  failures = 0;

  constructor(options: BackOffOptions = {}) {
    this.minMs = options.minMs ?? BACK_OFF_DEFAULTS.minMs;
    this.maxMs = options.maxMs ?? BACK_OFF_DEFAULTS.maxMs;
    for (const [name, v] of [["minMs", this.minMs], ["maxMs", this.maxMs]] as const) {
      if (typeof v !== "number" || !(v >= 0) || v === Infinity) {
        throw new RangeError(
          `Cannot create back-off: ${name} must be a finite number >= 0: current value is ${
            showValue(v)
          }`,
        );
      }
    }
    if (this.maxMs < this.minMs) {
      throw new RangeError(
        `Cannot create back-off: maxMs must be at least minMs (${this.minMs}): current value is ${this.maxMs}`,
      );
    }
  }

  /** The delay before the next attempt: 0 after a success. */
  get delayMs(): number {
    if (this.failures === 0) return 0;
    return Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures - 1, 52));
  }

  /** Counts a failure; returns the delay before the next attempt. */
  failed(): number {
    this.failures++;
    return this.delayMs;
  }

  /** A success: the next failure starts from `minMs` again. */
  succeeded(): void {
    this.failures = 0;
  }
}
