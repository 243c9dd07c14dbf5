/**
 * Model checkpoints in Deno KV: opaque bytes stored as a manifest plus chunks
 * of at most 64 KiB, so that a reader never sees a half-written checkpoint.
 *
 * Saving a checkpoint:
 *
 * 1. The bytes are cut into chunks written under a new version id. A
 *    checkpoint that fits one atomic commit together with its manifest is
 *    written in that one commit. A bigger one first writes a journal entry
 *    ("writing", with its chunk count), then its chunks over as many commits
 *    as the limits need.
 * 2. The switch: one commit that checks the manifest's versionstamp is still
 *    the one read before writing, or the one of this store's own last switch
 *    of it (so two writers cannot both win, and a save of a stream this store
 *    switched reads no manifest: a read that costs Deno KV's SQLite the
 *    chunks beside the key, docs/persistence.md), checks the
 *    journal entry is untouched (so a sweep has not given the write up), sets
 *    the new manifest and deletes the journal entry.
 * 3. The old version's chunks are deleted in the switch commit when they fit;
 *    otherwise the switch marks the old version "obsolete" in the journal and
 *    the sweep that ends every save deletes them.
 *
 * The invariant: every chunk in KV belongs either to the version its stream's
 * manifest points to or to a version with a journal entry. So cleaning up
 * never has to scan chunks: `sweep()` reads the (small) journal and deletes
 * chunks by key. An entry still "writing" is left alone until it is older
 * than `staleWriteMs` (it may be a write of another process in progress);
 * then the sweep first marks it "aborted" (so that write's switch fails) and
 * deletes its chunks. The writes of one CheckpointStore (save, sweep) must
 * not overlap: `Store` runs them one at a time, so a sweep never meets a
 * save of its own store half-done.
 *
 * Many streams are saved with few commits: `save()` takes a batch and packs
 * every stream's chunks and switch into shared commits (see CommitBatcher);
 * 100 small checkpoints take one commit. Its own work on a big batch goes in
 * slices of `sliceMs` with a turn of the event loop between (a worker's
 * messages are taken there); what is written does not depend on them.
 *
 * Reading takes the manifest, then the chunks of its version (immutable once
 * written), checks their count, length and SHA-256. Chunks that vanish
 * mid-read mean a writer replaced the checkpoint: the read starts over from
 * the new manifest.
 */
import { CommitBatcher, type CommitLimits, type Op } from "./commit_batcher.ts";
import { checkConfig } from "./check_config.ts";
import {
  abortedEntry,
  sweepCheckpoints,
  type SweepOptions,
  type SweepResult,
} from "./checkpoint_sweep.ts";

export type { SweepOptions, SweepResult };
import { CheckpointConflictError } from "./checkpoint_conflict_error.ts";
import {
  type CheckpointManifest,
  type JournalEntry,
  MANIFEST_FORMAT,
  newVersionId,
  parseManifest,
  sha256Checksum,
} from "./checkpoint_manifest.ts";
import { serialize } from "node:v8";
import { showValue } from "../domain/show_value.ts";
import { Slices } from "../async/next_turn.ts";
import {
  chunkKey,
  chunkVersionPrefix,
  configKey,
  journalKey,
  manifestKey,
  streamIndexKey,
  validateStreamId,
} from "./keys.ts";

/** One stream's checkpoint to save. */
export interface CheckpointEntry {
  id: string;
  bytes: Uint8Array;
  /**
   * The stream's configuration, written in the commit that switches its
   * checkpoint (so the two never disagree after a crash, and a config costs
   * no commit of its own). Any value Deno KV can hold, up to 64 KiB
   * serialised. Default: the stored config is left as it is.
   */
  config?: unknown;
}

/** What `save()` did. */
export interface SaveCheckpointsResult {
  /** The new manifests, in the order of the entries. */
  saved: CheckpointManifest[];
  /** Atomic commits used, including the sweep that ends the save. */
  commits: number;
}

/** Settings a CheckpointStore runs with (resolved, no defaults left). */
export interface CheckpointSettings {
  now: () => number;
  chunkSize: number;
  staleWriteMs: number;
  commitLimits: CommitLimits;
  /** Longest run of a save's own work before it yields to the event loop, ms. */
  sliceMs: number;
}

