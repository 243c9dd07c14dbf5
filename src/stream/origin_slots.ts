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

/** The origin slots' arrays (record, preds, forecasts, active), S = Hm + 1 slots. */
export function originBlock({ Hm, J, E, L, I }: OriginShape) {
  const S = Hm + 1;
  return [
    [Float64Array, S * (2 + J + L * I)],
    [Float64Array, S * Hm * J * E],
    [Float64Array, 2 * S * Hm * J],
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
  /**
   * What each origin was, one array rather than four (a typed array costs a
   * stream about 100 bytes of heap): step (S) at 0, the reading the slot's
   * forecast was made from, NaN if none (NaN equals no step); ts (S) at
   * tsAt, its time (ms); x (S, J) at xAt, its raw target values; lags
   * (S, L·I) at lagsAt, its newest L rows normalised and winsorised at ±5,
   * newest first, NaN if the history was shorter. Views of each by name
   * below ({@link step}, {@link ts}, {@link x}, {@link lags}), made per call.
   */
  readonly record: Float64Array;
  readonly tsAt: number = 0;
  readonly xAt: number = 0;
  readonly lagsAt: number = 0;
  /** preds (S, Hm, J, E): each expert's forecast, raw units. */
  readonly preds: Float64Array;
  /**
   * comb (S, Hm, J) at 0, the blend of them, and qUsed (S, Hm, J) at
   * qUsedAt, the interval half-width around comb, NaN before calibration;
   * views {@link comb} and {@link qUsed}.
   */
  readonly forecasts: Float64Array;
  readonly qUsedAt: number = 0;
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
    [this.record, this.preds, this.forecasts, this.active] = typedBlock(originBlock(shape), arena);
    const S = this.S;
    [this.tsAt, this.xAt, this.lagsAt] = [S, 2 * S, (2 + J) * S];
    this.qUsedAt = S * Hm * J;
    this.record.fill(NaN, 0, S);
  }

  /** step (S): a view of the record. */
  get step(): Float64Array {
    return this.record.subarray(0, this.tsAt);
  }

  /** ts (S): a view of the record. */
  get ts(): Float64Array {
    return this.record.subarray(this.tsAt, this.xAt);
  }

  /** x (S, J): a view of the record. */
  get x(): Float64Array {
    return this.record.subarray(this.xAt, this.lagsAt);
  }

  /** lags (S, L·I): a view of the record. */
  get lags(): Float64Array {
    return this.record.subarray(this.lagsAt);
  }

  /** comb (S, Hm, J): a view of the forecasts. */
  get comb(): Float64Array {
    return this.forecasts.subarray(0, this.qUsedAt);
  }

  /** qUsed (S, Hm, J): a view of the forecasts. */
  get qUsed(): Float64Array {
    return this.forecasts.subarray(this.qUsedAt);
  }

  /** The slot holding the forecast made h readings before reading `step`, or -1 if none does. */
  arrived(step: number, h: number): number {
    const o = (step - h + this.S) % this.S;
    return this.record[o] === step - h ? o : -1;
  }

  /**
   * Whether slot o makes a learnable example: the history held L rows at
   * the origin, and the stream learned from every reading since the first
   * of them (the last one it did not learn from, lastSkipped, came before).
   */
  learnable(o: number, lastSkipped: number): boolean {
    if (Number.isNaN(this.record[this.lagsAt + o * this.L * this.I])) return false;
    return !(lastSkipped > this.record[o] - this.L);
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
    const o = step % this.S, r = this.record;
    r[o] = step;
    r[this.tsAt + o] = ts;
    const lagN = L * I, lags = this.lagsAt + o * lagN;
    const haveLags = history.length >= L;
    for (let k = 0; k < L; k++) {
      for (let i = 0; i < I; i++) {
        // winsorised at ±5: a column that wakes up after being stuck must not
        // multiply weights learned while it was constant by a huge value
        r[lags + k * I + i] = haveLags
          ? Math.max(-5, Math.min(5, (history.back(k, i) - level.moments[i]) / level.scale(i)))
          : NaN;
      }
    }
    for (let j = 0; j < J; j++) r[this.xAt + o * J + j] = values[targetIndex[j]];
    return o;
  }

  /** Empties every slot: no forecast made so far is scored (a gap, a rewind). */
  clear(): void {
    this.record.fill(NaN, 0, this.S);
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
