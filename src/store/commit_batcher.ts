/**
 * Packs groups of KV operations into as few atomic commits as Deno KV's
 * limits allow. Every commit is an fsync on the gateway's SD card, so the
 * store writes through one of these instead of committing piecemeal.
 *
 * A group is the unit of atomicity: all its operations land in the same
 * commit. Groups keep their order: a group is committed in the same commit as
 * the groups added before it or in a later one. A group that carries checks has
 * an owner; when a commit fails because a check no longer holds, every group of
 * that owner is dropped (now and later), the owner is recorded in `failed`, and
 * the commit is retried without them.
 */
import { serialize } from "node:v8";
import { showValue } from "../domain/show_value.ts";

/** What one atomic commit may hold. */
export interface CommitLimits {
  /** Mutations (set, delete) per commit. Deno KV: 1000. */
  maxMutations: number;
  /** Checks per commit. Deno KV: 100. */
  maxChecks: number;
  /**
   * Bytes per commit, counted as Deno KV does: the key of every check and
   * every mutation, plus the key again and the value of every set.
   * Deno KV: 819,200.
   */
  maxPayloadBytes: number;
  /** Bytes of the keys of all sets in a commit. Deno KV: 81,920. */
  maxSetKeyBytes: number;
  /** Bytes of one value (a Uint8Array's length, else its V8 serialisation). Deno KV: 65,536. */
  maxValueBytes: number;
  /** Bytes of one encoded key. Deno KV: 2,048. */
  maxKeyBytes: number;
}

/** Deno KV's limits (Deno 2.x, local SQLite backend). */
export const KV_LIMITS: Readonly<CommitLimits> = Object.freeze({
  maxMutations: 1000,
  maxChecks: 100,
  maxPayloadBytes: 819_200,
  maxSetKeyBytes: 81_920,
  maxValueBytes: 65_536,
  maxKeyBytes: 2_048,
});

/** One operation of a group. A check's versionstamp may be computed at commit time. */
export type Op =
  | { type: "check"; key: Deno.KvKey; versionstamp: string | null | (() => string | null) }
  | { type: "set"; key: Deno.KvKey; value: unknown }
  | { type: "delete"; key: Deno.KvKey };

/** Operations that must be committed together. */
export interface Group {
  /** Required when `ops` holds a check: who is dropped if the check fails. */
  owner?: string;
  ops: Op[];
  /** Called with the commit's versionstamp once the group is committed. */
  onCommitted?: (versionstamp: string) => void;
}

/** What a group of operations takes of a commit. */
export interface Cost {
  mutations: number;
  checks: number;
  payload: number;
  setKeys: number;
}

const utf8 = new TextEncoder();

function escapedLength(bytes: Uint8Array): number {
  let n = bytes.length;
  for (const b of bytes) if (b === 0) n++;
  return n;
}

/** The length of `key` in Deno KV's encoding (the tuple layer of FoundationDB). */
export function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) {
    if (typeof part === "string") n += 2 + escapedLength(utf8.encode(part));
    else if (typeof part === "number") n += 9;
    else if (typeof part === "boolean") n += 1;
    else if (typeof part === "bigint") {
      // a type byte per length (1-8 bytes, none for 0), or a type byte and a length byte
      const abs = part < 0n ? -part : part;
      const len = abs === 0n ? 0 : Math.ceil(abs.toString(16).length / 2);
      n += len <= 8 ? 1 + len : 2 + len;
    } else if (part instanceof Uint8Array) n += 2 + escapedLength(part);
    else throw new TypeError(`Cannot encode key: unsupported key part ${showValue(part)}`);
  }
  return n;
}

/** The length of `value` as Deno KV stores it. */
export function valueBytes(value: unknown): number {
  return value instanceof Uint8Array ? value.byteLength : serialize(value).byteLength;
}

const ZERO: Cost = { mutations: 0, checks: 0, payload: 0, setKeys: 0 };

function describeLimits(l: CommitLimits): string {
  return `${l.maxMutations} mutations, ${l.maxChecks} checks, ${l.maxPayloadBytes} bytes, ${l.maxSetKeyBytes} bytes of set keys`;
}

function describeCost(c: Cost): string {
  return `${c.mutations} mutations, ${c.checks} checks, ${c.payload} bytes, ${c.setKeys} bytes of set keys`;
}

