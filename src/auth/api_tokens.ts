/**
 * The API's tokens: each a role and the hash of a token. A presented token
 * is hashed once and compared with every configured hash in constant time
 * (crypto.timingSafeEqual on the digests, over all of them, without stopping
 * at a match), so the time taken says nothing of which bytes matched.
 *
 * Roles: `read` (streams, forecasts, alerts and their live feeds, metrics)
 * and `write` (readings, stream changes, acknowledgements), which includes
 * read.
 *
 * A configured token is written `ROLE:HASH`: `write:sha256:9f86d0...`.
 */
import { timingSafeEqual } from "node:crypto";
import { TOKEN_HASH_PATTERN, TOKEN_HASH_RULE, tokenDigest } from "./token_hash.ts";

/** The roles, the weaker first. */
export const ROLES = ["read", "write"] as const;

/** What a token may do: read, or read and write. */
export type Role = typeof ROLES[number];

/** How a configured token is written, for error messages. */
export const TOKEN_SPEC_RULE = `ROLE:HASH with ROLE read or write and HASH ${TOKEN_HASH_RULE}`;

/** One configured token. */
export interface ApiToken {
  role: Role;
  /** `sha256:<hex>`. */
  hash: string;
  /** A short name for logs that reveals nothing: `sha256:` and the hash's first 8 digits. */
  id: string;
}

/** True when a token of role `have` may do what needs `need` (write includes read). */
export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Why `spec` is not `ROLE:HASH`, or null when it is. */
export function tokenSpecProblem(spec: string): string | null {
  const at = spec.indexOf(":");
  const role = at < 0 ? spec : spec.slice(0, at);
  if (!(ROLES as readonly string[]).includes(role)) {
    return `must be ${TOKEN_SPEC_RULE}: the role must be read or write`;
  }
  if (!TOKEN_HASH_PATTERN.test(spec.slice(at + 1))) {
    return `must be ${TOKEN_SPEC_RULE}: the hash must be ${TOKEN_HASH_RULE}`;
  }
  return null;
}

/** `ROLE:HASH` as an ApiToken; throws a RangeError naming the rule (without the value). */
export function parseTokenSpec(spec: string): ApiToken {
  const problem = tokenSpecProblem(spec);
  if (problem !== null) throw new RangeError(`Cannot read an API token: it ${problem}`);
  const at = spec.indexOf(":");
  const hash = spec.slice(at + 1);
  return { role: spec.slice(0, at) as Role, hash, id: hash.slice(0, "sha256:".length + 8) };
}

/** The configured tokens, and the check of a presented one. */
export class ApiTokens {
  readonly tokens: readonly ApiToken[];
  readonly #digests: Uint8Array[];

  constructor(tokens: readonly ApiToken[]) {
    this.tokens = tokens;
    this.#digests = tokens.map((t) => hexBytes(t.hash.slice("sha256:".length)));
  }

  /** From `ROLE:HASH` specs (the configuration's form). */
  static fromSpecs(specs: readonly string[]): ApiTokens {
    return new ApiTokens(specs.map(parseTokenSpec));
  }

  /** True when at least one token is configured (the API then requires one). */
  get enabled(): boolean {
    return this.tokens.length > 0;
  }

  /** The configured token whose hash `token` has, or null; the same work for any token. */
  authenticate(token: string): ApiToken | null {
    const digest = tokenDigest(token);
    let found: ApiToken | null = null;
    for (let i = 0; i < this.#digests.length; i++) {
      // every digest is compared, a match or not
      if (timingSafeEqual(digest, this.#digests[i]) && found === null) found = this.tokens[i];
    }
    return found;
  }

  /** How many tokens of each role, for the start-up lines: `1 write, 2 read`. */
  describe(): string {
    return ROLES.slice().reverse().map((r) => [r, this.tokens.filter((t) => t.role === r).length])
      .filter(([, n]) => n !== 0).map(([r, n]) => `${n} ${r}`).join(", ");
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
