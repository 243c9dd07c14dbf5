/**
 * `Store`: everything forecastd keeps in Deno KV, behind one class.
 *
 * - per stream: its configuration (JSON, validated by the caller; stored
 *   when the stream is created, and again with each checkpoint) and its
 *   model checkpoint (opaque bytes, see checkpoint_store.ts)
 * - the alert history (see alert_log.ts)
 *
 * The store only stores: it knows nothing of models or streams beyond their
 * ids. The caller opens the KV (in main.ts) and closes it after the last
 * write; nothing here opens one.
 *
 * ```ts
 * const kv = await Deno.openKv(config.dataFile);
 * const store = new Store(kv);
 * await store.sweep({ staleAfterMs: 0 }); // at start-up, when this is the only process on the file
 * // each stream's checkpoint and config, switched together, many streams per commit
 * await store.saveCheckpoints(streams.map((s) => ({ id: s.id, bytes: s.toBytes(), config: s.record })));
 * const bytes = await store.loadCheckpoint("greenhouse.temp");
 * // new streams' records (no checkpoint yet), many per commit
 * await store.storeRecords([{ id: "greenhouse.humidity", config: record }]);
 * ```
 *
 * Writes to checkpoints (saves, sweeps, stream deletion) from one Store run
 * one after another, so they never race each other; reads run at once.
 * Another process writing the same file is detected by versionstamp checks.
 */
import { AlertLog, validateRetention } from "./alert_log.ts";
import type {
  AlertFilter,
  AlertInput,
  AlertRecord,
  AlertRetention,
  PruneResult,
} from "./alert_log.ts";
import type { CheckpointManifest } from "./checkpoint_manifest.ts";
import { checkConfig } from "./check_config.ts";
import { CheckpointStore } from "./checkpoint_store.ts";
import type {
  CheckpointEntry,
  SaveCheckpointsResult,
  SweepOptions,
  SweepResult,
} from "./checkpoint_store.ts";
import { CommitBatcher, type CommitLimits, KV_LIMITS, valueBytes } from "./commit_batcher.ts";
import { showValue } from "../domain/show_value.ts";
import {
  configKey,
  journalKey,
  manifestKey,
  streamIndexKey,
  streamIndexPrefix,
  validateStreamId,
} from "./keys.ts";
import { SerialQueue } from "./serial_queue.ts";
import { parseManifest } from "./checkpoint_manifest.ts";

export type { AlertFilter, AlertInput, AlertRecord, AlertRetention, PruneResult };
export type {
  CheckpointEntry,
  CheckpointManifest,
  SaveCheckpointsResult,
  SweepOptions,
  SweepResult,
};
export type { CommitLimits };
export { CheckpointConflictError } from "./checkpoint_conflict_error.ts";

/** One stream's record to store with `storeRecords()`. */
export interface RecordEntry {
  id: string;
  /** The stream's configuration: any value Deno KV can hold, up to 64 KiB serialised. */
  config: unknown;
}

/** What `storeRecords()` did. */
export interface StoreRecordsResult {
  /** The streams whose record was written, in the order of the entries. */
  stored: string[];
  /** The streams that had a record in KV already (left as it was). */
  existing: string[];
  /** Atomic commits used. */
  commits: number;
}

/** Options of `new Store()`; every field has a default. */
export interface StoreOptions {
  /** The clock, ms since the epoch: manifests' `createdAt`, journal ages, alert retention. Default `Date.now`. */
  now?: () => number;
  /** Bytes per checkpoint chunk, 1 to 65,536 (Deno KV's value limit). Default 65,536. */
  chunkSize?: number;
  /**
   * A checkpoint write (from another Store or process) still unfinished
   * after this long is taken to have crashed, and `sweep()` deletes its
   * chunks. Default 600,000 (10 minutes).
   */
  staleWriteMs?: number;
  /** Alert history limits. Default `{ maxEvents: 10_000, maxAgeMs: 30 days }`. */
  alertRetention?: Partial<AlertRetention>;
  /** What one atomic commit may hold. Default: Deno KV's limits (`KV_LIMITS`); lower them in tests. */
  commitLimits?: Partial<CommitLimits>;
  /**
   * Longest run of a checkpoint save's own work (checks, planning the
   * commits) before it yields to the event loop, ms. Default 5.
   */
  sliceMs?: number;
}

