/** What a reading's observation tells the operator: frequent gaps, a model part re-initialised. */
import type { Logger } from "../log.ts";
import type { Observation } from "../stream/stream.ts";

/** Logs the warnings of observation `obs` of stream `id` (none for a quiet one). */
export function logObservation(
  log: Logger,
  id: string,
  obs: Pick<Observation, "periodWarning" | "recovered">,
): void {
  if (obs.periodWarning) {
    const w = obs.periodWarning;
    log.warn("stream.gaps", {
      stream: id,
      message: `${Math.round(w.gapShare * 100)}% of the recent readings of "${id}" ` +
        `came after a gap: its ${w.source} period is ${w.periodMs} ms, its readings come ` +
        `every ${w.observedMs} ms (the median of the recent intervals)` +
        (w.source === "configured" ? "; set periodMs to null to estimate it" : ""),
      periodMs: w.periodMs,
      periodSource: w.source,
      observedPeriodMs: w.observedMs,
      gapShare: w.gapShare,
    });
  }
  if (obs.recovered) {
    // the divergence guard re-initialised part of the model (src/stream/divergence_guard.ts)
    log.warn("stream.recovered", { stream: id, parts: obs.recovered });
  }
}
