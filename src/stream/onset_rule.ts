/**
 * The onset rule: which readings begin an incident (an onset, what NAB
 * scores and incidents are ranked by) and which are fresh (what an alert may
 * open on), from a stream's smoothed evidence. Used by the anomaly scorer
 * (anomaly.ts) and by the alerts' fusion after it (alert_fusion.ts), each
 * over rings of its own. O(refractory) per reading, no allocation.
 */

/** Smoothed evidence (nats) at or above which a reading continues an incident: one in ten. */
const RUN_EVIDENCE = Math.LN10;

/** The largest value of a ring other than the one in `slot` (the slot about to be overwritten). */
function maxExcept(ring: Float64Array, slot: number): number {
  let best = 0;
  for (let i = 0; i < ring.length; i++) if (i !== slot && ring[i] > best) best = ring[i];
  return best;
}

/**
 * The rings and the run an onset rule keeps: the smoothed evidence of the
 * onsets and of the fresh readings of the last `refractory` readings (0 for
 * the others), the onset of the incident under way (0: none), and whether
 * the last reading was fresh.
 */
export interface OnsetRings {
  readonly onsets: Float64Array;
  readonly peaks: Float64Array;
  runOnset: number;
  fresh: boolean;
}

/**
 * Steps the onset rule by one reading of smoothed evidence `smoothed` (nats)
 * in ring slot `slot`; returns whether it is an onset. Fresh (what alerts
 * open on): above every fresh reading of the refractory period, so an
 * incident's peak holds off a weaker repeat. Onset: above every onset of the
 * refractory period; within an incident (readings with elevated evidence
 * since its onset) rising evidence is the same incident unfolding, reported
 * again only when it escalates by `escalation` nats. `quiet` (warming up):
 * neither.
 */
export function stepOnset(
  r: OnsetRings,
  slot: number,
  smoothed: number,
  quiet: boolean,
  escalation: number,
): boolean {
  r.fresh = !quiet && smoothed > maxExcept(r.peaks, slot);
  r.peaks[slot] = r.fresh ? smoothed : 0;
  if (smoothed < RUN_EVIDENCE) r.runOnset = 0;
  const starts = !quiet && smoothed > maxExcept(r.onsets, slot) &&
    (r.runOnset === 0 || smoothed > r.runOnset + escalation);
  if (starts) r.runOnset = smoothed;
  r.onsets[slot] = starts ? smoothed : 0;
  return starts;
}
