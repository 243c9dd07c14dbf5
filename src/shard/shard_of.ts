/**
 * Which of `count` shards a stream lives on: the 32-bit FNV-1a hash of its
 * id's UTF-8 bytes, modulo `count`. A stream always maps to the same shard
 * for a given count, so all its readings go to one worker, in order.
 *
 * ```ts
 * shardOf("kitchen", 2); // 0 or 1, always the same for "kitchen"
 * ```
 */
const encoder = new TextEncoder();

/** The FNV-1a hash (32 bits, unsigned) of `id`'s UTF-8 bytes. */
export function streamHash(id: string): number {
  let h = 0x811c9dc5;
  for (const b of encoder.encode(id)) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard (0 … count-1) of stream `id`. */
export function shardOf(id: string, count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(
      `Cannot pick a shard: count must be a positive integer: current value is ${count}`,
    );
  }
  return count === 1 ? 0 : streamHash(id) % count;
}
