/**
 * Seasonal persistence: the value one season before the target time (the
 * same time yesterday, for a daily season). The season in readings follows
 * from the preset's `seasonSeconds` and the sampling period (stream.ts); the
 * expert joins once a whole season was seen, and a season of 0
 * (`seasonSeconds` 0, or a period that does not divide it into 2 … 604,800
 * readings) leaves it out for good.
 *
 * A season of at most the preset's `seasonPoints` readings (2,048 but for
 * `pi-small`'s 288) is read from the history ring's raw rows: the newest
 * reading at the target's phase. A longer one is kept as a bounded profile
 * (season_profile.ts): the forecast is the mean of the bucket of
 * consecutive readings at the target's phase, one season before, so a
 * stream's memory for its season stays at most `seasonPoints` rows whatever
 * its period. A profile starts over when the season
 * changes (a new period) and, as the history does, after a gap.
 */
import type { Expert, ExpertContext } from "./expert.ts";
import type { History } from "./history.ts";
import { SeasonProfile } from "./season_profile.ts";
import type { StateArrays } from "./state.ts";

export class SeasonalExpert implements Expert {
  readonly name = "seasonal";
  readonly #ctx: ExpertContext;
  /** The bucket means of a season longer than the preset's `seasonPoints` (unused otherwise). */
  readonly profile: SeasonProfile;
  /** One raw row, for seed(). */
  readonly #row: number[] = [];

  constructor(ctx: ExpertContext) {
    this.#ctx = ctx;
    this.profile = new SeasonProfile(ctx.I);
  }

  /** Whether the season is kept as bucket means; sizes the profile for the context's season. */
  #bucketed(): boolean {
    const { season, preset: { seasonPoints } } = this.#ctx;
    const long = season > seasonPoints;
    if (this.profile.season !== (long ? season : 0)) {
      this.profile.configure(long ? season : 0, seasonPoints);
    }
    return long;
  }

  /** A whole season of raw rows when it fits; bucket means need none. */
  lookback(): number {
    const { season, preset } = this.#ctx;
    return season > preset.seasonPoints ? 1 : season;
  }

  ready(): boolean {
    const { season, history } = this.#ctx;
    if (this.#bucketed()) return this.profile.ready;
    return season > 0 && history.length >= season;
  }

  advance(_ts: number, values: ArrayLike<number>): void {
    if (this.#bucketed()) this.profile.push(values);
  }

  forecast(o: number, _ts: number, _values: ArrayLike<number>, e: number): void {
    const { J, Hm, targetIndex, origins, history, season } = this.#ctx;
    const { preds, E } = origins;
    if (this.#bucketed()) {
      for (let h = 1; h <= Hm; h++) {
        for (let j = 0; j < J; j++) {
          preds[((o * Hm + (h - 1)) * J + j) * E + e] = this.profile.at(h, targetIndex[j]);
        }
      }
      return;
    }
    for (let h = 1; h <= Hm; h++) {
      // the newest reading at the same phase of the season as the target time
      const back = season * Math.ceil(h / season) - h;
      for (let j = 0; j < J; j++) {
        preds[((o * Hm + (h - 1)) * J + j) * E + e] = history.back(back, targetIndex[j]);
      }
    }
  }

  resetWindows(): void {
    this.profile.clear();
  }

  /**
   * The profile's arrays when the season is bucketed (none otherwise):
   * `seasonMeans` as far as it is held (see {@link meansLength}).
   */
  arrays(): StateArrays {
    if (!this.#bucketed()) return {};
    return { seasonMeans: this.profile.means, seasonSum: this.profile.sum };
  }

  /** The whole length of `seasonMeans` in a checkpoint (P · I), 0 when the season is not bucketed. */
  meansLength(): number {
    return this.#bucketed() ? this.profile.meansLength : 0;
  }

  scalars(): Record<string, unknown> {
    if (!this.#bucketed()) return {};
    return { seasonal: [this.profile.phase, this.profile.complete] };
  }

  /** Takes back the profile's phase; a checkpoint without one leaves the profile empty. */
  restoreScalars(stored: Record<string, unknown>): void {
    if (!this.#bucketed()) return;
    const s = stored.seasonal;
    if (!Array.isArray(s)) return this.profile.clear();
    const p = this.profile;
    [p.phase, p.complete] = s as [number, number];
  }

  /**
   * Rebuilds the profile from raw rows of a checkpoint written before
   * seasons were bounded (its history ring held the whole season): the rows
   * oldest first, each at the next phase.
   */
  seed(rows: History): void {
    if (!this.#bucketed()) return;
    this.profile.clear();
    for (let k = rows.length - 1; k >= 0; k--) {
      for (let i = 0; i < this.#ctx.I; i++) this.#row[i] = rows.back(k, i);
      this.profile.push(this.#row);
    }
  }
}

/** Seasonal persistence is always built; a season of 0 keeps it out of the blend. */
export function seasonalExpert(ctx: ExpertContext): Expert {
  return new SeasonalExpert(ctx);
}
