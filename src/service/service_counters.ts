/** What the service counts, for /metrics. */
import type { Source } from "../ingest/ingest_sink.ts";

/** Counters for /metrics. */
export interface ServiceCounters {
  readings: Record<Source, number>;
  rejects: Record<string, number>;
  /** Stream checkpoints saved. */
  checkpoints: number;
  /** Saves (or stream snapshots) that failed; each is retried. */
  checkpointFailures: number;
  /** Deno KV commits made by checkpoint saves. */
  checkpointCommits: number;
  /** Readings taken while their stream already had `checkpointEvery` unsaved (saves failing). */
  readingsBeyondLossBound: number;
  alertsStored: number;
  alertFailures: number;
  /** Readings taken without learning from them, because of overload. */
  trainingShed: number;
  /** LSTM updates made up in idle time for shed readings. */
  trainingCaughtUp: number;
  /** Rejected promises nobody handled (counted by the daemon's guard, not the service). */
  unhandledRejections: number;
  /**
   * Every change made before this time (ms, the service's clock) is saved:
   * when the oldest change not yet in a saved checkpoint was made, or now
   * when every change is saved.
   */
  readonly checkpointedAt: number;
}

/** Counters at zero; `checkpointedAt` asks `checkpointedAt()`. */
export function newCounters(checkpointedAt: () => number): ServiceCounters {
  return {
    readings: { mqtt: 0, ws: 0, http: 0, demo: 0 },
    rejects: {},
    checkpoints: 0,
    checkpointFailures: 0,
    checkpointCommits: 0,
    readingsBeyondLossBound: 0,
    alertsStored: 0,
    alertFailures: 0,
    trainingShed: 0,
    trainingCaughtUp: 0,
    unhandledRejections: 0,
    get checkpointedAt(): number {
      return checkpointedAt();
    },
  };
}
