/**
 * The page's requests: JSON reads, the acknowledgement, and the live alert
 * feed. Every URL comes from {@link apiUrl} (the feed's from feedUrl), and
 * every fetch carries the page's token ({@link authHeaders}).
 */
import type { AuthJson, StoredAlert, StreamJson, StreamPageJson } from "./api_types.ts";
import { apiUrl, authHeaders, feedUrl, type Query } from "./api_url.ts";

/** A request the API refused or that failed: the API's `error` message and the status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** How the client reaches the network (a fake in tests). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** The API's JSON answer to `init` at `path`, or an ApiError with its message. */
export async function requestJson<T>(
  path: string,
  query: Query = {},
  init: RequestInit = {},
  fetchFn: FetchLike = fetch,
): Promise<T> {
  const url = apiUrl(path, query);
  const res = await fetchFn(url, {
    ...init,
    headers: {
      accept: "application/json",
      ...authHeaders(),
      ...init.headers as Record<string, string>,
    },
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // not JSON: a proxy's page, say; the status tells
  }
  if (!res.ok) {
    const message = typeof (body as { error?: unknown } | null)?.error === "string"
      ? (body as { error: string }).error
      : `${init.method ?? "GET"} ${path} answered ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

/** GET `path` as JSON. */
export function getJson<T>(path: string, query: Query = {}, fetchFn?: FetchLike): Promise<T> {
  return requestJson<T>(path, query, {}, fetchFn);
}

/** POST to `path` (no body), answered with JSON. */
export function postJson<T>(path: string, fetchFn?: FetchLike): Promise<T> {
  return requestJson<T>(path, {}, { method: "POST" }, fetchFn);
}

/** Streams asked for a page: the most `GET /v1/streams` gives. */
const STREAM_PAGE = 1000;

/** Every stream, sorted by id: `GET /v1/streams` page after page, following `next`. */
export async function getAllStreams(fetchFn?: FetchLike): Promise<StreamJson[]> {
  const out: StreamJson[] = [];
  let after: string | null = null;
  for (;;) {
    const page: StreamPageJson = await getJson<StreamPageJson>(
      "v1/streams",
      { limit: STREAM_PAGE, after },
      fetchFn,
    );
    out.push(...page.streams);
    // a cursor that does not move on would loop for ever
    if (page.next === null || page.next === undefined || (after !== null && page.next <= after)) {
      return out;
    }
    after = page.next;
  }
}

/** How the page's requests are authenticated: `GET /v1/auth` (a 401 ApiError: a token is needed). */
export function getAuth(fetchFn?: FetchLike): Promise<AuthJson> {
  return getJson<AuthJson>("v1/auth", {}, fetchFn);
}

/** What the live alert feed reports. */
export interface AlertEventsHandlers {
  alert(alert: StoredAlert): void;
  /** "live" once connected, "reconnecting" while the browser retries. */
  status(status: "live" | "reconnecting"): void;
  /**
   * The browser gave up (the server refused the feed, e.g. with 401): it
   * will not reconnect by itself.
   */
  closed(): void;
}

/**
 * Opens `GET /v1/alerts/events` after alert `after` (null: from the first
 * stored), with the page's token in `?token=`. The browser reconnects by
 * itself and resumes with Last-Event-ID, unless the server refused it.
 */
export function openAlertEvents(after: string | null, on: AlertEventsHandlers): EventSource {
  const source = new EventSource(feedUrl("v1/alerts/events", { after: after ?? "0" }));
  source.addEventListener("alert", (e) => on.alert(JSON.parse((e as MessageEvent).data)));
  source.addEventListener("open", () => on.status("live"));
  source.addEventListener("error", () => {
    on.status("reconnecting");
    if (source.readyState === EventSource.CLOSED) on.closed();
  });
  return source;
}
