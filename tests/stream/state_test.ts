import assert from "node:assert/strict";
import {
  encodeState,
  PACKED_VERSION,
  packedState,
  packState,
  readState,
  STATE_VERSION,
  type StateArrays,
} from "../../src/stream/state.ts";
import { crc32 } from "../../src/stream/crc32.ts";

/** The bytes of every array, so that -0, NaN and +0 are told apart. */
const raw = (arrays: StateArrays) =>
  Object.fromEntries(
    Object.entries(arrays).map((
      [k, a],
    ) => [k, [a.constructor.name, ...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)]]),
  );

/** A version 2 state, as forecastd wrote it before the zeros were left out: every element. */
function encodeV2(scalars: unknown, arrays: StateArrays): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(scalars));
  const parts: number[] = [..."FCDS"].map((c) => c.charCodeAt(0));
  parts.push(2, 0, ...new Uint8Array(new Uint32Array([json.length]).buffer), ...json);
  const kind = { Float32Array: 1, Float64Array: 2, Int32Array: 3 } as const;
  for (const [name, a] of Object.entries(arrays)) {
    parts.push(name.length, ...[...name].map((c) => c.charCodeAt(0)));
    parts.push(kind[a.constructor.name as keyof typeof kind]);
    parts.push(...new Uint8Array(new Uint32Array([a.length]).buffer));
    while (parts.length % 8 !== 0) parts.push(0);
    parts.push(...new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  const body = Uint8Array.from(parts);
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body), true);
  return out;
}

const sample = (): StateArrays => ({
  zeros: new Float64Array(100),
  tail: Float64Array.of(1.5, NaN, 0, 0, 0),
  negZero: Float64Array.of(0, 0, -0),
  f32: Float32Array.of(0, 2.5, 0, 0),
  i32: Int32Array.of(0, 0, 7, 0),
  empty: new Float32Array(0),
  full: Float64Array.of(1, 2, 3),
  // a view into a larger buffer, as the stream's arrays are
  view: new Float64Array(new Float64Array([9, 0, 4, 0, 0, 9]).buffer, 8, 4),
});

Deno.test("encodeState() leaves trailing zeros out and readState() gives every array back exactly", () => {
  const arrays = sample();
  const bytes = encodeState({ a: 1, b: [null, 2] }, arrays);
  assert.equal(new DataView(bytes.buffer).getUint16(4, true), STATE_VERSION);
  const back = readState(bytes);
  assert.deepEqual(back.scalars, { a: 1, b: [null, 2] });
  assert.deepEqual(raw(back.arrays), raw(arrays), "bytes of every array, -0 and NaN kept");
  assert.deepEqual(Object.keys(back.arrays), Object.keys(arrays));
  // without the zeros: 800 bytes of `zeros`, 24 of `tail`... are not written
  const full = encodeV2({ a: 1, b: [null, 2] }, arrays);
  assert.ok(bytes.length < full.length - 800, `${bytes.length} against ${full.length} bytes`);
});

Deno.test("readState() reads a version 2 state (every element written) as it was written", () => {
  const arrays = sample();
  const back = readState(encodeV2({ v: 2 }, arrays));
  assert.deepEqual(back.scalars, { v: 2 });
  assert.deepEqual(raw(back.arrays), raw(arrays));
});

Deno.test("readState() refuses an unknown version and an array that stores more than it holds", () => {
  const bytes = encodeState({}, { a: Float64Array.of(1, 2) });
  const v9 = bytes.slice();
  v9[4] = 9;
  new DataView(v9.buffer).setUint32(v9.length - 4, crc32(v9.subarray(0, v9.length - 4)), true);
  assert.throws(
    () => readState(v9),
    /^RangeError: Cannot restore stream state: the format version must be 2, 3 or 4: current value is 9$/,
  );
  // entry of "a": name length at 12, name, kind, count u32 at 15, stored u32 at 19
  const over = bytes.slice();
  new DataView(over.buffer).setUint32(19, 3, true);
  new DataView(over.buffer).setUint32(
    over.length - 4,
    crc32(over.subarray(0, over.length - 4)),
    true,
  );
  assert.throws(
    () => readState(over),
    /^RangeError: Cannot restore stream state: array "a" must store at most its 2 elements: it stores 3$/,
  );
});

/** `bytes` with its last 4 bytes set to the CRC-32 of the others (a damage the checksum does not see). */
function withCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    bytes.length - 4,
    crc32(bytes.subarray(0, bytes.length - 4)),
    true,
  );
  return bytes;
}

