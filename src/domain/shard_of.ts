/**
 * Which shard a stream belongs to, when streams are split over `n` parts
 * (instances with `--shard i/n`, or workers inside one instance).
 *
 * The function is fixed and documented (docs/clustering.md) so that other
 * tools can compute it: FNV-1a, 32 bits, over the UTF-8 bytes of the stream
 * id, taken as an unsigned integer, modulo `n`:
 *
 * ```text
 * h = 0x811c9dc5
 * for each byte b of utf8(id): h = ((h xor b) * 0x01000193) mod 2^32
 * shard = h mod n
 * ```
 *
 * Changing it moves streams between shards, which loses their models (each
 * shard keeps its own store): it never changes within a major version.
 */

/** FNV-1a 32-bit offset basis. */
const FNV_OFFSET_BASIS = 0x811c9dc5;
/** FNV-1a 32-bit prime. */
const FNV_PRIME = 0x01000193;

const encoder = new TextEncoder();

/** The FNV-1a 32-bit hash of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET_BASIS;
  // Stream ids are ASCII: hash the char codes directly and only encode otherwise.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  } else {
    for (const b of encoder.encode(text)) h = Math.imul(h ^ b, FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * The shard (0 … n-1) that owns stream `id` among `n` shards:
 * `fnv1a32(id) mod n`. Throws when `n` is not an integer of at least 1.
 */
export function shardOf(id: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot compute the shard of a stream: the shard count must be an integer of at least 1: current value is ${n}`,
    );
  }
  return fnv1a32(id) % n;
}
