/**
 * Webhooks: every stored alert POSTed as JSON to each configured URL whose
 * stream filter it passes.
 *
 * A request carries
 *
 *   content-type: application/json
 *   x-forecastd-event-id: <alert id>          the same id as SSE's `id:`; receivers de-duplicate on it
 *   x-forecastd-attempt: <n>                  1 for the first attempt
 *   x-forecastd-signature: sha256=<hex>       HMAC-SHA256 of the raw body with the webhook's secret
 *                                             (only when a secret is set)
 *
 * Delivery: one alert at a time per webhook, in id order. A network error,
 * a timeout, a 5xx or a 429 is retried after 1 s, 2 s, 4 s, ... (doubling,
 * at most `maxDelayMs`; a `Retry-After` in seconds is honoured up to that)
 * until `attempts` attempts were made; any other status (a 4xx, a redirect)
 * is final. Alerts wait in a bounded queue per webhook: when it is full the
 * oldest waiting one is dropped and counted. `close()` stops at once: the
 * request in flight is aborted and no timer is left behind.
 *
 * Webhook URLs often hold a token (in the path), so logs show only the
 * URL's origin and the webhook's index.
 */
import type { Webhook } from "../config/mod.ts";
import type { Logger } from "../log.ts";
import type { StoredAlert } from "../domain/alert.ts";
import type { AlertSource } from "./alert_source.ts";

/** How webhooks are delivered; every field has a default. */
export interface WebhookOptions {
  /** Attempts per alert, the first included. Default 6 (retries after 1, 2, 4, 8, 16 s). */
  attempts?: number;
  /** Delay before the first retry, ms; doubled for each further one. Default 1,000. */
  baseDelayMs?: number;
  /** Longest delay between two attempts, ms. Default 60,000. */
  maxDelayMs?: number;
  /** Alerts waiting per webhook before the oldest is dropped. Default 1,000. */
  queueSize?: number;
  /** Time limit of one request, ms. Default 10,000. */
  timeoutMs?: number;
  /** The User-Agent header. Default "forecastd". */
  userAgent?: string;
  /** The fetch function. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** What a webhook did since start. */
export interface WebhookCounters {
  /** Alerts the receiver took (2xx). */
  delivered: number;
  /** Alerts given up on: a final status, or every attempt failed. */
  failed: number;
  /** Attempts after the first. */
  retries: number;
  /** Alerts dropped from a full queue. */
  dropped: number;
}

const DEFAULTS: Required<Omit<WebhookOptions, "fetch">> = {
  attempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  queueSize: 1000,
  timeoutMs: 10_000,
  userAgent: "forecastd",
};

/** `sha256=<hex>`: the HMAC-SHA256 of `body` with `secret`, as in X-Forecastd-Signature. */
export async function signBody(secret: string, body: string): Promise<string> {
  const key = await hmacKey(secret);
  return signWith(key, body);
}

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

async function signWith(key: CryptoKey, body: string): Promise<string> {
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)),
  );
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The delay before retry `n` (1-based), ms: base * 2^(n-1), at most max. */
export function backoffMs(n: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** (n - 1));
}

/** One webhook's queue and delivery loop. */
export class WebhookSender {
  readonly counters: WebhookCounters = { delivered: 0, failed: 0, retries: 0, dropped: 0 };
  readonly #hook: Webhook;
  readonly #log: Logger;
  readonly #opts: Required<Omit<WebhookOptions, "fetch">>;
  readonly #fetch: typeof fetch;
  readonly #key: Promise<CryptoKey> | null;
  readonly #queue: StoredAlert[] = [];
  readonly #abort = new AbortController();
  #running: Promise<void> | null = null;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  constructor(hook: Webhook, log: Logger, opts: WebhookOptions = {}) {
    this.#hook = hook;
    this.#opts = { ...DEFAULTS, ...withoutUndefined(opts) };
    this.#fetch = opts.fetch ?? globalThis.fetch;
    for (const k of ["attempts", "queueSize"] as const) {
      if (!Number.isSafeInteger(this.#opts[k]) || this.#opts[k] < 1) {
        throw new RangeError(
          `Cannot start webhook: ${k} must be a positive integer: current value is ${
            this.#opts[k]
          }`,
        );
      }
    }
    let origin: string;
    try {
      origin = new URL(hook.url).origin;
    } catch {
      throw new TypeError(
        "Cannot start webhook: url must be an http:// or https:// URL: current value is not a URL",
      );
    }
    this.#log = log.child({ webhook: origin });
    this.#key = hook.secret === null ? null : hmacKey(hook.secret);
  }

