/**
 * The LSTM expert: a stacked LSTM (src/model) trained online by TBPTT to
 * predict the next change of every column, rolled out to forecast further.
 *
 * Input u (2I + calendar) of a reading: each column's level and its change
 * since the previous reading, both normalised, and the calendar of the next
 * step. Output (I): the next change of each column, normalised. It learns
 * one step ahead, leak-free: the input of the previous reading and the
 * change that has now arrived make one example for the trainer, unless the
 * previous reading was not learned from. With every reading its live state
 * steps on, learned from or not; a gap or a rewind resets the state and the
 * training window, and keeps the weights.
 *
 * Forecast: Network.rollout() from the live state, whose feed adds each
 * predicted change to the forecast level and builds the next input from the
 * two (and the calendar of that step); the predicted change from x_t is
 * clipped to the slot's change limit. It joins the blend once the trainer
 * has made `window` updates.
 *
 * Preset: `model` (enabled, hidden, layers, window, k1, lr, clipNorm,
 * weightDecay, seed). In a checkpoint: `params`, `h`, `c`, `adamM`,
 * `adamV`, `xs`, `ys`, `h0`, `c0`, `lastInput` and the scalars `hasInput`
 * and `trainer` [length, pending, updates, Adam's t].
 */
import type { NetworkShape } from "../model/layout.ts";
import { Network, type RolloutFeed } from "../model/network.ts";
import { OnlineTrainer, trainerBlock } from "../model/tbptt.ts";
import { CALENDAR_FEATURES, calendarFeatures, calendarFeaturesAt } from "./calendar.ts";
import { clip } from "./change_limits.ts";
import type { Expert, ExpertContext } from "./expert.ts";
import type { Preset } from "./preset.ts";
import type { StateArrays } from "./state.ts";
import { BlockArena, blockBytes, sharedBlock, typedBlock } from "../model/typed_block.ts";
import { DOUBLE_ZERO } from "../model/floats.ts";

/** The network's shape and window for a stream of I columns: what streams share a workspace by. */
export function lstmShape(I: number, preset: Preset): NetworkShape & { window: number } {
  return {
    inputs: 2 * I + (preset.calendar ? CALENDAR_FEATURES : 0),
    hidden: preset.model.hidden,
    layers: preset.model.layers,
    outputs: I,
    window: preset.model.window,
  };
}

const NO_VALUES: ArrayLike<number> = new Float64Array(0);

export class LstmExpert implements Expert {
  readonly name = "lstm";
  readonly net: Network<Float32Array>;
  readonly trainer: OnlineTrainer<Float32Array>;
  /** The input u of the newest reading (2I + calendar): the next example's input. */
  readonly lastInput: Float32Array;
  /** lastInput holds an input of the current window (false after a gap or a rewind). */
  hasInput = false;
  readonly #ctx: ExpertContext;
  /** The live step's output (I): the predicted next change, ŷ₁ of the forecast. */
  readonly #y1: Float32Array;
  /**
   * Scratch, written before read within one call and one for every LSTM expert of the same
   * shape: an input (2I + calendar), an output (I), a target (I), the forecast level (I), the
   * time of the rollout's next step (1: passed to calendarFeaturesAt as an element, not a number).
   */
  readonly #u: Float32Array;
  readonly #y: Float32Array;
  readonly #target: Float32Array;
  readonly #level: Float64Array;
  readonly #when: Float64Array;
  /** The forecast under way: its origin slot, time, values and expert column. */
  #o = 0;
  #ts = DOUBLE_ZERO; // a double from the start: see DOUBLE_ZERO
  #values: ArrayLike<number> = NO_VALUES;
  #e = 0;
  /** The rollout's feed, made once. */
  readonly #feed: RolloutFeed<Float32Array>;

  constructor(ctx: ExpertContext) {
    const p = ctx.preset;
    this.#ctx = ctx;
    const shape = lstmShape(ctx.I, p);
    this.net = new Network<Float32Array>({
      ...shape,
      seed: p.model.seed,
      workspace: ctx.workspace,
    });
    // the trainer's window and this expert's own two arrays in one buffer
    const own = [[Float32Array, shape.inputs], [Float32Array, ctx.I]] as const;
    const window = trainerBlock(Float32Array, shape, p.model.window);
    const arena = new BlockArena(blockBytes(window) + blockBytes(own));
    this.trainer = new OnlineTrainer(this.net, {
      k1: p.model.k1,
      k2: p.model.window,
      lr: p.model.lr,
      clipNorm: p.model.clipNorm,
      weightDecay: p.model.weightDecay,
      arena,
    });
    [this.lastInput, this.#y1] = typedBlock(own, arena);
    [this.#u, this.#y, this.#target, this.#level, this.#when] = sharedBlock("lstm scratch", [
      [Float32Array, shape.inputs],
      [Float32Array, ctx.I],
      [Float32Array, ctx.I],
      [Float64Array, ctx.I],
      [Float64Array, 1],
    ]);
    this.#feed = (k, y, u) => this.#next(k, y, u);
  }