/** StoreOptions with every default applied. */
export interface ResolvedStoreOptions {
  now: () => number;
  chunkSize: number;
  staleWriteMs: number;
  alertRetention: AlertRetention;
  commitLimits: CommitLimits;
  sliceMs: number;
}

/** The defaults of StoreOptions. */
export const STORE_DEFAULTS: Readonly<Omit<ResolvedStoreOptions, "now">> = Object.freeze({
  chunkSize: 65_536,
  staleWriteMs: 600_000,
  alertRetention: Object.freeze({ maxEvents: 10_000, maxAgeMs: 30 * 24 * 3600 * 1000 }),
  commitLimits: KV_LIMITS,
  sliceMs: 5,
});

/** Applies defaults and checks every option; throws naming the first bad one. */
export function resolveStoreOptions(options: StoreOptions = {}): ResolvedStoreOptions {
  const action = "create store";
  const commitLimits = { ...STORE_DEFAULTS.commitLimits, ...options.commitLimits };
  for (const [name, v] of Object.entries(commitLimits)) {
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new RangeError(
        `Cannot ${action}: commitLimits.${name} must be a positive integer: current value is ${
          showValue(v)
        }`,
      );
    }
  }
  const chunkSize = options.chunkSize ?? STORE_DEFAULTS.chunkSize;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > commitLimits.maxValueBytes) {
    throw new RangeError(
      `Cannot ${action}: chunkSize must be an integer from 1 to ${commitLimits.maxValueBytes}: current value is ${
        showValue(chunkSize)
      }`,
    );
  }
  const staleWriteMs = options.staleWriteMs ?? STORE_DEFAULTS.staleWriteMs;
  if (typeof staleWriteMs !== "number" || !(staleWriteMs >= 0)) {
    throw new RangeError(
      `Cannot ${action}: staleWriteMs must be a number >= 0: current value is ${
        showValue(staleWriteMs)
      }`,
    );
  }
  const alertRetention = { ...STORE_DEFAULTS.alertRetention, ...options.alertRetention };
  validateRetention(alertRetention, action);
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw new TypeError(
      `Cannot ${action}: now must be a function: current value is ${showValue(now)}`,
    );
  }
  const sliceMs = options.sliceMs ?? STORE_DEFAULTS.sliceMs;
  if (typeof sliceMs !== "number" || !(sliceMs > 0)) {
    throw new RangeError(
      `Cannot ${action}: sliceMs must be a positive number: current value is ${showValue(sliceMs)}`,
    );
  }
  return { now, chunkSize, staleWriteMs, alertRetention, commitLimits, sliceMs };
}

/** Everything forecastd keeps in Deno KV; see the module comment. */
export class Store {
  /** The options in force, defaults applied. */
  readonly options: ResolvedStoreOptions;
  #checkpoints: CheckpointStore;
  #alerts: AlertLog;
  #writes = new SerialQueue();

  /** Wraps an open KV; the caller keeps ownership and closes it. */
  constructor(readonly kv: Deno.Kv, options: StoreOptions = {}) {
    this.options = resolveStoreOptions(options);
    this.#checkpoints = new CheckpointStore(kv, this.options);
    this.#alerts = new AlertLog(kv, this.options);
  }

  // ---- streams ------------------------------------------------------------

  /** Ids of the streams that have a configuration or a checkpoint, sorted. */
  async listStreams(): Promise<string[]> {
    const ids: string[] = [];
    for await (const e of this.kv.list({ prefix: streamIndexPrefix() })) {
      ids.push(e.key[e.key.length - 1] as string);
    }
    return ids;
  }

