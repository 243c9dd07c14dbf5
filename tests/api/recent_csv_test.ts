import assert from "node:assert/strict";
import { csvField, RECENT_CSV_COLUMNS, recentCsv } from "../../src/api/recent_csv.ts";

const T = Date.UTC(2025, 5, 2);

Deno.test("recentCsv() writes a header and one row per reading and target, residual = value - forecast", () => {
  const csv = recentCsv({
    targets: ["a", "b"],
    capacity: 288,
    readings: [
      {
        ts: T,
        gap: false,
        targets: {
          a: { value: 1.5, point: null, lower: null, upper: null },
          b: { value: -2, point: null, lower: null, upper: null },
        },
      },
      {
        ts: T + 300_000,
        gap: true,
        targets: {
          a: { value: 2.25, point: 2, lower: null, upper: null },
          b: { value: -1, point: -1.5, lower: -3, upper: 0.125 },
        },
      },
    ],
  });
  assert.equal(
    csv,
    "time,target,value,forecast,lower,upper,residual\r\n" +
      "2025-06-02T00:00:00.000Z,a,1.5,,,,\r\n" +
      "2025-06-02T00:00:00.000Z,b,-2,,,,\r\n" +
      "2025-06-02T00:05:00.000Z,a,2.25,2,,,0.25\r\n" +
      "2025-06-02T00:05:00.000Z,b,-1,-1.5,-3,0.125,0.5\r\n",
  );
  assert.deepEqual(RECENT_CSV_COLUMNS, [
    "time",
    "target",
    "value",
    "forecast",
    "lower",
    "upper",
    "residual",
  ]);
  assert.equal(
    recentCsv({ targets: ["a"], capacity: 0, readings: [] }),
    "time,target,value,forecast,lower,upper,residual\r\n",
    "nothing kept: the header alone",
  );
});

Deno.test("csvField() quotes a field with a comma, a quote or a line end, doubling quotes", () => {
  assert.equal(csvField("temperature"), "temperature");
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("two\nlines"), '"two\nlines"');
});
