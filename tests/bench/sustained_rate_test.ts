/** bench/sustained_rate.ts: the capacity part's sustained rate from acknowledgement times. */
import assert from "node:assert/strict";
import { ackedEverySecond, ackedRate, sustainedRate } from "../../bench/sustained_rate.ts";

/** A log of `readings[i]` acknowledged at t0 + `ms[i]`. */
const log = (t0: number, ms: number[], readings: number[]) => ({
  at: ms.map((m) => t0 + m),
  readings,
});

Deno.test("sustainedRate() counts from the moment a quarter was acknowledged to the last", () => {
  // 10 readings at 100, 200, ..., 500 ms: a quarter (12.5) is reached at 200 ms, with 20 acknowledged;
  // 30 more up to 500 ms, in 300 ms
  const r = sustainedRate(log(1000, [100, 200, 300, 400, 500], [10, 10, 10, 10, 10]), 50, 1000);
  assert.deepEqual(r, { readingsPerSecond: 100, fromMs: 200, toMs: 500, readings: 30 });
});

Deno.test("sustainedRate() counts every acknowledgement of the window's first moment before it", () => {
  // two connections' reads at 200 ms: both are before the window, whichever reached the quarter
  const r = sustainedRate(log(0, [100, 200, 200, 600], [10, 5, 25, 40]), 80, 0);
  assert.equal(r.fromMs, 200);
  assert.equal(r.readings, 40);
  assert.equal(r.readingsPerSecond, 100);
});

Deno.test("sustainedRate() takes the log in time order when it is not", () => {
  const sorted = sustainedRate(log(0, [100, 200, 300, 400, 500], [10, 10, 10, 10, 10]), 50, 0);
  const shuffled = sustainedRate(log(0, [300, 100, 500, 200, 400], [10, 10, 10, 10, 10]), 50, 0);
  assert.deepEqual(shuffled, sorted);
});

Deno.test("sustainedRate() opens the window at fromShare of the readings", () => {
  // half of 100: reached at 300 ms (60 acknowledged), 40 more by 700 ms
  const r = sustainedRate(log(0, [100, 300, 500, 700], [20, 40, 20, 20]), 100, 0, 0.5);
  assert.deepEqual(r, { readingsPerSecond: 100, fromMs: 300, toMs: 700, readings: 40 });
});

Deno.test("sustainedRate() refuses a log that does not count each reading once", () => {
  assert.throws(
    () => sustainedRate(log(0, [100, 200], [10, 10]), 30, 0),
    /must count each of the 30 readings once: current count is 20/,
  );
  assert.throws(
    () => sustainedRate(log(0, [100, 200], [10, 30]), 30, 0),
    /current count is 40/,
  );
  assert.throws(() => sustainedRate(log(0, [100], [10]), 10, 0, 1), /fromShare/);
});

Deno.test("sustainedRate() gives no rate when the window is one moment", () => {
  const r = sustainedRate(log(0, [100, 100], [10, 10]), 20, 0);
  assert.equal(r.readingsPerSecond, null);
  assert.equal(r.readings, 0);
});

Deno.test("ackedRate() counts the readings acknowledged after its start up to its end", () => {
  const l = log(50, [100, 200, 300, 400], [10, 20, 30, 40]);
  // (200, 400]: 70 readings in 200 ms
  assert.equal(ackedRate(l, 50, 200, 400), 350);
  // (0, 400]: the whole run, 100 readings in 400 ms
  assert.equal(ackedRate(l, 50, 0, 400), 250);
  assert.equal(ackedRate(l, 50, 400, 400), null);
});

Deno.test("ackedEverySecond() sums each second's acknowledgements", () => {
  assert.deepEqual(
    ackedEverySecond(log(10, [0, 999, 1000, 3500], [1, 2, 4, 8]), 10),
    [3, 4, 0, 8],
  );
});
