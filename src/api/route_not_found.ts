/**
 * What the API answers when no route takes a request:
 *
 * - a path some route has, asked with another method: `405 Method Not
 *   Allowed` with `Allow` listing the methods it has (HEAD with GET, which
 *   Hono answers by the GET route);
 * - `OPTIONS` on such a path (not a CORS preflight, which the CORS
 *   middleware answers first): `204` with `Allow`;
 * - any other path: `404`, naming where the API, the dashboard and the API
 *   reference are.
 *
 * The paths are read from the app's routes when the first such request
 * comes, after every route is registered.
 */
import type { NotFoundHandler } from "hono";

/** The order methods are listed in `Allow`. */
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** One path of the app and the methods it has. */
interface PathMethods {
  pattern: RegExp;
  methods: Set<string>;
}

/** A Hono route path (`/v1/streams/:id`, `/:id{[0-9]+}`, `/files/*`) as a regular expression. */
export function pathPattern(path: string): RegExp {
  let re = "";
  for (const part of path.split(/(:[A-Za-z0-9_]+(?:\{[^}]+\})?|\*)/)) {
    if (part === "*") re += ".*";
    else if (part.startsWith(":")) {
      const custom = /\{([^}]+)\}$/.exec(part);
      re += custom ? `(?:${custom[1]})` : "[^/]+";
    } else re += part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The methods of each path of `routes` (middleware, registered for ALL, left out). */
export function pathMethods(
  routes: readonly { method: string; path: string }[],
): PathMethods[] {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) {
    const m = r.method.toUpperCase();
    if (m === "ALL") continue;
    let set = byPath.get(r.path);
    if (!set) byPath.set(r.path, set = new Set());
    set.add(m);
    if (m === "GET") set.add("HEAD");
  }
  return [...byPath].map(([path, methods]) => ({ pattern: pathPattern(path), methods }));
}

/** The methods `path` may be asked with, in the order of `Allow`; none for an unknown path. */
export function allowedMethods(paths: readonly PathMethods[], path: string): string[] {
  const found = new Set<string>();
  for (const p of paths) {
    if (p.pattern.test(path)) { for (const m of p.methods) found.add(m); }
  }
  if (found.size === 0) return [];
  found.add("OPTIONS");
  return [...found].sort((a, b) => rank(a) - rank(b));
}

function rank(method: string): number {
  const i = METHOD_ORDER.indexOf(method);
  return i < 0 ? METHOD_ORDER.length : i;
}

/** The app's answer to a request no route took: 405, 204 (OPTIONS) or 404. */
export function routeNotFound(
  app: { readonly routes: readonly { method: string; path: string }[] },
): NotFoundHandler {
  let paths: PathMethods[] | undefined;
  return (c) => {
    paths ??= pathMethods(app.routes);
    const allow = allowedMethods(paths, c.req.path);
    const what = `Cannot ${c.req.method} ${c.req.path}`;
    if (allow.length > 0) {
      c.header("allow", allow.join(", "));
      if (c.req.method === "OPTIONS") return c.body(null, 204);
      return c.json({
        error: `${what}: the method must be one of ${allow.join(", ")}: current value is ${
          JSON.stringify(c.req.method)
        }`,
      }, 405);
    }
    return c.json({
      error: `${what}: no such route (the API is under /v1/, with /healthz, /readyz, /metrics ` +
        "and /openapi.json; the dashboard is at / and the API's reference at /docs)",
    }, 404);
  };
}
