import assert from "node:assert/strict";
import { cutText, formatTable } from "../../src/cli/format_table.ts";

Deno.test("formatTable() aligns columns two spaces apart, numbers to the right", () => {
  const lines = formatTable(
    [{ title: "STREAM" }, { title: "READINGS", align: "right" }, { title: "STATE" }],
    [["kitchen", "300", "learning"], ["hall", "12", "warming up"]],
  );
  assert.deepEqual(lines, [
    "STREAM   READINGS  STATE",
    "kitchen       300  learning",
    "hall           12  warming up",
  ]);
});

Deno.test("formatTable() cuts the shrinking columns, the last first, so no line exceeds the width", () => {
  const long = "a-very-long-stream-id-from-a-building-automation-system";
  const lines = formatTable(
    [
      { title: "STREAM", shrink: true, min: 10 },
      { title: "N", align: "right" },
      { title: "TARGETS", shrink: true, min: 7 },
    ],
    [[long, "1", "temperature,humidity,pressure,co2,voc"]],
    40,
  );
  for (const l of lines) assert.ok(l.length <= 40, `${JSON.stringify(l)} is ${l.length} wide`);
  // the last shrinking column gave up its width down to its minimum first
  assert.equal(lines[1], "a-very-long-stream-id-from-…  1  temper…");
  assert.equal(lines[1].length, 40);
});

Deno.test("formatTable() keeps fixed widths whatever the cells, so lines printed apart line up", () => {
  const cols = [{ title: "ID", align: "right" as const, width: 4 }, { title: "STREAM", width: 6 }];
  assert.deepEqual(formatTable(cols, []), ["  ID  STREAM"]);
  assert.deepEqual(formatTable(cols, [["7", "a-long-one"]])[1], "   7  a-lon…");
});

Deno.test("formatTable() refuses a row of another length than the header", () => {
  assert.throws(
    () => formatTable([{ title: "A" }, { title: "B" }], [["1"]]),
    /^RangeError: Cannot format a table: every row must have 2 cells like the header: row 0 has 1$/,
  );
});

Deno.test("cutText() ends a cut text with an ellipsis within the width", () => {
  assert.equal(cutText("kitchen", 7), "kitchen");
  assert.equal(cutText("kitchen", 5), "kitc…");
  assert.equal(cutText("kitchen", 1), "…");
  assert.equal(cutText("kitchen", 0), "");
});
