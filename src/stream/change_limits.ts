/**
 * How far an expert's predicted change may reach: 3 RMS of the changes seen
 * at that horizon. A linear model fed a column that woke up, or an LSTM
 * rolled out after a jump to a new level, can predict a change far larger
 * than any seen; the experts that predict a change from the newest value
 * (linear, LSTM) clip it to this limit.
 *
 * Per (horizon, target) slot s = (h - 1)·J + j it keeps the running mean
 * square of the normalised h-step change (x_t - x_{t-h}) / scale, learned
 * from the origins whose lag window is learnable (OriginSlots.learnable),
 * the same examples the linear expert learns from. In a checkpoint: `change2`.
 */
import type { Normalizer } from "../model/normalize.ts";
import type { OriginSlots } from "./origin_slots.ts";

export class ChangeLimits {
  readonly Hm: number = 0;
  readonly J: number = 0;
  /** ms (Hm, J): running mean square of the normalised change; 0 before the first. */
  readonly ms: Float64Array;

  /** `ms`: where the mean squares live (Hm·J, zeros). Default: an array of its own. */
  constructor(Hm: number, J: number, ms: Float64Array = new Float64Array(Hm * J)) {
    const n = Hm * J;
    if (ms.length !== n) {
      throw new RangeError(
        `Cannot create change limits: 'ms' must hold Hm·J = ${n} numbers: current length is ${ms.length}`,
      );
    }
    this.Hm = Hm;
    this.J = J;
    this.ms = ms;
  }

  /** The largest |change| (normalised) a forecast of slot s may predict. */
  limit(s: number): number {
    return 3 * Math.sqrt(this.ms[s]);
  }

  /**
   * Learns from reading `step` (values (I); targets at columns targetIndex
   * (J)) the change since every learnable origin whose horizon it is,
   * divided by the level's current spread.
   */
  learn(
    step: number,
    values: ArrayLike<number>,
    targetIndex: Int32Array,
    origins: OriginSlots,
    lastSkipped: number,
    level: Normalizer,
  ): void {
    const { Hm, J } = this;
    for (let h = 1; h <= Hm; h++) {
      const o = origins.arrived(step, h);
      if (o < 0 || !origins.learnable(o, lastSkipped)) continue;
      for (let j = 0; j < J; j++) {
        const col = targetIndex[j];
        const c = (values[col] - origins.record[origins.xAt + o * J + j]) / level.scale(col);
        const s = (h - 1) * J + j;
        // (two stores rather than one of `?:`: a double picked by `?:` is a heap object in
        // V8's mid tier, Maglev)
        if (this.ms[s] === 0) this.ms[s] = c * c;
        else this.ms[s] = 0.999 * this.ms[s] + 0.001 * c * c;
      }
    }
  }
}

/** v clipped to [-lim, lim]. */
export function clip(v: number, lim: number): number {
  return Math.max(-lim, Math.min(lim, v));
}