/** A read kept meeting a replaced checkpoint this many times in a row: give up. */
const READ_ATTEMPTS = 5;

/** A stream's manifest as a save finds it: what its switch checks, and the chunks it replaces. */
interface OldManifest {
  versionstamp: string | null;
  manifest: Pick<CheckpointManifest, "version" | "chunkCount"> | null;
  /** The stream's config as this store's last switch left it (V8-serialised), if it knows. */
  config?: Uint8Array;
}

interface Plan {
  id: string;
  version: string;
  manifest: CheckpointManifest;
  journal: JournalEntry | null;
  journalVersionstamp?: string;
  /** The versionstamp of the commit that switched the stream to this version, once committed. */
  switchVersionstamp?: string;
  /** The config (V8-serialised) KV holds once the switch is committed, if known. */
  config?: Uint8Array;
}

/** Checkpoint reads and writes; `Store` is the public face. */
export class CheckpointStore {
  /**
   * Each stream's manifest as this store's last save switched it, with
   * that commit's versionstamp: the next save of the stream checks it
   * instead of reading the manifest again (a read that costs Deno KV's
   * SQLite its neighbours' chunks; docs/persistence.md). Another writer's
   * switch since fails that check as it fails one that read the manifest.
   * Also the config the switch left: a save writes a config only when it
   * changed since.
   */
  readonly #known = new Map<string, OldManifest>();

  constructor(readonly kv: Deno.Kv, readonly settings: CheckpointSettings) {}

  /** Forgets what this store knows of stream `id`'s manifest (the stream was deleted). */
  forget(id: string): void {
    this.#known.delete(id);
  }

  /** The manifest of a stream's current checkpoint, or null if it has none. */
  async manifest(id: string): Promise<CheckpointManifest | null> {
    validateStreamId(id, "read checkpoint manifest");
    const entry = await this.kv.get(manifestKey(id));
    return entry.value === null ? null : parseManifest(entry.value, id);
  }

