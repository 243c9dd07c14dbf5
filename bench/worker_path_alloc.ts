/**
 * What a shard worker's path allocates per reading (not part of the test
 * suite): in process, readings as a worker gets them (a ReadingBatch of up
 * to 250 readings, encoded before the count starts, decoded in it) into a
 * Service over `streams` streams, 10 readings of each stream per round,
 * with recent readings kept (the daemon's default). Run as a parent, it
 * runs itself as a child under V8's `--trace-gc-nvp` and sums the bytes
 * allocated between collections, over `rounds` rounds after the streams'
 * first readings and `skip` rounds more (0: the count includes V8's
 * warm-up; 200: the steady state of a long-running daemon): bytes per
 * reading, which the load of other processes barely changes.
 *
 *   deno run --allow-run --allow-read bench/worker_path_alloc.ts [--streams=100] [--rounds=29] \
 *     [--skip=0]
 *
 * One `RESULT {json}` line on stdout.
 */
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { createLogger } from "../src/log.ts";
import { decodeReadings, encodeReadings, type ReadingBatch } from "../src/shard/reading_batch.ts";
import type { Reading } from "../src/domain/reading.ts";
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(100),
    rounds: integer(29),
    skip: integer(0, 0),
    role: text("parent or child", "parent"),
  }, "Cannot parse flags")
);

const START = Date.UTC(2025, 5, 2);

async function child(): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const s = new Service({
    store: new Store(kv),
    log: createLogger({ level: "error" }),
    options: { shedAfterMs: 3_600_000 },
  });
  await s.load();
  s.start();
  // the batches as the main thread sends them, made before the count starts: what is counted is
  // the worker's part alone (decoding a batch and taking its readings)
  const rounds: ReadingBatch[][] = [];
  for (let round = 0; round <= f.skip + f.rounds; round++) {
    const readings: Reading[] = [];
    for (let k = 0; k < f.streams; k++) {
      for (let i = 0; i < 10; i++) {
        const n = round * 10 + i;
        const value = 20 + Math.sin(n / 40) + k * 0.01;
        readings.push({ stream: `s${k}`, ts: START + n * 300_000, values: { v: value } });
      }
    }
    const batches: ReadingBatch[] = [];
    for (let off = 0; off < readings.length; off += 250) {
      batches.push(encodeReadings(readings.slice(off, off + 250)).batch);
    }
    rounds.push(batches);
  }
  for (let round = 0; round <= f.skip + f.rounds; round++) {
    // the first round creates the streams, `skip` more warm V8's compilers up; the parent counts
    // from their end (V8's lines carry the ms since the isolate started, and come out of their own
    // buffer, in no order with this one)
    if (round === f.skip + 1) console.log(`MARK ${performance.now()}`);
    for (const batch of rounds[round]) await s.ingest(decodeReadings(batch), "mqtt");
  }
  Deno.exit(0); // the service's timers would keep the process alive
}

async function parent(): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--trace-gc-nvp",
      "--allow-read",
      new URL(import.meta.url).pathname,
      `--streams=${f.streams}`,
      `--rounds=${f.rounds}`,
      `--skip=${f.skip}`,
      "--role=child",
    ],
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const mark = Number(/MARK ([\d.]+)/.exec(text)![1]);
  // the mark may land inside one of V8's lines: taken out, that line is whole again
  const lines = text.replace(/MARK [\d.]+\n/, "").split("\n");
  let allocated = 0;
  let collections = 0;
  for (const line of lines) {
    const at = line.indexOf(" ms: GC: {");
    if (at < 0 || Number(line.slice(line.indexOf("]") + 1, at)) < mark) continue;
    const gc = JSON.parse(line.slice(at + 9));
    allocated += gc.allocated;
    collections++;
  }
  const readings = f.streams * 10 * f.rounds;
  emitResult({
    part: "worker-path-alloc",
    streams: f.streams,
    skip: f.skip,
    readings,
    collections,
    bytesPerReading: Math.round(allocated / readings),
  });
}

await (f.role === "child" ? child() : parent());
