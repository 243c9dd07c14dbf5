import assert from "node:assert/strict";
import { columnScale, fsnetSplit, onlineSplit } from "../../src/replay/protocol.ts";

Deno.test("fsnetSplit(14400) gives the published 2880 train / 720 validation rows, targets from 3600", () => {
  assert.deepEqual(fsnetSplit(14_400), {
    rows: 14_400,
    scaleRows: 2_880,
    warmupRows: 3_600,
    firstTarget: 3_600,
  });
});

Deno.test("fsnetSplit() floors 20% and 25% of any row count", () => {
  assert.deepEqual(fsnetSplit(17_420), {
    rows: 17_420,
    scaleRows: 3_484,
    warmupRows: 4_355,
    firstTarget: 4_355,
  });
  assert.deepEqual(fsnetSplit(69_680), {
    rows: 69_680,
    scaleRows: 13_936,
    warmupRows: 17_420,
    firstTarget: 17_420,
  });
  assert.deepEqual(fsnetSplit(601), {
    rows: 601,
    scaleRows: 120,
    warmupRows: 150,
    firstTarget: 150,
  });
  assert.throws(() => fsnetSplit(7), /at least 8: current value is 7/);
});

Deno.test("onlineSplit() scores from the second row with the scale of all rows", () => {
  assert.deepEqual(onlineSplit(600), { rows: 600, scaleRows: 600, warmupRows: 0, firstTarget: 1 });
  assert.throws(() => onlineSplit(1), /at least 2 rows: current count is 1/);
});

Deno.test("columnScale() gives the mean and population std (ddof 0) of the first rows only", () => {
  // (N=5, C=2) row-major; the last row must be ignored
  const v = Float64Array.from([1, 7, 2, 7, 3, 7, 4, 7, 100, 100]);
  const { mean, std } = columnScale(v, 2, 4);
  assert.deepEqual([...mean], [2.5, 7]);
  assert.equal(std[0], Math.sqrt(1.25));
  assert.equal(std[1], 1, "a constant column is scored in its own units");
});
