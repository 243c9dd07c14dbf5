/**
 * FCDS, forecastd's one checkpoint format: a stream's whole state as named
 * typed arrays plus one JSON object of scalars, with a magic, a version and
 * a CRC-32, so a checkpoint restores exactly and a damaged one is refused
 * with a reason. The service stores the bytes as they are (src/store treats
 * them as opaque); which arrays and scalars a stream writes, and how older
 * layouts restore, is in stream_state.ts.
 *
 * Layout (offsets in bytes; integers little-endian):
 *
 *   0    magic "FCDS" (4 ASCII bytes)
 *   4    version u16, 3
 *   6    n: JSON length u32
 *   10   the scalars: n bytes of UTF-8 JSON (the stream writes NaN as null)
 *   then one entry per array, in the writer's order:
 *        name length u8 | name (ASCII, at most 255 bytes)
 *        | kind u8 (1 Float32Array, 2 Float64Array, 3 Int32Array) | count u32
 *        | stored u32 (at most count)
 *        | zero bytes up to the next offset that is a multiple of 8
 *        | the first `stored` elements in the platform's byte order
 *          (little-endian on x86-64 and aarch64); the other count - stored
 *          are zeros (every byte 0: +0, not -0), left out
 *   last 4 bytes: CRC-32 (IEEE, crc32.ts) u32 of every byte before them
 *
 * Version 4 is a version 3 state compressed ({@link packState}, what a
 * stream's checkpoint is since the fourteenth round):
 *
 *   0    magic "FCDS"
 *   4    version u16, 4
 *   6    codec u8, 1 (zstd; written at level 2)
 *   7    n: length u32 of the version 3 state inside
 *   11   the version 3 state, compressed (one zstd frame)
 *   last 4 bytes: CRC-32 u32 of every byte before them
 *
 * The checksum is checked before the frame is decompressed, the length
 * after (a truncated frame decompresses to fewer bytes without an error),
 * and the state inside has its own. The model's floats compress little
 * (a steady `pi-small` checkpoint of 53.8 KB packs to 41.6 KB), about a
 * fifth of what a checkpoint writes to the disk.
 *
 * Version 2 (until the zeros were left out) had no `stored`: every element
 * was written. Both versions are read; version 3 is written. Much of a
 * young stream's state is zeros (the shape detector's memory before it
 * fills, the history ring, the anomaly scorer's onsets), and some of an
 * older one's (onsets and peaks while nothing was anomalous).
 *
 * A reader takes the arrays by name, so their order does not matter; an
 * array the stream has no place for, or one of another kind or length, is
 * refused with its name (restoreArrays) unless the caller lists it as
 * retired, and one the stream needs is missing unless listed as optional.
 */
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { crc32 } from "./crc32.ts";

export const STATE_MAGIC = "FCDS";
export const STATE_VERSION = 3;
/** The version of a packed (compressed) state, {@link packState}. */
export const PACKED_VERSION = 4;
/** The versions {@link readState} reads. */
export const STATE_VERSIONS: readonly number[] = [2, 3, 4];
/** The one codec of a packed state: zstd. */
const CODEC_ZSTD = 1;
/**
 * zstd's level. On a steady `pi-small` checkpoint (53.8 KB) level 1 makes
 * 43.6 KB and level 2 41.6 KB for the same 200 µs, level 3 41.4 KB for
 * 340-610 µs, level -3 44.5 KB for 100 µs (one thread, load 14).
 */
const ZSTD_LEVEL = 2;

/** The arrays a state holds, by name. */
export type StateArrays = Record<string, Float32Array | Float64Array | Int32Array>;

const KIND = { Float32Array: 1, Float64Array: 2, Int32Array: 3 } as const;

/** Elements of `a` up to its last one with a byte that is not 0 (what version 3 writes of it). */
function storedCount(a: Float32Array | Float64Array | Int32Array): number {
  return Math.ceil(
    nonZeroBytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) / a.BYTES_PER_ELEMENT,
  );
}

/**
 * Bytes of `bytes` up to its last one that is not 0. A loop alone in its
 * function: on a long run of zeros (a young stream's arrays) V8 compiles
 * the loop on its own (on-stack replacement) in the middle of its first
 * call, without type feedback for what follows the loop; when more
 * followed it (storedCount's `a.BYTES_PER_ELEMENT` and `Math.ceil`), every
 * later call went into that code and out again (92 deopts in a worker's
 * first checkpoint; tests/stream/state_osr_test.ts).
 */
