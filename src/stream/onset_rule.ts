/**
 * The onset rule: which readings begin an incident (an onset, what NAB
 * scores and incidents are ranked by) and which are fresh (what an alert may
 * open on), from a stream's smoothed evidence. Used by the anomaly scorer
 * (anomaly.ts) and by the alerts' fusion after it (alert_fusion.ts), each
 * over rings of its own, held as their latest entry alone ({@link
 * LatestRing}, two numbers). No allocation per reading.
 *
 * Why the latest entry is enough: a ring holds one slot per reading of the
 * refractory period, and the rule writes each reading's slot once, right
 * after reading the largest of the others (`maxExcept(slot)`: the slot
 * about to be written holds the reading a whole period ago). It writes a
 * value above 0 only when that value is larger than the largest of the
 * others (fresh: above every fresh reading; an onset: above every onset),
 * else 0. So, by induction over the readings, of the slots holding a value
 * above 0 the one written last holds the largest: a write above 0 makes
 * the new entry the largest, and a write of 0 only takes an entry away.
 * Hence `maxExcept(slot)` is the latest entry's value, or 0 when the latest
 * entry is in `slot` itself (then every older entry has left the ring too,
 * and every newer slot holds 0). tests/stream/onset_rule_test.ts steps the
 * dense ring and the pair side by side on random evidence.
 */
import { DOUBLE_ZERO } from "../model/floats.ts";
/** Smoothed evidence (nats) at or above which a reading continues an incident: one in ten. */
const RUN_EVIDENCE = Math.LN10;

/** A ring of refractory slots the onset rule reads and writes. */
export interface OnsetRing {
  /** The largest value above 0 of every slot but `slot` (the one about to be written), else 0. */
  maxExcept(slot: number): number;
  /** Writes `value` to `slot`. */
  set(slot: number, value: number): void;
}

/**
 * An onset ring as its latest entry above 0 and the slot it is in (see the
 * module comment): what the onset rule reads of a ring, in two numbers. It
 * holds for a writer that, as {@link stepOnset}, writes every slot in turn
 * and above 0 only a value larger than `maxExcept(slot)`.
 */
export class LatestRing implements OnsetRing {
  /** The latest value above 0 written (0: none in the ring). */
  value = DOUBLE_ZERO; // a double from the start: see DOUBLE_ZERO
  /** The slot it was written to. */
  slot = 0;

  constructor() {
    // written a second time: V8 takes a field never written again for a
    // constant, and the first write would throw away the optimised code
    // that relied on it (the scorer's and the fusion's)
    this.slot = 0;
  }

  maxExcept(slot: number): number {
    return slot === this.slot ? 0 : this.value;
  }

  set(slot: number, value: number): void {
    if (value > 0) {
      this.value = value;
      this.slot = slot;
    } else if (slot === this.slot) this.value = 0;
  }

  /**
   * Holds what the dense ring `values` (one slot per reading, written by
   * {@link stepOnset}) stands for: its largest value above 0 and its slot.
   */
  load(values: ArrayLike<number>): void {
    this.value = 0;
    this.slot = 0;
    for (let i = 0; i < values.length; i++) {
      if (!(values[i] > this.value)) continue;
      this.value = values[i];
      this.slot = i;
    }
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
 * refractory period by `margin` nats (0: above it); within an incident
 * (readings with elevated evidence since its onset) rising evidence is the
 * same incident unfolding, reported again only when it escalates by
 * `escalation` nats. `quiet` (warming up): neither.
 */
export function stepOnset(
  r: OnsetRings,
  slot: number,
  smoothed: number,
  quiet: boolean,
  escalation: number,
  margin = 0,
): boolean {
  r.fresh = !quiet && smoothed > r.peaks.maxExcept(slot);
  r.peaks.set(slot, r.fresh ? smoothed : 0);
  if (smoothed < RUN_EVIDENCE) r.runOnset = 0;
  const prior = r.onsets.maxExcept(slot);
  const starts = !quiet && smoothed > (prior > 0 ? prior + margin : 0) &&
    (r.runOnset === 0 || smoothed > r.runOnset + escalation);
  if (starts) r.runOnset = smoothed;
  r.onsets.set(slot, starts ? smoothed : 0);
  return starts;
}
