/**
 * Versioned binary serialisation of a model: parameters, Adam state, live
 * LSTM state and normaliser, with an exact round trip.
 *
 * Layout, little-endian:
 *
 *   magic "FCDM" (4 bytes) | version u16 | dtype bytes u8 (4 or 8) | 0 u8
 *   I u32 | H u32 | L u32 | O u32 | T u32 | section count u32
 *   sections: tag (4 ASCII bytes) | byte length u32 | payload
 *   CRC-32 (IEEE) u32 of every byte before it
 *
 * Sections: PARM params (P floats), ADAM t (f64) then m and v (P floats each),
 * STAT h then c (L·H floats each), NORM features u32, forgetting f64,
 * minStd f64, weight f64, count f64, mean (F f64), m2 (F f64). A reader
 * rejects a bad magic, an unknown version, a shape that differs from the one
 * it expects, a section of the wrong size, and a checksum mismatch, each with
 * its own message.
 */
import type { Floats } from "./floats.ts";
import { Network } from "./network.ts";
import { Adam, type AdamOptions } from "./optim.ts";
import { Normalizer } from "./normalize.ts";

export const MAGIC = "FCDM";
export const VERSION = 1;

/** What a model file holds. */
export interface ModelParts<A extends Floats = Float32Array> {
  net: Network<A>;
  adam: Adam<A>;
  normalizer: Normalizer;
}

