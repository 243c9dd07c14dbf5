/**
 * The linear expert: one online linear model per horizon h (recursive least
 * squares, rls.ts) predicting the change x_{t+h} - x_t of every target, in
 * the target's spread, from features φ (d): the newest L rows of every
 * column (normalised, the origin slot's lag rows), the calendar of the
 * target time when the preset has calendar inputs, and a constant 1.
 *
 * Learning is leak-free: the horizon-h model learns at time t from the
 * features of t - h and the change x_t - x_{t-h}, once that value has
 * arrived, and only when the stream learned from every reading since the
 * first of the origin's L rows (OriginSlots.learnable). Its predicted
 * change is clipped to the change limit of its slot.
 *
 * The ridge is held (rls.ts: it does not fade with forgetting, so the
 * models cannot wind up on a constant, duplicated or rescaled column) unless
 * `linear.holdRidge` is false, and the h-step model's ridge is
 * `ridge + ridgePerStep·(h - 1)`: its targets overlap over h readings.
 *
 * Preset: `linear` (lags L, forgetting, ridge, holdRidge, ridgePerStep). In
 * a checkpoint, per horizon h - 1: `rlsP<h-1>`, `rlsW<h-1>` and the held
 * ridge's cycle `rlsC<h-1>` (absent before issue 11: a fresh cycle).
 */
import { CALENDAR_FEATURES, calendarFeaturesAt } from "./calendar.ts";
import { clip } from "./change_limits.ts";
import type { Expert, ExpertContext } from "./expert.ts";
import { Rls, RlsBlock } from "./rls.ts";
import type { StateArrays } from "./state.ts";

export class LinearExpert implements Expert {
  readonly name = "linear";
  /** One model per horizon (Hm), features d = L·I + calendar + 1, J outputs. */
  readonly rls: Rls[];
  readonly #ctx: ExpertContext;
  /** L: history rows in the features. */
  readonly #lags: number;
  /** The models' numbers, then φ (d) at #phi and the model's output (J) at #out: scratch. */
  readonly #f: Float64Array;
  readonly #phi: number = 0;
  readonly #out: number = 0;

  constructor(ctx: ExpertContext) {
    const p = ctx.preset;
    this.#ctx = ctx;
    this.#lags = p.linear.lags;
    const d = this.#lags * ctx.I + (p.calendar ? CALENDAR_FEATURES : 0) + 1;
    // the Hm models' numbers, their scratch (they learn one at a time) and φ and the output in one block
    const block = new RlsBlock(d, ctx.J, ctx.Hm, d + ctx.J);
    this.rls = Array.from(
      { length: ctx.Hm },
      (_, h) =>
        new Rls(d, ctx.J, p.linear.forgetting, p.linear.ridge + p.linear.ridgePerStep * h, {
          holdRidge: p.linear.holdRidge,
          at: { block, model: h },
        }),
    );
    this.#f = block.f;
    this.#phi = block.extra;
    this.#out = block.extra + d;
  }

  /** The L lag rows. */
  lookback(): number {
    return this.#lags;
  }

  ready(): boolean {
    return this.#ctx.history.length >= this.#lags;
  }

  /** The model of every horizon whose target arrived now learns the change since its origin. */
  learn(values: ArrayLike<number>): void {
    const { J, Hm, targetIndex, origins, level, step, lastSkipped } = this.#ctx;
    const f = this.#f, out = this.#out;
    for (let h = 1; h <= Hm; h++) {
      const o = origins.arrived(step, h);
      // nor from features that hold a reading the stream did not learn from, nor after one
      if (o < 0 || !origins.learnable(o, lastSkipped)) continue;
      this.#features(o, h);
      for (let j = 0; j < J; j++) {
        const col = targetIndex[j];
        f[out + j] = (values[col] - origins.record[origins.xAt + o * J + j]) / level.scale(col);
      }
      this.rls[h - 1].update(f, this.#phi, f, out);
    }
  }

  forecast(o: number, _ts: number, values: ArrayLike<number>, e: number): void {
    const { J, Hm, targetIndex, origins, level, limits } = this.#ctx;
    const { preds, E } = origins;
    const f = this.#f, out = this.#out;
    for (let h = 1; h <= Hm; h++) {
      this.#features(o, h);
      this.rls[h - 1].predict(f, this.#phi, f, out);
      for (let j = 0; j < J; j++) {
        const col = targetIndex[j];
        const x = values[col];
        const lim = limits.limit((h - 1) * J + j), sc = level.scale(col);
        preds[((o * Hm + (h - 1)) * J + j) * E + e] = x + clip(f[out + j], lim) * sc;
      }
    }
  }

  /** Features of origin slot o for horizon h into φ. */
  #features(o: number, h: number): void {
    const { I, preset, origins, periodMs } = this.#ctx;
    const lagN = this.#lags * I;
    const f = this.#f, phi = this.#phi;
    const lags = origins.lagsAt + o * lagN;
    for (let k = 0; k < lagN; k++) f[phi + k] = origins.record[lags + k];
    let k = lagN;
    if (preset.calendar) {
      // the time of horizon h, then its calendar, in φ's slots (a store under `if` rather than a
      // double picked by ?:, and the time read from φ rather than passed: no heap number in Maglev)
      f[phi + k] = origins.record[origins.tsAt + o];
      if (Number.isFinite(periodMs)) f[phi + k] += h * periodMs;
      calendarFeaturesAt(f, phi + k, preset.utcOffsetMinutes, f, phi + k);
      k += CALENDAR_FEATURES;
    }
    f[phi + k] = 1;
  }

  /** Views of the models' numbers (made at each call: for checkpoints and the divergence scan). */
  arrays(): StateArrays {
    const a: StateArrays = {};
    this.rls.forEach((r, h) => {
      a[`rlsP${h}`] = r.P;
      a[`rlsW${h}`] = r.W;
      a[`rlsC${h}`] = r.cycle;
    });
    return a;
  }
}

/** The linear expert is always on. */
export function linearExpert(ctx: ExpertContext): Expert {
  return new LinearExpert(ctx);
}
