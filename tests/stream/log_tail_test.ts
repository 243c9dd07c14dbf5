import assert from "node:assert/strict";
import { getHeapStatistics } from "node:v8";
import { LOG_TAIL_BINS, LogTail } from "../../src/stream/log_tail.ts";
import { mulberry32 } from "../../src/model/rng.ts";

/** Bytes V8 has allocated on the JS heap since it started (garbage included). */
const allocated = () =>
  (getHeapStatistics() as { total_allocated_bytes?: number }).total_allocated_bytes ?? NaN;

/** n draws of Exp(1) by inversion, from mulberry32(seed). */
function exponential(n: number, seed: number): number[] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => -Math.log(1 - u()));
}

Deno.test("LogTail on a linear scale gives an exponential statistic its own tail, -ln P(X >= v)", () => {
  const tail = new LogTail(1_000_000, 30, new Float64Array(LOG_TAIL_BINS), "linear");
  for (const v of exponential(20_000, 1)) tail.add(v);
  // P(X >= v) = e^-v: the evidence is v itself, within the bins' resolution
  for (const v of [0.5, 1, 2, 4, 6]) {
    assert.ok(Math.abs(tail.evidence(v) - v) < 0.25, `v = ${v}: ${tail.evidence(v)}`);
  }
  // beyond the largest seen (about ln 20,000 = 9.9) it grows linearly in v
  const a = tail.evidence(14), b = tail.evidence(18);
  assert.ok(a > 11 && b - a > 2, `${a}, ${b}`);
});

Deno.test("LogTail on the log scale extrapolates a Pareto tail: far beyond the data, slowly", () => {
  const log = new LogTail(1_000_000, 30);
  const lin = new LogTail(1_000_000, 30, new Float64Array(LOG_TAIL_BINS), "linear");
  for (const v of exponential(20_000, 2)) {
    log.add(v);
    lin.add(v);
  }
  // the same data, a value twice the largest: the exponential tail calls it
  // far rarer than the Pareto one
  assert.ok(lin.evidence(20) > log.evidence(20) + 5, `${lin.evidence(20)}, ${log.evidence(20)}`);
  assert.equal(log.linear, false);
  assert.equal(lin.linear, true);
});

Deno.test("LogTail gives nothing before minCount values", () => {
  const tail = new LogTail(1_000_000, 30, new Float64Array(LOG_TAIL_BINS), "linear");
  for (let i = 0; i < 29; i++) tail.add(1);
  assert.equal(tail.evidence(10), 0);
  // (the mass forgets a little with every value: 30 values hold just under 30)
  tail.add(1);
  tail.add(1);
  assert.ok(tail.total >= 30);
  assert.ok(tail.evidence(10) > 0);
});

Deno.test("LogTail's evidence() and add() allocate nothing per call once V8 has compiled them", () => {
  // the shape and drift detectors call both every reading: a [bin, position] pair made per call
  // was about 120 bytes a pair of calls (node:v8's total_allocated_bytes is exact, whatever the load)
  const tail = new LogTail(1_000, 30);
  const v = Float64Array.from(exponential(1_024, 5));
  const sum = new Float64Array(1);
  const calls = (n: number) => {
    for (let i = 0; i < n; i++) {
      sum[0] += tail.evidence(v[i & 1023]);
      tail.add(v[(i * 7) & 1023]);
    }
  };
  calls(200_000);
  // the least of ten rounds: on a loaded machine V8's optimised code may arrive late, and a
  // round run before it allocates; the pair made per call allocates in every round
  let perPair = Infinity;
  for (let round = 0; round < 10 && perPair >= 16; round++) {
    const before = allocated();
    calls(100_000);
    perPair = Math.min(perPair, (allocated() - before) / 100_000);
  }
  assert.ok(perPair < 16, `bytes a pair of calls: ${perPair}`);
  assert.ok(Number.isFinite(sum[0]) && sum[0] > 0, `evidence summed: ${sum[0]}`);
});