/** The shape a reader expects (from the stream's configuration). */
export interface ExpectedShape {
  inputs: number;
  hidden: number;
  layers: number;
  outputs: number;
  window: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class Writer {
  buf = new Uint8Array(1024);
  view = new DataView(this.buf.buffer);
  pos = 0;
  #room(n: number) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) {
    this.#room(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u16(v: number) {
    this.#room(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number) {
    this.#room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number) {
    this.#room(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  tag(s: string) {
    for (let i = 0; i < 4; i++) this.u8(s.charCodeAt(i));
  }
  floats(a: ArrayLike<number>, bytes: number) {
    this.#room(a.length * bytes);
    for (let i = 0; i < a.length; i++) {
      if (bytes === 4) this.view.setFloat32(this.pos, a[i], true);
      else this.view.setFloat64(this.pos, a[i], true);
      this.pos += bytes;
    }
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

class Reader {
  readonly view: DataView;
  pos = 0;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number, what: string) {
    if (this.pos + n > this.buf.length) {
      throw new RangeError(
        `Cannot load model: file ends inside ${what}: needs ${
          this.pos + n
        } bytes, current length is ${this.buf.length}`,
      );
    }
  }
  u8() {
    this.need(1, "the header");
    return this.view.getUint8(this.pos++);
  }
  u16() {
    this.need(2, "the header");
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what = "the header") {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64() {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  tag() {
    this.need(4, "a section tag");
    let s = "";
    for (let i = 0; i < 4; i++) s += String.fromCharCode(this.view.getUint8(this.pos++));
    return s;
  }
  floats(out: Floats, bytes: number) {
    for (let i = 0; i < out.length; i++) {
      out[i] = bytes === 4
        ? this.view.getFloat32(this.pos, true)
        : this.view.getFloat64(this.pos, true);
      this.pos += bytes;
    }
  }
}

/** Encodes a model into the binary format. */
export function encodeModel<A extends Floats>(parts: ModelParts<A>): Uint8Array {
  const { net, adam, normalizer: nz } = parts;
  const s = net.shape;
  const bytes = net.params.BYTES_PER_ELEMENT;
  const w = new Writer();
  w.tag(MAGIC);
  w.u16(VERSION);
  w.u8(bytes);
  w.u8(0);
  for (const v of [s.inputs, s.hidden, s.layers, s.outputs, net.ws.window]) w.u32(v);
  w.u32(4);
  w.tag("PARM");
  w.u32(net.params.length * bytes);
  w.floats(net.params, bytes);
  w.tag("ADAM");
  w.u32(8 + 2 * net.params.length * bytes);
  w.f64(adam.t);
  w.floats(adam.m, bytes);
  w.floats(adam.v, bytes);
  w.tag("STAT");
  w.u32(2 * net.h.length * bytes);
  w.floats(net.h, bytes);
  w.floats(net.c, bytes);
  w.tag("NORM");
  w.u32(4 + 4 * 8 + 2 * 8 * nz.features);
  w.u32(nz.features);
  w.f64(nz.forgetting);
  w.f64(nz.minStd);
  w.f64(nz.weight);
  w.f64(nz.count);
  w.floats(nz.mean, 8);
  w.floats(nz.m2, 8);
  const body = w.bytes();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body), true);
  return out;
}

/**
 * Decodes a model. `expected` is the shape the caller's configuration asks
 * for; a file of another shape is rejected. `adamOptions` are the optimizer
 * settings to resume with (the file holds the optimizer's state, not its
 * configuration).
 */
export function decodeModel(
  bytes: Uint8Array,
  expected?: ExpectedShape,
  adamOptions: AdamOptions = {},
): ModelParts<Float32Array> | ModelParts<Float64Array> {
  const r = new Reader(bytes);
  r.need(4, "the magic");
  const magic = r.tag();
  if (magic !== MAGIC) {
    throw new RangeError(
      `Cannot load model: the magic must be "${MAGIC}": current value is ${JSON.stringify(magic)}`,
    );
  }
  const version = r.u16();
  if (version !== VERSION) {
    throw new RangeError(
      `Cannot load model: the format version must be ${VERSION}: current value is ${version}`,
    );
  }
  if (bytes.length < 4) throw new RangeError("Cannot load model: file too short");
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .getUint32(bytes.length - 4, true);
  const computed = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== computed) {
    throw new RangeError(
      `Cannot load model: the checksum must match the contents: stored 0x${
        stored.toString(16).padStart(8, "0")
      }, computed 0x${computed.toString(16).padStart(8, "0")}`,
    );
  }
  const fbytes = r.u8();
  r.u8();
  if (fbytes !== 4 && fbytes !== 8) {
    throw new RangeError(
      `Cannot load model: the float width must be 4 or 8 bytes: current value is ${fbytes}`,
    );
  }
  const shape = {
    inputs: r.u32(),
    hidden: r.u32(),
    layers: r.u32(),
    outputs: r.u32(),
    window: r.u32(),
  };
  if (expected) {
    const diff = (Object.keys(expected) as (keyof ExpectedShape)[])
      .filter((k) => expected[k] !== shape[k]);
    if (diff.length > 0) {
      throw new RangeError(
        `Cannot load model: its shape must match the configuration: ${
          diff.map((k) => `${k} is ${shape[k]}, expected ${expected[k]}`).join("; ")
        }`,
      );
    }
  }
  const dtype = fbytes === 4 ? Float32Array : Float64Array;
  const net = new Network<Floats>({ ...shape, dtype });
  const adam = new Adam<Floats>(net.layout, dtype, adamOptions);
  let normalizer: Normalizer | undefined;
  const sections = r.u32();
  const seen = new Set<string>();
  for (let s = 0; s < sections; s++) {
    const tag = r.tag();
    const len = r.u32(`section ${tag}`);
    r.need(len, `section ${tag}`);
    const end = r.pos + len;
    const sizeError = (want: number) =>
      new RangeError(
        `Cannot load model: section ${tag} must hold ${want} bytes for this shape: current length is ${len}`,
      );
    const P = net.params.length, S = net.h.length;
    switch (tag) {
      case "PARM":
        if (len !== P * fbytes) throw sizeError(P * fbytes);
        r.floats(net.params, fbytes);
        break;
      case "ADAM":
        if (len !== 8 + 2 * P * fbytes) throw sizeError(8 + 2 * P * fbytes);
        adam.t = r.f64();
        r.floats(adam.m, fbytes);
        r.floats(adam.v, fbytes);
        break;
      case "STAT":
        if (len !== 2 * S * fbytes) throw sizeError(2 * S * fbytes);
        r.floats(net.h, fbytes);
        r.floats(net.c, fbytes);
        break;
      case "NORM": {
        const F = len >= 4 ? r.view.getUint32(r.pos, true) : 0;
        if (len !== 4 + 32 + 16 * F) throw sizeError(4 + 32 + 16 * F);
        r.pos += 4;
        const forgetting = r.f64(), minStd = r.f64();
        normalizer = new Normalizer(F, { forgetting, minStd });
        normalizer.weight = r.f64();
        normalizer.count = r.f64();
        r.floats(normalizer.mean, 8);
        r.floats(normalizer.m2, 8);
        break;
      }
      default:
        r.pos = end; // a section from a later minor revision: skipped
    }
    seen.add(tag);
  }
  for (const tag of ["PARM", "ADAM", "STAT", "NORM"]) {
    if (!seen.has(tag)) {
      throw new RangeError(`Cannot load model: section ${tag} must be present: it is missing`);
    }
  }
  if (r.pos !== bytes.length - 4) {
    throw new RangeError(
      `Cannot load model: the sections must end at the checksum: ${
        bytes.length - 4 - r.pos
      } bytes are left over`,
    );
  }
  return { net, adam, normalizer: normalizer! } as ModelParts<Float32Array>;
}
