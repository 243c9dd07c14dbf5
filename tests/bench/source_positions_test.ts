/** bench/source_positions.ts: source map segments and the position they give. */
import assert from "node:assert/strict";
import { decodeMappings, sourcePosition } from "../../bench/source_positions.ts";

Deno.test("decodeMappings reads the segments' relative fields line by line", () => {
  // line 1: column 0 -> source 0:0, column 4 -> source 0:4; line 2: column 2 -> source 2:0
  // (AAAA: all 0; IAAI: +4 column, +4 source column; EAEJ: +2 column, +2 line, -4 source column)
  assert.deepEqual(decodeMappings("AAAA,IAAI;EAEJ"), [[[0, 0, 0], [4, 0, 4]], [[2, 2, 0]]]);
  // a segment of one field (no source) is skipped; an empty line has none
  assert.deepEqual(decodeMappings("A;;AACA"), [[], [], [[0, 1, 0]]]);
});

Deno.test("sourcePosition takes the last segment at or before the column, 1-based", () => {
  const lines = decodeMappings("AAAA,IAAI;EAEJ");
  assert.deepEqual(sourcePosition(lines, 1, 1), [1, 1]);
  assert.deepEqual(sourcePosition(lines, 1, 7), [1, 5]);
  assert.deepEqual(sourcePosition(lines, 2, 1), [3, 1]); // before the first: the first
  assert.equal(sourcePosition(lines, 9, 1), null);
});