  /** Alerts waiting (not counting the one in flight). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues an alert for delivery. */
  enqueue(event: StoredAlert): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#opts.queueSize) {
      const dropped = this.#queue.shift()!;
      this.counters.dropped++;
      this.#log.warn("webhook.dropped", { id: dropped.id, queueSize: this.#opts.queueSize });
    }
    this.#queue.push(event);
    this.#running ??= this.#drain();
  }

  /** Resolves when nothing waits and nothing is in flight. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops: aborts the request in flight, cancels the retry timer, drops the queue. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    clearTimeout(this.#timer);
    this.#wake?.();
    this.#abort.abort();
    await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const event = this.#queue.shift()!;
        try {
          await this.#deliver(event);
        } catch (e) {
          this.counters.failed++;
          this.#log.error("webhook.failed", { id: event.id, error: e });
        }
      }
    } finally {
      // in the same tick as the empty-queue check: an alert queued later starts a new loop
      this.#running = null;
    }
  }

  async #deliver(event: StoredAlert): Promise<void> {
    const o = this.#opts;
    const body = JSON.stringify(event);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": o.userAgent,
      "x-forecastd-event-id": event.id,
    };
    if (this.#key) headers["x-forecastd-signature"] = await signWith(await this.#key, body);
    let why = "";
    for (let attempt = 1; attempt <= o.attempts; attempt++) {
      if (this.#closed) return;
      if (attempt > 1) this.counters.retries++;
      const r = await this.#attempt(body, { ...headers, "x-forecastd-attempt": String(attempt) });
      if (this.#closed) return;
      if (r.ok) {
        this.counters.delivered++;
        this.#log.debug("webhook.delivered", { id: event.id, attempt });
        return;
      }
      why = r.why;
      if (!r.retry) {
        this.counters.failed++;
        this.#log.warn("webhook.rejected", { id: event.id, attempt, error: why });
        return;
      }
      if (attempt === o.attempts) break;
      const delayMs = Math.min(
        o.maxDelayMs,
        Math.max(backoffMs(attempt, o.baseDelayMs, o.maxDelayMs), r.retryAfterMs ?? 0),
      );
      this.#log.info("webhook.retrying", { id: event.id, attempt, delayMs, error: why });
      await this.#sleep(delayMs);
    }
    this.counters.failed++;
    this.#log.warn("webhook.gave_up", { id: event.id, attempts: o.attempts, error: why });
  }

  async #attempt(
    body: string,
    headers: Record<string, string>,
  ): Promise<{ ok: true } | { ok: false; retry: boolean; why: string; retryAfterMs?: number }> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#opts.timeoutMs);
    try {
      const res = await this.#fetch(this.#hook.url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.any([this.#abort.signal, timeout.signal]),
      });
      await res.body?.cancel();
      if (res.ok) return { ok: true };
      const retry = res.status >= 500 || res.status === 429;
      const after = Number(res.headers.get("retry-after"));
      return {
        ok: false,
        retry,
        why: `the receiver answered ${res.status}`,
        retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
      };
    } catch (e) {
      const why = timeout.signal.aborted
        ? `no answer within ${this.#opts.timeoutMs} ms`
        : (e as Error).message;
      return { ok: false, retry: true, why };
    } finally {
      clearTimeout(timer);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      }, ms);
    });
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The running webhooks. */
export interface Webhooks {
  /** One sender per configured webhook, in configuration order. */
  readonly senders: readonly WebhookSender[];
  /** Unsubscribes and stops every sender (aborting requests in flight). */
  close(): Promise<void>;
}

/** Subscribes one sender per webhook to the live alerts. */
export function startWebhooks(
  source: Pick<AlertSource, "subscribe">,
  webhooks: readonly Webhook[],
  log: Logger,
  opts: WebhookOptions = {},
): Webhooks {
  const senders = webhooks.map((hook, index) =>
    new WebhookSender(hook, log.child({ webhookIndex: index }), opts)
  );
  const unsubscribes = webhooks.map((hook, i) =>
    source.subscribe({
      streams: hook.streams === null ? undefined : new Set(hook.streams),
      send: (e) => senders[i].enqueue(e),
    })
  );
  if (senders.length > 0) log.info("webhooks.started", { webhooks: senders.length });
  return {
    senders,
    async close() {
      for (const u of unsubscribes) u();
      await Promise.all(senders.map((s) => s.close()));
    },
  };
}
