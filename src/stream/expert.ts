/**
 * The Expert interface: one forecaster inside a stream, which the blend
 * weighs against the others per (target, horizon).
 *
 * A stream calls its experts at fixed points of each reading (see
 * stream.ts): `learn` when it learns from the reading, `advance` with every
 * reading, then `ready` and `forecast` to forecast from it; `resetWindows`
 * after a gap or a rewind. Each expert owns what it learns and its part of
 * the checkpoint (`arrays`, `scalars`); what the experts share (the
 * normalisers, the history ring, the origin slots, the change limits, the
 * time) it reads through its {@link ExpertContext}.
 *
 * Forecasts are written in raw units into the origin slot's `preds`
 * (S, Hm, J, E): the forecast of expert e from origin slot o for horizon h
 * and target j at `((o * Hm + (h - 1)) * J + j) * E + e`. An expert that is
 * not ready is not asked: its column holds persistence (the newest value)
 * and the blend leaves it out.
 *
 * ## Adding an expert
 *
 * 1. One new file, `src/stream/<name>_expert.ts`, with a class that
 *    implements {@link Expert} and a factory `<name>Expert(ctx)` that returns
 *    it, or null when its preset field turns it off. Name its checkpoint
 *    arrays and scalars after the expert (`<name>W`, not `W`): they share
 *    one namespace with the stream's. Allocate its buffers in the
 *    constructor; `learn`, `advance` and `forecast` run per reading and must
 *    not allocate. It asks for history rows with `lookback()`, and clips a
 *    predicted change with `ctx.limits` as the linear and LSTM experts do.
 *    Test it in `tests/stream/<name>_expert_test.ts`; the suite every expert
 *    runs (tests/stream/experts_test.ts) takes it up once it is registered
 *    and on in that suite's preset.
 * 2. One registration: its factory in the list in experts.ts. The list's
 *    order is the blend's order (expert e is bit e of the masks); add it at
 *    the end so the existing experts keep their positions.
 * 3. Its preset field in preset.ts (say `<name>: { enabled, ... }` with
 *    documented defaults). Ship it off by default: the expert count sets the
 *    shape of the forecasts, the blend and the accuracy in a checkpoint, so a
 *    stream that turns it on starts without its old checkpoint (as when the
 *    LSTM's size changes), and the blend takes at most MAX_BLEND_EXPERTS.
 */
import type { Workspace } from "../model/network.ts";
import type { Normalizer } from "../model/normalize.ts";
import type { ChangeLimits } from "./change_limits.ts";
import type { History } from "./history.ts";
import type { OriginSlots } from "./origin_slots.ts";
import type { Preset } from "./preset.ts";
import type { StateArrays } from "./state.ts";

/** What the stream shares with its experts (read-only for them but for their own parts). */
export interface ExpertContext {
  readonly id: string;
  readonly preset: Preset;
  /** I: values per reading. */
  readonly I: number;
  /** J: targets forecast. */
  readonly J: number;
  /** Hmax: horizons forecast, 1 … Hm. */
  readonly Hm: number;
  /** Column of each target (J). */
  readonly targetIndex: Int32Array;
  /** Running mean and spread of each column (I). */
  readonly level: Normalizer;
  /** Running mean and spread of each column's change since the previous reading (I). */
  readonly change: Normalizer;
  /** The newest raw rows. */
  readonly history: History;
  /** The forecasts of the last Hm + 1 readings, and what each was made from. */
  readonly origins: OriginSlots;
  /** How far a predicted change may reach, per (horizon, target). */
  readonly limits: ChangeLimits;
  /** Number of the newest reading (1 for the first). */
  readonly step: number;
  /** Sampling period in ms (NaN until known). */
  readonly periodMs: number;
  /** Season in readings (0: none, or not yet known). */
  readonly season: number;
  /** Step of the last reading not learned from (anomalous or frozen), -1 if none. */
  readonly lastSkipped: number;
  /** Scratch shared with other streams of the same LSTM shape. */
  readonly workspace?: Workspace<Float32Array>;
}

/** One forecaster of a stream. Optional members default to doing nothing. */
export interface Expert {
  /** Its name in stats(), expertForecast() and the API. */
  readonly name: string;
  /** Rows of history it reads back (history.back(k) for k below it); default 1. */
  lookback?(): number;
  /**
   * Learns from the newest reading (values, I), which the stream learns
   * from. Called after the blend, the normalisers and the change limits
   * have learned from it and before the history takes it: history.back(0)
   * is the previous reading. The forecasts made for this reading are in the
   * origin slots (origins.arrived).
   */
  learn?(values: ArrayLike<number>): void;
  /**
   * Moves its live state on by the newest reading (every reading, learned
   * from or not), before the history takes it.
   */
  advance?(ts: number, values: ArrayLike<number>): void;
  /**
   * Whether its forecast from the newest reading (now in the history) may
   * enter the blend: its bit in the origin slot's mask.
   */
  ready(): boolean;
  /**
   * Forecasts horizons 1 … Hm of every target from the newest reading (ts,
   * values), which is recorded in origin slot o, into column e of
   * origins.preds. Called only when ready() said so.
   */
  forecast(o: number, ts: number, values: ArrayLike<number>, e: number): void;
  /** Forgets its windows and live state after a gap or a rewind; keeps what it learned. */
  resetWindows?(): void;
  /** Its arrays in a checkpoint, by name: the live arrays, restored in place. */
  arrays?(): StateArrays;
  /** Its scalars in a checkpoint (JSON values), by name. */
  scalars?(): Record<string, unknown>;
  /** Takes back what scalars() gave (the stored scalars of the whole stream). */
  restoreScalars?(stored: Record<string, unknown>): void;
}

/** Builds an expert for a stream, or returns null when the preset leaves it out. */
export type ExpertFactory = (ctx: ExpertContext) => Expert | null;
