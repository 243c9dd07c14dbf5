/**
 * The divergence guard: finds a stream's state gone bad, so that the stream
 * can repair it and keep forecasting (StreamModel does the repair).
 *
 * Bad is a NaN or an infinity where the state holds numbers (a few arrays
 * hold NaN for "none" or ±Infinity for an empty range: {@link MAY_BE_NAN},
 * {@link MAY_BE_INFINITE}), or, in an expert's state (weights, optimizer
 * moments, live state, training windows, all in normalised units) and the
 * interval state, a magnitude beyond {@link EXPLODED}. Readings are bounded
 * (value_bounds.ts) and normalise to at most about 1e21, and Adam moves a
 * weight by about its learning rate per update, so no healthy state comes
 * near it; float32 overflows at 3.4e38. A finite loss or gradient, however
 * large, is no divergence: the gradient is clipped. A non-finite one makes
 * the optimizer throw, and an expert that throws is diverged.
 *
 * When it looks:
 * - every reading, the cheap signs ({@link signsOfDivergence}): the
 *   forecasts just made (every expert's and the blend's), the interval
 *   state, the normalisers; O(Hm·J·E + I);
 * - every {@link SCAN_EVERY} readings, and whenever a sign shows, the whole
 *   state ({@link divergedExperts}, {@link divergedParts}): O(state), about
 *   as much as one reading's work, once per thousand readings.
 *
 * What is repaired (stream.ts): a diverged expert is re-initialised (its
 * preset's fresh weights; the blend forgets its record); the interval
 * state, the blend or the accuracy is reset on its own; any other shared
 * part (normalisers, change limits, history, origin slots, anomaly scorer)
 * restarts the stream's learning, keeping its time line and counters.
 */
import type { Expert } from "./expert.ts";
import type { StateArrays } from "./state.ts";
import type { StreamModel } from "./stream.ts";

/** Magnitude beyond which a value of an expert's or the intervals' state counts as exploded. */
export const EXPLODED = 1e30;
/**
 * Magnitude beyond which an LSTM weight counts as exploded: Adam moves a
 * weight by about its learning rate per update (3e-3 by default), so a
 * billion updates (30 years at one a second) reach a few thousand; a float32
 * network with weights of 1e30 saturates every gate and learns nothing.
 */
export const WEIGHT_LIMIT = 1e6;
/** Arrays with a lower limit than EXPLODED. */
const LIMIT_OF: Readonly<Record<string, number>> = { params: WEIGHT_LIMIT };
/** Readings between two scans of the whole state. */
export const SCAN_EVERY = 1024;

/**
 * Shared arrays that hold NaN for "none": no origin, lags before the history
 * was full, no interval, no distance of the shape detector yet.
 */
export const MAY_BE_NAN: ReadonlySet<string> = new Set([
  "originStep",
  "originLags",
  "qUsed",
  "shapePending",
]);
/** Shared arrays that hold ±Infinity for an empty range. */
export const MAY_BE_INFINITE: ReadonlySet<string> = new Set([
  "rangeLo",
  "rangeHi",
  "boundLo",
  "boundHi",
]);

/** The parts of the shared state repaired on their own; every other part restarts learning. */
export const PART_OF_ARRAY: Readonly<Record<string, "intervals" | "blend" | "accuracy">> = {
  q: "intervals",
  m: "intervals",
  n: "intervals",
  hits: "intervals",
  blendCov: "blend",
  blendCount: "blend",
  blendLongLoss: "blend",
  sqErr: "accuracy",
  scoredCount: "accuracy",
};

/**
 * Whether `a` (from `from` up to `to`) holds a value that is NaN (unless
 * `nanOk`), infinite (unless `infOk`) or beyond `limit` in magnitude.
 */
export function isBad(
  a: ArrayLike<number>,
  limit = Infinity,
  nanOk = false,
  infOk = false,
  from = 0,
  to = a.length,
): boolean {
  for (let i = from; i < to; i++) {
    const v = a[i];
    if (v !== v) {
      if (!nanOk) return true;
    } else if (v === Infinity || v === -Infinity) {
      if (!infOk) return true;
    } else if (v > limit || v < -limit) return true;
  }
  return false;
}

/** Whether an expert's state holds a non-finite or exploded value. */
export function expertDiverged(e: Expert): boolean {
  const arrays = e.arrays?.() ?? {};
  for (const name in arrays) if (isBad(arrays[name], LIMIT_OF[name] ?? EXPLODED)) return true;
  return false;
}

/** The indexes of the stream's experts whose state has diverged. */
export function divergedExperts(m: StreamModel): number[] {
  const out: number[] = [];
  m.experts.forEach((e, i) => {
    if (expertDiverged(e)) out.push(i);
  });
  return out;
}

/**
 * The parts of the stream's shared state (not the experts') that hold a
 * bad value: "intervals", "blend", "accuracy", or "stream" for any other.
 * `arrays` is the stream's whole state (stream_state.ts), `expertArrays` the
 * names its experts own.
 */
export function divergedParts(
  arrays: StateArrays,
  expertArrays: ReadonlySet<string>,
  scalars: readonly number[],
): Set<"intervals" | "blend" | "accuracy" | "stream"> {
  const out = new Set<"intervals" | "blend" | "accuracy" | "stream">();
  for (const name in arrays) {
    if (expertArrays.has(name)) continue;
    const part = PART_OF_ARRAY[name] ?? "stream";
    const limit = part === "intervals" ? EXPLODED : Infinity;
    if (isBad(arrays[name], limit, MAY_BE_NAN.has(name), MAY_BE_INFINITE.has(name))) out.add(part);
  }
  if (isBad(scalars)) out.add("stream");
  return out;
}

/**
 * The cheap signs, every reading: the forecasts of the newest origin slot o
 * (every expert's and the blend's), the interval state, the normalisers.
 */
export function signsOfDivergence(m: StreamModel, o: number): boolean {
  const { Hm, J, E, origins } = m;
  const base = o * Hm * J;
  if (isBad(origins.preds, Infinity, false, false, base * E, (base + Hm * J) * E)) return true;
  // the blend's forecasts: the first run of origins.forecasts
  if (isBad(origins.forecasts, Infinity, false, false, base, base + Hm * J)) return true;
  // the intervals' q and m: the first two runs of their state
  if (isBad(m.intervals.state, EXPLODED, false, false, 0, 2 * m.intervals.slots)) return true;
  return isBad(m.level.moments) || isBad(m.change.moments);
}
