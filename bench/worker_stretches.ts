/**
 * The longest stretches of a shard worker's thread while it takes a big
 * batch and saves checkpoints: the same Service a worker runs, here in this
 * process so that a probe can watch its thread. `--streams` `pi-small`
 * streams with `--history` readings each first, then `--batch` readings of
 * `--big` default streams in pieces of `--piece` (one at a time, as the
 * main thread hands them to a worker) while the background streams
 * take one reading a second each (a tenth of them every 100 ms) and the
 * periodic save of every changed stream runs every `--checkpoint-seconds`.
 *
 *   deno run --allow-all bench/worker_stretches.ts \
 *     [--turns=immediate|timer] [--streams=500] [--history=48] [--big=4] [--batch=10000] [--piece=64] \
 *     [--checkpoint-seconds=1] [--rounds=3]
 *
 * `--wanted=true` holds a request always waiting (src/async/next_turn.ts
 * turnWanted, as a call or a counted batch does while it crosses to a
 * worker): every slice then ends after one item, and the longest gaps are the
 * longest items a worker runs before it looks at ShardInit.waitingCalls.
 *
 * `--turns` is how the slices yield (src/async/next_turn.ts; a worker takes
 * `immediate` turns, the main thread `timer` ones; a tree without `useTurns`
 * has timer turns only). The probe (bench/turn_probe.ts) records each gap
 * between two turns of the event loop (how long a message to a worker would
 * have waited), in wall time and in this thread's CPU time, split by what
 * ran: the time a save's store part was under way (`store`; the ingest
 * queue's slices between its commits count there too) or the rest (the
 * ingest queue's slices, the snapshots). Each round: `RESULT {json}` with
 * the five longest gaps in each part and how many were over 15 and 25 ms,
 * the batch's duration and the checkpoints saved meanwhile.
 *
 * `--profile=N` samples this thread every N µs (node:inspector) and gives,
 * for the 12 longest gaps in CPU time of those over `--keep-ms` (default 5),
 * where their samples went (`items`: the garbage collector's ms, the
 * functions with the most self time, our innermost frames and our frames'
 * chains, bench/long_tasks.ts windowSummary). `--marks=true` prints
 * `MARK batch <round> start|end` around each batch: with
 * `--v8-flags=--trace-gc` (same stdout), the collections inside a batch.
 */
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { captureLog } from "../src/log.ts";
import type { Reading } from "../src/domain/reading.ts";
import { boolean, exitOnFlagError, integer, oneOf, parseFlags } from "./args.ts";
import { emitResult } from "./stats.ts";
import { loadavg } from "./proc_stats.ts";
import { longest, probeTurns, takeTurns, watchSaves } from "./turn_probe.ts";
import * as turns from "../src/async/next_turn.ts";
import { type Profile, windowSummary } from "./long_tasks.ts";
import { Session } from "node:inspector";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    turns: oneOf(["immediate", "timer"] as const, "immediate"),
    streams: integer(500),
    history: integer(48),
    big: integer(4),
    batch: integer(10_000),
    piece: integer(64),
    "checkpoint-seconds": integer(1),
    rounds: integer(3),
    wanted: boolean(false),
    profile: integer(0, 0),
    marks: boolean(false),
    "keep-ms": integer(5),
  }, "Cannot parse worker_stretches flags")
);

takeTurns(f.turns);
// a request always waiting: each slice ends after one item (see the module comment)
if (f.wanted) turns.useTurnSignal(new Int32Array([1]));

const T0 = Date.UTC(2026, 0, 5);
const STEP = 60_000;
const value = (k: number, t: number) =>
  20 + (k % 7) + 2 * Math.sin(t / 30) + 0.1 * Math.sin(t * 1.3);

