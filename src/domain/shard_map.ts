/**
 * Where this instance stands among instances that split the streams
 * (`--shard i/n` with `--peer` URLs): which shard it is, how many there are,
 * and the base URL of each, so that any instance can say who owns a stream
 * (see {@link shardOf}) and send a client there.
 */
import { shardOf } from "./shard_of.ts";

/** This instance's shard, the shard count, and every instance's base URL in shard order. */
export interface ShardMap {
  /** This instance's shard, 0 … count-1. */
  readonly index: number;
  /** How many shards split the streams (at least 1). */
  readonly count: number;
  /**
   * The base URL of each shard's API (`http://host:port`, maybe with a path
   * prefix), index i for shard i; empty when count is 1.
   */
  readonly peers: readonly string[];
}

/** How `--shard` is written: `i/n` with 0 <= i < n. */
export const SHARD_RULE = "I/N with N from 1 to 1024 and I from 0 to N-1 (e.g. 0/2)";

/**
 * The reject reason of a reading of a stream this instance does not own: a
 * count in
 * `forecastd_rejected_readings_total{reason="other_shard"}`, and the reason
 * of such a reading in an HTTP or WebSocket batch's `rejected` list.
 */
export const OTHER_SHARD = "other_shard";

/** The most shards one deployment may have. */
export const MAX_SHARDS = 1024;

/** `i/n` as {index, count}, or null when `text` is not that (see SHARD_RULE). */
export function parseShard(text: string): { index: number; count: number } | null {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text);
  if (m === null) return null;
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS || index >= count) return null;
  return { index, count };
}

/** `i/n`, as `--shard` takes it. */
export function formatShard(map: Pick<ShardMap, "index" | "count">): string {
  return `${map.index}/${map.count}`;
}

/** The shard that owns stream `id`. */
export function ownerShard(map: ShardMap, id: string): number {
  return map.count === 1 ? 0 : shardOf(id, map.count);
}

/** True when this instance owns stream `id`. */
export function ownsStream(map: ShardMap, id: string): boolean {
  return ownerShard(map, id) === map.index;
}

/**
 * The URL of `pathAndQuery` (starting with "/") on the instance of shard
 * `shard`: its base URL without a trailing "/", then the path and query.
 */
export function peerUrl(map: ShardMap, shard: number, pathAndQuery: string): string {
  const base = map.peers[shard];
  if (base === undefined) {
    throw new RangeError(
      `Cannot name the instance of a shard: the shard must have a base URL among the ` +
        `${map.peers.length} peers: current value is ${shard}`,
    );
  }
  return base.replace(/\/+$/, "") + pathAndQuery;
}
