import assert from "node:assert/strict";
import { typedBlock } from "../../src/model/typed_block.ts";

Deno.test("typedBlock() lays the arrays out in one buffer, 8-aligned, in order, as zeros", () => {
  const [a, b, c, d] = typedBlock([
    [Float64Array, 3],
    [Int32Array, 3],
    [Float32Array, 5],
    [Float64Array, 2],
  ]);
  assert.ok(a instanceof Float64Array && b instanceof Int32Array);
  assert.ok(c instanceof Float32Array && d instanceof Float64Array);
  assert.deepEqual([a.length, b.length, c.length, d.length], [3, 3, 5, 2]);
  assert.ok(a.buffer === b.buffer && b.buffer === c.buffer && c.buffer === d.buffer, "one buffer");
  assert.deepEqual([a.byteOffset, b.byteOffset, c.byteOffset, d.byteOffset], [0, 24, 40, 64]);
  assert.equal(a.buffer.byteLength, 80);
  assert.ok([...a, ...b, ...c, ...d].every((v) => v === 0), "zeros");
  a.fill(1);
  b.fill(-1);
  c.fill(2);
  d.fill(3);
  assert.deepEqual([...a, ...b, ...c, ...d], [1, 1, 1, -1, -1, -1, 2, 2, 2, 2, 2, 3, 3]);
});

Deno.test("typedBlock() of nothing or of empty arrays gives arrays of length 0", () => {
  assert.deepEqual(typedBlock([]), []);
  const [a, b] = typedBlock([[Float64Array, 0], [Int32Array, 0]]);
  assert.equal(a.length + b.length, 0);
});
