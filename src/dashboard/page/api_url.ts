/**
 * The one place that makes the URL of every request the page sends, and
 * adds the API token to it: a path of the API resolved against the page (so
 * forecastd behind a proxy under a prefix still works) with its query. The
 * token (when the page has one) goes in `Authorization: Bearer` on every
 * fetch ({@link authHeaders}), and in `?token=` on the live feed only
 * ({@link feedUrl}), since a browser's EventSource cannot send headers.
 */

/** Query parameters; undefined and null are left out. */
export type Query = Record<string, string | number | undefined | null>;

/** The API token the page sends, or null: set from the token form and the token store. */
export const credentials: { token: string | null } = { token: null };

/**
 * The URL of `path` (e.g. "v1/streams/demo/forecast") with `query`,
 * relative to `base` (default: the page's own URL).
 */
export function apiUrl(path: string, query: Query = {}, base?: string): string {
  const url = new URL(path.replace(/^\/+/, ""), base ?? globalThis.location.href);
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  }
  return url.href;
}

/** The headers that carry the page's token on a fetch (none without a token). */
export function authHeaders(): Record<string, string> {
  return credentials.token === null ? {} : { authorization: `Bearer ${credentials.token}` };
}

/** The URL of a live feed (`v1/alerts/events`): {@link apiUrl} with the token in `?token=`. */
export function feedUrl(path: string, query: Query = {}, base?: string): string {
  return apiUrl(path, { ...query, token: credentials.token }, base);
}

/** A path of the API with each segment encoded: `apiPath("v1/streams", id, "forecast")`. */
export function apiPath(...segments: string[]): string {
  return segments.map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join("/");
}