Deno.test("packState() compresses a state that readState() reads back exactly, every array", () => {
  const arrays = sample();
  // a state that compresses: a ramp of floats, repeated values
  arrays.ramp = Float64Array.from({ length: 2000 }, (_, i) => 20 + (i % 50) / 8);
  const plain = encodeState({ a: 1, b: [null, 2] }, arrays);
  const packed = packState(plain);
  const view = new DataView(packed.buffer);
  assert.equal(String.fromCharCode(...packed.subarray(0, 4)), "FCDS");
  assert.equal(view.getUint16(4, true), PACKED_VERSION);
  assert.equal(packed[6], 1, "codec 1: zstd");
  assert.equal(view.getUint32(7, true), plain.length);
  assert.ok(packed.length < plain.length / 2, `${packed.length} against ${plain.length} bytes`);
  const back = readState(packed);
  assert.deepEqual(back.scalars, { a: 1, b: [null, 2] });
  assert.deepEqual(raw(back.arrays), raw(arrays), "bytes of every array, -0 and NaN kept");
  assert.deepEqual(Object.keys(back.arrays), Object.keys(arrays));
  // the same state packs to the same bytes (a checkpoint is a function of the state)
  assert.deepEqual(packState(encodeState({ a: 1, b: [null, 2] }, arrays)), packed);
});

Deno.test("readState() refuses a packed state that is damaged, truncated or not what it says", () => {
  const plain = encodeState({ a: 1 }, { x: Float64Array.from({ length: 500 }, (_, i) => i / 3) });
  const packed = packState(plain);
  // a flipped byte in the frame: the checksum
  const flipped = packed.slice();
  flipped[40] ^= 0xff;
  assert.throws(
    () => readState(flipped),
    /^RangeError: Cannot restore stream state: the checksum must match the contents: stored 0x[0-9a-f]+, computed 0x[0-9a-f]+$/,
  );
  // cut short (and its checksum recomputed): the frame gives fewer bytes than the state's length
  const cut = withCrc(Uint8Array.from([...packed.subarray(0, packed.length - 40), 0, 0, 0, 0]));
  assert.throws(
    () => readState(cut),
    new RegExp(
      `^RangeError: Cannot restore stream state: the packed state must decompress to its ${plain.length} bytes: `,
    ),
  );
  // a length that is not the state's
  const longer = packed.slice();
  new DataView(longer.buffer).setUint32(7, plain.length + 1, true);
  assert.throws(
    () => readState(withCrc(longer)),
    new RegExp(
      `^RangeError: Cannot restore stream state: the packed state must decompress to its ${
        plain.length + 1
      } bytes: current length is ${plain.length}$`,
    ),
  );
  const shorter = packed.slice();
  new DataView(shorter.buffer).setUint32(7, plain.length - 1, true);
  assert.throws(
    () => readState(withCrc(shorter)),
    new RegExp(
      `^RangeError: Cannot restore stream state: the packed state must decompress to its ${
        plain.length - 1
      } bytes: `,
    ),
  );
  // an unknown codec
  const codec = packed.slice();
  codec[6] = 7;
  assert.throws(
    () => readState(withCrc(codec)),
    /^RangeError: Cannot restore stream state: the codec must be 1 \(zstd\): current value is 7$/,
  );
  // a packed state inside a packed state
  const twice = packState(packed);
  assert.throws(
    () => readState(twice),
    /^RangeError: Cannot restore stream state: a packed state must hold a version 2 or 3 state: it holds a packed one$/,
  );
  // too short to hold a frame
  assert.throws(
    () => readState(withCrc(Uint8Array.from([...packed.subarray(0, 10), 0, 0, 0, 0]))),
    /^RangeError: Cannot restore stream state: a packed state must be at least 15 bytes: current length is 14$/,
  );
});

Deno.test("packedState() gives packState(encodeState()) byte for byte, after a larger state too", () => {
  // a larger state first, every byte not 0: what a smaller one after it finds in the kept buffer
  const big: StateArrays = {
    a: Float64Array.from({ length: 30_000 }, (_, i) => 1 + i),
    bcd: Int32Array.from({ length: 999 }, (_, i) => -1 - i),
  };
  assert.deepEqual(packedState({ big: true }, big), packState(encodeState({ big: true }, big)));
  // names of 1, 3 and 2 letters: each array's header is followed by padding to 8 bytes
  const small: StateArrays = {
    x: Float32Array.of(1.5, 2.5, 3.5),
    yyy: Float64Array.of(-0, NaN, 7),
    zz: Int32Array.of(9, 0, 0),
  };
  const counts = { zz: 5 };
  assert.deepEqual(
    packedState({ small: [1, null] }, small, counts),
    packState(encodeState({ small: [1, null] }, small, counts)),
  );
  assert.deepEqual(raw(readState(packedState({}, small)).arrays), raw(small));
});
