/**
 * The split over shard workers alone (not part of the test suite): readings
 * already parsed, handed to a ShardedService in this process with 1, then
 * 2, ... workers, as the MQTT source hands them (one `ingest` call per
 * message of `batch` readings, up to `window` calls waiting at once, as the
 * broker's many unacknowledged QoS 1 messages are). No broker, no MQTT, no
 * load generator: what the split itself achieves, beside the end-to-end
 * figure of `bench/scale.ts --part=capacity`.
 *
 *   deno run --allow-run --allow-read --allow-write=/tmp --allow-env bench/shard_scale.ts \
 *     [--streams=100] [--preset=default] [--per-stream=100] [--workers=1,2] [--rounds=3] \
 *     [--batch=1] [--window=2000]
 *
 * Each round warms up (one reading per stream), then feeds `per-stream`
 * readings per stream, stream by stream in turn, with shedding off (every
 * reading trained); readings/s = readings / time until every call resolved
 * (each resolves once its readings are taken). The worker counts alternate
 * round by round; the median of each is kept, and the speed-up of the
 * largest count over 1. CPU µs per reading by thread: "main" (this thread:
 * the feed and the main-thread side of the split), "workers", "other" (the
 * runtime's threads: GC, compilation). One `RESULT {json}` line per round
 * and a summary on stdout; progress on stderr.
 */
import type { ShardedService } from "../src/shard/sharded_service.ts";
import { createLogger } from "../src/log.ts";
import type { Reading } from "../src/domain/reading.ts";
import type { IngestResult } from "../src/ingest/ingest_sink.ts";
import { withShardedService } from "../tests/shard/_with_sharded_service.ts";
import { exitOnFlagError, integer, integerList, parseFlags, text } from "./args.ts";
import { loadavg, threadCpu } from "./proc_stats.ts";
import { emitResult, median } from "./stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(100),
    preset: text("a preset name", "default"),
    "per-stream": integer(100),
    workers: integerList([1, 2], 1, 64),
    rounds: integer(3),
    batch: integer(1),
    window: integer(2000),
  }, "Cannot parse shard_scale flags")
);

const START = Date.UTC(2025, 5, 2);
const STEP = 300_000;

/** Reading n of stream k: the values bench/scale.ts publishes. */
function reading(k: number, n: number): Reading {
  const value = Math.round((20 + 3 * Math.sin((2 * Math.PI * n) / 288) + k * 0.01) * 1000) / 1000;
  return { stream: `s${k}`, ts: START + n * STEP, values: { v: value } };
}

/**
 * Feeds steps [from, to) of every stream, in calls of `batch` readings,
 * at most `window` calls waiting; resolves with the readings accepted.
 */
async function feed(svc: ShardedService, from: number, to: number): Promise<number> {
  let accepted = 0;
  const waiting = new Set<Promise<IngestResult>>();
  let call: Reading[] = [];
  const send = async () => {
    const p = svc.ingest(call, "mqtt");
    call = [];
    waiting.add(p);
    p.then((r) => {
      accepted += r.accepted;
      waiting.delete(p);
    });
    if (waiting.size >= f.window) await Promise.race(waiting);
  };
  for (let n = from; n < to; n++) {
    for (let k = 0; k < f.streams; k++) {
      call.push(reading(k, n));
      if (call.length === f.batch) await send();
    }
  }
  if (call.length > 0) await send();
  await Promise.all(waiting);
  return accepted;
}

async function round(workers: number): Promise<number> {
  const options = {
    defaultPreset: f.preset,
    maxStreams: f.streams + 10,
    maxQueuedReadings: 10_000_000,
    shedAfterMs: 3_600_000,
  };
  return await withShardedService({ workers, options }, async (svc) => {
    await feed(svc, 0, 1);
    const load = loadavg();
    const shed0 = svc.counters.trainingShed;
    const cpu0 = threadCpu(Deno.pid);
    const total = f.streams * f["per-stream"];
    const t0 = performance.now();
    const accepted = await feed(svc, 1, 1 + f["per-stream"]);
    const ms = performance.now() - t0;
    const cpu1 = threadCpu(Deno.pid);
    const us = (sec: number) => Math.round(sec / total * 1e6);
    const rate = total / (ms / 1000);
    const result = {
      part: "shard-scale",
      workers,
      streams: f.streams,
      preset: f.preset,
      batch: f.batch,
      readings: total,
      accepted,
      shed: svc.counters.trainingShed - shed0,
      seconds: Math.round(ms) / 1000,
      readingsPerSecond: Math.round(rate),
      mainUsPerReading: us(cpu1.main - cpu0.main),
      workersUsPerReading: us(cpu1.workers - cpu0.workers),
      otherUsPerReading: us(cpu1.other - cpu0.other),
      loadavg1: load,
    };
    emitResult(result);
    console.error(JSON.stringify(result));
    return rate;
  }, { log: createLogger({ level: "warn" }) });
}

const rates = new Map<number, number[]>();
for (let r = 0; r < f.rounds; r++) {
  for (const w of f.workers) (rates.get(w) ?? rates.set(w, []).get(w)!).push(await round(w));
}
const med = [...rates].map(([w, r]) => ({ workers: w, median: Math.round(median(r)) }));
const one = med.find((m) => m.workers === 1)?.median;
const most = med.at(-1)!;
emitResult({
  part: "shard-scale-summary",
  streams: f.streams,
  preset: f.preset,
  batch: f.batch,
  medians: med,
  speedup: one && most.workers > 1 ? Math.round((most.median / one) * 100) / 100 : null,
});
