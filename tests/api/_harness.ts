/**
 * The API tests' daemon: a real Service on a real Store over a fresh
 * `:memory:` Deno KV, the app built on it, and (for SSE and WebSockets) a
 * real server on 127.0.0.1 port 0. Plus clients: an SSE reader over fetch,
 * a WebSocket with a message queue, and synthetic sensor series.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/api/app.ts";
import { allowedHosts } from "../../src/api/check_host.ts";
import { startHttpServer } from "../../src/api/http_server.ts";
import { ApiTokens } from "../../src/auth/api_tokens.ts";
import { resolveConfig } from "../../src/config/mod.ts";
import { type CapturedLog, captureLog } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";

/** A daemon under test. */
export interface Daemon {
  kv: Deno.Kv;
  store: Store;
  service: Service;
  app: ReturnType<typeof createApp>;
  log: CapturedLog;
  /** What readiness() answers; tests change it. */
  ready: { kv: boolean; broker: boolean | null };
  /** Aborted by close(): ends live SSE streams. */
  shutdown: AbortController;
  /** The readings handed to service.ingest(), in order (what the engine received). */
  ingested: Reading[];
  /** A request through app.request(); a body is JSON (content-type application/json unless `headers` name another). */
  request(method: string, path: string, body?: unknown, headers?: HeadersInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts a daemon; `env` adds FORECASTD_* settings to the small test
 * defaults; `now` is the app's clock (default Date.now).
 */
export async function startDaemon(
  opts: {
    env?: Record<string, string>;
    heartbeatMs?: number;
    maxBodyBytes?: number;
    now?: () => number;
  } = {},
): Promise<Daemon> {
  const kv = await Deno.openKv(":memory:");
  const store = new Store(kv);
  const config = resolveConfig({
    args: [],
    env: { FORECASTD_CHECKPOINT_EVERY: "50", FORECASTD_CHECKPOINT_SECONDS: "3600", ...opts.env },
    readFile: (path) => {
      throw new Error(`no file in tests: ${path}`);
    },
  });
  const log = captureLog("debug");
  const service = new Service({ options: config, store, log: log.log });
  await service.load();
  const ingested: Reading[] = [];
  const ingest = service.ingest.bind(service);
  service.ingest = (readings, source) => {
    ingested.push(...readings);
    return ingest(readings, source);
  };
  const ready = { kv: true, broker: null as boolean | null };
  const shutdown = new AbortController();
  const app = createApp({
    service,
    log: log.log,
    version: "0.0.0-test",
    readiness: () => ({ ...ready }),
    signal: shutdown.signal,
    heartbeatMs: opts.heartbeatMs,
    maxBodyBytes: opts.maxBodyBytes ?? config.maxBodyBytes,
    now: opts.now,
    tokens: ApiTokens.fromSpecs(config.apiTokens),
    allowedHosts: allowedHosts(config.host, config.allowedHosts),
    corsOrigins: config.corsOrigins,
    newStreamsPerMinute: config.newStreamsPerMinute,
  });
  return {
    kv,
    store,
    service,
    app,
    log,
    ready,
    shutdown,
    ingested,
    request(method, path, body, headers) {
      const init: RequestInit = { method, headers: { ...headers as Record<string, string> } };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] ??= "application/json";
      }
      return Promise.resolve(app.request(path, init));
    },
    async close() {
      shutdown.abort();
      await service.close();
      kv.close();
    },
  };
}

/** A real server for `app` on 127.0.0.1, port 0, as the daemon serves it (http_server.ts). */
export async function serve(
  app: { fetch: (req: Request, env: Record<string, unknown>) => Response | Promise<Response> },
  opts: { maxMessageBytes?: number; cert?: string; key?: string } = {},
): Promise<{ port: number; base: string; close(): Promise<void> }> {
  const server = await startHttpServer(app.fetch, {
    hostname: "127.0.0.1",
    port: 0,
    log: captureLog("error").log,
    ...opts,
  });
  const port = server.addr.port;
  return { port, base: `127.0.0.1:${port}`, close: () => server.shutdown() };
}

