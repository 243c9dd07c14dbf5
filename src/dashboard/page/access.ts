/**
 * What the page tells of its access, from `GET /v1/auth`: a badge for the
 * header when forecastd takes tokens, and whether the token may write
 * (acknowledging an alert needs the write role).
 */
import type { AuthJson } from "./api_types.ts";

/** The page's access as it shows it. */
export interface Access {
  /** The header's badge ("read-only token", "write token"), or null without tokens. */
  badge: string | null;
  /** Whether the Acknowledge button may be used. */
  canWrite: boolean;
  /** Said above the page when something cannot be done with this token, else null. */
  notice: string | null;
}

/** What a read token cannot do, said once. */
export const READ_ONLY_NOTICE = "This token can read but not write: acknowledging an alert " +
  "needs a token with the write role (Change token).";

/** The access `auth` gives (null: not known, as when the question failed: the API decides). */
export function describeAccess(auth: AuthJson | null): Access {
  if (auth === null || !auth.required) return { badge: null, canWrite: true, notice: null };
  if (auth.role === "write") return { badge: "write token", canWrite: true, notice: null };
  return { badge: "read-only token", canWrite: false, notice: READ_ONLY_NOTICE };
}
