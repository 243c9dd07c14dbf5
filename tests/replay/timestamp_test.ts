import assert from "node:assert/strict";
import { detectTimeForm, parseTimestamp, TIMESTAMP_RULE } from "../../src/replay/timestamp.ts";

Deno.test("parseTimestamp() reads ETT's 'YYYY-MM-DD HH:MM:SS' as UTC", () => {
  assert.equal(parseTimestamp("2016-07-01 00:00:00"), Date.UTC(2016, 6, 1));
  assert.equal(parseTimestamp("2016-07-01 23:45:00"), Date.UTC(2016, 6, 1, 23, 45));
  assert.equal(parseTimestamp("  2018-06-26 19:00:00 "), Date.UTC(2018, 5, 26, 19));
});

Deno.test("parseTimestamp() reads ISO 8601 with and without a zone, fractions and short forms", () => {
  const t = Date.UTC(2025, 0, 1, 12, 30, 15);
  assert.equal(parseTimestamp("2025-01-01T12:30:15Z"), t);
  assert.equal(parseTimestamp("2025-01-01T12:30:15"), t, "no zone is UTC");
  assert.equal(parseTimestamp("2025-01-01T13:30:15+01:00"), t);
  assert.equal(parseTimestamp("2025-01-01T13:30:15+0100"), t);
  assert.equal(parseTimestamp("2025-01-01T13:30:15+01"), t);
  assert.equal(parseTimestamp("2025-01-01T07:00:15-05:30"), t);
  assert.equal(parseTimestamp("2025-01-01T12:30:15.250Z"), t + 250);
  assert.equal(parseTimestamp("2025-01-01 12:30"), t - 15_000);
  assert.equal(parseTimestamp("2025-01-01"), Date.UTC(2025, 0, 1));
  assert.equal(parseTimestamp("2016-02-29 00:00:00"), Date.UTC(2016, 1, 29), "a leap day");
});

Deno.test("parseTimestamp() reads epoch seconds below 1e11 and milliseconds above", () => {
  assert.equal(parseTimestamp("1735689600"), Date.UTC(2025, 0, 1));
  assert.equal(parseTimestamp("1735689600000"), Date.UTC(2025, 0, 1));
  assert.equal(parseTimestamp("1735689600.5"), Date.UTC(2025, 0, 1) + 500);
});

Deno.test("parseTimestamp() returns NaN for impossible dates and other text", () => {
  for (
    const s of [
      "2016-02-30 00:00:00",
      "2015-02-29",
      "2016-13-01",
      "2016-07-01 24:00:00",
      "2016-07-01 12:60:00",
      "2016-07-01 12:00:61",
      "01/07/2016 00:00",
      "yesterday",
      "",
      "NaN",
      "Infinity",
    ]
  ) {
    assert.ok(Number.isNaN(parseTimestamp(s)), `"${s}" must not parse`);
  }
});

Deno.test("parseTimestamp() reads M/D/YYYY month first with mdy, a 12-hour clock too", () => {
  const t = Date.UTC(2024, 2, 14, 13, 5);
  assert.equal(parseTimestamp("3/14/2024 13:05", "mdy"), t);
  assert.equal(parseTimestamp("03/14/2024 13:05:09", "mdy"), t + 9000);
  assert.equal(parseTimestamp("3/14/2024 1:05 PM", "mdy"), t);
  assert.equal(parseTimestamp("3/14/2024 1:05:00 pm", "mdy"), t);
  assert.equal(parseTimestamp("12/1/2024 12:00 AM", "mdy"), Date.UTC(2024, 11, 1), "midnight");
  assert.equal(parseTimestamp("12/1/2024 12:30 PM", "mdy"), Date.UTC(2024, 11, 1, 12, 30));
  assert.equal(parseTimestamp("03-14-2024 13:05", "mdy"), t);
  assert.equal(parseTimestamp("3/14/2024", "mdy"), Date.UTC(2024, 2, 14));
});

