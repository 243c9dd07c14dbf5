/**
 * The port every reading source (MQTT, the demo sensor, HTTP and WebSocket)
 * writes to: readings in, messages it could not parse counted. The service
 * implements it; a source takes it and its own options, nothing else of the
 * daemon, so a test can hand a source a fake sink.
 */
import type { Reading } from "../domain/reading.ts";

/** Where readings come from, for the counters. */
export type Source = "mqtt" | "ws" | "http" | "demo";

/** One rejected reading of a batch. */
export interface Rejection {
  /** Its index in the batch. */
  index: number;
  stream: string;
  /** Short code for the reject counters (`missing_value`, `too_many_streams`, ...). */
  reason: string;
  message: string;
}

/** What an ingest call did. */
export interface IngestResult {
  accepted: number;
  rejected: Rejection[];
}

/** What a source needs of the daemon. */
export interface IngestSink {
  /**
   * Takes parsed readings from `source`; a reading that cannot be taken is
   * counted and reported in the result, the others go on. Resolves once
   * every reading is taken (the source acknowledges after it). Rejects with
   * an error whose `kind` is `"unavailable"` when the daemon cannot take
   * them now (shutting down, or its queue is full): the source leaves them
   * unacknowledged, or answers "retry later".
   */
  ingest(readings: readonly Reading[], source: Source): Promise<IngestResult>;
  /** Counts a message the source could not parse, by its reason. */
  reject(reason: string): void;
}
