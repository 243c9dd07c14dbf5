import assert from "node:assert/strict";
import { wrapText } from "../../src/cli/wrap_text.ts";

Deno.test("wrapText() breaks at spaces, each line within the width and indented", () => {
  const text = "temperature = 25.9 is outside the expected 20.100 .. 22.000 (forecast 21.000)";
  const lines = wrapText(text, 30, "    ");
  assert.deepEqual(lines, [
    "    temperature = 25.9 is",
    "    outside the expected",
    "    20.100 .. 22.000 (forecast",
    "    21.000)",
  ]);
  for (const l of lines) assert.ok(l.length <= 30);
});

Deno.test("wrapText() splits a word longer than a line, and drops runs of spaces", () => {
  assert.deepEqual(wrapText("ab  abcdefghij x", 6, "  "), ["  ab", "  abcd", "  efgh", "  ij x"]);
  assert.deepEqual(wrapText("", 10), []);
});
