/**
 * Scoring a reading against the forecasts made for it, before anything
 * learns from it: for each horizon whose origin slot still holds the
 * forecast made for this reading, the squared error of each expert and of
 * the blend (the accuracy of stats()), the interval's hit or miss (which
 * calibrates it), and from the one-step forecasts the surprise, the
 * residual over the interval's half-width. The surprise and whether a
 * target broke its range make the residual's evidence (anomaly.ts); the
 * shape detector (shape.ts) sees the reading's normalised values and its
 * evidence is fused with the residual's; the false-alarm budget (budget.ts)
 * sets the threshold the alerts open at from the record before this reading,
 * and counts this reading's evidence unless it lies inside an alert. The
 * drift detector (drift.ts), when on, is fused after the scorer
 * (alert_fusion.ts): its evidence reaches the alerts and their own budget,
 * never the scorer's side that decides what is learned.
 */
import { evidenceToUnit, unitToEvidence } from "./anomaly.ts";
import type { Observation } from "./read_models.ts";
import type { StreamModel } from "./stream.ts";
import type { ShapeDetector } from "./shape.ts";
import type { DriftDetector } from "./drift.ts";

/**
 * Scores reading m.step (values (I)) and writes its anomaly figures into
 * obs; returns the origin slot of its one-step forecast, or -1 if there is
 * none (the first reading, after a gap or a rewind).
 */
export function scoreReading(m: StreamModel, values: ArrayLike<number>, obs: Observation): number {
  const { J, Hm, E, origins, step } = m;
  // the blend of each slot at cOff of forecasts, its half-width at qUsedAt + cOff
  const { preds, forecasts, qUsedAt, active } = origins;
  let slot1 = -1;
  let surprise = -1;
  m.levelShift.u.fill(NaN);
  for (let h = 1; h <= Hm; h++) {
    const o = origins.arrived(step, h);
    if (o < 0) continue;
    if (h === 1) slot1 = o;
    m.scoredCount[h - 1]++;
    const mask = active[o];
    for (let j = 0; j < J; j++) {
      const col = m.targetIndex[j];
      const y = values[col];
      const pOff = ((o * Hm + (h - 1)) * J + j) * E;
      const cOff = (o * Hm + (h - 1)) * J + j;
      const s = (h - 1) * J + j;
      const r = y - forecasts[cOff];
      // accuracy of each expert (an expert out of the blend counts as the
      // first, persistence) and of the blend, in the target's units
      const acc = s * (E + 1);
      for (let e = 0; e < E; e++) {
        // (the index chosen, not the number: a double picked by `?:` is a heap object in Maglev)
        const pe = preds[mask & (1 << e) ? pOff + e : pOff];
        m.sqErr[acc + e] += (y - pe) ** 2;
      }
      m.sqErr[acc + E] += r * r;
      const q = forecasts[qUsedAt + cOff];
      m.intervals.update(s, Math.abs(r), Number.isNaN(q) ? Infinity : q);
      if (h === 1 && !Number.isNaN(q)) {
        // the half-width floored at 1e-3 of the target's spread: an interval
        // that has shrunk to nothing on a noise-free stretch would make every
        // later deviation a new record surprise
        const floor = 1e-3 * m.level.scale(col);
        const u = r / Math.max(q, floor, 1e-12);
        surprise = Math.max(surprise, Math.abs(u));
        // (the signed residual, for the level-shift evidence: level_shift.ts)
        m.levelShift.u[j] = u;
      }
    }
  }
  // a record: a target outside every value it has had (its evidence, ln n,
  // counts at most the readings of the remembered history); on a young
  // stream, whose alerts open at the fixed threshold because its budget's
  // record cannot set one yet, only when the forecast missed it too (a
  // surprise beyond the interval's edge): a range seen over a day or two is a
  // first impression (the second day's high of a daily cycle is a record),
  // the forecast knows better; once the budget sets the threshold from the
  // stream's own upcrossings, records count as they come; without a budget
  // they always do, as before it; and during the alerts' warm-up, whose
  // unusual readings the density test's record must hold (anomaly.ts)
  const a = m.preset.anomaly;
  // the scorer's side follows the alerts and the budget of its own evidence
  // (alert_fusion.ts: the stream's own without a drift detector)
  const { base, baseBudget } = m.fusion;
  const young = baseBudget.enabled && base.state !== "warming_up" &&
    !baseBudget.sets(m.periodMs);
  let record = 0;
  for (let j = 0; j < J; j++) {
    const y = values[m.targetIndex[j]];
    if (m.range.isRecord(j, y) && (!young || surprise > 1)) {
      record = Math.min(m.range.count, a.history);
    }
    m.range.add(j, y);
  }
  m.range.count++;
  // the shape detector sees every reading, in the level normaliser's units; the
  // anomaly path learns outside the evidence guard's anomalies (stream.ts)
  const learn = m.evidenceGuard.state !== "anomaly" || a.learnDuringAnomaly;
  for (let j = 0; j < J; j++) {
    const col = m.targetIndex[j];
    m.zJ[j] = (values[col] - m.level.moments[col]) / m.level.scale(col);
  }
  m.shape.update(m.zJ, obs.ts, learn);
  // (a stuck run, the shape detector's second look: the raw values, exactly)
  m.stuck?.update(values, m.targetIndex);
  m.drift.update(m.zJ, obs.ts, learn);
  if (surprise >= 0) {
    // (the evidence as scalars, not shapeEvidence's and fusedEvidence's
    // arrays: nothing on this path allocates per reading)
    const { shape, drift } = m;
    m.scorer.update(
      surprise,
      record,
      learn,
      base.state === "warming_up",
      scorerShape(shape),
      scorerTests(shape),
    );
    // alerts open at the budget's threshold, from the record before this reading
    const fixed = unitToEvidence(a.threshold);
    base.threshold = baseBudget.enabled
      ? evidenceToUnit(baseBudget.threshold(m.periodMs, fixed))
      : a.threshold;
    if (learn && base.state !== "warming_up") baseBudget.update(m.scorer.smoothed);
    m.levelShift.update(learn);
    const f = m.fusion;
    if (f.enabled) {
      // the drift detector's evidence, fused after the scorer: the alerts' own
      f.update(
        m.scorer.residual,
        fusedShape(shape),
        fusedDrift(drift),
        fusedTests(shape, drift),
        m.alerts.state === "warming_up",
        // the threshold as it stands, the reading before's (the budget moves it slowly)
        unitToEvidence(m.alerts.threshold),
        m.stuck ? m.stuck.evidence : 0,
        m.levelShift.evidence,
        m.periodMs,
      );
      m.alerts.threshold = m.budget.enabled
        ? evidenceToUnit(m.budget.threshold(m.periodMs, fixed))
        : a.threshold;
      if (learn && m.alerts.state !== "warming_up") {
        m.budget.update(f.smoothed);
        f.learnPairs(); // (the agreeing pairs' own record, when on: pairs_record.ts)
      }
    }
    // each written once (a number written over another in these fields is a new heap object)
    obs.score = m.scorer.score;
    obs.likelihood = f.enabled ? f.likelihood : m.scorer.likelihood;
    obs.onset = f.enabled ? f.onset : m.scorer.onset;
    obs.percentile = m.scorer.percentile;
  }
  return slot1;
}

