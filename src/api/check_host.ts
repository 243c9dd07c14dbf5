/**
 * The Host check against DNS rebinding: a web page on a name the attacker
 * controls, re-pointed at this machine, reaches forecastd with its own name
 * in the Host header. forecastd answers only the names it is known by.
 *
 * Defaults (`allowedHosts()`), from the address it listens on: on loopback,
 * that address, localhost, 127.0.0.1 and ::1; on one other address, that
 * address; on every interface (0.0.0.0, ::), any name (a token is required
 * there, which a rebinding page does not have) unless names are configured.
 * Configured names are added to the listening address, and to the loopback
 * names when it includes loopback (so local probes keep working).
 */
import type { MiddlewareHandler } from "hono";
import { fail } from "./errors.ts";
import type { ApiEnv } from "./router.ts";

/** The names of loopback, as a Host header writes them (IPv6 without brackets). */
export const LOOPBACK_NAMES: readonly string[] = ["localhost", "127.0.0.1", "::1"];

/** A host name as compared: lower case, without brackets or a trailing dot. */
export function normalizeHost(name: string): string {
  return name.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

/** True for an address or name of loopback: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = normalizeHost(host);
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) ||
    h === "::ffff:127.0.0.1";
}

/** True for the wildcard addresses (every interface). */
export function isWildcard(host: string): boolean {
  const h = normalizeHost(host);
  return h === "0.0.0.0" || h === "::" || h === "";
}

/** The names the API answers to when listening on `bindHost`; null: any. */
export function allowedHosts(bindHost: string, configured: readonly string[]): string[] | null {
  const wildcard = isWildcard(bindHost);
  if (wildcard && configured.length === 0) return null;
  const names = new Set(configured.map(normalizeHost));
  if (!wildcard) names.add(normalizeHost(bindHost));
  if (wildcard || isLoopback(bindHost)) { for (const n of LOOPBACK_NAMES) names.add(n); }
  return [...names];
}

/** The host name of a Host header (`[::1]:8080` -> `::1`, `Gateway.local.:80` -> `gateway.local`). */
export function hostOfHeader(header: string): string {
  const h = header.trim();
  if (h.startsWith("[")) return normalizeHost(h.slice(0, h.indexOf("]") + 1));
  return normalizeHost(h.replace(/:\d*$/, ""));
}

/**
 * Refuses with 421 a request whose Host names none of `allowed` (null:
 * every request passes).
 */
export function checkHost(allowed: readonly string[] | null): MiddlewareHandler<ApiEnv> {
  const set = allowed === null ? null : new Set(allowed.map(normalizeHost));
  return async (c, next) => {
    if (set !== null) {
      const header = c.req.header("host") ?? new URL(c.req.url).host;
      if (!set.has(hostOfHeader(header))) {
        fail(
          421,
          `Cannot ${c.req.method} ${c.req.path}: the Host header must name forecastd (${
            [...set].join(", ")
          }; add a name with --allowed-host): current value is ${JSON.stringify(header)}`,
        );
      }
    }
    await next();
  };
}