function nonZeroBytes(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/**
 * Encodes scalars (JSON-able) and named arrays (format version 3). `counts`
 * gives the whole length of an array held only in part (its first elements;
 * the rest are zeros, as version 3 leaves them out anyway): the bytes are
 * those of the whole array.
 */
export function encodeState(
  scalars: unknown,
  arrays: StateArrays,
  counts: Readonly<Record<string, number>> = {},
): Uint8Array {
  return encodeInto(scalars, arrays, counts, (n) => new Uint8Array(n));
}

/**
 * The buffer {@link packedState} encodes into before it compresses: one,
 * grown as needed and kept, so a save of many streams allocates no
 * version 3 state of each (42 KB a `pi-small` stream) for the collector.
 */
let scratch = new Uint8Array(64 * 1024);

/** A view of `n` bytes of the scratch buffer, grown to hold them; valid until the next call. */
function scratchOf(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, 2 * scratch.length));
  return scratch.subarray(0, n);
}

/**
 * `packState(encodeState(scalars, arrays, counts))`, the same bytes, with
 * the version 3 state encoded into a buffer kept from one call to the next
 * (synchronous: no other call uses it meanwhile).
 */
export function packedState(
  scalars: unknown,
  arrays: StateArrays,
  counts: Readonly<Record<string, number>> = {},
): Uint8Array {
  return packState(encodeInto(scalars, arrays, counts, scratchOf));
}

function encodeInto(
  scalars: unknown,
  arrays: StateArrays,
  counts: Readonly<Record<string, number>>,
  alloc: (n: number) => Uint8Array,
): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(scalars));
  let size = 4 + 2 + 4 + json.length;
  const names = Object.keys(arrays);
  const stored = names.map((name) => storedCount(arrays[name]));
  const count = (name: string) => Math.max(counts[name] ?? 0, arrays[name].length);
  names.forEach((name, i) => {
    size += 1 + name.length + 1 + 4 + 4;
    size = Math.ceil(size / 8) * 8 + stored[i] * arrays[name].BYTES_PER_ELEMENT;
  });
  const out = alloc(size + 4);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = 0;
  for (let i = 0; i < 4; i++) out[pos++] = STATE_MAGIC.charCodeAt(i);
  view.setUint16(pos, STATE_VERSION, true);
  pos += 2;
  view.setUint32(pos, json.length, true);
  pos += 4;
  out.set(json, pos);
  pos += json.length;
  names.forEach((name, k) => {
    const a = arrays[name];
    out[pos++] = name.length;
    for (let i = 0; i < name.length; i++) out[pos++] = name.charCodeAt(i);
    out[pos++] = KIND[a.constructor.name as keyof typeof KIND];
    view.setUint32(pos, count(name), true);
    view.setUint32(pos + 4, stored[k], true);
    pos += 8;
    // the padding written, not left: the scratch buffer holds an earlier state's bytes
    while (pos % 8 !== 0) out[pos++] = 0;
    const bytes = stored[k] * a.BYTES_PER_ELEMENT;
    out.set(new Uint8Array(a.buffer, a.byteOffset, bytes), pos);
    pos += bytes;
  });
  view.setUint32(pos, crc32(out.subarray(0, pos)), true);
  return out;
}

/**
 * A version 3 state (from {@link encodeState}) compressed into a version 4
 * one; {@link readState} reads both.
 */
