/**
 * The one function that makes the URL of every request the page sends,
 * `fetch` and `EventSource` alike: a path of the API resolved against the
 * page (so forecastd behind a proxy under a prefix still works) with its
 * query. When the API takes a read token (a header, or `?token=`), it is
 * added here and nowhere else.
 */

/** Query parameters; undefined and null are left out. */
export type Query = Record<string, string | number | undefined | null>;

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

/** A path of the API with each segment encoded: `apiPath("v1/streams", id, "forecast")`. */
export function apiPath(...segments: string[]): string {
  return segments.map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join("/");
}
