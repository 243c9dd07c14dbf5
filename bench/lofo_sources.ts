/**
 * What carries the alerts' evidence where an alert opens, for
 * `bench/lofo.ts --sources=true` (docs/anomalies_method.md, "The fourteenth
 * round"): which part of src/stream/alert_fusion.ts's harmonic mean, and
 * which of the forecast residuals' tests (src/stream/anomaly.ts).
 */
import type { AnomalyScorer } from "../src/stream/anomaly.ts";

/**
 * What carries the alerts' evidence at a reading (`--sources`): the part of
 * the harmonic mean with the largest share (each detector's evidence less ln
 * tests; a stuck run's and a change of level's less ln 2·tests, as
 * src/stream/alert_fusion.ts counts them; agreeing pairs' part, `pairs`, as
 * the fusion gives it, its cost taken), and for the forecast residuals
 * which of their tests (src/stream/anomaly.ts) gave their smoothed evidence.
 */
export function carrier(
  scorer: Pick<AnomalyScorer, "residual" | "densityEvidence" | "evidence" | "record">,
  s: number,
  shape: number,
  drift: number,
  tests: number,
  stuck: number,
  level: number,
  pairs = 0,
): string {
  const lt = Math.log(tests), l2 = Math.log(2 * tests);
  const parts: [string, number][] = [
    ["residuals", scorer.residual - lt],
    ["shape", (Number.isNaN(shape) ? 0 : shape) - lt],
    ["drift", (Number.isNaN(drift) ? 0 : drift) - lt],
    ["stuck run", stuck - l2],
    ["level", level - l2],
    ["agreeing pairs", pairs],
  ];
  const [top] = parts.reduce((p, q) => (q[1] > p[1] ? q : p));
  if (top !== "residuals") return top;
  const r = scorer.residual;
  if (scorer.densityEvidence > 0 && scorer.densityEvidence >= r) return "density record";
  if (scorer.evidence >= r) {
    if (scorer.record <= 1) return "one reading";
    return s <= 1 ? "range record, s <= 1" : "range record, s > 1";
  }
  return "two-reading sum";
}
