/**
 * API tokens and their hashes. A token is 32 random bytes in base64url
 * behind the prefix `fcd_` (256 bits: it cannot be guessed, so one SHA-256
 * is the right hash; a slow hash protects the low-entropy passwords people
 * choose, which these are not). forecastd keeps only the hash,
 * `sha256:<64 lower-case hex digits>`, and never the token.
 */
import { createHash } from "node:crypto";

/** What every token starts with, so that one is recognised in a leaked file or a log. */
export const TOKEN_PREFIX = "fcd_";

/** The hash's form, for error messages. */
export const TOKEN_HASH_RULE = "sha256:<64 hex digits> (forecastd token prints one)";

/** A token hash: `sha256:` and 64 hex digits. */
export const TOKEN_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** A new random token: `fcd_` and 43 base64url characters (32 bytes). */
export function createToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return TOKEN_PREFIX + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The SHA-256 digest of `token` (its UTF-8 bytes), 32 bytes. */
export function tokenDigest(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token, "utf8").digest());
}

/** The hash forecastd is configured with: `sha256:<hex>` of `token`. */
export function hashToken(token: string): string {
  return `sha256:${createHash("sha256").update(token, "utf8").digest("hex")}`;
}
