/**
 * Test helpers for the store: a fresh :memory: KV per test, a KV wrapper that
 * counts commits and lets a test act between them (read mid-write, crash a
 * write), seeded bytes, and key listings.
 */
import { mulberry32 } from "../../src/model/rng.ts";

/** Runs `fn` with a fresh in-memory KV and closes it after, whatever happens. */
export async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

/** What a test can do around the wrapped KV's operations. */
export interface KvHooks {
  /** Before commit number `n` (1-based) reaches the KV; throwing stands for a crash. */
  beforeCommit?: (n: number) => void | Promise<void>;
  /** After commit number `n` returned `result`. */
  afterCommit?: (
    n: number,
    result: Deno.KvCommitResult | Deno.KvCommitError,
  ) => void | Promise<void>;
  /** Before a `list()` starts reading. */
  beforeList?: (selector: Deno.KvListSelector) => void | Promise<void>;
}

/** A KV that behaves as `kv` and counts its commits. */
export interface ProbedKv {
  kv: Deno.Kv;
  /** `commit()` calls so far, successful or not. */
  readonly commits: number;
  hooks: KvHooks;
}

/** Wraps `kv`; every `atomic().commit()` and `list()` goes through `hooks`. */
export function probeKv(kv: Deno.Kv, hooks: KvHooks = {}): ProbedKv {
  let commits = 0;
  const probe: ProbedKv = {
    hooks,
    get commits() {
      return commits;
    },
    kv: new Proxy(kv, {
      get(target, prop) {
        if (prop === "atomic") {
          return () => {
            const op = target.atomic();
            const commit = op.commit.bind(op);
            op.commit = async () => {
              const n = ++commits;
              await probe.hooks.beforeCommit?.(n);
              const result = await commit();
              await probe.hooks.afterCommit?.(n, result);
              return result;
            };
            return op;
          };
        }
        if (prop === "list") {
          return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
            async function* delayed() {
              await probe.hooks.beforeList?.(selector);
              yield* target.list(selector, options);
            }
            return delayed();
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }),
  };
  return probe;
}

/** `n` seeded pseudo-random bytes. */
export function bytesOf(n: number, seed = 1): Uint8Array {
  const rng = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng() * 256) | 0;
  return out;
}

/** Every key under `prefix`, in order. */
export async function listKeys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvKey[]> {
  const keys: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix })) keys.push(e.key);
  return keys;
}

/** Whether two byte arrays are equal (a cheap check for large ones). */
export function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
