/**
 * A live feed of stored alerts that resumes after an id without gaps or
 * duplicates: the common core of the SSE and WebSocket alert endpoints.
 *
 * Alerts reach live subscribers only after the store gave them their id, so:
 *
 * 1. subscribe first and buffer what it sends;
 * 2. replay the store's alerts after the resume id, page by page;
 * 3. send the buffered alerts whose id is above the last one sent, then
 *    every live alert as it comes.
 *
 * An alert stored before the subscription is in the replay; one stored after
 * it is in the buffer (and maybe in the replay too: the id check drops the
 * second copy). Ids are 16-digit strings, so string order is id order.
 * The replay waits for `room()` before each stored alert; the buffered ones
 * follow at once, in order.
 */
import type { StoredAlert } from "../domain/alert.ts";
import type { AlertSource } from "./alert_source.ts";

/** What a feed is opened with. */
export interface AlertFeedOptions {
  /** Replay the stored alerts after this id (16 digits) first; null: live only. */
  after: string | null;
  /** Only these streams' alerts; null: every stream. */
  streams: ReadonlySet<string> | null;
  /**
   * Alerts read from the store per page of the replay; a replay that waits
   * for a slow client holds one page. Default 100.
   */
  pageSize?: number;
  /**
   * Resolves when the client has room for the next stored alert: the replay
   * waits for it before each one, so a long history goes out at the pace
   * the client reads. Default: always room.
   */
  room?: () => Promise<void>;
}

/** An open feed. */
export interface AlertFeed {
  /** Resolves when the replay is done and the feed is live (or closed). */
  readonly ready: Promise<void>;
  /** Stops the feed and unsubscribes; nothing is sent after. Idempotent. */
  close(): void;
}

/**
 * Opens a feed that calls `send` with each alert in id order. `onError`
 * gets a failed replay (the feed is closed then); a throwing `send` closes
 * the feed too.
 */
export function openAlertFeed(
  source: AlertSource,
  opts: AlertFeedOptions,
  send: (event: StoredAlert) => void,
  onError: (error: unknown) => void,
): AlertFeed {
  const pageSize = opts.pageSize ?? 100;
  let closed = false;
  let last: string | null = opts.after;
  let buffer: StoredAlert[] | null = opts.after === null ? null : [];

  const deliver = (e: StoredAlert) => {
    if (closed || (last !== null && e.id <= last)) return;
    if (opts.streams && !opts.streams.has(e.stream)) return;
    last = e.id;
    try {
      send(e);
    } catch (err) {
      close();
      onError(err);
    }
  };
  const unsubscribe = source.subscribe({
    streams: opts.streams ?? undefined,
    send: (e) => (buffer ? buffer.push(e) : deliver(e)),
  });
  const close = () => {
    closed = true;
    buffer = null;
    unsubscribe();
  };

  const replay = async () => {
    if (opts.after === null) return;
    // one stream: let the store filter; several: filter here, page by raw ids
    const only = opts.streams?.size === 1 ? [...opts.streams][0] : undefined;
    let cursor = opts.after;
    while (!closed) {
      const page = await source.listAlerts({ after: cursor, limit: pageSize, stream: only });
      for (const e of page) {
        if (opts.room) await opts.room();
        if (closed) return;
        deliver(e);
      }
      if (page.length < pageSize) break;
      cursor = page[page.length - 1].id;
    }
    const pending = buffer ?? [];
    buffer = null;
    for (const e of pending) deliver(e);
  };
  const ready = replay().catch((err) => {
    if (closed) return;
    close();
    onError(err);
  });
  return { ready, close };
}