  /** Stores a stream's configuration (any value KV can hold, up to 64 KiB serialised). */
  async setConfig(id: string, config: unknown): Promise<void> {
    const action = "store stream";
    validateStreamId(id, action);
    checkConfig(id, config, this.options.commitLimits.maxValueBytes, action);
    await this.kv.atomic()
      .set(configKey(id), config)
      .set(streamIndexKey(id), true)
      .commit();
  }

  /**
   * Stores the records (configurations) of streams that have none in KV yet,
   * many per commit (at most 100: one check each, Deno KV's limit), each
   * with its index entry: a stream created a moment ago is listed and comes
   * back after any stop, empty until its first checkpoint. A stream that
   * has a config already (a checkpoint save or an earlier record wrote it)
   * is left as it is: the record written with a checkpoint is the newer.
   * Every entry is checked before anything is written. Runs beside the
   * checkpoint saves, not after them: a long save never holds a record back.
   */
  async storeRecords(entries: readonly RecordEntry[]): Promise<StoreRecordsResult> {
    const action = "store stream record";
    const seen = new Set<string>();
    for (const [i, e] of entries.entries()) {
      validateStreamId(e?.id, action);
      checkConfig(e.id, e.config, this.options.commitLimits.maxValueBytes, action);
      if (seen.has(e.id)) {
        throw new RangeError(
          `Cannot store stream records: each stream may appear once per batch: "${e.id}" appears again at index ${i}`,
        );
      }
      seen.add(e.id);
    }
    const batcher = new CommitBatcher(this.kv, this.options.commitLimits);
    for (const e of entries) {
      await batcher.add({
        owner: e.id,
        ops: [
          { type: "check", key: configKey(e.id), versionstamp: null },
          { type: "set", key: configKey(e.id), value: e.config },
          { type: "set", key: streamIndexKey(e.id), value: true },
        ],
      });
    }
    await batcher.flush();
    return {
      stored: entries.filter((e) => !batcher.failed.has(e.id)).map((e) => e.id),
      existing: entries.filter((e) => batcher.failed.has(e.id)).map((e) => e.id),
      commits: batcher.commits,
    };
  }

  /** The bytes `config` takes as a KV value: a config may take `commitLimits.maxValueBytes`. */
  configBytes(config: unknown): number {
    return valueBytes(config);
  }

  /** A stream's configuration, or null if none is stored. */
  async getConfig<T = unknown>(id: string): Promise<T | null> {
    validateStreamId(id, "read stream config");
    return (await this.kv.get<T>(configKey(id))).value;
  }

