/**
 * The ingest routes' sink on one shard among several (`--shard I/N`): a
 * batch (`POST /v1/readings`, a WebSocket message) may mix streams of every
 * shard. This instance takes its own streams' readings and reports each of
 * the others in `rejected` with reason `other_shard` and `owner`, the base
 * URL of the instance to send it to; nothing is forwarded. A batch of only
 * other shards' readings is answered 422 like any batch refused whole.
 * (`POST /v1/streams/{id}/readings` for another shard's stream never gets
 * here: shard_routing.ts redirects it.)
 */
import {
  OTHER_SHARD,
  ownerShard,
  ownsStream,
  peerUrl,
  type ShardMap,
} from "../domain/shard_map.ts";
import type { Rejection } from "../ingest/ingest_sink.ts";
import type { ReadingSink } from "./ingest.ts";

/** `sink` for the readings of `map`'s own streams; the others are reported, not taken. */
export function shardSink(sink: ReadingSink, map: ShardMap): ReadingSink {
  return {
    async ingest(readings, source) {
      const mine: typeof readings[number][] = [];
      const mineAt: number[] = [];
      const others: Rejection[] = [];
      readings.forEach((r, index) => {
        if (ownsStream(map, r.stream)) {
          mine.push(r);
          mineAt.push(index);
          return;
        }
        const shard = ownerShard(map, r.stream);
        const owner = peerUrl(map, shard, "");
        sink.reject(OTHER_SHARD);
        others.push({
          index,
          stream: r.stream,
          reason: OTHER_SHARD,
          message: `Cannot ingest reading: the stream must belong to this instance's shard ` +
            `${map.index}/${map.count}: ${JSON.stringify(r.stream)} belongs to shard ` +
            `${shard}/${map.count}; send it to ${owner}`,
          owner,
        });
      });
      if (others.length === 0) return await sink.ingest(readings, source);
      const result = mine.length > 0
        ? await sink.ingest(mine, source)
        : { accepted: 0, rejected: [] };
      const rejected = [
        ...result.rejected.map((r) => ({ ...r, index: mineAt[r.index] })),
        ...others,
      ].sort((a, b) => a.index - b.index);
      return { accepted: result.accepted, rejected };
    },
    // another shard's stream creates nothing here: it must not use up the client's creations
    exists: (stream) => !ownsStream(map, stream) || sink.exists(stream),
    reject: (reason) => sink.reject(reason),
  };
}
