/**
 * The anomaly scorer's onset rings (anomaly.ts) in a checkpoint: four
 * numbers of the `scorer` scalars (stream_state.ts), each ring's latest
 * entry and its slot (onset_rule.ts's LatestRing), and the format step that
 * turns the older dense layout into them. Small and self-contained: it
 * reads and writes the stored arrays and scalars alone, before the restore.
 */
import { LatestRing } from "./onset_rule.ts";

/**
 * The format step for a checkpoint written while the scorer's rings were
 * dense (forecastd up to commit 967b38f): arrays `onsets` and `peaks`
 * (`refractory` doubles each; `peaks` absent before alerts kept their own
 * peaks, the onsets standing in for them) beside a `scorer` of at most six
 * numbers. Each ring reduces to its latest entry (its largest:
 * onset_rule.ts), appended to `scorer` (after the six, the missing ones
 * 0, as the restore takes them) as onsets' value and slot, peaks' value and
 * slot; the arrays go. A checkpoint without `onsets` is left as it is; a
 * ring of another length is refused, naming it.
 */
export function reduceScorerRings(
  arrays: Record<string, ArrayLike<number>>,
  scalars: { scorer?: unknown },
  refractory: number,
): void {
  const { onsets, peaks = onsets } = arrays, s = scalars.scorer;
  if (onsets === undefined || !Array.isArray(s) || s.length > 6) return; // refused by the restore
  for (const [name, a] of [["onsets", onsets], ["peaks", peaks]] as const) {
    if (a instanceof Float64Array && a.length === refractory) continue;
    throw new RangeError(
      `Cannot restore stream state: array "${name}" must hold ${refractory} Float64Array values for this configuration: it holds ${a.length}`,
    );
  }
  const o = new LatestRing(), p = new LatestRing();
  o.load(onsets);
  p.load(peaks);
  while (s.length < 6) s.push(0);
  s.push(o.value, o.slot, p.value, p.slot);
  delete arrays.onsets;
  delete arrays.peaks;
}
