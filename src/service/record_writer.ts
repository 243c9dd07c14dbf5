/**
 * Stores the record of every new stream (its id, preset, columns, created
 * time: what re-creates it with the same settings) soon after it is created,
 * many records per commit, so that a stream comes back after any stop
 * (SIGKILL, a power cut, a final save cut by the hard-exit timer) even
 * before its first checkpoint: empty, to learn again, rather than gone.
 *
 * - `add(id)` queues a stream; `stored()` writes every record queued and
 *   resolves once those queued before the call are in KV. The service calls
 *   it before it answers a batch that created a stream (or read one whose
 *   record is not yet in KV), so an acknowledged reading's stream is never
 *   lost. A batch of 10,000 new streams is one write when it is answered
 *   (100 commits: `Store.storeRecords`, one check per record); the callers
 *   that come while a commit is under way share the next write (group
 *   commit: the slower the disk, the more records per commit).
 * - A write that fails is logged (`stream.record_failed`), and retried with
 *   exponential back-off; meanwhile `stored()` does not wait (readings are
 *   taken on a full disk, as for checkpoints), and the next checkpoint
 *   save writes the records too.
 * - A record is written only where KV has none: the config a checkpoint
 *   save wrote is newer, and is kept.
 */
import type { Logger } from "../log.ts";
import type { RecordEntry, StoreRecordsResult } from "../store/store.ts";
import { BackOff, type BackOffOptions } from "./back_off.ts";

/** Options of RecordWriter; every field has the default it names. */
export interface RecordWriterOptions {
  /** Back-off between the retries of a failed write. Default 1 s doubling to 60 s. */
  retry?: BackOffOptions;
}

/** What the writer stores through: the store's batch of new records. */
export interface RecordSink {
  storeRecords(entries: readonly RecordEntry[]): Promise<StoreRecordsResult>;
}

/** What the writer needs. */
export interface RecordWriterDeps {
  store: RecordSink;
  log: Logger;
  /** Stream `id`'s record now, or null when the stream is gone. */
  record: (id: string) => unknown;
}

/** Stores new streams' records in batches; see the module comment. */
export class RecordWriter {
  readonly #deps: RecordWriterDeps;
  readonly #backOff: BackOff;
  /** Streams whose record waits for the next write. */
  #waiting = new Set<string>();
  /** Streams whose record the write under way carries. */
  #writing = new Set<string>();
  /** Callers of stored() waiting for the write that carries what waited at their call. */
  #waiters: (() => void)[] = [];
  #running: Promise<void> | null = null;
  /** The KV write under way, or null. */
  #current: Promise<StoreRecordsResult> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Records written so far (for the tests and the log). */
  written = 0;
  /** Writes that failed. */
  failures = 0;

  constructor(deps: RecordWriterDeps, options: RecordWriterOptions = {}) {
    this.#deps = deps;
    this.#backOff = new BackOff(options.retry);
  }

  /** Whether the last write failed (a retry is scheduled). */
  get failing(): boolean {
    return this.#backOff.failures > 0;
  }

  /** Whether stream `id`'s record is not yet known to be in KV (queued or being written). */
  unstored(id: string): boolean {
    return this.#waiting.has(id) || this.#writing.has(id);
  }

  /** Queues stream `id`'s record; the next `stored()` writes it. */
  add(id: string): void {
    this.#waiting.add(id);
  }

  /** Forgets stream `id` (deleted before its record was written). */
  forget(id: string): void {
    this.#waiting.delete(id);
  }

  /**
   * Resolves once every record queued before this call is in KV, or at once
   * while writes fail (they are retried; the checkpoint saves write records
   * too). Never rejects.
   */
  stored(): Promise<void> {
    if (this.#waiting.size === 0 && this.#writing.size === 0) return Promise.resolve();
    if (this.failing) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#kick();
    });
  }

  /** Resolves when no write is running or waiting to run (but for a retry after a failure). */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /**
   * Resolves when the KV write under way (if any) has ended: a stream
   * forgotten before this call is in no write after it.
   */
  async currentWrite(): Promise<void> {
    await this.#current?.catch(() => {});
  }

  /** Stops the retries (records still waiting are written by the final checkpoint save). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #kick(): void {
    if (this.#running !== null || this.#retryTimer !== undefined) return;
    this.#running = this.#loop();
  }

  async #loop(): Promise<void> {
    const { store, log, record } = this.#deps;
    try {
      // a microtask, not a turn of the event loop: the MQTT messages of one connection wait
      // for each answer (the callers that come during the commit share the next write); and
      // #running is set before this loop can end
      await Promise.resolve();
      while (this.#waiting.size > 0) {
        const waiters = this.#waiters.splice(0);
        this.#writing = this.#waiting;
        this.#waiting = new Set();
        const entries: RecordEntry[] = [];
        for (const id of this.#writing) {
          const config = record(id);
          if (config !== null && config !== undefined) entries.push({ id, config });
        }
        try {
          if (entries.length > 0) {
            this.#current = store.storeRecords(entries);
            const result = await this.#current;
            this.written += result.stored.length;
            log.debug("stream.records_stored", {
              streams: result.stored.length,
              existing: result.existing.length,
              commits: result.commits,
            });
          }
          this.#backOff.succeeded();
        } catch (error) {
          this.#current = null;
          // back with the ones that came meanwhile; the callers are not held back
          for (const id of this.#writing) this.#waiting.add(id);
          this.#writing = new Set();
          this.failures++;
          const retryInMs = this.#backOff.failed();
          log.error("stream.record_failed", { streams: entries.length, error, retryInMs });
          for (const w of [...waiters, ...this.#waiters.splice(0)]) w();
          if (!this.#stopped) {
            this.#retryTimer = setTimeout(() => {
              this.#retryTimer = undefined;
              this.#kick();
            }, retryInMs);
          }
          return;
        }
        this.#current = null;
        this.#writing = new Set();
        for (const w of waiters) w();
      }
      for (const w of this.#waiters.splice(0)) w();
    } finally {
      this.#running = null;
    }
  }
}
