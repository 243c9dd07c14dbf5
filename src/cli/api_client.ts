/**
 * How the command-line clients (`forecastd streams`, `forecast`, `alerts`,
 * `ack`) talk to a running daemon: over its HTTP API, like any client, with
 * the API token as `Authorization: Bearer`.
 *
 * A failure becomes an {@link ApiError} whose message says what could not be
 * done and why: the daemon's own error message for a refused request, or the
 * URL that did not answer and how to name another.
 */

/** Where the daemon is, and the token to send. */
export interface ApiClientOptions {
  /** The daemon's URL, `http://127.0.0.1:8080`; a path prefix is kept. */
  url: string;
  /** API token sent as `Authorization: Bearer <token>`; null sends none. */
  token: string | null;
}

/** A request the daemon refused or could not answer. */
export class ApiError extends Error {
  override name = "ApiError";
  /** The HTTP status, or null when the daemon could not be reached. */
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.status = status;
  }
  /** 2 for a request the user can fix (a 4xx answer), 1 otherwise. */
  get exitStatus(): number {
    return this.status !== null && this.status >= 400 && this.status < 500 ? 2 : 1;
  }
}

/** The last part of a fetch failure's message: `Connection refused (os error 111)`. */
function reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const parts = text.split(": ");
  return parts[parts.length - 1].trim() || text;
}

/** An HTTP client of one daemon. */
export class ApiClient {
  /** The daemon's URL without a trailing slash. */
  readonly url: string;
  readonly #token: string | null;

  constructor(opts: ApiClientOptions) {
    this.url = opts.url.replace(/\/+$/, "");
    this.#token = opts.token;
  }

  /** The headers of every request, `extra` added. */
  headers(extra: Record<string, string> = {}): Headers {
    const h = new Headers({ accept: "application/json", ...extra });
    if (this.#token !== null) h.set("authorization", `Bearer ${this.#token}`);
    return h;
  }

  /**
   * Sends `method path` and resolves with the response once its status is
   * 2xx; `action` starts the message of a failure ("Cannot list streams").
   */
  async request(
    action: string,
    method: "GET" | "POST",
    path: string,
    init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: this.headers(init.headers),
        signal: init.signal,
      });
    } catch (e) {
      // a missing permission is the command's to report, an abort the caller's
      if (e instanceof Deno.errors.NotCapable || init.signal?.aborted) throw e;
      throw new ApiError(
        `${action}: forecastd must answer at ${this.url}: it gave ${JSON.stringify(reason(e))} ` +
          "(is it running? --url or FORECASTD_URL names another address)",
        null,
      );
    }
    if (res.ok) return res;
    throw await this.#refusal(action, res);
  }

  /** GET `path` as JSON. */
  async getJson<T>(action: string, path: string): Promise<T> {
    return await (await this.request(action, "GET", path)).json() as T;
  }

  /** POST to `path` (no body), the answer as JSON. */
  async postJson<T>(action: string, path: string): Promise<T> {
    return await (await this.request(action, "POST", path)).json() as T;
  }

  /** The error of a response that is not 2xx: the daemon's message when it sent one. */
  async #refusal(action: string, res: Response): Promise<ApiError> {
    const text = await res.text();
    let message: string | null = null;
    try {
      const body = JSON.parse(text);
      if (typeof body?.error === "string") message = body.error;
    } catch { /* not JSON: a proxy's page, say */ }
    const hint = res.status === 401
      ? " (give an API token with --token or FORECASTD_TOKEN)"
      : res.status === 403
      ? " (the token's role may not do this: a write token is needed)"
      : "";
    if (message !== null) return new ApiError(`${message}${hint} (HTTP ${res.status})`, res.status);
    const shown = text.trim().slice(0, 120);
    return new ApiError(
      `${action}: ${this.url} must answer with forecastd's API: current answer is HTTP ` +
        `${res.status}${shown ? ` ${JSON.stringify(shown)}` : ""}${hint}`,
      res.status,
    );
  }
}
