import assert from "node:assert/strict";
import { PERIOD_DEFAULTS, PeriodEstimator } from "../../src/stream/period_estimator.ts";

/** The period after each interval of `dts`. */
function periods(p: PeriodEstimator, dts: number[]): number[] {
  return dts.map((dt) => {
    p.add(dt);
    return p.periodMs;
  });
}

Deno.test("PeriodEstimator takes the median of the first intervals, not the first one", () => {
  assert.deepEqual(PERIOD_DEFAULTS, { window: 15, tolerance: 1.25, warnShare: 0.1 });
  const p = new PeriodEstimator();
  assert.ok(Number.isNaN(p.periodMs));
  // two readings 28 ms apart, then one a second
  assert.deepEqual(periods(p, [28, 1000, 1000, 1000]), [28, 514, 1000, 1000]);
  assert.equal(p.observedMs, 1000);
  assert.equal(p.source, "estimated");
});

Deno.test("on regular readings with gaps the period is the first interval and never changes", () => {
  const p = new PeriodEstimator();
  const dts = Array.from({ length: 500 }, (_, k) => (k % 37 === 5 ? 3_600_000 : 300_000));
  assert.ok(periods(p, dts).every((v) => v === 300_000));
});

Deno.test("the period is estimated again when the running median disagrees with it for a window", () => {
  const p = new PeriodEstimator();
  periods(p, Array(100).fill(60_000));
  const after = periods(p, Array(40).fill(10_000));
  const changed = after.findIndex((v) => v === 10_000);
  // the median turns with the 8th of 15 intervals, and must disagree for 15 readings (that one too)
  assert.equal(changed, 7 + 14, JSON.stringify(after));
  assert.ok(after.slice(0, changed).every((v) => v === 60_000));
  // jitter within the tolerance changes nothing
  const q = new PeriodEstimator();
  const jitter = Array.from({ length: 300 }, (_, k) => 60_000 * (1 + 0.2 * Math.sin(k)));
  const seen = new Set(periods(q, jitter).slice(15));
  assert.equal(seen.size, 1, [...seen].join(", "));
});

Deno.test("a configured period is kept; the observed one is still measured", () => {
  const p = new PeriodEstimator(300_000);
  assert.equal(p.source, "configured");
  assert.ok(periods(p, Array(50).fill(1000)).every((v) => v === 300_000));
  assert.equal(p.observedMs, 1000);
});

Deno.test("warnGaps() says once when gaps pass warnShare of the recent readings, again after they fell", () => {
  const p = new PeriodEstimator(28);
  const warned: number[] = [];
  // one gap in 50, then all gaps, then none for long enough to re-arm, then all gaps again
  for (let k = 0; k < 1000; k++) {
    const gap = k < 300 ? k % 50 === 0 : k < 400 ? true : k < 800 ? false : true;
    p.add(1000);
    if (p.countGap(gap)) warned.push(k);
  }
  assert.equal(warned.length, 2, JSON.stringify(warned));
  assert.ok(warned[0] > 300 && warned[0] < 320, JSON.stringify(warned));
  assert.ok(warned[1] > 800 && warned[1] < 820, JSON.stringify(warned));
});

Deno.test("PeriodEstimator names a bad option and its value", () => {
  assert.throws(
    () => new PeriodEstimator(undefined, { window: 2 }),
    /^RangeError: Cannot create period estimator: 'window' must be an odd integer from 3 to 255: current value is 2$/,
  );
  assert.throws(
    () => new PeriodEstimator(undefined, { tolerance: 1 }),
    /'tolerance' must be a number above 1: current value is 1$/,
  );
  assert.throws(
    () => new PeriodEstimator(-5),
    /'periodMs' must be a positive number: current value is -5$/,
  );
});

Deno.test("PeriodEstimator keeps its recent intervals in the arrays it is given, of window numbers", () => {
  const recent = new Float64Array(PERIOD_DEFAULTS.window), sorted = new Float64Array(recent.length);
  const p = new PeriodEstimator(undefined, {}, [recent, sorted]);
  for (let i = 0; i < 5; i++) p.add(60_000);
  assert.equal(p.recent, recent);
  assert.equal(recent.filter((v) => v === 60_000).length, 5);
  assert.equal(p.observedMs, 60_000);
  assert.throws(
    () => new PeriodEstimator(undefined, { window: 5 }, [recent, sorted]),
    /^RangeError: Cannot create period estimator: 'at' must be two arrays of 5 numbers \(the window\): current value is of lengths 15 and 15$/,
  );
});
