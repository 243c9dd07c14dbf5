/**
 * The API of one shard among several (`--shard I/N`, docs/clustering.md):
 *
 * - A call for one stream this instance does not own is answered with a 307
 *   redirect to the owner: `Location` is the owner's base URL (its `--peer`)
 *   with the same path and query. 307 keeps the method and the body, so a
 *   `POST /v1/streams/{id}/readings` is sent again to the owner as it was.
 *   Calls under `/v1/streams/{id}`, and the alert routes and `/v1/rejects`
 *   with `?stream=` naming only streams of one other shard, are redirected;
 *   `?stream=` naming streams of several shards is refused (400) with each
 *   stream's owner, as one instance has only its own streams' alerts.
 * - Every response says which shard answered: `Forecastd-Shard: I/N` and
 *   `Forecastd-Peers: URL, URL, ...`. Listings (`GET /v1/streams`,
 *   `GET /v1/alerts`) hold this shard's streams only.
 *
 * An id that is not a valid stream id is not redirected: this instance
 * answers the 400 itself. Nor is a `DELETE` of another shard's stream that
 * this instance still holds (stored before the shards changed): it is
 * deleted here, once moved to its owner.
 */
import type { MiddlewareHandler } from "hono";
import { isStreamId } from "../domain/reading.ts";
import {
  formatShard,
  ownerShard,
  ownsStream,
  peerUrl,
  type ShardMap,
} from "../domain/shard_map.ts";
import type { ApiEnv } from "./router.ts";

/** The response header naming the shard that answered, `I/N`. */
export const SHARD_HEADER = "Forecastd-Shard";
/** The response header listing every shard's base URL, in shard order, comma-separated. */
export const PEERS_HEADER = "Forecastd-Peers";

/** The routes whose `?stream=a,b` says which streams' alerts or refusals they give. */
const STREAM_QUERY_ROUTES = new Set([
  "/v1/alerts",
  "/v1/alerts/events",
  "/v1/alerts/ws",
  "/v1/rejects",
]);

/** Options of shardRouting. */
export interface ShardRoutingOptions {
  /**
   * True when this instance holds stream `id` (its own, or one stored before
   * the shards changed). Default: none held.
   */
  holds?: (id: string) => boolean;
}

/** Middleware: redirects calls for other shards' streams and names the shard on every response. */
export function shardRouting(
  map: ShardMap,
  options: ShardRoutingOptions = {},
): MiddlewareHandler<ApiEnv> {
  const holds = options.holds ?? (() => false);
  const shard = formatShard(map);
  const peers = map.peers.join(", ");
  const redirect = (pathAndQuery: string, method: string, path: string, owner: number) => {
    const location = peerUrl(map, owner, pathAndQuery);
    return new Response(
      JSON.stringify({
        error: `Cannot ${method} ${path} here: the stream must belong to this instance's shard ` +
          `${shard}: it belongs to shard ${owner}/${map.count}, served at ${location}`,
        location,
      }),
      {
        status: 307,
        headers: { location, "content-type": "application/json; charset=UTF-8" },
      },
    );
  };

  return async (c, next) => {
    const url = new URL(c.req.url);
    const pathAndQuery = url.pathname + url.search;
    const answer = routed(url, c.req.method);
    if (answer !== null) {
      c.res = "owner" in answer
        ? redirect(pathAndQuery, c.req.method, url.pathname, answer.owner)
        : new Response(JSON.stringify({ error: answer.error }), {
          status: 400,
          headers: { "content-type": "application/json; charset=UTF-8" },
        });
    } else {
      await next();
    }
    try {
      c.res.headers.set(SHARD_HEADER, shard);
      if (peers !== "") c.res.headers.set(PEERS_HEADER, peers);
    } catch {
      // a WebSocket upgrade's response has immutable headers: it goes without them
    }
  };

  /** A redirect to the owner, a refusal, or null: this instance answers. */
  function routed(url: URL, method: string): { owner: number } | { error: string } | null {
    const path = url.pathname;
    const stream = /^\/v1\/streams\/([^/]+)(\/|$)/.exec(path);
    if (stream !== null) {
      const id = decoded(stream[1]);
      if (id === null || !isStreamId(id) || ownsStream(map, id)) return null;
      // a stream left here from before the shards changed can be deleted where it is
      if (method === "DELETE" && stream[2] !== "/" && holds(id)) return null;
      return { owner: ownerShard(map, id) };
    }
    if (method !== "GET" || !STREAM_QUERY_ROUTES.has(path)) return null;
    const ids = url.searchParams.getAll("stream").flatMap((s) => s.split(","))
      .filter((id) => isStreamId(id));
    if (ids.length === 0) return null;
    const owners = new Set(ids.map((id) => ownerShard(map, id)));
    if (owners.size === 1) {
      const [owner] = owners;
      return owner === map.index ? null : { owner };
    }
    const each = ids.map((id) => {
      const owner = ownerShard(map, id);
      return `${id}: shard ${owner} at ${peerUrl(map, owner, "")}`;
    });
    return {
      error: `Cannot ${method} ${path}: the streams of 'stream' must belong to one shard (each ` +
        `instance has only its own streams' alerts and refusals; ask each owner): current value names ` +
        `${owners.size} shards (${each.join(", ")})`,
    };
  }
}

/** A path segment percent-decoded, or null when it does not decode. */
function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
