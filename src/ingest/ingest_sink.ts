/**
 * The port every reading source (MQTT, the demo sensor, HTTP and WebSocket)
 * writes to: readings in, messages it could not parse counted. The service
 * implements it; a source takes it and its own options, nothing else of the
 * daemon, so a test can hand a source a fake sink.
 */
import type { Reading } from "../domain/reading.ts";

/** Where readings come from, for the counters. */
export type Source = "mqtt" | "ws" | "http" | "demo";

/** Every Source, in the order the counters list them. */
export const SOURCES: readonly Source[] = ["mqtt", "ws", "http", "demo"];

/** One rejected reading of a batch. */
export interface Rejection {
  /** Its index in the batch. */
  index: number;
  stream: string;
  /** Short code for the reject counters (`missing_value`, `too_many_streams`, ...). */
  reason: string;
  message: string;
  /** other_shard: the base URL of the instance that owns the stream (`--peer`). */
  owner?: string;
}

/** What an ingest call did. */
export interface IngestResult {
  accepted: number;
  rejected: Rejection[];
}

/** What a source tells of a message it refused, for the last refusals the API shows. */
export interface Refusal {
  source: Source;
  /** The stream it named, or null when it named none or could not be read that far. */
  stream: string | null;
  /** What was wrong: `Cannot ingest reading: <constraint>: current value is <value>`. */
  message: string;
  /** The MQTT topic it came on. */
  topic?: string;
}

/** What a source needs of the daemon. */
export interface IngestSink {
  /**
   * Takes parsed readings from `source`; a reading that cannot be taken is
   * counted, kept among the source's last refusals and reported in the
   * result; the others go on. Resolves once every reading is taken (the
   * source acknowledges after it). Rejects with an error whose `kind` is
   * `"unavailable"` when the daemon cannot take them now (shutting down, or
   * its queue is full): the source leaves them unacknowledged, or answers
   * "retry later".
   */
  ingest(readings: readonly Reading[], source: Source): Promise<IngestResult>;
  /**
   * Counts a message the source refused, by its reason; with `refusal`, also
   * keeps it among the last refusals of its source (`GET /v1/rejects`).
   */
  reject(reason: string, refusal?: Refusal): void;
}
