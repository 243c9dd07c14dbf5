/**
 * A shard worker's idle time and its batches' overlap: what the sharded
 * service measures of each worker (src/shard/sharded_service.ts, workers())
 * and /healthz shows (src/api/health.ts, docs/api.md). One shape for the two
 * layers, which may not import each other.
 */

/** A worker's idle time and its batches' overlap, as /healthz shows them. */
export interface WorkerIngest {
  /** Time it had no batch of readings under way since it started, s. */
  idleSeconds: number;
  /** Time the main thread had no batch sent to it and unanswered, s. */
  nothingSentSeconds: number;
  /** Batches sent to it by how many others were in flight then ([k]: k; the last: k or more). */
  sentBehind: readonly number[];
  /** Readings it took since it started, from every source (as its last counters said). */
  readings: number;
}