for (let round = 1; round <= f.rounds; round++) {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-worker-stretches-" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  const store = new Store(kv);
  const saving = watchSaves(store);
  const svc = new Service({
    store,
    log: captureLog().log,
    options: { checkpointSeconds: f["checkpoint-seconds"], warmUpNew: true },
  });
  try {
    await svc.load(() => true);
    svc.start();
    const bg = Array.from({ length: f.streams }, (_, k) => `bg${k}`);
    for (const id of bg) await svc.put(id, { preset: "pi-small", columns: ["temp"] });
    for (let t = 0; t < f.history; t += 8) {
      const rs: Reading[] = [];
      for (let u = t; u < Math.min(f.history, t + 8); u++) {
        bg.forEach((id, k) =>
          rs.push({ stream: id, ts: T0 + u * STEP, values: { temp: value(k, u) } })
        );
      }
      await svc.ingest(rs, "http");
    }
    await svc.checkpoint();
    const batch: Reading[] = [];
    for (let t = 0; batch.length < f.batch; t++) {
      for (let k = 0; k < f.big && batch.length < f.batch; k++) {
        batch.push({ stream: `big${k}`, ts: T0 + t * STEP, values: { temp: value(k, t) } });
      }
    }
    const saves0 = svc.counters.checkpoints;
    let done = false;
    const tsOf = new Float64Array(bg.length).fill(f.history);
    let part = 0;
    const background = async () => {
      while (!done) {
        const rs: Reading[] = [];
        for (let k = part++ % 10; k < bg.length; k += 10) {
          rs.push({
            stream: bg[k],
            ts: T0 + tsOf[k]++ * STEP,
            values: { temp: value(k, tsOf[k]) },
          });
        }
        await Promise.all([svc.ingest(rs, "mqtt"), new Promise((r) => setTimeout(r, 100))]);
      }
    };
    const session = f.profile > 0 ? new Session() : null;
    // deno-lint-ignore no-explicit-any
    const call = (m: string, p?: object): Promise<any> =>
      new Promise((res, rej) => session!.post(m, p, (e, r) => e ? rej(e) : res(r)));
    let profiledAt = 0;
    if (session) {
      session.connect();
      await call("Profiler.enable");
      await call("Profiler.setSamplingInterval", { interval: f.profile });
      profiledAt = performance.now();
      await call("Profiler.start");
    }
    const probe = probeTurns(saving, f["keep-ms"]);
    if (f.marks) console.log(`MARK batch ${round} start`);
    const t0 = performance.now();
    const feeding = background();
    // in pieces, one at a time, as the main thread hands a worker its part (src/shard/ingest_outbox.ts)
    // (each in a task of its own, as a message after a round trip through the main thread)
    for (let i = 0; i < batch.length; i += f.piece) {
      await svc.ingest(batch.slice(i, i + f.piece), "http");
      await new Promise((r) => setTimeout(r, 0));
    }
    const batchMs = performance.now() - t0;
    if (f.marks) console.log(`MARK batch ${round} end`);
    done = true;
    const gaps = await probe.stop();
    await feeding;
    let items: unknown[] | undefined;
    if (session) {
      const { profile } = await call("Profiler.stop") as { profile: Profile };
      session.disconnect();
      // the profile's clock (µs) against performance.now(): its first sample is about profiledAt
      const shift = profile.startTime / 1000 - profiledAt;
      items = [...gaps.kept].sort((a, b) => b.cpu - a.cpu).slice(0, 12).map((g) => ({
        wall: Math.round(g.wall * 10) / 10,
        cpu: Math.round(g.cpu * 10) / 10,
        part: g.part,
        ...windowSummary(profile, g.at + shift, g.at + g.wall + shift, 4),
      }));
    }
    emitResult({
      round,
      turns: f.turns,
      wanted: f.wanted,
      streams: f.streams,
      batch: f.batch,
      batchMs: Math.round(batchMs),
      checkpointsDuringBatch: svc.counters.checkpoints - saves0,
      store: { wall: longest(gaps.wall.store, [15, 25]), cpu: longest(gaps.cpu.store, [15, 25]) },
      rest: { wall: longest(gaps.wall.rest, [15, 25]), cpu: longest(gaps.cpu.rest, [15, 25]) },

      keptOver: f["keep-ms"],
      kept: gaps.kept.length,
      ...(items ? { items } : {}),
      loadavg1: loadavg(),
    });
  } finally {
    await svc.close();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}
