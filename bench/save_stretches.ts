/**
 * The longest stretches without a turn of the event loop in one checkpoint
 * save of many streams (what a message to a shard worker waits for while
 * the worker saves): a Service with `--streams` streams of `--preset`
 * (`--history` readings each) on a KV file in /tmp; each round gives every
 * stream one more reading, then saves them all (`service.checkpoint()`,
 * batches of about 2 MiB) while a probe of `setImmediate` turns records
 * every gap between two of its turns, split by what ran: the store's part
 * (`Store.saveCheckpoints`: checks, checksums, planning and committing) or
 * the rest (the snapshots).
 *
 *   deno run --allow-all bench/save_stretches.ts \
 *     [--turns=immediate|timer] [--streams=500] [--preset=pi-small] [--history=48] [--rounds=3]
 *
 * `--turns`: how the save's slices yield (src/async/next_turn.ts: a shard
 * worker takes `immediate` turns; a tree without `useTurns` has timer turns
 * only). One `RESULT {json}` line a round: the save's duration and, for each
 * part, the five longest gaps (ms) and how many were over 10 and 20 ms, in
 * wall time and in this thread's CPU time (bench/turn_probe.ts).
 */
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { captureLog } from "../src/log.ts";
import type { Reading } from "../src/domain/reading.ts";
import { exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { longest, probeTurns, takeTurns, watchSaves } from "./turn_probe.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    turns: oneOf(["immediate", "timer"] as const, "immediate"),
    streams: integer(500),
    preset: text("a preset name", "pi-small"),
    history: integer(48),
    rounds: integer(3),
  }, "Cannot parse save_stretches flags")
);

takeTurns(f.turns);

const T0 = Date.UTC(2026, 0, 5);
const STEP = 60_000;
const dir = await Deno.makeTempDir({ prefix: "forecastd-save-stretches-" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
const store = new Store(kv);
const saving = watchSaves(store);
const svc = new Service({ store, log: captureLog().log, options: { checkpointSeconds: 3600 } });
try {
  await svc.load(() => true);
  const ids = Array.from({ length: f.streams }, (_, k) => `s${k}`);
  for (const id of ids) await svc.put(id, { preset: f.preset, columns: ["temp"] });
  const reading = (k: number, t: number): Reading => ({
    stream: ids[k],
    ts: T0 + t * STEP,
    values: { temp: 20 + (k % 7) + 2 * Math.sin(t / 30) },
  });
  for (let t = 0; t < f.history; t += 8) {
    const rs: Reading[] = [];
    for (let u = t; u < Math.min(f.history, t + 8); u++) {
      ids.forEach((_, k) => rs.push(reading(k, u)));
    }
    await svc.ingest(rs, "http");
  }
  await svc.checkpoint();
  for (let round = 1; round <= f.rounds; round++) {
    await svc.ingest(ids.map((_, k) => reading(k, f.history + round)), "http");
    const probe = probeTurns(saving);
    const t0 = performance.now();
    await svc.checkpoint();
    const ms = performance.now() - t0;
    const gaps = await probe.stop();
    const part = (p: "store" | "rest") => ({
      wall: longest(gaps.wall[p], [10, 20]),
      cpu: longest(gaps.cpu[p], [10, 20]),
    });
    emitResult({
      round,
      turns: f.turns,
      streams: f.streams,
      preset: f.preset,
      saveMs: Math.round(ms),
      store: part("store"),
      rest: part("rest"),
    });
  }
} finally {
  await svc.close();
  kv.close();
  await Deno.remove(dir, { recursive: true });
}
