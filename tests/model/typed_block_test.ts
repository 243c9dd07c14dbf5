import assert from "node:assert/strict";
import { BlockArena, blockBytes, sharedBlock, typedBlock } from "../../src/model/typed_block.ts";

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

Deno.test("typedBlock() cuts blocks from an arena in turn, and refuses one that does not fit", () => {
  const first = [[Float64Array, 3], [Int32Array, 3]] as const,
    second = [[Float32Array, 3]] as const;
  assert.deepEqual([blockBytes(first), blockBytes(second), blockBytes([])], [40, 16, 0]);
  const arena = new BlockArena(blockBytes(first) + blockBytes(second));
  const [a, b] = typedBlock(first, arena);
  const [c] = typedBlock(second, arena);
  assert.ok(a.buffer === arena.buffer && b.buffer === arena.buffer && c.buffer === arena.buffer);
  assert.deepEqual([a.byteOffset, b.byteOffset, c.byteOffset], [0, 24, 40]);
  assert.equal(arena.left, 0);
  c.fill(1);
  assert.ok([...a, ...b].every((v) => v === 0), "the first block untouched");
  assert.throws(
    () => typedBlock([[Float64Array, 1]], arena),
    /^RangeError: Cannot cut a typed block from the arena: it must fit in the 0 bytes left: current size is 8$/,
  );
});

Deno.test("sharedBlock gives every caller of one key the same arrays, made and filled once", () => {
  let made = 0;
  const fill = ([a]: [Float64Array, Int32Array]) => {
    made++;
    a.fill(0.5);
  };
  const spec = [[Float64Array, 3], [Int32Array, 2]] as const;
  const [a, b] = sharedBlock("typed_block_test", spec, fill);
  const [c, d] = sharedBlock("typed_block_test", spec, fill);
  assert.ok(a === c && b === d, "the same arrays");
  assert.equal(made, 1);
  assert.deepEqual([...a], [0.5, 0.5, 0.5]);
  assert.equal(a.buffer, b.buffer, "one block");
  // another key, or other lengths under the same key: arrays of their own
  const [e] = sharedBlock("typed_block_test other", spec);
  const [f] = sharedBlock("typed_block_test", [[Float64Array, 4], [Int32Array, 2]]);
  assert.ok(e !== a && f !== a && f.length === 4);
});
