import assert from "node:assert/strict";
import type { ForecastJson, RecentJson } from "../../../src/dashboard/page/api_types.ts";
import { bandRows, chartData, emptyKept, mergeRecent } from "../../../src/dashboard/page/series.ts";

const T0 = Date.UTC(2025, 5, 2);
const STEP = 300_000;
const iso = (i: number) => new Date(T0 + i * STEP).toISOString();

/** A recent answer of readings i in `steps` (value 20 + i, forecast made 20 + i - 0.1 ± 0.5). */
function recent(steps: number[], gap: boolean[] = steps.map(() => false)): RecentJson {
  return {
    stream: "room",
    capacity: 288,
    timestamps: steps.map(iso),
    gap,
    targets: {
      t: {
        value: steps.map((i) => 20 + i),
        point: steps.map((i) => 20 + i - 0.1),
        lower: steps.map((i) => 20 + i - 0.6),
        upper: steps.map((i) => 20 + i + 0.4),
      },
    },
  };
}

Deno.test("mergeRecent() appends only the readings newer than the last kept one", () => {
  let kept = mergeRecent(emptyKept(), recent([0, 1, 2]), "t", 100);
  assert.deepEqual(kept.ts, [T0, T0 + STEP, T0 + 2 * STEP]);
  // an answer overlapping what is kept (a poll that raced another)
  kept = mergeRecent(kept, recent([2, 3]), "t", 100);
  assert.deepEqual(kept.value, [20, 21, 22, 23]);
  assert.deepEqual(kept.point, [19.9, 20.9, 21.9, 22.9]);
});

Deno.test("mergeRecent() keeps the newest `max` readings, and ignores another target", () => {
  const kept = mergeRecent(emptyKept(), recent([0, 1, 2, 3, 4]), "t", 3);
  assert.deepEqual(kept.value, [22, 23, 24]);
  assert.deepEqual(kept.lower, [21.4, 22.4, 23.4]);
  assert.equal(kept.gap.length, 3);
  assert.deepEqual(mergeRecent(kept, recent([5]), "other", 3), kept);
});

const forecast: ForecastJson = {
  stream: "room",
  origin: iso(3),
  periodMs: STEP,
  timestamps: [iso(4), iso(5)],
  coverage: 0.9,
  targets: { t: { point: [24, 25], lower: [23, null], upper: [25, null] } },
};

Deno.test("chartData() lines up the kept readings and the forecast ahead, x in seconds", () => {
  const kept = mergeRecent(emptyKept(), recent([2, 3]), "t", 100);
  const d = chartData(kept, forecast, "t");
  assert.deepEqual(d.x, [2, 3, 4, 5].map((i) => (T0 + i * STEP) / 1000));
  assert.deepEqual(d.value, [22, 23, null, null]);
  assert.deepEqual(d.point, [21.9, 22.9, 24, 25]);
  assert.deepEqual(d.lower, [21.4, 22.4, 23, null]);
  assert.deepEqual(d.upper, [22.4, 23.4, 25, null]);
  assert.equal(bandRows(d), 3, "the band is drawn where both bounds are numbers");
});

Deno.test("chartData() breaks the lines where a gap came before a reading, and cuts at `fromTs`", () => {
  const kept = mergeRecent(emptyKept(), recent([0, 1, 5], [false, false, true]), "t", 100);
  const d = chartData(kept, null, "t");
  assert.deepEqual(d.x, [0, 1, 3, 5].map((i) => (T0 + i * STEP) / 1000));
  assert.deepEqual(d.value, [20, 21, null, 25]);
  assert.deepEqual(chartData(kept, null, "t", T0 + STEP).value, [21, null, 25]);
  // the first reading in view has nothing before it to break from
  assert.deepEqual(chartData(kept, null, "t", T0 + 2 * STEP).value, [25]);
});

Deno.test("chartData() drops forecast steps at or before the last reading (a forecast older than the readings)", () => {
  const kept = mergeRecent(emptyKept(), recent([3, 4]), "t", 100);
  const d = chartData(kept, forecast, "t");
  assert.deepEqual(d.x, [3, 4, 5].map((i) => (T0 + i * STEP) / 1000));
  assert.deepEqual(d.point, [22.9, 23.9, 25]);
  assert.deepEqual(chartData(emptyKept(), forecast, "t").point, [24, 25]);
});