/** Packs groups into atomic commits; see the module comment. */
export class CommitBatcher {
  /** Commits attempted so far (each is one `commit()` call on the KV). */
  commits = 0;
  /** Owners whose check failed; their groups are dropped. */
  readonly failed: Set<string> = new Set();
  #pending: { group: Group; cost: Cost }[] = [];
  #used: Cost = { ...ZERO };

  constructor(readonly kv: Deno.Kv, readonly limits: CommitLimits = KV_LIMITS) {}

  /** What `ops` would take of a commit; throws if one key or value is over its limit. */
  cost(ops: Op[]): Cost {
    const c = { ...ZERO };
    for (const op of ops) {
      const k = keyBytes(op.key);
      if (k > this.limits.maxKeyBytes) {
        throw new RangeError(
          `Cannot commit to Deno KV: a key must be at most ${this.limits.maxKeyBytes} bytes: current size is ${k} (${
            showValue(op.key)
          })`,
        );
      }
      c.payload += k;
      if (op.type === "check") {
        c.checks++;
        continue;
      }
      c.mutations++;
      if (op.type === "set") {
        const v = valueBytes(op.value);
        if (v > this.limits.maxValueBytes) {
          throw new RangeError(
            `Cannot commit to Deno KV: a value must be at most ${this.limits.maxValueBytes} bytes: current size is ${v} (key ${
              showValue(op.key)
            })`,
          );
        }
        c.payload += k + v;
        c.setKeys += k;
      }
    }
    return c;
  }

  /** Whether `cost` fits in a commit that already holds `used` (default: an empty one). */
  fits(cost: Cost, used: Cost = ZERO): boolean {
    const l = this.limits;
    return used.mutations + cost.mutations <= l.maxMutations &&
      used.checks + cost.checks <= l.maxChecks &&
      used.payload + cost.payload <= l.maxPayloadBytes &&
      used.setKeys + cost.setKeys <= l.maxSetKeyBytes;
  }

  /** Whether `ops` fit in one empty commit. */
  fitsOneCommit(ops: Op[]): boolean {
    return this.fits(this.cost(ops));
  }

  /** Queues a group, first committing what is queued if the group does not fit beside it. */
  async add(group: Group): Promise<void> {
    if (group.owner !== undefined && this.failed.has(group.owner)) return;
    if (group.owner === undefined && group.ops.some((op) => op.type === "check")) {
      throw new TypeError("Cannot queue KV group: a group with checks must have an owner");
    }
    const cost = this.cost(group.ops);
    if (!this.fits(cost)) {
      throw new RangeError(
        `Cannot queue KV group: a group must fit one atomic commit (${
          describeLimits(this.limits)
        }): current group needs ${describeCost(cost)}`,
      );
    }
    if (!this.fits(cost, this.#used)) await this.flush();
    this.#pending.push({ group, cost });
    const u = this.#used;
    u.mutations += cost.mutations;
    u.checks += cost.checks;
    u.payload += cost.payload;
    u.setKeys += cost.setKeys;
  }

  /** Commits what is queued (if anything), dropping the groups of owners whose checks fail. */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    this.#used = { ...ZERO };
    for (let attempt = 1;; attempt++) {
      const groups = pending
        .map((p) => p.group)
        .filter((g) => g.owner === undefined || !this.failed.has(g.owner));
      if (groups.length === 0) return;
      const atomic = this.kv.atomic();
      const checks: { key: Deno.KvKey; versionstamp: string | null; owner: string }[] = [];
      for (const g of groups) {
        for (const op of g.ops) {
          if (op.type === "check") {
            const versionstamp = typeof op.versionstamp === "function"
              ? op.versionstamp()
              : op.versionstamp;
            atomic.check({ key: op.key, versionstamp });
            checks.push({ key: op.key, versionstamp, owner: g.owner! });
          } else if (op.type === "set") atomic.set(op.key, op.value);
          else atomic.delete(op.key);
        }
      }
      this.commits++;
      const res = await atomic.commit();
      if (res.ok) {
        for (const g of groups) g.onCommitted?.(res.versionstamp);
        return;
      }
      const before = this.failed.size;
      for (let i = 0; i < checks.length; i += 10) {
        const batch = checks.slice(i, i + 10);
        const now = await this.kv.getMany(batch.map((c) => c.key));
        batch.forEach((c, j) => {
          if (now[j].versionstamp !== c.versionstamp) this.failed.add(c.owner);
        });
      }
      if (this.failed.size === before && attempt >= 3) {
        throw new Error(
          `Cannot commit to Deno KV: the commit was refused ${attempt} times although every checked key still has its expected versionstamp`,
        );
      }
    }
  }
}
