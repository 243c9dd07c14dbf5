import type { SaveCheckpointsResult } from "./checkpoint_store.ts";

/**
 * Another writer replaced (or deleted) a stream's checkpoint since this
 * store read it or last saved it: the save's switch found another manifest.
 */
export class CheckpointConflictError extends Error {
  constructor(
    /** The streams whose new checkpoint was discarded. */
    readonly streams: string[],
    /** The streams that were saved. */
    readonly result: SaveCheckpointsResult,
  ) {
    super(
      `Cannot save checkpoints: no other writer may replace a stream's checkpoint this store saves: another writer did for ${
        streams.map((s) => JSON.stringify(s)).join(", ")
      } (theirs is kept, this save's is discarded); ${result.saved.length} of ${
        result.saved.length + streams.length
      } saved`,
    );
    this.name = "CheckpointConflictError";
  }
}
