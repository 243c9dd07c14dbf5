import assert from "node:assert/strict";
import { CsvError, csvRecords, parseCsv, readCsv } from "../../src/replay/csv.ts";

const FIXTURE = new URL("../fixtures/replay_small.csv", import.meta.url);

Deno.test("parseCsv() reads the timestamp and every numeric column, skipping text columns", () => {
  const t = parseCsv(
    "date,a,label,b\n2016-07-01 00:00:00,1.5,x,-2\n2016-07-01 01:00:00,2.5,y,3e2\n",
    { source: "t.csv" },
  );
  assert.equal(t.timestampColumn, "date");
  assert.deepEqual(t.columns, ["a", "b"]);
  assert.equal(t.rows, 2);
  assert.deepEqual([...t.ts], [Date.UTC(2016, 6, 1), Date.UTC(2016, 6, 1, 1)]);
  assert.deepEqual([...t.values], [1.5, -2, 2.5, 300]);
  assert.deepEqual(t.timestampText, ["2016-07-01 00:00:00", "2016-07-01 01:00:00"]);
  assert.deepEqual([...t.lines], [2, 3]);
});

Deno.test("parseCsv() accepts a byte order mark, CRLF and CR line ends, blank lines and spaces", () => {
  const text = "\uFEFFts,v\r\n\r\n2025-01-01T00:00:00Z, 1 \r\n   \r2025-01-01T00:05:00Z,2\r\n\n";
  const t = parseCsv(text);
  assert.deepEqual(t.header, ["ts", "v"], "the BOM is not part of the first name");
  assert.deepEqual([...t.values], [1, 2]);
  assert.deepEqual([...t.lines], [3, 5], "blank lines count for line numbers");
});

Deno.test("parseCsv() reads quoted fields with commas, quotes and line breaks", () => {
  const recs = [...csvRecords('a,"b, c","say ""hi"""\n"x\ny",2,3\n')];
  assert.deepEqual(recs, [
    { fields: ["a", "b, c", 'say "hi"'], line: 1 },
    { fields: ["x\ny", "2", "3"], line: 2 },
  ]);
  const t = parseCsv('"time","value"\n"2025-01-01 00:00:00","1.25"\n');
  assert.deepEqual([...t.values], [1.25]);
});

Deno.test("parseCsv() names the line, the column and the value of a bad number", () => {
  const text = "date,a,b\n2016-07-01 00:00:00,1,2\n2016-07-01 01:00:00,1,x1\n";
  assert.throws(
    () => parseCsv(text, { source: "d.csv" }),
    (e: unknown) =>
      e instanceof CsvError &&
      e.message ===
        'Cannot read d.csv: line 3, column "b" must be a finite number: current value is "x1"',
  );
  assert.throws(
    () => parseCsv("date,a\n2016-07-01 00:00:00,1\n2016-07-01 01:00:00,\n", { source: "d.csv" }),
    /line 3, column "a" must be a finite number: current value is ""/,
  );
  assert.throws(
    () => parseCsv("date,a\n2016-07-01 00:00:00,1\n2016-07-01 01:00:00,NaN\n"),
    /line 3, column "a" must be a finite number: current value is "NaN"/,
  );
});

Deno.test("parseCsv() names the line of a bad timestamp and of a short row", () => {
  assert.throws(
    () => parseCsv("date,a\n2016-07-01 00:00:00,1\n2016-02-30 00:00:00,2\n", { source: "d.csv" }),
    /^CsvError: Cannot read d\.csv: line 3, column "date" must be a date and time .*: current value is "2016-02-30 00:00:00"$/,
  );
  assert.throws(
    () => parseCsv("date,a,b\n2016-07-01 00:00:00,1,2\n2016-07-01 01:00:00,1\n"),
    /line 3 must have 3 fields like the header \(date,a,b\): current count is 2/,
  );
});

Deno.test("parseCsv() checks the header and the columns asked for", () => {
  assert.throws(() => parseCsv(""), /the file is empty/);
  assert.throws(() => parseCsv("date,a,a\n"), /column 3 is a second "a"/);
  assert.throws(() => parseCsv("date,,a\n"), /column 2 is empty/);
  assert.throws(() => parseCsv("date,label\n2016-07-01,x\n"), /must have a numeric column/);
  assert.throws(
    () => parseCsv("date,a,b\n2016-07-01,1,2\n", { columns: ["a", "c"] }),
    /every column must be one of a, b: current value is "c"/,
  );
  assert.throws(
    () => parseCsv("date,a\n2016-07-01,1\n", { timestamp: "time" }),
    /the timestamp column must be one of date, a: current value is "time"/,
  );
  assert.throws(() => parseCsv('date,a\n"2016-07-01,1\n'), /opened on line 2 is still open/);
});