  /** A stream's checkpoint, verified, or null if it has none. */
  async load(id: string): Promise<Uint8Array | null> {
    validateStreamId(id, "load checkpoint");
    for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
      const entry = await this.kv.get(manifestKey(id));
      if (entry.value === null) return null;
      const m = parseManifest(entry.value, id);
      const what = `Cannot load checkpoint of stream "${id}" (version ${m.version})`;
      const parts: Uint8Array[] = [];
      let length = 0;
      let missing = -1;
      for await (
        const chunk of this.kv.list({ prefix: chunkVersionPrefix(id, m.version) }, {
          batchSize: 16,
        })
      ) {
        const index = chunk.key[chunk.key.length - 1];
        if (index !== parts.length) {
          missing = parts.length;
          break;
        }
        if (!(chunk.value instanceof Uint8Array)) {
          throw new TypeError(
            `${what}: chunk ${index} must be bytes: current value is ${showValue(chunk.value)}`,
          );
        }
        parts.push(chunk.value);
        length += chunk.value.byteLength;
      }
      if (missing < 0 && parts.length < m.chunkCount) missing = parts.length;
      if (missing >= 0) {
        const again = await this.kv.get(manifestKey(id));
        if (again.versionstamp !== entry.versionstamp) continue; // replaced while reading
        throw new RangeError(
          `${what}: all ${m.chunkCount} chunks must be present: chunk ${missing} is missing`,
        );
      }
      if (parts.length !== m.chunkCount) {
        throw new RangeError(
          `${what}: it must have the ${m.chunkCount} chunks its manifest lists: current count is ${parts.length}`,
        );
      }
      if (length !== m.byteLength) {
        throw new RangeError(
          `${what}: its chunks must hold the ${m.byteLength} bytes its manifest gives: current length is ${length}`,
        );
      }
      const bytes = new Uint8Array(length);
      let pos = 0;
      for (const p of parts) {
        bytes.set(p, pos);
        pos += p.byteLength;
      }
      const checksum = await sha256Checksum(bytes);
      if (checksum !== m.checksum) {
        throw new RangeError(
          `${what}: its checksum must match the manifest's ${m.checksum}: the chunks hash to ${checksum}`,
        );
      }
      return bytes;
    }
    throw new Error(
      `Cannot load checkpoint of stream "${id}": it must stay in place while it is read: it was replaced ${READ_ATTEMPTS} times in a row`,
    );
  }

  /**
   * Saves several streams' checkpoints with as few commits as the limits
   * allow, each switched atomically. Throws CheckpointConflictError (after
   * saving the rest) if another writer replaced one of them meanwhile.
   */
  async save(entries: CheckpointEntry[]): Promise<SaveCheckpointsResult> {
    if (!Array.isArray(entries)) {
      throw new TypeError(
        `Cannot save checkpoints: entries must be an array: current value is ${showValue(entries)}`,
      );
    }
    const pause = new Slices(this.settings.sliceMs);
    const seen = new Set<string>();
    for (const [i, e] of entries.entries()) {
      if (pause.due()) await pause.turn();
      validateStreamId(e?.id, "save checkpoint");
      if (!(e.bytes instanceof Uint8Array)) {
        throw new TypeError(
          `Cannot save checkpoint of stream "${e.id}": bytes must be a Uint8Array: current value is ${
            showValue(e.bytes)
          }`,
        );
      }
      if ("config" in e && e.config !== undefined) {
        checkConfig(
          e.id,
          e.config,
          this.settings.commitLimits.maxValueBytes,
          "save checkpoint of stream",
        );
      }
      if (seen.has(e.id)) {
        throw new RangeError(
          `Cannot save checkpoints: each stream may appear once per batch: "${e.id}" appears again at index ${i}`,
        );
      }
      seen.add(e.id);
    }
    const ids = entries.map((e) => e.id);
    // what the save finds is read again next time unless its switch is committed (below)
    const olds = await this.#readManifests(ids);
    for (const id of ids) this.#known.delete(id);
    const checksums: string[] = []; // 32 at a time: their answers are one turn's work
    for (let i = 0; i < entries.length; i += 32) {
      const part = entries.slice(i, i + 32).map((e) => sha256Checksum(e.bytes));
      checksums.push(...await Promise.all(part));
    }
    pause.restart();
    const { chunkSize } = this.settings;
    const now = this.settings.now();
    const batcher = new CommitBatcher(this.kv, this.settings.commitLimits);
    const plans: Plan[] = [];
    for (const [i, e] of entries.entries()) {
      const version = newVersionId(now);
      const manifest: CheckpointManifest = {
        format: MANIFEST_FORMAT,
        version,
        byteLength: e.bytes.byteLength,
        chunkCount: Math.ceil(e.bytes.byteLength / chunkSize),
        chunkSize,
        checksum: checksums[i],
        createdAt: now,
      };
      const plan: Plan = { id: e.id, version, manifest, journal: null, config: olds[i].config };
      plans.push(plan);
      let config = e.config;
      if (config !== undefined) {
        const bytes = serialize(config);
        if (plan.config !== undefined && sameBytes(plan.config, bytes)) config = undefined;
        plan.config = bytes;
      }
      await this.#queue(batcher, plan, olds[i], e.bytes, config);
      if (pause.due()) await pause.turn();
    }
    await batcher.flush();
    // A write that lost its switch leaves journalled chunks: hand them to the sweep below.
    for (const p of plans) {
      if (batcher.failed.has(p.id) && p.journal && p.journalVersionstamp) {
        await batcher.add({
          ops: [{ type: "set", key: journalKey(p.id, p.version), value: abortedEntry(p.journal) }],
        });
      }
    }
    await batcher.flush();
    for (const p of plans) {
      if (p.switchVersionstamp !== undefined && !batcher.failed.has(p.id)) {
        const { version, chunkCount } = p.manifest;
        this.#known.set(p.id, {
          versionstamp: p.switchVersionstamp,
          manifest: { version, chunkCount },
          config: p.config,
        });
      }
    }
    const swept = await this.sweep({ streams: ids });
    const result = {
      saved: plans.filter((p) => !batcher.failed.has(p.id)).map((p) => p.manifest),
      commits: batcher.commits + swept.commits,
    };
    const lost = plans.filter((p) => batcher.failed.has(p.id)).map((p) => p.id);
    if (lost.length > 0) throw new CheckpointConflictError(lost, result);
    return result;
  }

  /** Queues one stream's chunks and switch on `batcher`. */
  async #queue(
    batcher: CommitBatcher,
    plan: Plan,
    old: OldManifest,
    bytes: Uint8Array,
    config: unknown,
  ) {
    const { id, version, manifest } = plan;
    const chunkOps: Op[] = [];
    for (let i = 0; i < manifest.chunkCount; i++) {
      const start = i * manifest.chunkSize;
      chunkOps.push({
        type: "set",
        key: chunkKey(id, version, i),
        value: bytes.subarray(start, start + manifest.chunkSize),
      });
    }
    const jKey = journalKey(id, version);
    const switchOps = (journalled: boolean, deleteOldInline: boolean): Op[] => {
      const ops: Op[] = [{ type: "check", key: manifestKey(id), versionstamp: old.versionstamp }];
      if (journalled) {
        ops.push({
          type: "check",
          key: jKey,
          versionstamp: () => {
            if (plan.journalVersionstamp === undefined) {
              throw new Error(
                `Cannot switch checkpoint of stream "${id}": its journal entry must be committed before the switch: it is not`,
              );
            }
            return plan.journalVersionstamp;
          },
        });
        ops.push({ type: "delete", key: jKey });
      }
      ops.push({ type: "set", key: manifestKey(id), value: manifest });
      if (config !== undefined) ops.push({ type: "set", key: configKey(id), value: config });
      const prev = old.manifest;
      if (prev === null) {
        ops.push({ type: "set", key: streamIndexKey(id), value: true });
      } else if (deleteOldInline) {
        for (let i = 0; i < prev.chunkCount; i++) {
          ops.push({ type: "delete", key: chunkKey(id, prev.version, i) });
        }
      } else {
        ops.push({
          type: "set",
          key: journalKey(id, prev.version),
          value: { state: "obsolete", chunkCount: prev.chunkCount, createdAt: manifest.createdAt },
        });
      }
      return ops;
    };
    // Chunks and switch in one commit: nothing can be left half-done, no journal entry needed.
    for (const inline of [true, false]) {
      const ops = [...chunkOps, ...switchOps(false, inline)];
      if (batcher.fitsOneCommit(ops)) {
        await batcher.add({ owner: id, ops, onCommitted: (vs) => plan.switchVersionstamp = vs });
        return;
      }
    }
    // Bigger than a commit: journal the version first, so a crash leaves its chunks findable.
    plan.journal = {
      state: "writing",
      chunkCount: manifest.chunkCount,
      createdAt: manifest.createdAt,
    };
    await batcher.add({
      owner: id,
      ops: [{ type: "set", key: jKey, value: plan.journal }],
      onCommitted: (vs) => plan.journalVersionstamp = vs,
    });
    for (const op of chunkOps) await batcher.add({ owner: id, ops: [op] });
    const inline = switchOps(true, true);
    await batcher.add({
      owner: id,
      ops: batcher.fitsOneCommit(inline) ? inline : switchOps(true, false),
      onCommitted: (vs) => plan.switchVersionstamp = vs,
    });
  }

  /** The manifests of `ids` as this store last switched them, the others read (10 a read). */
  async #readManifests(ids: string[]): Promise<OldManifest[]> {
    const out = ids.map((id) => this.#known.get(id));
    const unknown = ids.filter((_, i) => out[i] === undefined);
    const read: OldManifest[] = [];
    for (let i = 0; i < unknown.length; i += 10) {
      const batch = unknown.slice(i, i + 10);
      const entries = await this.kv.getMany(batch.map((id) => manifestKey(id)));
      entries.forEach((e, j) => {
        read.push({
          versionstamp: e.versionstamp,
          // A manifest that cannot be parsed is replaced; its chunks cannot be found without it.
          manifest: e.value === null ? null : tryParseManifest(e.value, batch[j]),
        });
      });
    }
    let r = 0;
    return out.map((o) => o ?? read[r++]);
  }

  /** Deletes the chunk versions the journal says are done with (checkpoint_sweep.ts). */
  sweep(options: SweepOptions = {}): Promise<SweepResult> {
    return sweepCheckpoints(this.kv, this.settings, options);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function tryParseManifest(value: unknown, id: string): CheckpointManifest | null {
  try {
    return parseManifest(value, id);
  } catch {
    return null;
  }
}