export function packState(state: Uint8Array): Uint8Array {
  const frame = zstdCompressSync(state, {
    params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
  });
  // a copy: the frame's buffer is larger than the frame
  const out = new Uint8Array(11 + frame.length + 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = STATE_MAGIC.charCodeAt(i);
  view.setUint16(4, PACKED_VERSION, true);
  out[6] = CODEC_ZSTD;
  view.setUint32(7, state.length, true);
  out.set(frame, 11);
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** The version 3 state inside a version 4 one whose checksum was checked. */
function unpackState(bytes: Uint8Array, view: DataView): Uint8Array {
  if (bytes.length < 15) {
    throw fail(`a packed state must be at least 15 bytes: current length is ${bytes.length}`);
  }
  if (bytes[6] !== CODEC_ZSTD) {
    throw fail(`the codec must be ${CODEC_ZSTD} (zstd): current value is ${bytes[6]}`);
  }
  const length = view.getUint32(7, true);
  let state: Uint8Array;
  try {
    state = zstdDecompressSync(bytes.subarray(11, bytes.length - 4), { maxOutputLength: length });
  } catch (e) {
    throw fail(
      `the packed state must decompress to its ${length} bytes: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
  if (state.length !== length) {
    throw fail(
      `the packed state must decompress to its ${length} bytes: current length is ${state.length}`,
    );
  }
  const inner = new DataView(state.buffer, state.byteOffset, state.byteLength);
  if (state.length >= 6 && inner.getUint16(4, true) === PACKED_VERSION) {
    throw fail("a packed state must hold a version 2 or 3 state: it holds a packed one");
  }
  return state;
}

/** How restoreArrays treats arrays of older checkpoints. */
export interface DecodeOptions {
  /** Arrays older states held that this one no longer has: read past, not restored. */
  retired?: readonly string[];
  /** Arrays older states may lack: left as they are when absent (see `missing` of the result). */
  optional?: readonly string[];
}

/** The constructor of each array kind. */
const CTOR = { 1: Float32Array, 2: Float64Array, 3: Int32Array } as const;

const fail = (what: string) => new RangeError(`Cannot restore stream state: ${what}`);

/**
 * Reads a state as written: its scalars and every array it holds, by name
 * (fresh arrays). Throws naming what is damaged (magic, version, checksum).
 */
export function readState(bytes: Uint8Array): { scalars: unknown; arrays: StateArrays } {
  if (bytes.length < 14) {
    throw fail(`the data must be at least 14 bytes: current length is ${bytes.length}`);
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== STATE_MAGIC) {
    throw fail(`the magic must be "${STATE_MAGIC}": current value is ${JSON.stringify(magic)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (!STATE_VERSIONS.includes(version)) {
    throw fail(
      `the format version must be ${STATE_VERSIONS.slice(0, -1).join(", ")} or ${
        STATE_VERSIONS.at(-1)
      }: current value is ${version}`,
    );
  }
  const stored = view.getUint32(bytes.length - 4, true);
  const computed = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== computed) {
    throw fail(
      `the checksum must match the contents: stored 0x${stored.toString(16)}, computed 0x${
        computed.toString(16)
      }`,
    );
  }
  if (version === PACKED_VERSION) return readState(unpackState(bytes, view));
  let pos = 6;
  const jsonLen = view.getUint32(pos, true);
  pos += 4;
  const scalars = JSON.parse(new TextDecoder().decode(bytes.subarray(pos, pos + jsonLen)));
  pos += jsonLen;
  const arrays: StateArrays = {};
  while (pos < bytes.length - 4) {
    const nameLen = bytes[pos++];
    const name = String.fromCharCode(...bytes.subarray(pos, pos + nameLen));
    pos += nameLen;
    const kind = bytes[pos++] as keyof typeof CTOR;
    const count = view.getUint32(pos, true);
    pos += 4;
    const stored = version === 2 ? count : view.getUint32(pos, true);
    if (version !== 2) pos += 4;
    pos = Math.ceil(pos / 8) * 8;
    if (!(kind in CTOR)) throw fail(`array "${name}" must be of kind 1, 2 or 3: it is ${kind}`);
    if (stored > count) {
      throw fail(`array "${name}" must store at most its ${count} elements: it stores ${stored}`);
    }
    const a = new CTOR[kind](count);
    const n = stored * a.BYTES_PER_ELEMENT;
    if (pos + n > bytes.length - 4) {
      throw fail(
        `array "${name}" must fit in the data: it ends ${pos + n + 4 - bytes.length} bytes past it`,
      );
    }
    new Uint8Array(a.buffer).set(bytes.subarray(pos, pos + n));
    pos += n;
    arrays[name] = a;
  }
  return { scalars, arrays };
}

/**
 * Copies the arrays of a state read by {@link readState} into `arrays` (same
 * names, kinds and lengths, filled in place) and returns the names of the
 * optional arrays it did not hold. Throws naming what does not fit.
 */
export function restoreArrays(
  stored: StateArrays,
  arrays: StateArrays,
  opts: DecodeOptions = {},
): string[] {
  for (const [name, a] of Object.entries(stored)) {
    const target = arrays[name];
    if (!target && opts.retired?.includes(name)) continue; // an array an older forecastd kept
    if (!target) throw fail(`array "${name}" is not part of this stream's state`);
    if (target.constructor !== a.constructor || target.length !== a.length) {
      throw fail(
        `array "${name}" must hold ${target.length} ${target.constructor.name} values for this configuration: it holds ${a.length}`,
      );
    }
    target.set(a);
  }
  const missing: string[] = [];
  for (const name of Object.keys(arrays)) {
    if (name in stored) continue;
    if (!opts.optional?.includes(name)) {
      throw fail(`array "${name}" must be present: it is missing`);
    }
    missing.push(name);
  }
  return missing;
}
