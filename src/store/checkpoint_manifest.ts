/**
 * The records that describe stored checkpoints: the manifest (which chunk
 * version is a stream's checkpoint, how long it is, its checksum) and the
 * journal entry (a chunk version that is not, or not yet, current).
 *
 * Both are read back from KV, where anything may have happened to them, so
 * each has a parser that checks every field and names the one that is wrong.
 */
import { showValue } from "../domain/show_value.ts";
import { VERSION_PATTERN } from "./keys.ts";

/** The manifest layout this code writes and reads. */
export const MANIFEST_FORMAT = 1;

/** Where a stream's current checkpoint is and how to check it. */
export interface CheckpointManifest {
  /** Layout of this record: 1. */
  format: 1;
  /** The chunk version holding the bytes: a fresh id per save. */
  version: string;
  /** Length of the checkpoint in bytes. */
  byteLength: number;
  /** Number of chunks: ceil(byteLength / chunkSize), 0 for an empty checkpoint. */
  chunkCount: number;
  /** Bytes per chunk (the last may be shorter). */
  chunkSize: number;
  /** "sha256:" and the lower-case hex SHA-256 of the checkpoint's bytes. */
  checksum: string;
  /** When the checkpoint was saved, ms since the epoch (the store's clock). */
  createdAt: number;
}

/**
 * A chunk version that is not a stream's current checkpoint:
 * - "writing": a save in progress (or one that crashed): its chunks may be incomplete
 * - "obsolete": replaced or deleted; its chunks are to be deleted
 * - "aborted": a save that will never be switched to; its chunks are to be deleted
 */
export interface JournalEntry {
  state: "writing" | "obsolete" | "aborted";
  /** How many chunks the version has (or will have): the keys to delete. */
  chunkCount: number;
  /** When the entry was written, ms since the epoch. */
  createdAt: number;
}

/** `"sha256:" + hex` of `bytes`. */
export async function sha256Checksum(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return `sha256:${hex}`;
}

/**
 * A new chunk version id: the time in base 36 (so versions sort roughly by
 * age when listed) and 64 random bits (so two writers never share one).
 */
export function newVersionId(now: number): string {
  const random = crypto.getRandomValues(new Uint8Array(8));
  let hex = "";
  for (const b of random) hex += b.toString(16).padStart(2, "0");
  return `${Math.max(0, Math.floor(now)).toString(36)}-${hex}`;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Checks a manifest read from KV; throws naming the first bad field. */
export function parseManifest(value: unknown, id: string): CheckpointManifest {
  const fail = (field: string, want: string, got: unknown) =>
    new TypeError(
      `Cannot read checkpoint manifest of stream "${id}": ${field} must be ${want}: current value is ${
        showValue(got)
      }`,
    );
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("the manifest", "an object", value);
  }
  const m = value as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) throw fail("format", String(MANIFEST_FORMAT), m.format);
  if (typeof m.version !== "string" || !VERSION_PATTERN.test(m.version)) {
    throw fail("version", `a string matching ${VERSION_PATTERN}`, m.version);
  }
  if (!isCount(m.byteLength)) throw fail("byteLength", "a non-negative integer", m.byteLength);
  if (!isCount(m.chunkSize) || m.chunkSize === 0) {
    throw fail("chunkSize", "a positive integer", m.chunkSize);
  }
  const chunks = Math.ceil(m.byteLength / m.chunkSize);
  if (m.chunkCount !== chunks) {
    throw fail("chunkCount", `${chunks} (byteLength / chunkSize rounded up)`, m.chunkCount);
  }
  if (typeof m.checksum !== "string" || !/^sha256:[0-9a-f]{64}$/.test(m.checksum)) {
    throw fail("checksum", '"sha256:" and 64 hex digits', m.checksum);
  }
  if (typeof m.createdAt !== "number" || !Number.isFinite(m.createdAt)) {
    throw fail("createdAt", "a finite number", m.createdAt);
  }
  return {
    format: MANIFEST_FORMAT,
    version: m.version,
    byteLength: m.byteLength,
    chunkCount: chunks,
    chunkSize: m.chunkSize,
    checksum: m.checksum,
    createdAt: m.createdAt,
  };
}

/** Checks a journal entry read from KV; throws naming the first bad field. */
export function parseJournalEntry(value: unknown, id: string, version: string): JournalEntry {
  const fail = (field: string, want: string, got: unknown) =>
    new TypeError(
      `Cannot read journal entry of stream "${id}" version ${version}: ${field} must be ${want}: current value is ${
        showValue(got)
      }`,
    );
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("the entry", "an object", value);
  }
  const e = value as Record<string, unknown>;
  if (e.state !== "writing" && e.state !== "obsolete" && e.state !== "aborted") {
    throw fail("state", '"writing", "obsolete" or "aborted"', e.state);
  }
  if (!isCount(e.chunkCount)) throw fail("chunkCount", "a non-negative integer", e.chunkCount);
  if (typeof e.createdAt !== "number" || !Number.isFinite(e.createdAt)) {
    throw fail("createdAt", "a finite number", e.createdAt);
  }
  return { state: e.state, chunkCount: e.chunkCount, createdAt: e.createdAt };
}