Deno.test("parseTimestamp() reads DD.MM.YYYY day first with dmy, and with dots under auto", () => {
  const t = Date.UTC(2024, 2, 14, 13, 5);
  assert.equal(parseTimestamp("14.03.2024 13:05", "dmy"), t);
  assert.equal(parseTimestamp("14/03/2024 13:05:09", "dmy"), t + 9000);
  assert.equal(parseTimestamp("14-3-2024 1:05 PM", "dmy"), t);
  assert.equal(parseTimestamp("14.03.2024 13:05"), t, "dots: day first, as Europe writes them");
  assert.equal(parseTimestamp("29.02.2024"), Date.UTC(2024, 1, 29));
});

Deno.test("parseTimestamp() reads spreadsheet serial days, seconds and milliseconds by size under auto", () => {
  assert.equal(parseTimestamp("45658"), Date.UTC(2025, 0, 1));
  assert.equal(parseTimestamp("45658.5"), Date.UTC(2025, 0, 1, 12));
  assert.equal(parseTimestamp("45658.041666666664"), Date.UTC(2025, 0, 1, 1), "1:00 exactly");
  assert.equal(parseTimestamp("45658.5", "excel"), Date.UTC(2025, 0, 1, 12));
  assert.equal(parseTimestamp("45658", "epoch-s"), 45_658_000, "named: seconds however small");
  assert.equal(parseTimestamp("1735689600", "epoch-ms"), 1_735_689_600);
  assert.equal(parseTimestamp("1735689600000", "epoch-ms"), Date.UTC(2025, 0, 1));
});

Deno.test("parseTimestamp() refuses what its format cannot read, and slash dates alone under auto", () => {
  const refused: [string, "auto" | "mdy" | "dmy" | "excel" | "iso"][] = [
    ["3/14/2024 13:05", "auto"], // which part is the month cannot be told from one value
    ["2/30/2024 00:00", "mdy"],
    ["14/3/2024", "mdy"],
    ["3/14/2024", "dmy"],
    ["3/14/2024 13:05 PM", "mdy"],
    ["3/14/2024 0:05 AM", "mdy"],
    ["3/14/2024 24:00", "mdy"],
    ["3/14/24 13:05", "mdy"],
    ["-1", "excel"],
    ["2024-03-14", "mdy"],
    ["14.03.2024", "iso"],
  ];
  for (const [s, f] of refused) {
    assert.ok(Number.isNaN(parseTimestamp(s, f)), `"${s}" must not parse as ${f}`);
  }
});

Deno.test("detectTimeForm() decides a column by its first value, and slash dates by their parts", () => {
  assert.deepEqual(detectTimeForm(["2024-03-14 13:05:00"]), { ok: true, form: "iso" });
  assert.deepEqual(detectTimeForm(["14.03.2024 13:05"]), { ok: true, form: "dmy" });
  assert.deepEqual(detectTimeForm(["45658.5"]), { ok: true, form: "excel" });
  assert.deepEqual(detectTimeForm(["1735689600"]), { ok: true, form: "epoch-s" });
  assert.deepEqual(detectTimeForm(["1735689600000"]), { ok: true, form: "epoch-ms" });
  assert.deepEqual(detectTimeForm(["3/1/2024 0:00", "3/12/2024 0:00", "3/13/2024 0:00"]), {
    ok: true,
    form: "mdy",
  });
  assert.deepEqual(detectTimeForm(["1/3/2024 0:00", "13/3/2024 0:00"]), { ok: true, form: "dmy" });
  const ambiguous = detectTimeForm(["1/3/2024 0:00", "2/3/2024 0:00"]);
  assert.equal(ambiguous.ok, false);
  assert.match(
    (ambiguous as { problem: string }).problem,
    /give --time-format mdy \(month first\) or dmy \(day first\)$/,
  );
  assert.deepEqual(detectTimeForm(["13/1/2024", "1/1/2024", "1/13/2024"]), {
    ok: false,
    row: 2,
    problem: "must put the day and the month in the same order on every row (an earlier row " +
      "has the day first; give --time-format mdy or dmy)",
  });
  assert.deepEqual(detectTimeForm(["yesterday"]), { ok: false, row: 0, problem: TIMESTAMP_RULE });
});
