/**
 * A Deno KV handle that waits out "database is locked". Every shard worker
 * and the main thread hold their own handle on the one KV file; SQLite lets
 * one of them write at a time, and Deno KV answers a commit (or a read)
 * that meets another handle's write with `TypeError: database is locked`
 * at once, without waiting. This wrapper retries such a call after a short
 * random pause (1 to 4 ms, growing to 50 ms), for up to `maxWaitMs`; any
 * other error, and the lock past that time, go to the caller as before.
 * A KV Connect database (a URL) never answers so; the retries cost nothing
 * there.
 */

/** Options of retryLocked; every field has the default it names. */
export interface RetryLockedOptions {
  /** Longest time to keep retrying one call, ms. Default 10,000. */
  maxWaitMs?: number;
}

/** Whether `e` is SQLite's busy answer as Deno KV throws it. */
export function isLocked(e: unknown): boolean {
  return e instanceof Error && /database is locked/.test(e.message);
}

/** Calls `f` until it does not throw "database is locked", or `maxWaitMs` passed. */
export async function whileLocked<T>(f: () => Promise<T>, maxWaitMs: number): Promise<T> {
  const end = performance.now() + maxWaitMs;
  for (let pause = 1;; pause = Math.min(50, pause * 2)) {
    try {
      return await f();
    } catch (e) {
      if (!isLocked(e) || performance.now() >= end) throw e;
    }
    await new Promise((r) => setTimeout(r, pause * (1 + 3 * Math.random())));
  }
}

/** `kv`, with its commits and point reads retried while the database is locked. */
export function retryLocked(kv: Deno.Kv, options: RetryLockedOptions = {}): Deno.Kv {
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const wrapped: Deno.AtomicOperation = new Proxy(op, {
            get(o, p) {
              if (p === "commit") return () => whileLocked(() => o.commit(), maxWaitMs);
              const v = Reflect.get(o, p, o);
              if (typeof v !== "function") return v;
              // the builder methods return the operation: hand back the wrapper
              return (...args: unknown[]) => {
                const r = v.apply(o, args);
                return r === o ? wrapped : r;
              };
            },
          });
          return wrapped;
        };
      }
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "get" || prop === "getMany") {
        return (...args: unknown[]) => whileLocked(() => v.apply(target, args), maxWaitMs);
      }
      return v.bind(target);
    },
  });
}
