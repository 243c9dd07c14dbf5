/**
 * Which of `count` workers a stream lives on. A stream always maps to the
 * same worker for a given count, so all its readings go to one worker, in
 * order.
 *
 * The pick is the 32-bit FNV-1a hash of the id's UTF-8 bytes
 * (`fnv1a32`, src/domain/shard_of.ts, the hash `--shard I/N` splits streams
 * between instances by), mixed by MurmurHash3's 32-bit finaliser before the
 * modulo. Without the mix, an instance of `--shard 0/2` holds only ids of
 * even hash, and `hash % 2` would put all of them on worker 0 of two: the
 * finaliser makes the worker independent of the instance.
 *
 * ```ts
 * shardOf("kitchen", 2); // 0 or 1, always the same for "kitchen"
 * ```
 */
import { fnv1a32 } from "../domain/shard_of.ts";

/** The FNV-1a hash (32 bits, unsigned) of `id`'s UTF-8 bytes. */
export function streamHash(id: string): number {
  return fnv1a32(id);
}

/** MurmurHash3's fmix32: every input bit flips each output bit with probability about 1/2. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The worker of `count` that stream `id` lives on. */
export function shardOf(id: string, count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(
      `Cannot pick a shard: count must be a positive integer: current value is ${count}`,
    );
  }
  return count === 1 ? 0 : mix32(streamHash(id)) % count;
}