/**
 * The shape detector's evidence, to fuse with the residual's in the scorer
 * (0 while it is not scoring, so that evidence compared across time, as
 * onsets are, is fused alike), and the number of detectors for
 * Bonferroni's correction; NaN when it does not run (the residual's
 * evidence alone, not fused).
 */
export function shapeEvidence(shape: ShapeEvidence): [evidence: number, tests: number] {
  return [scorerShape(shape), scorerTests(shape)];
}

type ShapeEvidence = Pick<ShapeDetector, "enabled" | "ready" | "evidence">;
type DriftEvidence = Pick<DriftDetector, "enabled" | "ready" | "evidence">;

// {@link shapeEvidence} and {@link fusedEvidence} a number at a time, for the per-reading path
const scorerShape = (s: ShapeEvidence) => s.enabled ? (s.ready ? s.evidence : 0) : NaN;
const scorerTests = (s: ShapeEvidence) => s.enabled ? 2 : 1;
const fusedShape = (s: ShapeEvidence) => s.enabled ? (s.ready ? s.evidence : 0) : NaN;
const fusedDrift = (d: DriftEvidence) => d.enabled && d.ready ? d.evidence : NaN;
const fusedTests = (s: ShapeEvidence, d: DriftEvidence) =>
  1 + (s.enabled ? 1 : 0) + (d.ready ? 1 : 0);

/**
 * The evidence the alerts fuse after the scorer (alert_fusion.ts): the
 * shape detector's (0 while it is not scoring yet, NaN when it does not
 * run), the drift detector's (NaN while not scoring) and the number of
 * detectors for the correction: the drift detector counts once it is
 * scoring (a detector that gives no p-value is not a test looked at, and
 * is left out of the harmonic mean), the shape detector as in the scorer.
 */
export function fusedEvidence(
  shape: ShapeEvidence,
  drift: DriftEvidence,
): [shape: number, drift: number, tests: number] {
  return [fusedShape(shape), fusedDrift(drift), fusedTests(shape, drift)];
}
