import assert from "node:assert/strict";
import { Network } from "../../src/model/network.ts";
import { OnlineTrainer } from "../../src/model/tbptt.ts";
import { Normalizer } from "../../src/model/normalize.ts";
import { crc32, decodeModel, encodeModel } from "../../src/model/serialize.ts";

function trained(dtype: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) {
  const net = new Network({ inputs: 2, hidden: 5, layers: 2, outputs: 2, window: 6, dtype });
  const trainer = new OnlineTrainer(net, { lr: 0.01 });
  const normalizer = new Normalizer(2, { forgetting: 0.999 });
  const y = new dtype(2);
  for (let t = 0; t < 40; t++) {
    const x = [Math.sin(t / 3), Math.cos(t / 5)];
    normalizer.update(x);
    trainer.push(x, [Math.sin((t + 1) / 3), Math.cos((t + 1) / 5)]);
    net.step(dtype.from(x), 0, y, 0);
  }
  return { net, adam: trainer.adam, normalizer };
}

const SHAPE = { inputs: 2, hidden: 5, layers: 2, outputs: 2, window: 6 };

for (const dtype of [Float32Array, Float64Array]) {
  Deno.test(`encodeModel()/decodeModel() round-trip every value exactly (${dtype.name})`, () => {
    const parts = trained(dtype);
    const bytes = encodeModel(parts);
    const back = decodeModel(bytes, SHAPE);
    assert.ok(back.net.params instanceof dtype);
    assert.deepEqual(back.net.params, parts.net.params);
    assert.deepEqual(back.net.h, parts.net.h);
    assert.deepEqual(back.net.c, parts.net.c);
    assert.deepEqual(back.adam.m, parts.adam.m);
    assert.deepEqual(back.adam.v, parts.adam.v);
    assert.equal(back.adam.t, parts.adam.t);
    assert.deepEqual(back.normalizer.mean, parts.normalizer.mean);
    assert.deepEqual(back.normalizer.m2, parts.normalizer.m2);
    assert.equal(back.normalizer.weight, parts.normalizer.weight);
    assert.equal(back.normalizer.count, parts.normalizer.count);
    assert.equal(back.normalizer.forgetting, 0.999);
    // and encoding the decoded model gives the same bytes
    assert.deepEqual(encodeModel(back as typeof parts), bytes);
  });
}

Deno.test("decodeModel() names a bad magic", () => {
  const bytes = encodeModel(trained());
  bytes[0] = "X".charCodeAt(0);
  assert.throws(() => decodeModel(bytes), /the magic must be "FCDM": current value is "XCDM"/);
});

Deno.test("decodeModel() names an unknown version", () => {
  const bytes = encodeModel(trained());
  new DataView(bytes.buffer).setUint16(4, 9, true);
  assert.throws(() => decodeModel(bytes), /format version must be 1: current value is 9/);
});

Deno.test("decodeModel() names a checksum mismatch when one byte is flipped", () => {
  const bytes = encodeModel(trained());
  bytes[100] ^= 0x10;
  assert.throws(
    () => decodeModel(bytes),
    /checksum must match the contents: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/,
  );
});

Deno.test("decodeModel() names each field of a shape that differs from the configuration", () => {
  const bytes = encodeModel(trained());
  assert.throws(
    () => decodeModel(bytes, { ...SHAPE, hidden: 32, window: 8 }),
    /shape must match the configuration: hidden is 5, expected 32; window is 6, expected 8/,
  );
});

Deno.test("decodeModel() rejects a truncated file", () => {
  const bytes = encodeModel(trained());
  assert.throws(() => decodeModel(bytes.subarray(0, 50)), /Cannot load model/);
});

Deno.test("crc32() gives the standard check value for '123456789'", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});
