/**
 * Persistence: every horizon's forecast is the newest value, x_t. Hard to
 * beat one step ahead on a slow sensor, and the blend's starting point: it
 * is the first expert, which the blend follows alone until the others have
 * a record.
 */
import type { Expert, ExpertContext } from "./expert.ts";

export class PersistenceExpert implements Expert {
  readonly name = "persistence";
  readonly #ctx: ExpertContext;

  constructor(ctx: ExpertContext) {
    this.#ctx = ctx;
  }

  ready(): boolean {
    return true;
  }

  forecast(o: number, _ts: number, values: ArrayLike<number>, e: number): void {
    const { J, Hm, targetIndex, origins } = this.#ctx;
    const { preds, E } = origins;
    for (let h = 1; h <= Hm; h++) {
      for (let j = 0; j < J; j++) {
        preds[((o * Hm + (h - 1)) * J + j) * E + e] = values[targetIndex[j]];
      }
    }
  }
}

/** Persistence is always on. */
export function persistenceExpert(ctx: ExpertContext): Expert {
  return new PersistenceExpert(ctx);
}
