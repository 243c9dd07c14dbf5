import assert from "node:assert/strict";
import {
  addCounts,
  type HitCount,
  labelKey,
  parseLabels,
  probationRows,
  scoreAlerts,
} from "../../src/replay/labels.ts";

const MIN5 = 300_000;
const T0 = Date.UTC(2024, 2, 4);
/** 4,032 readings every 5 minutes: two weeks. */
const ts = Float64Array.from({ length: 4032 }, (_, r) => T0 + r * MIN5);
const at = (r: number) => new Date(T0 + r * MIN5).toISOString().slice(0, 19).replace("T", " ");

Deno.test("labelKey() is the data file's folder and name, as NAB's windows file keys it", () => {
  assert.equal(
    labelKey("../shared/data/nab/realKnownCause/nyc_taxi.csv"),
    "realKnownCause/nyc_taxi.csv",
  );
  assert.equal(labelKey("C:\\data\\synthEnv\\room.csv"), "synthEnv/room.csv");
});

Deno.test("probationRows() is NAB's: 15% of the rows, at most 750", () => {
  assert.equal(probationRows(1000), 150);
  assert.equal(probationRows(4032), 604);
  assert.equal(probationRows(22695), 750);
});

Deno.test("parseLabels() reads NAB's windows with their kinds and names what is wrong", () => {
  const windows = JSON.stringify({
    "f/a.csv": [[`${at(1000)}.000000`, `${at(1100)}.000000`], [at(2000), at(2100)]],
    "f/b.csv": [],
  });
  const kinds = JSON.stringify({ "f/a.csv": ["spike", "stuck"], "f/b.csv": [] });
  const l = parseLabels(windows, kinds);
  assert.deepEqual(l.get("f/a.csv"), [
    { start: ts[1000], end: ts[1100], kind: "spike" },
    { start: ts[2000], end: ts[2100], kind: "stuck" },
  ]);
  assert.deepEqual(l.get("f/b.csv"), []);
  assert.equal(parseLabels(windows).get("f/a.csv")![0].kind, "unknown");
  assert.throws(
    () => parseLabels(windows, JSON.stringify({ "f/a.csv": ["spike"] })),
    /^RangeError: Cannot read labels: the kinds of "f\/a.csv" must list one kind per window \(2\): current value is \["spike"\]$/,
  );
  assert.throws(
    () => parseLabels(JSON.stringify({ "f/a.csv": [[at(2), at(1)]] })),
    /each window of "f\/a.csv" must be \[start, end\] in time order/,
  );
});

Deno.test("scoreAlerts() counts hits, delays and false alerts per week after the probationary rows", () => {
  const windows = [
    { start: ts[1000], end: ts[1100], kind: "spike" },
    { start: ts[2000], end: ts[2100], kind: "stuck" },
    { start: ts[3000], end: ts[3100], kind: "spike" },
  ];
  // 100: in probation, ignored; 1040 and 1050: one hit 40 readings in; 1500
  // and 3500: false; 3100: the window's last row, a hit
  const r = scoreAlerts(ts, [100, 1040, 1050, 1500, 3100, 3500], windows);
  assert.deepEqual(r.windows.map((w) => [w.firstRow, w.delay]), [[1040, 40], [-1, -1], [
    3100,
    100,
  ]]);
  assert.equal(r.falseAlerts, 2);
  const weeks = (ts[4031] - ts[604]) / (7 * 86_400_000);
  assert.ok(Math.abs(r.weeks - weeks) < 1e-12, `${r.weeks}`);
  assert.ok(Math.abs(r.falseAlertsPerWeek - 2 / weeks) < 1e-12);
  assert.deepEqual(r.byKind, { spike: { windows: 2, hit: 2 }, stuck: { windows: 1, hit: 0 } });
  const total: Record<string, HitCount> = { spike: { windows: 1, hit: 0 } };
  addCounts(total, r.byKind);
  assert.deepEqual(total, { spike: { windows: 3, hit: 2 }, stuck: { windows: 1, hit: 0 } });
});
