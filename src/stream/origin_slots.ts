/**
 * Forecast origins: a stream keeps what it forecast from each of its last
 * S = Hm + 1 readings until the readings they were made for arrive and
 * score them. The forecast from reading `step` lives in slot step % S, so
 * reading t finds the one made h readings before it in slot (t - h) % S,
 * if that slot still holds that origin (a gap or a rewind empties every
 * slot).
 *
 * Shapes: S slots, Hm horizons, J targets, E experts, L lag rows of I
 * values. In a checkpoint every array goes by its name below with the
 * prefix `origin` where it has one (`originStep`, ..., `preds`, `active`).
 */
import type { Normalizer } from "../model/normalize.ts";
import type { History } from "./history.ts";
import type { StateArrays } from "./state.ts";
import { type BlockArena, typedBlock } from "../model/typed_block.ts";

/** The sizes of the slots (letters as above). */
export interface OriginShape {
  Hm: number;
  J: number;
  E: number;
  L: number;
  I: number;
}

/** The origin slots' arrays (their order in the class), S = Hm + 1 slots. */
export function originBlock({ Hm, J, E, L, I }: OriginShape) {
  const S = Hm + 1;
  return [
    [Float64Array, S],
    [Float64Array, S],
    [Float64Array, S * J],
    [Float64Array, S * L * I],
    [Float64Array, S * Hm * J * E],
    [Float64Array, S * Hm * J],
    [Float64Array, S * Hm * J],
    [Int32Array, S],
  ] as const;
}

export class OriginSlots {
  /** S = Hm + 1. */
  readonly S: number = 0;
  readonly Hm: number = 0;
  readonly J: number = 0;
  readonly E: number = 0;
  /** L: history rows recorded at each origin (the linear expert's lags). */
  readonly L: number = 0;
  readonly I: number = 0;
  /** step (S): the reading the slot's forecast was made from; NaN if none (NaN equals no step). */
  readonly step: Float64Array;
  /** ts (S): its time (ms). */
  readonly ts: Float64Array;
  /** x (S, J): its raw target values. */
  readonly x: Float64Array;
  /** lags (S, L·I): its newest L rows normalised and winsorised at ±5, newest first; NaN if the history was shorter. */
  readonly lags: Float64Array;
  /** preds (S, Hm, J, E): each expert's forecast, raw units. */
  readonly preds: Float64Array;
  /** comb (S, Hm, J): the blend of them. */
  readonly comb: Float64Array;
  /** qUsed (S, Hm, J): the interval half-width around comb, NaN before calibration. */
  readonly qUsed: Float64Array;
  /** active (S): the experts in the blend at that origin, bit e for expert e. */
  readonly active: Int32Array;

  /** `arena`: where the arrays are cut from (typed_block.ts; {@link originBlock}); default a buffer of their own. */
  constructor(shape: OriginShape, arena?: BlockArena) {
    const { Hm, J, E, L, I } = shape;
    this.S = Hm + 1;
    this.Hm = Hm;
    this.J = J;
    this.E = E;
    this.L = L;
    this.I = I;
    [this.step, this.ts, this.x, this.lags, this.preds, this.comb, this.qUsed, this.active] =
      typedBlock(originBlock(shape), arena);
    this.step.fill(NaN);
  }

  /** The slot holding the forecast made h readings before reading `step`, or -1 if none does. */
  arrived(step: number, h: number): number {
    const o = (step - h + this.S) % this.S;
    return this.step[o] === step - h ? o : -1;
  }

  /**
   * Whether slot o makes a learnable example: the history held L rows at
   * the origin, and the stream learned from every reading since the first
   * of them (the last one it did not learn from, lastSkipped, came before).
   */
  learnable(o: number, lastSkipped: number): boolean {
    if (Number.isNaN(this.lags[o * this.L * this.I])) return false;
    return !(lastSkipped > this.step[o] - this.L);
  }

  /**
   * Records reading `step` (ts, values (I)) as the origin of its slot: its
   * time, its target values (columns targetIndex (J)) and its newest L
   * history rows, which must already hold it. Returns the slot.
   */
  open(
    step: number,
    ts: number,
    values: ArrayLike<number>,
    targetIndex: Int32Array,
    history: History,
    level: Normalizer,
  ): number {
    const { I, J, L } = this;
    const o = step % this.S;
    this.step[o] = step;
    this.ts[o] = ts;
    const lagN = L * I;
    const haveLags = history.length >= L;
    for (let k = 0; k < L; k++) {
      for (let i = 0; i < I; i++) {
        // winsorised at ±5: a column that wakes up after being stuck must not
        // multiply weights learned while it was constant by a huge value
        this.lags[o * lagN + k * I + i] = haveLags
          ? Math.max(-5, Math.min(5, (history.back(k, i) - level.mean[i]) / level.scale(i)))
          : NaN;
      }
    }
    for (let j = 0; j < J; j++) this.x[o * J + j] = values[targetIndex[j]];
    return o;
  }

  /** Empties every slot: no forecast made so far is scored (a gap, a rewind). */
  clear(): void {
    this.step.fill(NaN);
  }

  /** The slots' arrays in a checkpoint, by name. */
  arrays(): StateArrays {
    return {
      originStep: this.step,
      originTs: this.ts,
      originX: this.x,
      originLags: this.lags,
      preds: this.preds,
      comb: this.comb,
      qUsed: this.qUsed,
      active: this.active,
    };
  }
}
