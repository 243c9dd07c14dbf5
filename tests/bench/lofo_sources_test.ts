/**
 * bench/lofo_sources.ts: what `bench/lofo.ts --sources=true` says carries
 * the alerts' evidence where an alert opens.
 */
import assert from "node:assert/strict";
import { carrier } from "../../bench/lofo_sources.ts";

/** A scorer's residual tests at one reading: smoothed, density, the reading's own, the range record. */
const scorer = (residual: number, densityEvidence: number, evidence: number, record: number) => ({
  residual,
  densityEvidence,
  evidence,
  record,
});

Deno.test("carrier names the residuals' test that gave their evidence", () => {
  // a range record (ln 2,000 = 7.6 of its 9.6 nats) at a reading inside the forecast's interval
  const rec = scorer(9.6, 0, 9.6, 2000);
  assert.equal(carrier(rec, 0.95, 0.5, 1, 3, 0, 0), "range record, s <= 1");
  assert.equal(carrier(rec, 2.5, 0.5, 1, 3, 0, 0), "range record, s > 1");
  // the same evidence without a record: one reading
  assert.equal(carrier(scorer(9.6, 0, 9.6, 0), 4, 0.5, 1, 3, 0, 0), "one reading");
  // the two-reading sum above the reading's own evidence
  assert.equal(carrier(scorer(9.6, 0, 6.1, 0), 2, 0.5, 1, 3, 0, 0), "two-reading sum");
  // the density test's record as the smoothed evidence
  assert.equal(carrier(scorer(10.3, 10.3, 3.3, 0), 1.4, 1, 0.2, 3, 0, 0), "density record");
});

Deno.test("carrier names the detector with the largest share of the harmonic mean", () => {
  const quiet = scorer(1.3, 0, 1.3, 0);
  // the drift detector at its first hours of scoring (NaN: a detector that gives no p-value)
  assert.equal(carrier(quiet, 0.4, 2, 49.9, 3, 0, 0), "drift");
  assert.equal(carrier(quiet, 0.4, 8.8, 1.8, 3, 0, 0), "shape");
  assert.equal(carrier(quiet, 0.4, 0, NaN, 2, 0, 0), "one reading");
  // a stuck run's and a change of level's parts count less ln 2·tests (alert_fusion.ts)
  assert.equal(carrier(quiet, 0.4, 2, 1, 3, 12, 0), "stuck run");
  assert.equal(carrier(quiet, 0.4, 2, 1, 3, 0, 12), "level");
  // a stuck run's 2.7 nats against a shape's 2.2: the stuck run's share is ln 2 less
  assert.equal(carrier(quiet, 0.4, 2.2, 0, 3, 2.7, 0), "shape");
  // agreeing pairs' part, its cost taken (alert_fusion.ts): 13.75 nats against the residuals' 9.76 - ln 2
  assert.equal(carrier(scorer(9.76, 0, 9.76, 0), 1, 7.59, NaN, 2, 0, 0, 13.75), "agreeing pairs");
  assert.equal(carrier(scorer(9.76, 0, 9.76, 0), 1, 7.59, NaN, 2, 0, 0, 8), "one reading");
});