  /**
   * Deletes a stream: its configuration, its checkpoint manifest and chunks,
   * its index entry, and the chunks of any finished-with versions of it.
   * Its alerts stay (they are history; retention removes them). Returns
   * whether the stream existed.
   */
  async deleteStream(id: string): Promise<boolean> {
    validateStreamId(id, "delete stream");
    return await this.#writes.run(async () => {
      for (let attempt = 1; attempt <= 10; attempt++) {
        const [manifest, config, index] = await this.kv.getMany([
          manifestKey(id),
          configKey(id),
          streamIndexKey(id),
        ]);
        const existed = manifest.value !== null || config.value !== null || index.value !== null;
        const op = this.kv.atomic()
          .check(manifest)
          .delete(manifestKey(id))
          .delete(configKey(id))
          .delete(streamIndexKey(id));
        if (manifest.value !== null) {
          let m: CheckpointManifest | null = null;
          try {
            m = parseManifest(manifest.value, id);
          } catch {
            // a broken manifest: its chunks cannot be found without it
          }
          // The chunks become obsolete in the same commit: the sweep below deletes them.
          if (m) {
            op.set(journalKey(id, m.version), {
              state: "obsolete",
              chunkCount: m.chunkCount,
              createdAt: this.options.now(),
            });
          }
        }
        if (!(await op.commit()).ok) continue;
        this.#checkpoints.forget(id);
        // Writes of this stream still in progress elsewhere are given up: the stream is gone.
        await this.#checkpoints.sweep({ streams: [id], staleAfterMs: 0 });
        return existed;
      }
      throw new Error(
        `Cannot delete stream "${id}": its manifest must stay unchanged for one read-and-delete: another writer changed it 10 times in a row`,
      );
    });
  }

  // ---- checkpoints ----------------------------------------------------------

  /**
   * Saves one stream's checkpoint; returns its manifest and the commits used.
   * Throws CheckpointConflictError if another writer replaced it meanwhile.
   */
  async saveCheckpoint(
    id: string,
    bytes: Uint8Array,
  ): Promise<{ manifest: CheckpointManifest; commits: number }> {
    const { saved, commits } = await this.saveCheckpoints([{ id, bytes }]);
    return { manifest: saved[0], commits };
  }

  /**
   * Saves many streams' checkpoints in as few commits as the limits allow
   * (100 small ones: one commit), each switched atomically: a reader sees a
   * stream's old checkpoint or its new one, never a mix. An entry's `config`
   * is written in the commit of its switch. Every entry is checked (id,
   * bytes, config size) before anything is written. A commit holds at
   * most 100 streams' switches (Deno KV's check limit). Ends with a sweep of
   * these streams' finished-with chunk versions (if that sweep fails, the
   * promise rejects although the checkpoints were switched; the next save or
   * sweep finishes its work). Throws CheckpointConflictError after saving the
   * others if another writer replaced some of them meanwhile.
   */
  saveCheckpoints(entries: CheckpointEntry[]): Promise<SaveCheckpointsResult> {
    return this.#writes.run(() => this.#checkpoints.save(entries));
  }

  /** A stream's checkpoint, byte for byte as saved, or null if it has none. Verifies length and SHA-256. */
  loadCheckpoint(id: string): Promise<Uint8Array | null> {
    return this.#checkpoints.load(id);
  }

  /** The manifest of a stream's checkpoint (version, size, checksum, createdAt), or null. */
  getManifest(id: string): Promise<CheckpointManifest | null> {
    return this.#checkpoints.manifest(id);
  }

  /**
   * Deletes chunk versions no manifest points to: those replaced or deleted,
   * and those of writes that crashed (unfinished after `staleAfterMs`,
   * default `staleWriteMs`). Run at start-up and now and then.
   */
  sweep(options: SweepOptions = {}): Promise<SweepResult> {
    return this.#writes.run(() => this.#checkpoints.sweep(options));
  }

  // ---- alerts ---------------------------------------------------------------

  /** Appends an alert; the store assigns its id (increasing) and `state` defaults to "open". */
  appendAlert(input: AlertInput): Promise<AlertRecord> {
    return this.#alerts.append(input);
  }

  /**
   * Appends alerts in order, in as few commits as the limits allow (hundreds
   * of alerts in one), with consecutive ids; returns them as stored. A bad
   * alert refuses the batch before anything is written.
   */
  appendAlerts(inputs: readonly AlertInput[]): Promise<AlertRecord[]> {
    return this.#alerts.appendMany(inputs);
  }

  /** The alert with this id, or null. */
  getAlert(id: string): Promise<AlertRecord | null> {
    return this.#alerts.get(id);
  }

  /** Alerts matching every filter given, oldest first (newest with `reverse`); `limit` default 100. */
  listAlerts(filter: AlertFilter = {}): Promise<AlertRecord[]> {
    return this.#alerts.list(filter);
  }

  /** Merges `patch` into an alert (not its id); null if there is no such alert. */
  updateAlert(id: string, patch: Partial<AlertInput>): Promise<AlertRecord | null> {
    return this.#alerts.update(id, patch);
  }

  /**
   * Marks an alert acknowledged (`state`, `acknowledgedAt`: default now); null if there is none.
   * An alert acknowledged before is returned unchanged: the first `acknowledgedAt` stays.
   */
  acknowledgeAlert(id: string, at?: number): Promise<AlertRecord | null> {
    return this.#alerts.acknowledge(id, at);
  }

  /** Deletes alerts beyond the retention limits (default: the store's `alertRetention`). */
  pruneAlerts(options: Partial<AlertRetention> = {}): Promise<PruneResult> {
    return this.#alerts.prune(options);
  }
}
