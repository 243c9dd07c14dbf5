/**
 * How fast one client may create streams: a token bucket per client (an API
 * token, or an address when the API has none) holding up to `perMinute`
 * creations and refilled at `perMinute` a minute. Readings of streams that
 * exist are never limited; a reading that would create a stream when its
 * client's bucket is empty is refused (reason `stream_rate`), so one batch
 * of made-up ids cannot fill maxStreams and lock every new sensor out.
 */

/** Options of StreamCreationLimit. */
export interface StreamCreationLimitOptions {
  /** Streams a client may create a minute, and in one burst. Default 100. */
  perMinute?: number;
  /** The clock, ms. Default Date.now. */
  now?: () => number;
  /** Clients remembered before full buckets are forgotten. Default 10,000. */
  maxClients?: number;
}

/** Default streams one client may create a minute. */
export const DEFAULT_NEW_STREAMS_PER_MINUTE = 100;

/** Token buckets of stream creations, one per client. */
export class StreamCreationLimit {
  readonly perMinute: number;
  readonly #now: () => number;
  readonly #maxClients: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(opts: StreamCreationLimitOptions = {}) {
    this.perMinute = opts.perMinute ?? DEFAULT_NEW_STREAMS_PER_MINUTE;
    this.#now = opts.now ?? Date.now;
    this.#maxClients = opts.maxClients ?? 10_000;
  }

  /** The bucket of `client`, refilled up to now. */
  #bucket(client: string): { tokens: number; at: number } {
    const now = this.#now();
    let b = this.#buckets.get(client);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxClients) this.#forgetFull(now);
      b = { tokens: this.perMinute, at: now };
      this.#buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
      b.at = now;
    }
    return b;
  }

  /** Takes one creation from `client`'s bucket: false when it is empty. */
  take(client: string): boolean {
    const b = this.#bucket(client);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Seconds until `client` may create a stream again (0: now). */
  waitSeconds(client: string): number {
    const b = this.#bucket(client);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * 60) / this.perMinute * 10) / 10;
  }

  /** Drops the buckets that are full again (their clients are as if new). */
  #forgetFull(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) * this.perMinute) / 60_000 >= this.perMinute) {
        this.#buckets.delete(k);
      }
    }
  }
}
