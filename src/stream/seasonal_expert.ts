/**
 * Seasonal persistence: the value one season before the target time (the
 * same time yesterday, for a daily season), from the history ring. The
 * season in readings follows from the preset's `seasonSeconds` and the
 * sampling period (stream.ts); the expert joins once the history holds a
 * whole season, and a season of 0 (`seasonSeconds` 0, or a period that does
 * not divide it into 2 … 10,080 readings) leaves it out for good.
 */
import type { Expert, ExpertContext } from "./expert.ts";

export class SeasonalExpert implements Expert {
  readonly name = "seasonal";
  readonly #ctx: ExpertContext;

  constructor(ctx: ExpertContext) {
    this.#ctx = ctx;
  }

  /** A whole season of rows. */
  lookback(): number {
    return this.#ctx.season;
  }

  ready(): boolean {
    const { season, history } = this.#ctx;
    return season > 0 && history.length >= season;
  }

  forecast(o: number, _ts: number, _values: ArrayLike<number>, e: number): void {
    const { J, Hm, targetIndex, origins, history, season } = this.#ctx;
    const { preds, E } = origins;
    for (let h = 1; h <= Hm; h++) {
      // the newest reading at the same phase of the season as the target time
      const back = season * Math.ceil(h / season) - h;
      for (let j = 0; j < J; j++) {
        preds[((o * Hm + (h - 1)) * J + j) * E + e] = history.back(back, targetIndex[j]);
      }
    }
  }
}

/** Seasonal persistence is always built; a season of 0 keeps it out of the blend. */
export function seasonalExpert(ctx: ExpertContext): Expert {
  return new SeasonalExpert(ctx);
}
