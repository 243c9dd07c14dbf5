/**
 * The MQTT source's message handling, the same for an external broker's
 * client (mqtt_source.ts) and the embedded broker (mqtt.ts): topic filter,
 * shard filter, size limit, parsing in order, the sink, the refusal log.
 * Free of MQTT.js and of the broker, so either way in loads only its own.
 */
import { isStreamId } from "../domain/reading.ts";
import { OTHER_SHARD } from "../domain/shard_map.ts";
import type { LimitedLog, Logger } from "../log.ts";
import type { IngestResult, IngestSink } from "./ingest_sink.ts";
import type { Reading } from "../domain/reading.ts";
import { InOrder } from "../async/in_order.ts";
import { parseMqttMessage, parseMqttMessageAsync } from "./parse.ts";
import type { ParseResult } from "./ingest_error.ts";
import { matchTopic, type TopicPattern } from "./topics.ts";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "./max_payload.ts";

/** True when `topic` is `prefix` or lies under it. */
export function isUnderPrefix(topic: string, prefix: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/** What readingHandler needs. */
export interface ReadingHandlerOptions {
  patterns: readonly TopicPattern[];
  sink: IngestSink;
  log: Logger;
  stats: { messages: number; rejected: number };
  /** Where refusals are logged: at warn, limited (limitLog). */
  refusals: LimitedLog;
  ignoreTopicPrefix?: string | null;
  owns?: ((stream: string) => boolean) | null;
  now?: () => number;
  maxPayloadBytes?: number;
}

/**
 * The source's message handling, the same for an external broker's client
 * and the embedded broker. Says, at once or through a promise once the
 * message is done with, whether it may be acknowledged: true when its
 * readings were taken, or it was refused for good; false when the sink
 * cannot take it now (shutting down): then it stays unacknowledged and the
 * sender sends it again. One promise per message at most (the sink's): this
 * runs once per reading.
 */
export function readingHandler(
  opts: ReadingHandlerOptions,
): (topic: string, payload: Uint8Array) => boolean | Promise<boolean> {
  const { patterns, sink, log, stats } = opts;
  const ignored = opts.ignoreTopicPrefix ?? null;
  const owns = opts.owns ?? null;
  const now = opts.now ?? Date.now;
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  /** The messages' order while a big one is parsed in slices (see in_order.ts). */
  const order = new InOrder();
  /** The messages that hold a turn now: what streams each may hand the sink once its turn comes. */
  const ahead = new Set<Ahead>();

  /** Whether a message that holds a turn may hold a reading of one of `readings`' streams. */
  const anyAheadMayHold = (readings: readonly Reading[]): boolean => {
    for (const a of ahead) {
      if (a.all) return true;
      for (const r of readings) if (a.holds.has(r.stream)) return true;
    }
    return false;
  };

  /**
   * What a big message, not yet parsed, may hold: the one stream its topic
   * names (every reading of a stream-scoped message is of it, or the message
   * is refused), or any stream when the payload names them.
   */
  const bigMessage = (topic: string): Ahead => {
    const named = matchTopic(patterns, topic)?.stream ?? null;
    return named !== null && isStreamId(named)
      ? { holds: new Set([named]), all: false }
      : { holds: new Set(), all: true };
  };

  const reject = (topic: string, reason: string, message: string): true => {
    stats.rejected++;
    // the stream the topic names, when it names a valid one: what the refusal is listed under
    const named = matchTopic(patterns, topic)?.stream ?? null;
    const stream = named !== null && isStreamId(named) ? named : null;
    sink.reject(reason, { source: "mqtt", stream, message, topic });
    opts.refusals.log("warn", "mqtt.rejected", { topic, reason, message });
    return true;
  };

  const failed = (topic: string, e: unknown): boolean => {
    if ((e as { kind?: string }).kind === "unavailable") return false;
    // a bug, not a bad message: keep the client alive, say what happened once per message
    log.error("mqtt.message_failed", { topic, error: e });
    return true;
  };

  /** `readings`: the message's, when they are logged (debug), else null (see take()). */
  const taken = (
    topic: string,
    readings: readonly Reading[] | null,
    result: IngestResult,
  ): true => {
    if (readings !== null && log.enabled("debug")) {
      log.debug("mqtt.readings", { topic, readings, accepted: result.accepted });
    }
    // parsed, then refused by the sink (other columns, out of order, too many streams)
    for (const r of result.rejected) {
      opts.refusals.log("warn", "mqtt.reading_rejected", {
        topic,
        stream: r.stream,
        index: r.index,
        reason: r.reason,
        message: r.message,
      });
    }
    return true;
  };

  return (topic, payload) => {
    if (ignored !== null && isUnderPrefix(topic, ignored)) return true;
    stats.messages++;
    try {
      // another shard's stream, named by the topic: dropped before the payload is read
      if (owns !== null) {
        const named = matchTopic(patterns, topic)?.stream ?? null;
        if (named !== null && !owns(named)) {
          sink.reject(OTHER_SHARD);
          return true;
        }
      }
      if (payload.length > maxPayload) {
        return reject(
          topic,
          "too_large",
          `Cannot ingest message: the payload must be at most ${maxPayload} bytes: ` +
            `current value is ${payload.length} bytes`,
        );
      }
      // a small payload (one reading is some 40 bytes) at once, a big one in slices (parse.ts)
      const small = payload.length <= SYNC_PARSE_BYTES;
      if (small && order.idle) {
        return take(topic, parseMqttMessage(topic, payload, patterns, { receivedAt: now() }));
      }
      // Behind a message still being parsed, a small message whose streams none of the
      // messages ahead may hold goes on at once (a refused one too: it hands the sink
      // nothing); one that shares a stream with them waits for its turn: readings of a stream
      // reach the sink in the order their messages came.
      let parsed: ParseResult | null = null;
      if (small) {
        parsed = parseMqttMessage(topic, payload, patterns, { receivedAt: now() });
        if (!parsed.ok || !anyAheadMayHold(parsed.readings)) return take(topic, parsed);
      }
      const turn = order.next();
      const place: Ahead = parsed?.ok
        ? { holds: new Set(parsed.readings.map((r) => r.stream)), all: false }
        : bigMessage(topic);
      ahead.add(place);
      const parsing = parsed !== null
        ? Promise.resolve(parsed)
        : parseMqttMessageAsync(topic, payload, patterns, { receivedAt: now() });
      return Promise.all([parsing, turn.ready]).then(
        ([p]) => {
          ahead.delete(place);
          const result = take(topic, p); // hands the readings to the sink before returning
          turn.done();
          return result;
        },
        (e) => {
          ahead.delete(place);
          turn.done();
          return failed(topic, e);
        },
      );
    } catch (e) {
      return failed(topic, e);
    }
  };

  /** Hands a parsed message to the sink; says whether it may be acknowledged, as above. */
  function take(topic: string, parsed: ParseResult): boolean | Promise<boolean> {
    try {
      if (!parsed.ok) return reject(topic, parsed.error.reason, parsed.error.message);
      let readings = parsed.readings;
      if (owns !== null) {
        // streams named in the payload: each reading of another shard dropped
        readings = readings.filter((r) => owns(r.stream));
        for (let i = readings.length; i < parsed.readings.length; i++) sink.reject(OTHER_SHARD);
        if (readings.length === 0) return true;
      }
      // the readings are kept until the message is taken only to be logged: else they are
      // garbage once the sink has them (the sharded service's outbox keeps their numbers)
      const shown = log.enabled("debug") ? readings : null;
      return sink.ingest(readings, "mqtt").then((result) => {
        try {
          return taken(topic, shown, result);
        } catch (e) {
          return failed(topic, e);
        }
      }, (e) => failed(topic, e));
    } catch (e) {
      return failed(topic, e);
    }
  }
}

/** A message that holds a turn: the streams it may hand the sink (`all`: any). */
interface Ahead {
  holds: ReadonlySet<string>;
  all: boolean;
}

/**
 * Payloads up to this size are parsed at once, without a promise (a
 * one-reading message is about 40 bytes; 16 KiB parse in well under a
 * slice); larger ones in slices (parseMqttMessageAsync).
 */
const SYNC_PARSE_BYTES = 16_384;