  /** The last input should have led to the change that has now arrived. */
  learn(values: ArrayLike<number>): void {
    const { I, history, change, lastSkipped, step } = this.#ctx;
    if (!this.hasInput || history.length === 0 || lastSkipped === step - 1) return;
    for (let i = 0; i < I; i++) {
      this.#target[i] = (values[i] - history.back(0, i) - change.moments[i]) / change.scale(i);
    }
    this.trainer.push(this.lastInput, this.#target);
  }

  /** Steps the live state on the reading's input; its output is the one-step forecast. */
  advance(ts: number, values: ArrayLike<number>): void {
    const { I, preset, history, level, change, periodMs } = this.#ctx;
    const hadPrev = history.length > 0;
    const u = this.#u;
    for (let i = 0; i < I; i++) {
      u[i] = (values[i] - level.moments[i]) / level.scale(i);
      u[I + i] = hadPrev
        ? (values[i] - history.back(0, i) - change.moments[i]) / change.scale(i)
        : 0;
    }
    if (preset.calendar) {
      calendarFeatures(
        ts + (Number.isFinite(periodMs) ? periodMs : 0),
        preset.utcOffsetMinutes,
        u,
        2 * I,
      );
    }
    this.net.step(u, 0, this.#y1, 0);
    this.lastInput.set(u);
    this.hasInput = true;
  }

  ready(): boolean {
    return this.trainer.updates >= this.#ctx.preset.model.window;
  }

  /** Rolls out from the live state and the output of its step in advance(). */
  forecast(o: number, ts: number, values: ArrayLike<number>, e: number): void {
    const { I, Hm } = this.#ctx;
    for (let i = 0; i < I; i++) this.#level[i] = values[i];
    this.#y.set(this.#y1);
    this.#o = o;
    this.#ts = ts;
    this.#values = values;
    this.#e = e;
    this.net.rollout(Hm, this.#y, this.#u, this.#feed);
    this.#values = NO_VALUES; // hold no caller's buffer between readings
  }

  /**
   * The rollout's feed: adds the predicted change y (I) of step k to the
   * forecast level, writes the forecast of horizon k, and while k < Hm
   * builds the next input into u: the forecast level, its change, the
   * calendar of step k + 1.
   */
  #next(k: number, y: Float32Array, u: Float32Array): void {
    const { I, J, Hm, targetIndex, origins, level, change, limits, preset, periodMs } = this.#ctx;
    const lvl = this.#level, values = this.#values;
    for (let i = 0; i < I; i++) lvl[i] += y[i] * change.scale(i) + change.moments[i];
    const { preds, E } = origins;
    const base = (this.#o * Hm + (k - 1)) * J;
    for (let j = 0; j < J; j++) {
      const col = targetIndex[j];
      const x = values[col];
      const lim = limits.limit((k - 1) * J + j), sc = level.scale(col);
      preds[(base + j) * E + this.#e] = x + clip((lvl[col] - x) / sc, lim) * sc;
    }
    if (k === Hm) return;
    for (let i = 0; i < I; i++) {
      u[i] = (lvl[i] - level.moments[i]) / level.scale(i);
      u[I + i] = y[i];
    }
    if (preset.calendar) {
      this.#when[0] = this.#ts + (k + 1) * periodMs;
      calendarFeaturesAt(this.#when, 0, preset.utcOffsetMinutes, u, 2 * I);
    }
  }

  resetWindows(): void {
    this.hasInput = false;
    this.net.resetState();
    this.trainer.resetWindow();
  }

  arrays(): StateArrays {
    return {
      lastInput: this.lastInput,
      params: this.net.params,
      h: this.net.h,
      c: this.net.c,
      adamM: this.trainer.adam.m,
      adamV: this.trainer.adam.v,
      xs: this.trainer.xs,
      ys: this.trainer.ys,
      h0: this.trainer.h0,
      c0: this.trainer.c0,
    };
  }

  scalars(): Record<string, unknown> {
    const t = this.trainer;
    return { hasInput: this.hasInput, trainer: [t.length, t.pending, t.updates, t.adam.t] };
  }

  restoreScalars(stored: Record<string, unknown>): void {
    this.hasInput = stored.hasInput as boolean;
    const t = stored.trainer as [number, number, number, number] | null;
    if (t) {
      [this.trainer.length, this.trainer.pending, this.trainer.updates, this.trainer.adam.t] = t;
    }
  }
}

/** The LSTM expert, unless the preset's `model.enabled` is false. */
export function lstmExpert(ctx: ExpertContext): Expert | null {
  return ctx.preset.model.enabled ? new LstmExpert(ctx) : null;
}
