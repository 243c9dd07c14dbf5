/**
 * How often the checkpoint scheduler saves a stream fed as fast as the
 * others (not part of the test suite): `streams` streams (a shard worker's
 * share of the capacity part's 100) take `per-stream` readings each in
 * messages of `per-message`, in turn (bench/scale.ts's feed: every stream's
 * next message, then the next round), each message costing the thread
 * `reading-us` µs a reading; a snapshot costs `snapshot-ms` and the store's
 * write `kv-ms` a stream, awaited off the thread (Deno KV's own thread).
 * The scheduler is the real one with the daemon's defaults (`--every` 500,
 * the 60 s cadence out of reach); the store is a stand-in.
 *
 *   deno run bench/save_cadence.ts [--streams=50] [--per-stream=2000] [--per-message=10] \
 *     [--reading-us=100] [--snapshot-ms=0.6] [--kv-ms=0.9] [--root=.]
 *
 * Prints the checkpoints, the readings per checkpoint, and how many unsaved
 * readings each snapshot took (a histogram in steps of 25): a stream saved
 * at its due point holds about `every / 2`. `--root=DIR` runs the scheduler
 * of another checkout. One `RESULT {json}` line on stdout.
 */
import { exitOnFlagError, integer, parseFlags, positive, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import type { CheckpointScheduler as Scheduler } from "../src/service/checkpoint_scheduler.ts";
import { captureLog } from "../src/log.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(50),
    "per-stream": integer(2000),
    "per-message": integer(10),
    "reading-us": positive(100),
    "snapshot-ms": positive(0.6),
    "kv-ms": positive(0.9),
    root: text("a checkout's directory", "."),
  }, "Cannot parse save_cadence flags")
);

const root = new URL(`${f.root.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
const { CheckpointScheduler } = await import(
  new URL("src/service/checkpoint_scheduler.ts", root).href
) as { CheckpointScheduler: typeof Scheduler };

/** Keeps the thread busy for `ms` (the work a reading or a snapshot costs). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* work */ }
}

const unsavedAtSnapshot: number[] = [];
let commits = 0;
const counters = {
  checkpoints: 0,
  checkpointFailures: 0,
  checkpointCommits: 0,
  readingsBeyondLossBound: 0,
};
const scheduler: Scheduler = new CheckpointScheduler({
  store: {
    async saveCheckpoints(entries) {
      await new Promise((r) => setTimeout(r, entries.length * f["kv-ms"]));
      commits += Math.ceil(entries.length / 8); // default checkpoints: 8 a commit
      return { saved: [], commits: 0 };
    },
  },
  source: {
    snapshot(id) {
      busy(f["snapshot-ms"]);
      unsavedAtSnapshot.push(scheduler.unsaved(id));
      return { bytes: new Uint8Array(1), config: {} };
    },
  },
  log: captureLog("error").log,
  counters,
});
const per = f["per-message"];
for (let n = 0; n < f["per-stream"]; n += per) {
  for (let k = 0; k < f.streams; k++) {
    busy(f["reading-us"] * per / 1000);
    scheduler.changed(`s${k}`, per);
    await scheduler.room(`s${k}`);
    // the worker's slices: a turn of the event loop every few messages
    if (k % 5 === 4) await new Promise((r) => setTimeout(r, 0));
  }
}
await scheduler.settled();
await scheduler.stop();
const readings = f.streams * f["per-stream"];
const histogram: Record<string, number> = {};
for (const u of unsavedAtSnapshot) {
  const step = String(Math.floor(u / 25) * 25);
  histogram[step] = (histogram[step] ?? 0) + 1;
}
emitResult({
  bench: "save_cadence",
  root: f.root,
  streams: f.streams,
  readings,
  checkpoints: counters.checkpoints,
  readingsPerCheckpoint: Math.round(readings / counters.checkpoints),
  commits,
  unsavedAtSnapshot: histogram,
});
