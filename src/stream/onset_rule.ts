/**
 * The onset rule: which readings begin an incident (an onset, what NAB
 * scores and incidents are ranked by) and which are fresh (what an alert may
 * open on), from a stream's smoothed evidence. Used by the anomaly scorer
 * (anomaly.ts) and by the alerts' fusion after it (alert_fusion.ts), each
 * over rings of its own: the scorer's sparse (sparse_ring.ts, a scan of
 * the few slots held), the fusion's dense over its checkpointed state
 * (DenseRing, a scan of refractory slots). No allocation per reading.
 */

/** Smoothed evidence (nats) at or above which a reading continues an incident: one in ten. */
const RUN_EVIDENCE = Math.LN10;

/** A ring of refractory slots the onset rule reads and writes. */
export interface OnsetRing {
  /** The largest value above 0 of every slot but `slot` (the one about to be written), else 0. */
  maxExcept(slot: number): number;
  /** Writes `value` to `slot`. */
  set(slot: number, value: number): void;
}

/** An onset ring over a Float64Array of its own slots (a view of a state array). */
export class DenseRing implements OnsetRing {
  readonly values: Float64Array;

  constructor(values: Float64Array) {
    this.values = values;
  }

  maxExcept(slot: number): number {
    const v = this.values;
    let best = 0;
    for (let i = 0; i < v.length; i++) if (i !== slot && v[i] > best) best = v[i];
    return best;
  }

  set(slot: number, value: number): void {
    this.values[slot] = value;
  }
}

/**
 * The rings and the run an onset rule keeps: the smoothed evidence of the
 * onsets and of the fresh readings of the last `refractory` readings (0 for
 * the others), the onset of the incident under way (0: none), and whether
 * the last reading was fresh.
 */
export interface OnsetRings {
  readonly onsets: OnsetRing;
  readonly peaks: OnsetRing;
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
  r.fresh = !quiet && smoothed > r.peaks.maxExcept(slot);
  r.peaks.set(slot, r.fresh ? smoothed : 0);
  if (smoothed < RUN_EVIDENCE) r.runOnset = 0;
  const starts = !quiet && smoothed > r.onsets.maxExcept(slot) &&
    (r.runOnset === 0 || smoothed > r.runOnset + escalation);
  if (starts) r.runOnset = smoothed;
  r.onsets.set(slot, starts ? smoothed : 0);
  return starts;
}
