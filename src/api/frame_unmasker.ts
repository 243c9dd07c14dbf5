/**
 * A client's WebSocket frames unmasked as their bytes come, before the `ws`
 * package reads them (http_server.ts puts one in front of each socket's
 * frame reader). `ws` unmasks a frame only once its whole payload is
 * buffered, joining the socket's chunks into a new buffer first: for a
 * 1 MiB message, one task of the main thread copied 1 MiB into fresh memory
 * (3 to 4 ms here, most of it the first touch of the new pages) and unmasked
 * it byte by byte (1 ms), on top of the decoding of its text (docs/scaling.md,
 * "the receipt of a big WebSocket message, twenty-first round"). Here each chunk's
 * payload bytes are unmasked in the task that got the chunk:
 *
 * - A frame's mask key is read from its header and set to 0 in place, the
 *   MASK bit kept: `ws` still refuses an unmasked frame (1002), and skips
 *   the unmasking of a frame whose key is 0.
 * - A small payload (under `gatherBytes`) is unmasked in place and goes on
 *   in its chunk.
 * - A big one (at least `gatherBytes`, within `maxPayload` with the
 *   message's earlier fragments) is unmasked into a buffer of its size,
 *   allocated when its header is read, chunk by chunk; `ws` gets it whole
 *   once its last byte came, as one chunk that it takes without a copy.
 *   A payload over `maxPayload` is left as it comes: `ws` refuses it from
 *   its header (1009) and nothing is gathered.
 *
 * The bytes handed on are those `ws` would have read, unmasked, in the same
 * order: the headers (their keys 0), then the payloads; what `ws` checks
 * (sizes, opcodes, the MASK bit, UTF-8) it still checks.
 *
 * ```ts
 * const frames = new FrameUnmasker({ maxPayload: 1 << 20 });
 * for (const part of frames.take(chunk)) receiver.write(part);
 * ```
 */
import { Buffer } from "node:buffer";

/** Options of FrameUnmasker; every field has the default it names. */
export interface FrameUnmaskerOptions {
  /** Largest message, bytes (the server's limit): a bigger payload is not gathered. */
  maxPayload: number;
  /** Least payload gathered into a buffer of its own, bytes. Default 65536. */
  gatherBytes?: number;
}

/** Default of FrameUnmaskerOptions.gatherBytes. */
export const DEFAULT_GATHER_BYTES = 65_536;

const HEAD = 0, PAYLOAD = 1;

/** See the module comment. */
export class FrameUnmasker {
  readonly maxPayload: number;
  readonly gatherBytes: number;
  #state = HEAD;
  /** The header's bytes so far (at most 14). */
  readonly #head = new Uint8Array(14);
  #headLength = 0;
  /** The current frame's mask key (0 when unmasked). */
  readonly #key = new Uint8Array(4);
  #masked = false;
  /** Payload bytes of the current frame still to come. */
  #left = 0;
  /** Payload bytes of the current frame already seen (the key's phase). */
  #at = 0;
  /** The buffer a big payload is gathered in, or null. */
  #gathered: Buffer | null = null;
  /** Payload bytes of the message's data frames so far, this one included. */
  #messageBytes = 0;
  /** Payload bytes unmasked so far: a count for the tests. */
  unmasked = 0;
  /** Payload bytes gathered so far (of big payloads): what the caller paces its reads by. */
  gathered = 0;

  constructor(options: FrameUnmaskerOptions) {
    this.maxPayload = options.maxPayload;
    this.gatherBytes = options.gatherBytes ?? DEFAULT_GATHER_BYTES;
  }

