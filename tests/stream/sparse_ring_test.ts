import assert from "node:assert/strict";
import { SparseRing } from "../../src/stream/sparse_ring.ts";

/** The dense ring's scan, as the scorer did it before the rings were sparse. */
function denseMaxExcept(ring: Float64Array, slot: number): number {
  let best = 0;
  for (let i = 0; i < ring.length; i++) if (i !== slot && ring[i] > best) best = ring[i];
  return best;
}

Deno.test("SparseRing matches a dense ring over 20,000 random writes, maxExcept() included", () => {
  const n = 50;
  const dense = new Float64Array(n);
  const sparse = new SparseRing(n);
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let k = 0; k < 20_000; k++) {
    const slot = k % n;
    const r = rand();
    // mostly 0, some records, a few negatives, NaN and -0 (a restored checkpoint may hold them)
    const v = r < 0.6 ? 0 : r < 0.9 ? rand() * 10 : r < 0.95 ? -rand() : r < 0.97 ? NaN : -0;
    assert.equal(sparse.maxExcept(slot), denseMaxExcept(dense, slot), `write ${k}`);
    dense[slot] = v;
    sparse.set(slot, v);
    assert.ok(Object.is(sparse.get(slot), dense[slot]), `read back ${k}`);
  }
  assert.deepEqual(new Uint8Array(sparse.dense().buffer), new Uint8Array(dense.buffer));
});

Deno.test("SparseRing holds only its slots that are not +0, and grows past its first room", () => {
  const r = new SparseRing(500);
  assert.equal(r.count, 0);
  assert.equal(r.byteLength, 8 * 12, "room for 8 slots of 12 bytes to begin with");
  for (let s = 0; s < 20; s++) r.set(s * 7, s + 1);
  assert.equal(r.count, 20);
  assert.equal(r.byteLength, 32 * 12, "doubled twice");
  assert.equal(r.maxExcept(19 * 7), 19);
  assert.equal(r.maxExcept(0), 20);
  for (let s = 0; s < 20; s++) r.set(s * 7, 0);
  assert.equal(r.count, 0);
  assert.equal(r.maxExcept(3), 0);
  r.set(499, -0);
  assert.equal(r.count, 1, "-0 is held: dense() gives its sign back");
  assert.ok(Object.is(r.dense()[499], -0));
});

Deno.test("SparseRing.load() takes a dense ring back and refuses another length", () => {
  const a = new Float64Array(10);
  a[2] = 1.5;
  a[9] = 4;
  const r = new SparseRing(10);
  r.set(5, 3);
  r.load(a);
  assert.deepEqual(r.dense(), a, "what was held before is gone");
  assert.equal(r.count, 2);
  assert.throws(() => r.load(new Float64Array(9)), {
    name: "RangeError",
    message: "Cannot load a sparse ring: the array must have 10 elements: current length is 9",
  });
  assert.throws(() => new SparseRing(0), {
    name: "RangeError",
    message: "Cannot make a sparse ring: its length must be a positive integer: current value is 0",
  });
});
