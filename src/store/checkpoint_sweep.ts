/**
 * The sweep of checkpoint chunk versions that are done with (see
 * checkpoint_store.ts): the journal's obsolete and aborted versions, and
 * writes still "writing" after `staleAfterMs` (crashed saves), first marked
 * aborted so that their switch fails.
 */
import { CommitBatcher } from "./commit_batcher.ts";
import { type JournalEntry, parseJournalEntry } from "./checkpoint_manifest.ts";
import type { CheckpointSettings } from "./checkpoint_store.ts";
import { showValue } from "../domain/show_value.ts";
import { chunkKey, journalKey, journalPrefix, parseJournalKey, validateStreamId } from "./keys.ts";

/** Options of `sweep()`. */
export interface SweepOptions {
  /** Only these streams' journal entries. Default: all. */
  streams?: string[];
  /** Give up writes still "writing" after this long. Default: the store's `staleWriteMs`. */
  staleAfterMs?: number;
}

/** What `sweep()` did. */
export interface SweepResult {
  /** Chunk versions removed. */
  versions: number;
  /** Chunk keys deleted (some may already have been gone). */
  chunks: number;
  /** Atomic commits used. */
  commits: number;
}

function flightKey(id: string, version: string): string {
  return `${id}\u0000${version}`;
}

/** `entry` given up: its chunks are to be deleted, its switch fails. */
export function abortedEntry(entry: JournalEntry): JournalEntry {
  return { ...entry, state: "aborted" };
}

/**
 * Deletes the chunks of every journalled version that is done with: the
 * obsolete and aborted ones, and the ones still "writing" that are older
 * than `staleAfterMs` (crashed saves).
 */
export async function sweepCheckpoints(
  kv: Deno.Kv,
  settings: CheckpointSettings,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const staleAfterMs = options.staleAfterMs ?? settings.staleWriteMs;
  if (typeof staleAfterMs !== "number" || !(staleAfterMs >= 0)) {
    throw new RangeError(
      `Cannot sweep checkpoints: staleAfterMs must be a number >= 0: current value is ${
        showValue(staleAfterMs)
      }`,
    );
  }
  let only: Set<string> | null = null;
  if (options.streams !== undefined) {
    for (const id of options.streams) validateStreamId(id, "sweep checkpoints");
    only = new Set(options.streams);
  }
  const now = settings.now();
  const todo: { id: string; version: string; entry: JournalEntry; versionstamp: string }[] = [];
  for await (const e of kv.list({ prefix: journalPrefix() })) {
    const { id, version } = parseJournalKey(e.key);
    if (only !== null && !only.has(id)) continue;
    const entry = parseJournalEntry(e.value, id, version);
    if (entry.state === "writing" && now - entry.createdAt < staleAfterMs) continue;
    todo.push({ id, version, entry, versionstamp: e.versionstamp });
  }
  const batcher = new CommitBatcher(kv, settings.commitLimits);
  for (const t of todo) {
    const owner = flightKey(t.id, t.version);
    const key = journalKey(t.id, t.version);
    if (t.entry.state === "writing") {
      // Give the write up first: its switch checks this entry and will now fail.
      await batcher.add({
        owner,
        ops: [
          { type: "check", key, versionstamp: t.versionstamp },
          { type: "set", key, value: abortedEntry(t.entry) },
        ],
      });
    }
    for (let i = 0; i < t.entry.chunkCount; i++) {
      await batcher.add({ owner, ops: [{ type: "delete", key: chunkKey(t.id, t.version, i) }] });
    }
    await batcher.add({ owner, ops: [{ type: "delete", key }] });
  }
  await batcher.flush();
  const done = todo.filter((t) => !batcher.failed.has(flightKey(t.id, t.version)));
  return {
    versions: done.length,
    chunks: done.reduce((n, t) => n + t.entry.chunkCount, 0),
    commits: batcher.commits,
  };
}
