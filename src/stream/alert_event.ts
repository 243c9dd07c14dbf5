/**
 * The alert event a reading raises when it opens or ends an alert, with
 * the message a person reads in a notification. An alert carries the
 * context of the reading that began it: per target its value, the one-step
 * forecast made for it and that forecast's interval.
 *
 * An alert whose forecast residuals stay below the preset's fixed threshold
 * (the budget opened it lower, or the shape detector raised it) leaves
 * learning alone (stream.ts: the learning guard): its event says
 * `learning: true` and its message "learning continues"; one the shape
 * detector raised (its evidence above the residual's) says that the recent
 * readings form a shape unlike any the stream has shown.
 */
import type { AlertEvent, TargetContext } from "../domain/alert.ts";
import type { AlertTransition } from "./anomaly.ts";
import type { Observation } from "./read_models.ts";
import type { StreamModel } from "./stream.ts";

/**
 * The event of transition t (not "none") at reading ts (values (I)), whose
 * one-step forecast was made in origin slot slot1 (-1: none).
 */
export function alertEvent(
  m: StreamModel,
  t: AlertTransition,
  ts: number,
  values: ArrayLike<number>,
  slot1: number,
  obs: Observation,
): AlertEvent {
  const { J, Hm, origins } = m;
  const targets: Record<string, TargetContext> = {};
  for (let j = 0; j < J; j++) {
    const col = m.targetIndex[j];
    const cOff = slot1 >= 0 ? (slot1 * Hm) * J + j : -1;
    const f = cOff >= 0 ? origins.forecasts[cOff] : NaN;
    const q = cOff >= 0 ? origins.forecasts[origins.qUsedAt + cOff] : NaN;
    targets[m.targets[j]] = { value: values[col], forecast: f, lower: f - q, upper: f + q };
  }
  const since = t === "opened" || !Number.isFinite(m.anomalySince) ? ts : m.anomalySince;
  const learning = (t !== "opened" || !m.alertPaused) && !m.frozen;
  const sc = m.scorer;
  const unusual = { count: sc.unusualCount, of: sc.opts.density, most: sc.unusualMost };
  const event = {
    type: t as AlertEvent["type"],
    stream: m.id,
    ts,
    since,
    targets,
    score: obs.score ?? 0,
    likelihood: obs.likelihood ?? 0,
    percentile: obs.percentile ?? 0,
    unusual,
    learning,
  };
  // the density test raised it: the message says how many readings were unusual
  const shaped = sc.shapeEvidence > sc.residual ? m.shape.opts.window : 0;
  return {
    ...event,
    message: alertMessage(event, m.targets[0], sc.densityEvidence > sc.evidence, {
      paused: m.alertPaused,
      shaped,
    }),
  };
}

/** What an alert did to learning, and whether the shape detector raised it. */
export interface AlertNotes {
  /** The alert paused learning (default true: it reached the fixed threshold). */
  paused?: boolean;
  /** The shape detector raised it: the readings its shape spans (0: it did not). */
  shaped?: number;
}

/** The message of an event, from its context at the first target. */
export function alertMessage(
  e: Omit<AlertEvent, "message">,
  first: string,
  byDensity: boolean,
  notes: AlertNotes = {},
): string {
  const paused = notes.paused ?? true;
  const shaped = notes.shaped
    ? `; the last ${notes.shaped} readings form a shape unlike any this stream has shown`
    : "";
  const c = e.targets[first];
  const pct = (e.percentile * 100).toFixed(1);
  const u = e.unusual;
  const dense = byDensity
    ? `; ${u.count} of the last ${u.of} readings were unusual (never more than ${u.most} before)`
    : "";
  switch (e.type) {
    case "opened":
      return `${e.stream}: ${first} = ${c.value} is outside the expected ${c.lower.toFixed(3)} .. ${
        c.upper.toFixed(3)
      } (forecast ${
        c.forecast.toFixed(3)
      }); more unusual than ${pct}% of this stream's readings${dense}${shaped}; ${
        paused ? "learning paused" : "learning continues"
      }`;
    case "resolved":
      return `${e.stream}: back within the expected range since ${new Date(e.ts).toISOString()}; ${
        paused ? "learning resumed" : "learning continued"
      }`;
    default:
      return `${e.stream}: the change since ${
        new Date(e.since).toISOString()
      } has persisted and is accepted as the new normal; ${
        paused ? "learning resumed" : "learning continued"
      }`;
  }
}
