/**
 * The embedded broker's users: who may connect, what each may publish and
 * what each may read. Passwords are kept only as hashes:
 *
 * - `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64 salt and hash), as
 *   hashPassword() makes them;
 * - `$7$<iterations>$<salt>$<hash>`: PBKDF2-HMAC-SHA512, the format of
 *   Mosquitto's `mosquitto_passwd`, so an existing password file's hashes
 *   can be copied over.
 *
 * The users come as JSON, from a file or an environment variable:
 *
 * ```json
 * {"users": [
 *   {"username": "kitchen", "password": "scrypt$16384$8$1$...$...",
 *    "publish": ["sensors/kitchen/#"]},
 *   {"username": "dashboard", "password": "$7$101$...$...",
 *    "publish": [], "read": ["forecastd/alerts/#", "sensors/#"]}
 * ]}
 * ```
 *
 * `publish` and `read` are MQTT topic filters; left out, a user may publish
 * to any topic (but never under a reserved prefix such as `forecastd/`) and
 * read the alerts only (the broker's default read filters).
 */
import { pbkdf2, scrypt, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { z } from "zod";

/** One user of the embedded broker. */
export interface BrokerUser {
  readonly username: string;
  /** The password hash (see the module doc for the formats). */
  readonly password: string;
  /** Topic filters the user may publish to; null: any topic outside the reserved prefixes. */
  readonly publish: readonly string[] | null;
  /** Topic filters whose messages the user receives; null: the broker's default read filters. */
  readonly read: readonly string[] | null;
}

/** The users' JSON could not be used (a person must fix it). */
export class BrokerUsersError extends Error {
  override name = "BrokerUsersError";
}

const filter = z.string().min(1).refine((f) => !f.includes("\u0000"), "must not contain NUL");
const usersSchema = z.object({
  users: z.array(
    z.object({
      username: z.string().min(1),
      password: z.string().refine(isPasswordHash, {
        error:
          "must be a hash: scrypt$N$r$p$salt$hash (see hashPassword) or $7$ from mosquitto_passwd",
      }),
      publish: z.array(filter).nullable().default(null),
      read: z.array(filter).nullable().default(null),
    }).strict(),
  ),
}).strict();

/**
 * Parses the users' JSON; `where` names its origin (a file path or an
 * environment variable) in error messages, which never show a password.
 */
export function parseBrokerUsers(text: string, where: string): BrokerUser[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BrokerUsersError(
      `Cannot read the broker users: ${where} must hold JSON: ${(e as Error).message}`,
    );
  }
  const parsed = usersSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BrokerUsersError(
      `Cannot read the broker users: ${where} at ${issue.path.join(".") || "(top)"} ` +
        `${issue.message}`,
    );
  }
  const seen = new Set<string>();
  for (const u of parsed.data.users) {
    if (seen.has(u.username)) {
      throw new BrokerUsersError(
        `Cannot read the broker users: ${where} must name each user once: ` +
          `current value names ${JSON.stringify(u.username)} twice`,
      );
    }
    seen.add(u.username);
  }
  return parsed.data.users;
}

/** True when `s` has the shape of a supported password hash. */
export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(s) ||
    /^\$7\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(s);
}

/** Options of hashPassword: scrypt's cost parameters. */
export interface HashOptions {
  /** CPU/memory cost, a power of two. Default 16384. */
  N?: number;
  /** Block size. Default 8. */
  r?: number;
  /** Parallelism. Default 1. */
  p?: number;
}

/** An scrypt hash of `password` with a random 16-byte salt, in the `scrypt$...` format. */
export async function hashPassword(password: string, opts: HashOptions = {}): Promise<string> {
  const { N = 16384, r = 8, p = 1 } = opts;
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await scryptBytes(Buffer.from(password, "utf8"), salt, 32, N, r, p);
  return `scrypt$${N}$${r}$${p}$${b64(salt)}$${b64(hash)}`;
}

/** True when `password` matches `hash`; the comparison takes the same time for any wrong password. */
export async function verifyPassword(hash: string, password: Uint8Array): Promise<boolean> {
  const parts = hash.split("$");
  let expected: Buffer, actual: Uint8Array;
  if (parts[0] === "scrypt" && parts.length === 6) {
    const [, N, r, p, salt, want] = parts;
    expected = Buffer.from(want, "base64");
    actual = await scryptBytes(
      password,
      Buffer.from(salt, "base64"),
      expected.length,
      Number(N),
      Number(r),
      Number(p),
    );
  } else if (parts[0] === "" && parts[1] === "7" && parts.length === 5) {
    const [, , iterations, salt, want] = parts;
    expected = Buffer.from(want, "base64");
    actual = await new Promise<Uint8Array>((resolve, reject) =>
      pbkdf2(
        password,
        Buffer.from(salt, "base64"),
        Number(iterations),
        expected.length,
        "sha512",
        (e, key) => e ? reject(e) : resolve(key),
      )
    );
  } else {
    return false;
  }
  return expected.length > 0 && actual.length === expected.length &&
    timingSafeEqual(actual, expected);
}

function scryptBytes(
  password: Uint8Array,
  salt: Uint8Array,
  length: number,
  N: number,
  r: number,
  p: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      salt,
      length,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (e, key) => e ? reject(e) : resolve(key),
    )
  );
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