Deno.test("parseCsv() reads the columns asked for, in that order, from another timestamp column", () => {
  const t = parseCsv("a,time,b\n1,2025-01-01,2\n3,2025-01-02,4\n5,2025-01-03,6\n", {
    timestamp: "time",
    columns: ["b", "a"],
    maxRows: 2,
  });
  assert.deepEqual(t.columns, ["b", "a"]);
  assert.deepEqual([...t.values], [2, 1, 4, 3], "maxRows stops after two rows");
  assert.equal(t.rows, 2);
});

Deno.test("readCsv() reads the bundled fixture and names a missing file", async () => {
  const t = await readCsv(FIXTURE.pathname);
  assert.equal(t.rows, 600);
  assert.deepEqual(t.columns, ["temp", "load"]);
  assert.equal(t.ts[1] - t.ts[0], 3_600_000);
  const missing = new URL("../fixtures/no_such_file.csv", import.meta.url).pathname;
  await assert.rejects(readCsv(missing), /Cannot read .*no_such_file\.csv: the file must exist/);
});

Deno.test("parseCsv() reads US dates month first when a day above 12 says so, and reports the form", () => {
  const t = parseCsv("Date,kWh\n3/1/2024 0:00,1\n3/1/2024 1:00 PM,2\n3/13/2024 0:00,3\n");
  assert.deepEqual([...t.ts], [
    Date.UTC(2024, 2, 1),
    Date.UTC(2024, 2, 1, 13),
    Date.UTC(2024, 2, 13),
  ]);
  assert.equal(t.timeForm, "mdy");
  assert.equal(t.timeFormDetected, true);
  const iso = parseCsv("t,v\n2024-03-01,1\n");
  assert.deepEqual([iso.timeForm, iso.timeFormDetected], ["iso", true]);
});

Deno.test("parseCsv() refuses slash dates whose order the file cannot tell, unless --time-format names it", () => {
  const text = "Date,v\n01/03/2024 00:00,1\n02/03/2024 00:00,2\n";
  assert.throws(
    () => parseCsv(text, { source: "d.csv" }),
    /^CsvError: Cannot read d\.csv: line 2, column "Date" must say whether the month or the day comes first: .* give --time-format mdy \(month first\) or dmy \(day first\): current value is "01\/03\/2024 00:00"$/,
  );
  const dmy = parseCsv(text, { timeFormat: "dmy" });
  assert.deepEqual([...dmy.ts], [Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 2)]);
  assert.deepEqual([dmy.timeForm, dmy.timeFormDetected], ["dmy", false]);
  const mdy = parseCsv(text, { timeFormat: "mdy" });
  assert.deepEqual([...mdy.ts], [Date.UTC(2024, 0, 3), Date.UTC(2024, 1, 3)]);
});

Deno.test("parseCsv() reads every row in the first row's form: another form or unit is an error", () => {
  assert.throws(
    () => parseCsv("t,v\n14.03.2024 13:05,1\n2024-03-14 14:05,2\n", { source: "d.csv" }),
    /^CsvError: Cannot read d\.csv: line 3, column "t" must be a date and time DD\.MM\.YYYY HH:MM\[:SS\] \[AM\|PM\], day first \(UTC\) like the first row \(read as dmy; --time-format names another\): current value is "2024-03-14 14:05"$/,
  );
  assert.throws(
    () => parseCsv("t,v\n45658.5,1\n1735689600,2\n", { source: "d.csv" }),
    /line 3, column "t" must be a number of days since 1899-12-30, as spreadsheets count them \(UTC\) like the first row \(read as excel;/,
  );
  const excel = parseCsv("t,v\n45658,1\n45658.25,2\n");
  assert.deepEqual([...excel.ts], [Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 1, 6)]);
  assert.equal(excel.timeForm, "excel");
  const named = parseCsv("t,v\n2024-03-14 13:05,1\n", { timeFormat: "iso" });
  assert.deepEqual([named.timeForm, named.timeFormDetected], ["iso", false]);
  assert.throws(
    () => parseCsv("t,v\n1735689600,1\n", { timeFormat: "mdy", source: "d.csv" }),
    /line 2, column "t" must be a date and time M\/D\/YYYY H:MM\[:SS\] \[AM\|PM\], month first \(UTC\): current value is "1735689600"$/,
  );
});
