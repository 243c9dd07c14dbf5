/**
 * The MQTT source's message handling (src/ingest/mqtt_readings.ts) with a
 * fake sink: which messages wait behind a big payload still being parsed in
 * slices, and that every stream's readings reach the sink in the order
 * their messages came.
 */
import assert from "node:assert/strict";
import { captureLog, limitLog } from "../../src/log.ts";
import { readingHandler } from "../../src/ingest/mqtt_readings.ts";
import { compileTopicPatterns } from "../../src/ingest/topics.ts";
import type { IngestResult, IngestSink } from "../../src/ingest/ingest_sink.ts";
import type { Reading } from "../../src/domain/reading.ts";

const T0 = Date.UTC(2026, 0, 1);
const bytes = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

/** A sink that records each batch it was handed, in order, and takes every reading. */
function recordingSink() {
  const batches: Reading[][] = [];
  const sink: IngestSink = {
    ingest(readings): Promise<IngestResult> {
      batches.push([...readings]);
      return Promise.resolve({ accepted: readings.length, rejected: [] });
    },
    reject() {},
  };
  return { sink, batches };
}

function handler(topics: string[], sink: IngestSink) {
  const log = captureLog().log;
  return readingHandler({
    patterns: compileTopicPatterns(topics),
    sink,
    log,
    stats: { messages: 0, rejected: 0 },
    refusals: limitLog(log),
  });
}

/** A payload of `n` readings of `stream` from second `from` (some 40 bytes each: over 16 KiB, parsed in slices). */
const batchOf = (n: number, from: number, stream?: string) =>
  bytes(
    Array.from({ length: n }, (_, i) => ({
      ...(stream ? { stream } : {}),
      value: i % 7,
      ts: T0 + (from + i) * 1000,
    })),
  );
const one = (at: number, stream?: string) =>
  bytes({ ...(stream ? { stream } : {}), value: 1, ts: T0 + at * 1000 });

/** Each stream's reading times, in the order the sink got them. */
function timesByStream(batches: Reading[][]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of batches.flat()) {
    if (!out.has(r.stream)) out.set(r.stream, []);
    out.get(r.stream)!.push(r.ts);
  }
  return out;
}

Deno.test("behind a big payload of one topic's stream, another stream's message goes on at once; the same stream's waits", async () => {
  const { sink, batches } = recordingSink();
  const onMessage = handler(["sensors/{stream}"], sink);
  const big = onMessage("sensors/b", batchOf(5_000, 0));
  assert.ok(big instanceof Promise, "a big payload is parsed in slices");
  const other = onMessage("sensors/o", one(0));
  assert.deepEqual(
    batches.map((b) => b[0].stream),
    ["o"],
    "o's reading went to the sink while b's payload is still being parsed",
  );
  const sameStream = onMessage("sensors/b", one(5_000));
  const otherAgain = onMessage("sensors/o", one(1));
  assert.equal(batches.length, 2, "o again at once; b's small message waits for b's batch");
  assert.deepEqual(await Promise.all([big, other, sameStream, otherAgain]), [
    true,
    true,
    true,
    true,
  ]);
  assert.deepEqual(batches.map((b) => [b[0].stream, b.length]), [
    ["o", 1],
    ["o", 1],
    ["b", 5_000],
    ["b", 1],
  ]);
  const times = timesByStream(batches);
  assert.deepEqual(times.get("b"), Array.from({ length: 5_001 }, (_, i) => T0 + i * 1000));
  assert.deepEqual(times.get("o"), [T0, T0 + 1000]);
});

Deno.test("behind a big payload that names its streams, every message waits for its turn", async () => {
  const { sink, batches } = recordingSink();
  const onMessage = handler(["readings"], sink);
  const big = onMessage("readings", batchOf(5_000, 0, "b"));
  const other = onMessage("readings", one(0, "o"));
  assert.equal(batches.length, 0, "o's stream may be in the payload: it waits");
  await Promise.all([big, other]);
  assert.deepEqual(batches.map((b) => [b[0].stream, b.length]), [["b", 5_000], ["o", 1]]);
});

Deno.test("a message that waits for its turn holds back the later messages of its streams, not others", async () => {
  const { sink, batches } = recordingSink();
  const onMessage = handler(["sensors/{stream}"], sink);
  const all = [
    onMessage("sensors/b", batchOf(2_000, 0)),
    onMessage("readings-unused", one(0)), // no pattern: refused at once, nothing to the sink
    onMessage("sensors/b", one(2_000)),
    onMessage("sensors/c", one(0)),
    onMessage("sensors/b", one(2_001)),
    onMessage("sensors/c", one(1)),
  ];
  assert.deepEqual(batches.map((b) => b[0].stream), ["c", "c"], "c never waits");
  await Promise.all(all);
  assert.deepEqual(
    batches.map((b) => [b[0].stream, b.length]),
    [["c", 1], ["c", 1], ["b", 2_000], ["b", 1], ["b", 1]],
  );
  const times = timesByStream(batches);
  assert.deepEqual(times.get("b"), Array.from({ length: 2_002 }, (_, i) => T0 + i * 1000));
});
