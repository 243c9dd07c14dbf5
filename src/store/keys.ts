/**
 * Every Deno KV key forecastd uses, built here and nowhere else.
 *
 * ```text
 * ["forecastd", "v1", "streams", id, "config"]                  the stream's configuration (JSON)
 * ["forecastd", "v1", "streams", id, "manifest"]                the current checkpoint's manifest
 * ["forecastd", "v1", "streams", id, "chunks", version, i]      chunk i (0-based) of a checkpoint version
 * ["forecastd", "v1", "stream_index", id]                       true while the stream has a config or a checkpoint
 * ["forecastd", "v1", "journal", id, version]                   a chunk version that is not (or not yet) current
 * ["forecastd", "v1", "alert_seq"]                              the last alert id handed out (a number)
 * ["forecastd", "v1", "alerts", alertId]                        one alert event (JSON)
 * ```
 *
 * A stream's data lives under one prefix, so deleting a stream is one prefix.
 * The index and the journal are small and listed without touching chunks.
 * Every part that comes from outside (a stream id, an alert id) is validated
 * before it becomes a key.
 */

import { isStreamId, STREAM_ID_RULE } from "../domain/reading.ts";
import { showValue } from "../domain/show_value.ts";

/** The prefix of every key forecastd writes; "v1" is the key layout's version. */
export const ROOT = ["forecastd", "v1"] as const;

/** An alert id: 16 decimal digits, zero-padded, so string order is numeric order. */
export const ALERT_ID_PATTERN = /^[0-9]{16}$/;

/** A checkpoint version id as `newVersionId()` makes them. */
export const VERSION_PATTERN = /^[0-9a-z]{1,16}-[0-9a-f]{1,32}$/;

/**
 * Throws unless `id` is a valid stream id (src/domain/reading.ts: 1-128
 * characters of `[A-Za-z0-9_.:-]`). `action` and `field` name what was being
 * done and which value was wrong, for the message.
 */
export function validateStreamId(
  id: unknown,
  action = "store stream",
  field = "id",
): asserts id is string {
  if (!isStreamId(id)) {
    throw new TypeError(
      `Cannot ${action}: ${field} must be ${STREAM_ID_RULE}: current value is ${showValue(id)}`,
    );
  }
}

/** Throws unless `id` is an alert id as `formatAlertId()` makes them. */
export function validateAlertId(id: unknown, action = "find alert"): asserts id is string {
  if (typeof id !== "string" || !ALERT_ID_PATTERN.test(id)) {
    throw new TypeError(
      `Cannot ${action}: an alert id must be 16 decimal digits: current value is ${showValue(id)}`,
    );
  }
}

function validateVersion(version: string): void {
  if (!VERSION_PATTERN.test(version)) {
    throw new TypeError(
      `Cannot build checkpoint key: version must match ${VERSION_PATTERN}: current value is ${
        showValue(version)
      }`,
    );
  }
}

/** The alert id of sequence number `n` (1, 2, ...): 16 digits, zero-padded. */
export function formatAlertId(n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot format alert id: the sequence number must be a positive safe integer: current value is ${n}`,
    );
  }
  return String(n).padStart(16, "0");
}

/** The sequence number of an alert id (the inverse of `formatAlertId()`). */
export function parseAlertId(id: string): number {
  validateAlertId(id);
  return Number(id);
}

/** Prefix of every stream's data: config, manifest, chunks. */
export function streamsPrefix(): Deno.KvKey {
  return [...ROOT, "streams"];
}

/** Prefix of one stream's data. */
export function streamPrefix(id: string): Deno.KvKey {
  validateStreamId(id);
  return [...ROOT, "streams", id];
}

/** A stream's configuration. */
export function configKey(id: string): Deno.KvKey {
  return [...streamPrefix(id), "config"];
}

/** A stream's current checkpoint manifest. */
export function manifestKey(id: string): Deno.KvKey {
  return [...streamPrefix(id), "manifest"];
}

/** Prefix of all chunks of all versions of a stream's checkpoints. */
export function chunksPrefix(id: string): Deno.KvKey {
  return [...streamPrefix(id), "chunks"];
}

/** Prefix of the chunks of one checkpoint version. */
export function chunkVersionPrefix(id: string, version: string): Deno.KvKey {
  validateVersion(version);
  return [...chunksPrefix(id), version];
}

/** Chunk `index` (0-based) of a checkpoint version. */
export function chunkKey(id: string, version: string, index: number): Deno.KvKey {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(
      `Cannot build checkpoint key: chunk index must be a non-negative integer: current value is ${index}`,
    );
  }
  return [...chunkVersionPrefix(id, version), index];
}

/** Prefix of the stream index. */
export function streamIndexPrefix(): Deno.KvKey {
  return [...ROOT, "stream_index"];
}

/** A stream's entry in the stream index. */
export function streamIndexKey(id: string): Deno.KvKey {
  validateStreamId(id);
  return [...streamIndexPrefix(), id];
}

/** Prefix of the journal of non-current chunk versions. */
export function journalPrefix(): Deno.KvKey {
  return [...ROOT, "journal"];
}

/** The journal entry of one chunk version. */
export function journalKey(id: string, version: string): Deno.KvKey {
  validateStreamId(id);
  validateVersion(version);
  return [...journalPrefix(), id, version];
}

/** Reads `[id, version]` back from a journal key. */
export function parseJournalKey(key: Deno.KvKey): { id: string; version: string } {
  const [id, version] = key.slice(journalPrefix().length);
  validateStreamId(id, "read journal");
  if (typeof version !== "string") {
    throw new TypeError(
      `Cannot read journal: the key must end in a version string: current value is ${
        showValue(version)
      }`,
    );
  }
  validateVersion(version);
  return { id, version };
}

/** The last alert sequence number handed out. */
export function alertSeqKey(): Deno.KvKey {
  return [...ROOT, "alert_seq"];
}

/** Prefix of all alert events. */
export function alertsPrefix(): Deno.KvKey {
  return [...ROOT, "alerts"];
}

/** One alert event. */
export function alertKey(alertId: string): Deno.KvKey {
  validateAlertId(alertId);
  return [...alertsPrefix(), alertId];
}