  /**
   * The parts of `chunk` (and of the chunks before it) to hand on, in order:
   * views of `chunk` unmasked in place, and a big payload whole once its
   * last byte is in `chunk`. Empty while a big payload is being gathered.
   */
  take(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let from = 0; // start of the part of `chunk` not yet handed on
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === HEAD) {
        const b = chunk[i];
        const k = this.#headLength;
        this.#head[k] = b;
        this.#headLength = k + 1;
        i++;
        if (k === 0) continue;
        const need = this.#headSize();
        if (this.#masked && k >= need - 4) {
          this.#key[k - (need - 4)] = b;
          chunk[i - 1] = 0; // `ws` sees a key of 0 and does not unmask
        }
        if (this.#headLength === need) this.#startPayload();
        continue;
      }
      // PAYLOAD
      const n = Math.min(this.#left, chunk.length - i);
      const g = this.#gathered;
      if (g !== null) {
        if (i > from) out.push(chunk.subarray(from, i));
        unmaskInto(chunk, i, n, this.#key, this.#at, g, g.length - this.#left);
        this.gathered += n;
        from = i + n;
      } else if (this.#masked) {
        unmaskInto(chunk, i, n, this.#key, this.#at, chunk, i);
      }
      if (this.#masked) this.unmasked += n;
      i += n;
      this.#at += n;
      this.#left -= n;
      if (this.#left === 0) {
        if (g !== null) {
          out.push(g);
          this.#gathered = null;
        }
        this.#state = HEAD;
        this.#headLength = 0;
      }
    }
    if (from < chunk.length) out.push(chunk.subarray(from));
    return out;
  }

  /** The header's size, from its first two bytes (read). */
  #headSize(): number {
    const code = this.#head[1] & 0x7f;
    this.#masked = (this.#head[1] & 0x80) !== 0;
    return 2 + (code === 126 ? 2 : code === 127 ? 8 : 0) + (this.#masked ? 4 : 0);
  }

  /** The header is read: its payload comes next (or the next header, for no payload). */
  #startPayload(): void {
    const h = this.#head;
    const code = h[1] & 0x7f;
    let length = code;
    if (code === 126) length = (h[2] << 8) | h[3];
    else if (code === 127) {
      // over 2^53 the count is approximate: `ws` refuses such a frame from its header
      length = (h[2] * 2 ** 24 + (h[3] << 16 | h[4] << 8 | h[5])) * 2 ** 32 +
        ((h[6] << 24 | h[7] << 16 | h[8] << 8 | h[9]) >>> 0);
    }
    if (!this.#masked) this.#key.fill(0);
    const opcode = h[0] & 0x0f;
    const fin = (h[0] & 0x80) !== 0;
    const control = opcode >= 8;
    if (!control) this.#messageBytes = opcode === 0 ? this.#messageBytes + length : length;
    if (
      !control && this.#masked && length >= this.gatherBytes &&
      this.#messageBytes <= this.maxPayload
    ) {
      this.#gathered = Buffer.allocUnsafeSlow(length);
    }
    if (!control && fin) this.#messageBytes = 0;
    this.#left = length;
    this.#at = 0;
    this.#state = PAYLOAD;
    if (length === 0) {
      this.#state = HEAD;
      this.#headLength = 0;
    }
  }
}

/**
 * `n` bytes of `src` from `from`, unmasked with `key` from payload offset
 * `phase`, written to `dst` from `to` (`dst` may be `src`, `to` = `from`).
 */
function unmaskInto(
  src: Uint8Array,
  from: number,
  n: number,
  key: Uint8Array,
  phase: number,
  dst: Uint8Array,
  to: number,
): void {
  const k0 = key[phase & 3], k1 = key[(phase + 1) & 3];
  const k2 = key[(phase + 2) & 3], k3 = key[(phase + 3) & 3];
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    dst[to + j] = src[from + j] ^ k0;
    dst[to + j + 1] = src[from + j + 1] ^ k1;
    dst[to + j + 2] = src[from + j + 2] ^ k2;
    dst[to + j + 3] = src[from + j + 3] ^ k3;
  }
  for (; j < n; j++) dst[to + j] = src[from + j] ^ key[(phase + j) & 3];
}
