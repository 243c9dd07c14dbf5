/** What the service is made of: its store, log, settings and clock, and the hooks a shard worker sets. */
import type { Logger } from "../log.ts";
import type { AlertEvent } from "../domain/alert.ts";
import type { Store } from "../store/store.ts";
import type { ServiceOptions } from "./service_options.ts";
import type { StreamRecord } from "./stream_record.ts";

/** Everything the service needs. */
export interface ServiceDeps {
  store: Store;
  log: Logger;
  /** Its settings (see ServiceOptions for the defaults). */
  options?: ServiceOptions;
  /** The clock, ms since the epoch: a new stream's createdAt, acknowledgements. Default Date.now. */
  now?: () => number;
  /**
   * Where the alert events of the streams go. Default: this service's own
   * alert writer (stored, then fanned out to its subscribers). A shard
   * worker hands them to the main thread's writer instead.
   */
  raise?: (event: AlertEvent) => void;
  /** Told of every stream created or changed (its record) and deleted (null). Default none. */
  watch?: (id: string, record: StreamRecord | null) => void;
  /**
   * Takes a place for a new stream among the daemon's maxStreams: null when
   * it got one, else the count of streams to name in the refusal. Default:
   * this service's own count. `release(id)` gives the place back (a stream
   * deleted, or one whose creation failed after its place was taken).
   */
  room?: (id: string) => number | null;
  release?: (id: string) => void;
  /**
   * Told after each batch of a checkpoint save is in KV, with how many
   * streams it saved (a shard worker tells the main thread, whose hard-exit
   * timer logs how far the final save got). Default none.
   */
  saved?: (streams: number) => void;
  /**
   * Opens a store of the warm-up's own (a KV in memory): load()'s warm-up
   * then also takes the service's own path, the queue, each reading's take
   * and a checkpoint's save, on a scratch service over it, closed after
   * (warmUpService in src/service/warm_up.ts). Default none: the warm-up
   * feeds scratch engines only. A shard worker opens one.
   */
  scratchStore?: () => Promise<ScratchStore>;
}

/** A store of the warm-up's own and how to close it (its KV). */
export interface ScratchStore {
  store: Store;
  close(): void;
}
