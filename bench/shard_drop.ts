/**
 * What a shard pays for a message of another shard's stream (not part of the
 * test suite), in CPU time per message: the drop of src/ingest/mqtt.ts (the
 * topic matched against the patterns, the stream id hashed, `shardOf`)
 * against what the same message costs when the instance owns it up to the
 * sink (its payload parsed into readings), for scale. The learning that
 * follows an owned message costs far more (bench/engine_load.ts).
 *
 *   deno run bench/shard_drop.ts [--messages=200000]
 *
 * One `RESULT {json}` line on stdout (µs of CPU per message), a summary on
 * stderr.
 */
import { compileTopicPatterns, matchTopic } from "../src/ingest/topics.ts";
import { parseMqttMessage } from "../src/ingest/parse.ts";
import { ownsStream, type ShardMap } from "../src/domain/shard_map.ts";
import { exitOnFlagError, integer, parseFlags } from "./args.ts";
import { cpuSeconds, emitResult } from "./stats.ts";

const { messages } = exitOnFlagError(() =>
  parseFlags(Deno.args, { messages: integer(200_000, 1000) }, "Cannot parse shard_drop flags")
);

const patterns = compileTopicPatterns(["sensors/{stream}/{value}", "sensors/{stream}"]);
const map: ShardMap = { index: 0, count: 2, peers: ["http://a", "http://b"] };
// 1,000 streams with ids of plant-like length; the topic of each message names one
const topics = Array.from({ length: 1000 }, (_, i) => `sensors/line-${i % 37}.boiler-${i}/temp`);
const payload = new TextEncoder().encode('{"ts": 1750000000000, "value": 21.5}');

function timed(fn: (i: number) => unknown): number {
  let sink = 0;
  const t0 = cpuSeconds();
  for (let i = 0; i < messages; i++) if (fn(i)) sink++;
  const us = (cpuSeconds() - t0) * 1e6 / messages;
  if (sink < 0) console.log(sink);
  return us;
}

// warm up both paths
timed((i) => matchTopic(patterns, topics[i % 1000]));
timed((i) => parseMqttMessage(topics[i % 1000], payload, patterns, { receivedAt: 0 }));

const dropUs = timed((i) => {
  const named = matchTopic(patterns, topics[i % 1000])?.stream ?? null;
  return named !== null && !ownsStream(map, named);
});
const parseUs = timed((i) =>
  parseMqttMessage(topics[i % 1000], payload, patterns, { receivedAt: 0 }).ok
);
console.error(
  `drop by topic: ${dropUs.toFixed(3)} µs/message; parse to readings: ${
    parseUs.toFixed(3)
  } µs/message (${messages} messages)`,
);
emitResult({ bench: "shard_drop", messages, dropUs, parseUs });
