/**
 * What the anomaly path of issue 11 costs per reading, in process: the shape
 * detector (src/stream/shape.ts) with a full memory, scoring and learning one
 * reading per iteration, for one target and for seven (an ETT-like stream),
 * its stuck runs (src/stream/shape_stuck.ts) past their warm-up on a
 * continuous sensor (no run: the common case) and on one whose every reading
 * is in a run (a value held, scored every reading), and the alert budget
 * (src/stream/budget.ts), counting one reading and computing the threshold.
 *
 *   deno bench bench/shape_bench.ts
 */
import { ShapeDetector } from "../src/stream/shape.ts";
import { AlertBudget } from "../src/stream/budget.ts";
import { StuckRuns } from "../src/stream/shape_stuck.ts";
import { gaussian, mulberry32 } from "../src/model/rng.ts";

const FIVE_MIN = 300_000, T0 = Date.UTC(2026, 0, 5);

/** A detector of J targets past its warm-up, memory full and scoring. */
function warmed(J: number, window: number) {
  const sd = new ShapeDetector(J, { window, history: 20_000, warmup: 288 });
  const g = gaussian(mulberry32(1));
  const z = new Float64Array(J);
  let n = 0;
  const step = () => {
    for (let j = 0; j < J; j++) z[j] = Math.sin((2 * Math.PI * n) / 288) + 0.3 * g();
    sd.update(z, T0 + n * FIVE_MIN, true);
    n++;
  };
  while (!sd.ready) step();
  return step;
}

for (const [J, window] of [[1, 16], [1, 32], [1, 64], [7, 16]]) {
  const step = warmed(J, window);
  Deno.bench(`ShapeDetector.update, J = ${J}, S = ${window}`, { group: "shape" }, step);
}

/**
 * Stuck runs of J targets past their warm-up, fed continuous values (no run)
 * or runs of 50 of one value between single readings (a run scored at 49 of
 * every 50 readings, and one ending); the values are drawn beforehand, so
 * the time is the stuck runs' alone.
 */
function stuckRuns(J: number, held: boolean) {
  const s = new StuckRuns(J, { history: 20_000, warmup: 288 });
  const g = gaussian(mulberry32(3));
  const ROWS = 4096, at = Int32Array.from({ length: J }, (_, j) => j);
  const rows = Array.from({ length: ROWS }, () => new Float64Array(J));
  for (let n = 0; n < ROWS; n++) {
    for (let j = 0; j < J; j++) {
      rows[n][j] = held && n % 50 !== 0 ? rows[n - 1][j] : 20 + g();
    }
  }
  let n = 0;
  const step = () => {
    s.update(rows[n], at);
    n = n + 1 === ROWS ? 0 : n + 1;
  };
  for (let i = 0; i < 2_000; i++) step();
  return step;
}

for (const J of [1, 7]) {
  for (const held of [false, true]) {
    const what = held ? "every reading in a run" : "no run";
    Deno.bench(`StuckRuns.update, J = ${J}, ${what}`, { group: "stuck" }, stuckRuns(J, held));
  }
}

const budget = new AlertBudget({ falseAlertsPerWeek: 1, history: 20_000, floor: Math.log(100) });
const u = mulberry32(2);
for (let n = 0; n < 20_000; n++) budget.update(-Math.log(1 - u()));
Deno.bench("AlertBudget.update and threshold", { group: "budget" }, () => {
  budget.update(-Math.log(1 - u()));
  budget.threshold(FIVE_MIN, 11.5);
});
