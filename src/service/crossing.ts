/**
 * "When will it cross X?": the earliest time a forecast path reaches a
 * threshold, by linear interpolation between the last reading and the
 * forecast steps.
 */

/** The earliest crossing of `x` by a path, or null within its horizon. */
export function firstCrossing(
  originTs: number,
  originValue: number,
  timestamps: readonly number[],
  path: readonly (number | null)[],
  x: number,
  direction: "above" | "below",
): number | null {
  const crossed = (v: number) => (direction === "above" ? v >= x : v <= x);
  if (crossed(originValue)) return originTs;
  let prevT = originTs, prevV = originValue;
  for (let k = 0; k < path.length; k++) {
    const v = path[k];
    if (v === null || !Number.isFinite(v)) return null;
    const t = timestamps[k];
    if (crossed(v)) {
      const f = (x - prevV) / (v - prevV);
      return Math.round(prevT + Math.min(1, Math.max(0, f)) * (t - prevT));
    }
    prevT = t;
    prevV = v;
  }
  return null;
}