/** Body and status of a JSON response (the body untyped: tests read it field by field). */
// deno-lint-ignore no-explicit-any
export async function json(res: Response): Promise<{ status: number; body: any }> {
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

/** Rejects after `ms` unless `p` settles first (the timer is always cleared). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every 5 ms until it holds, failing after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One parsed SSE frame: its fields, or a comment. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comments: string[];
}

/** Reads an SSE body frame by frame. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next frame (up to a blank line), or null at the end of the stream. */
  async next(): Promise<SseFrame | null> {
    while (!this.#buf.includes("\n\n")) {
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#buf += value;
    }
    const at = this.#buf.indexOf("\n\n");
    const block = this.#buf.slice(0, at);
    this.#buf = this.#buf.slice(at + 2);
    const frame: SseFrame = { comments: [] };
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) frame.comments.push(line.slice(1).trim());
      else {
        const i = line.indexOf(":");
        const k = line.slice(0, i), v = line.slice(i + 1).replace(/^ /, "");
        (frame as unknown as Record<string, string>)[k] = v;
      }
    }
    return frame;
  }

  /** The next `n` alert events, skipping comments and the retry frame. */
  async events(n: number, ms = 5000): Promise<SseFrame[]> {
    const out: SseFrame[] = [];
    while (out.length < n) {
      const f = await within(this.next(), ms, `SSE event ${out.length + 1} of ${n}`);
      assert.ok(f, `the SSE stream ended after ${out.length} of ${n} events`);
      if (f.event !== undefined) out.push(f);
    }
    return out;
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

/** A WebSocket client whose messages queue up until read. */
export class WsClient {
  readonly socket: WebSocket;
  readonly #queue: string[] = [];
  readonly #waiting: ((m: string) => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = (e) =>
        reject(new Error(`WebSocket ${url}: ${(e as ErrorEvent).message}`));
    });
    this.closed = new Promise((resolve) => (this.socket.onclose = resolve));
    this.socket.onmessage = (ev) => {
      const w = this.#waiting.shift();
      if (w) w(String(ev.data));
      else this.#queue.push(String(ev.data));
    };
  }

  /** The next message, parsed as JSON. */
  // deno-lint-ignore no-explicit-any
  next(ms = 5000): Promise<any> {
    const m = this.#queue.shift();
    if (m !== undefined) return Promise.resolve(JSON.parse(m));
    return within(
      new Promise<string>((resolve) => this.#waiting.push(resolve)),
      ms,
      "a WebSocket message",
    ).then((s) => JSON.parse(s));
  }

  /** Sends `message` and returns the reply. */
  // deno-lint-ignore no-explicit-any
  async ask(message: string): Promise<any> {
    this.socket.send(message);
    return await this.next();
  }

  /** Messages received and not read yet. */
  get pending(): number {
    return this.#queue.length;
  }

  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }
}

/** Five minutes, the sensors' sampling period. */
export const FIVE_MIN = 300_000;

/**
 * A smooth sine (4 h period, amplitude 2 around 20) with a little seeded
 * noise, every 5 minutes: readings `from` to `to` (exclusive) of a series
 * whose reading 0 is at `t0`; readings from `faultAt` on are `spike` higher.
 */
export function sineReadings(
  stream: string,
  t0: number,
  from: number,
  to: number,
  opts: { faultAt?: number; spike?: number; seed?: number } = {},
): Reading[] {
  const g = gaussian(mulberry32(opts.seed ?? 7));
  for (let i = 0; i < from; i++) g(); // the same noise whatever the slice
  const out: Reading[] = [];
  for (let i = from; i < to; i++) {
    const fault = opts.faultAt !== undefined && i >= opts.faultAt ? opts.spike ?? 40 : 0;
    const v = 20 + 2 * Math.sin((2 * Math.PI * i) / 48) + 0.1 * g() + fault;
    out.push({ stream, ts: t0 + i * FIVE_MIN, values: { v } });
  }
  return out;
}
