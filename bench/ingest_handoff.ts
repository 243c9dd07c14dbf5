/**
 * What the main thread spends handing one-reading messages to the shard
 * workers (not part of the test suite): a ShardedService with `workers`
 * workers over a real KV file in /tmp, `streams` `pi-small` streams, and
 * `ingest([reading], "mqtt")` called once per stream and second of data,
 * all of a second's calls at once, as the MQTT source calls it with one
 * reading per message. After `warm` such seconds, `rounds` more are
 * measured: the main thread's and the workers' CPU per reading (no
 * broker, no parsing: the hand-off, the workers' replies, the model).
 *
 *   deno run --allow-read --allow-write=/tmp --allow-env --allow-run=sh,cat --allow-sys \
 *     bench/ingest_handoff.ts [--streams=1000] [--warm=20] [--rounds=40] [--workers=2] \
 *     [--root=.]
 *
 * `--root=DIR` measures the src/ of another checkout (a worktree of an
 * older revision): A/B runs with one bench. One `RESULT {json}` line.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { loadavg, threadCpu } from "./proc_stats.ts";
import type { ShardedService } from "../src/shard/sharded_service.ts";
import { withShardedService } from "../tests/shard/_with_sharded_service.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(1000),
    warm: integer(20),
    rounds: integer(40),
    workers: integer(2),
    root: text("a checkout's directory", "."),
  }, "Cannot parse ingest_handoff flags")
);

const root = new URL(`${f.root.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
const T0 = Date.UTC(2026, 0, 5);
/** Second t of every stream, one call per reading, all at once. */
async function second(svc: ShardedService, t: number): Promise<void> {
  const calls = [];
  for (let k = 0; k < f.streams; k++) {
    const values = { v: 20 + Math.sin(t / 10 + k) };
    calls.push(svc.ingest([{ stream: `s${k}`, ts: T0 + t * 1000, values }], "mqtt"));
  }
  await Promise.all(calls);
}
const options = { maxStreams: f.streams + 10, defaultPreset: "pi-small", checkpointSeconds: 3600 };
await withShardedService({ workers: f.workers, options }, async (svc) => {
  for (let t = 0; t < f.warm; t++) await second(svc, t);
  const c0 = threadCpu(Deno.pid);
  for (let t = f.warm; t < f.warm + f.rounds; t++) await second(svc, t);
  const c1 = threadCpu(Deno.pid);
  const n = f.streams * f.rounds;
  const us = (s: number) => Math.round(s / n * 1e7) / 10;
  emitResult({
    bench: "ingest_handoff",
    root: f.root,
    streams: f.streams,
    workers: f.workers,
    readings: n,
    mainUsPerReading: us(c1.main - c0.main),
    workersUsPerReading: us(c1.workers - c0.workers),
    otherUsPerReading: us(c1.other - c0.other),
    loadavg1: loadavg(),
  });
}, { root });
