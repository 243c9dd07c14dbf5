/**
 * Scale benchmark of the sharded daemon (not part of the test suite): the
 * real `main.ts serve` as a child process on 127.0.0.1, fed through its
 * embedded broker by MQTT.js clients (QoS 1, one reading per message,
 * `sensors/s{k}/v`), several connections as several devices would be.
 *
 *   deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-env \
 *     bench/scale.ts --part=capacity [--streams=100] [--preset=default] [--per-stream=100] \
 *     [--workers=1,2] [--rounds=3] [--connections=8] [--per-message=1] [--v8-flags=--prof] \
 *     [--warm-up=1] [--helper-trace=true] [--stdout-dir=DIR] [--idle-samples=true] \
 *     [--sustained-from=0.25] [--profile-main=0] [--main-heap] [--cpu-probe=false] \
 *     [--checkpoint-seconds=60]
 *   ... bench/scale.ts --part=latency [--streams=100] [--preset=default] [--workers=2] \
 *     [--rate=1000] [--seconds=20] [--sample-every=50]
 *   ... bench/scale.ts --part=restart [--streams=1000] [--preset=pi-small] [--workers=2] \
 *     [--stop=after-save|at-once] [--shutdown-timeout=10]
 *   ... bench/scale.ts --part=healthz [--workers=2] [--batch=10000] [--via=http,ws,mqtt]
 *       [--reader=healthz,forecast,mqtt,ws] [--long-tasks=10] [--worker-nice=0,10] \
 *       [--background=0] [--scrape-ms=0] [--checkpoint-seconds=60] [--warm-readers=false] \
 *       [--trace=false] [--reader-every-ms=10]
 *   ... bench/scale.ts --part=footprint [--streams=1000] [--preset=pi-small] [--workers=2] \
 *     [--minutes=3] [--malloc-arena-max=0] [--checkpoint-seconds=60] [--client=mqttjs|raw] \
 *     [--profile-main=0] [--period-ms=300000] [--steady] [--feed=burst|closed|open] \
 *     [--slices=1] [--main-heap] [--seed-cache=DIR]
 *   every part: [--broker=embedded|mosquitto|mqtt://host:port] [--v8-flags=...] [--cpu-prof=DIR]
 *
 * - capacity: warm up (`warm-up` readings per stream, default 1: each
 *   stream created; more leave V8's compilation of the per-reading code,
 *   one per isolate, out of the window), then publish `per-stream`
 *   readings per stream as fast as the connections take them, with
 *   shedding off (--shed-after-ms 3600000, so every reading is trained);
 *   readings/s = readings / time until forecastd_readings_total and
 *   forecastd_training_steps_total rose by all of them, nothing rejected.
 *   The worker counts are alternated round by round (1, 2, 1, 2, ...), the
 *   median of each is kept: the machine is shared. Also the daemon's RSS
 *   and CPU µs per reading, by thread role and by thread name
 *   (`threadUsPerReading`: the workers, V8's helpers, KV's SQLite writer). A message carries one reading, or with
 *   `per-message` K an array of a stream's next K readings (a device that
 *   buffers): the broker's and the publishers' cost is then per K readings.
 *   `workerThreadUs`: each shard worker's thread apart (`worker-1` is shard
 *   0), its CPU µs over the readings its own shard took, its moves between
 *   CPUs (`migrations`), waits (`voluntary`) and preemptions (`involuntary`)
 *   over the window (bench/proc_stats.ts perShardWorker); `checkpoints`: the
 *   saves in the window (`--checkpoint-seconds=3600`: those the readings ask
 *   for alone, the periodic save left out of a window slowed by load); `warmUp`: each worker's warm-up before ready (its
 *   `streams.loaded` line). `--cpu-probe=true`: bench/cpu_probe.ts runs
 *   beside the window (started 1.5 s before the clock), and `cpuProbe` says
 *   how fast the cores' clock and shared memory were meanwhile: a phase
 *   slower than another on a slower machine shows there (docs/scaling.md,
 *   "twentieth round (workvar)").
 *   `--helper-trace=true`: the daemon also runs with V8's `--trace-opt` and
 *   `--trace-gc-nvp`, and the result gives what V8's helper threads did over
 *   the window (`helperTrace`: compilations by tier and TurboFan's by
 *   function, each isolate's collections; bench/helper_trace.ts);
 *   `--stdout-dir=DIR` writes the daemon's stdout over the window to a file
 *   in DIR (V8's traces, with --v8-flags), and what came before it (the
 *   start, the warm-up, the first reading of each stream) to a `-start-`
 *   file headed by the `streams.loaded` log lines (each worker's warm-up).
 *   With `--idle-samples=true` the capacity part polls the daemon while
 *   it is fed (/metrics every 20 ms, /healthz every 100 ms: 5 to 9 µs a
 *   reading more on its main thread, so its rates are not the default
 *   run's) and gives `steadyReadingsPerSecond`: the readings trained
 *   after the first quarter of them over the time they took (JIT warm-up
 *   and the first reads left out). `workerIdle` (and, with
 *   `--idle-samples`, `steadyWorkerIdle`, after the first quarter), per
 *   worker from /healthz:
 *   its idle time (`idleMs`, `idleShare`), the part of it the main thread
 *   had nothing sent to it (`nothingSentMs`; the rest, `waitedForMainMs`,
 *   it waited for a reply or a batch crossing), its batches by how many
 *   were in flight when sent (`sentBehind`), and, sampled every 100 ms,
 *   its idle time while readings were still to come to it
 *   (`idleWithInputPendingMs`: a stall) and how long before the end its
 *   part was done (`doneBeforeEndMs`: the split's imbalance).
 *   `sustainedReadingsPerSecond` (bench/sustained_rate.ts), with no read of
 *   the daemon while it is fed: from the publishers' PUBACKs (each one says
 *   its readings were trained on), the readings acknowledged after the
 *   moment `--sustained-from` of them were (default 0.25: the workers' JIT
 *   warm-up left out, as `steadyReadingsPerSecond`) up to the last, over
 *   the time between (`sustainedWindow`: ms after the start, readings);
 *   the summary's `sustainedSpeedup` is its medians' ratio. Also
 *   `ackedReadingsPerSecond` (the whole run by the PUBACKs, as
 *   `readingsPerSecond` without the poll after the feed),
 *   `ackedEverySecond`, and with `--idle-samples` the PUBACKs' rate over
 *   the polled window (`ackedSteadyReadingsPerSecond`, `steadyWindow`). The
 *   feed's messages are made (and with `--client=raw` encoded) before the
 *   clock starts: while the daemon is fed, the bench's CPU
 *   (`generatorUsPerReading`) is the sending and the PUBACKs alone.
 * - latency: at `rate` readings/s for `seconds`, one reading in
 *   `sample-every` is followed by polling its stream's forecast until its
 *   origin is that reading's time: publish-to-forecast p50 and p99, ms.
 * - restart: `streams` streams get 20 readings each over HTTP, the daemon
 *   stops (SIGTERM: final save), starts again on the same data directory:
 *   time from the start until every stream answers its forecast; RSS. With
 *   `--stop=at-once` the SIGTERM comes as soon as the readings are taken,
 *   before any checkpoint (the final save has every stream to write, under
 *   `--shutdown-timeout`): how long the final save took, how many streams
 *   it saved and how many the timer cut, and that every stream answers
 *   after the restart (those cut come back empty).
 * - healthz: the worst wait of GET /healthz (`--reader=forecast`: GET the
 *   forecast of a stream of 48 readings, r0) asked every `--reader-every-ms`
 *   (10 ms, on a fixed schedule from the reader's start: a late answer skips
 *   the slots it covers; before the twenty-second round a reader asked again
 *   5 ms after each answer) while one big batch is taken, for each way of
 *   `via`: an HTTP body of `batch` readings,
 *   a 1 MiB WebSocket message of readings, a 1 MiB MQTT payload of one
 *   stream's readings (QoS 1, through the embedded broker). With
 *   `--long-tasks=N` the daemon runs with `--inspect` on 127.0.0.1 and its
 *   main thread is sampled every 250 µs while the batch is taken; the result
 *   lists each run of busy samples longer than N ms (`longTasks`: when, how
 *   long, the garbage collector's part, the functions with the most self
 *   time and our outermost functions; bench/long_tasks.ts). With
 *   `--worker-nice=0,10` each way runs once per value, alternated (the
 *   daemon's `--worker-nice`; the shard workers' threads that many nice
 *   levels below the main thread); each result names it and the daemon's
 *   CPU ms by thread while the batch was taken (`cpuMs`: main, workers, v8:
 *   V8's helper threads, other: I/O and KV) and each worker's idle time
 *   (`workerIdle`, as in capacity). `--reader` takes a list, the
 *   readers then wait side by side (bench/wait_readers.ts): `mqtt` publishes
 *   one reading (QoS 1) of a stream of its own until its PUBACK, `ws` sends
 *   one over a socket of its own until the reply; each result then has
 *   `waits` by reader (the requests made and slots skipped, the first
 *   request's wait and the worst of the others, p50, p99, worst, how many
 *   over 50 ms, and each wait
 *   over 30 ms with the main thread's CPU and time queued for a core during
 *   it). The load around the batch: `--background=N` streams of 48
 *   readings each made first (`--preset`), then one reading a second each
 *   while the batch is taken; `--scrape-ms=M` a GET /metrics read to its
 *   end every M ms meanwhile (`scrapesMs`); `--checkpoint-seconds=S` the
 *   daemon's checkpoint cadence. `--warm-readers=true`: each reader makes
 *   its first request before the batch is sent (`warmMs`: how long each
 *   took), so the waits are those of a daemon that has answered each way
 *   once (its routes matched, the readers' streams created) before.
 *   `--trace=true`: the daemon traces the MQTT and WebSocket readers' streams
 *   (`--trace-stream`, src/shard/reading_trace.ts) and the shard workers'
 *   threads are sampled beside the main thread; `hops` then gives, per
 *   reader, each hop's median over every reading and over the waits above
 *   30 ms, which hop was the longest in each of those, and the 5 slowest in
 *   full with each thread's CPU and queued ms over the wait
 *   (bench/reading_hops.ts).
 * - footprint: first every stream's first reading, as fast as the
 *   connections take them (creation: its seconds, CPU µs per stream, RSS
 *   after; `createObserved*`: until the workers observed every one of them,
 *   and by thread role), then, once they are, `streams` streams at 1
 *   reading/s each for `minutes`, at the
 *   default checkpoint cadence and the default overload rule (learning shed
 *   after 250 ms of backlog). Kept up (`keptUp`, bench/feed_schedule.ts):
 *   every second's readings acknowledged within a second of being due,
 *   every reading observed and learned from (none shed, none rejected, none
 *   lost), and when the feed ends less than a second of readings published
 *   and not yet observed (`backlogAtEnd`: through Mosquitto the PUBACKs say
 *   nothing of the daemon), with the backlog every 10 s (one read of
 *   `/metrics` every 10 s, its per-stream series skipped:
 *   bench/global_series.ts; no other read while the feed runs), and the
 *   daemon's CPU ms by thread role each second (`cpuMsEverySecond`, read
 *   from /proc without blocking the publishers). Over the steady part (the first quarter of the run,
 *   at most 30 s, left out): RSS per stream (over an empty daemon), CPU µs
 *   per reading (by thread), KV bytes per stream (the data directory's
 *   files), and bytes written to disk (/proc/<pid>/io write_bytes) per hour,
 *   per stream. A publisher connection that closes is reported (MQTT.js
 *   never settles the QoS 1 callbacks of a closed connection), with the
 *   daemon's warnings, instead of waiting forever; a daemon far behind stops
 *   the publishing after 3 times the run's length (at least 2 minutes,
 *   `secondsFed`). `--malloc-arena-max=N` runs the daemon with
 *   MALLOC_ARENA_MAX=N (glibc's malloc arenas; 0: unset),
 *   `--checkpoint-seconds=S` with that checkpoint cadence (default 60, the
 *   daemon's). The CPU per reading is also given by thread name
 *   (`threadUsPerReading`: bench/proc_stats.ts) and for the bench's own
 *   process (`publisherUsPerReading`: its publishers, on the same cores);
 *   `--client=raw` publishes through bench/raw_mqtt.ts instead of MQTT.js;
 *   `--profile-main=N` samples the daemon's main thread every N µs over the
 *   steady part (`mainProfile`: busy time by file and function, through the
 *   inspector; the sampling costs the daemon CPU of its own).
 *   `--period-ms=1000`: readings stamped 1 s apart (a daily
 *   season of 86,400 readings; default 300000, 5 minutes) with the values of
 *   bench/steady_state.ts; `--steady`: the streams start from checkpoints of
 *   two days of such readings (bench/steady_state.ts), their season profile
 *   and shape memory whole; `--seed-cache=DIR` keeps the seeded KV file in
 *   DIR and copies it from there the next time (seeding takes minutes). `--feed=burst|closed|open` with `--slices=N`
 *   (bench/feed_schedule.ts): how each second's readings go out. `burst`
 *   (the default): the whole second at once, every sensor in phase; the
 *   next second once it is acknowledged, if later than due. `closed`
 *   (`--slices=N` alone, as in the eighth round): N slices (stream k in
 *   slice k % N, due (k % N)/N s into the second), each published at its
 *   due time or once the slice before it is acknowledged, if later: one
 *   slice in flight, N round trips a second. `open`: each slice at its due
 *   time whatever is still unacknowledged, several slices in flight on each
 *   connection (bench/raw_mqtt.ts matches each PUBACK to its packet id), as
 *   independent sensors send: the feed that measures whether the daemon
 *   keeps pace with spread 1 Hz sensors. A slice is late when its last
 *   PUBACK comes more than a second after it was due (its sensors' next
 *   reading); a second is late when a slice of it is (`lateSeconds`,
 *   `lateSlices`). `ackMs` gives how long a slice (a whole second in the
 *   burst) took to be acknowledged from its publication, `ackFromDueMs`
 *   from its due time, `publishDelayMs` how long after its due time it was
 *   published (the closed feed's wait for the slice before), and
 *   `unackedEvery10s` the readings published and not yet acknowledged at
 *   each 10 s check. Through `--broker=mosquitto` a PUBACK says Mosquitto
 *   has the reading (it acknowledges on receipt), not the daemon: there the
 *   backlog (published, not observed) is the daemon's measure of keeping
 *   up. `--main-heap`: the daemon runs with `--inspect` on
 *   127.0.0.1; a heap snapshot of its main isolate is taken after a full
 *   collection in the empty daemon and at the end of the run
 *   (`mainHeapMiB`, and `mainHeapPerStream`: what grew, per stream, by
 *   constructor and by retainer; bench/main_heap.ts), and V8's sampling
 *   heap profiler runs over the steady part (`mainAllocBytesPerReading`:
 *   the bytes the main thread allocated per reading, by function); in the
 *   capacity part the sampling alone, over the measured readings; there
 *   `--profile-main=N` too samples the main thread over them (`mainProfile`).
 *
 * Every part runs the daemon with the first value of `--worker-nice`
 * (default 10, the daemon's own default).
 *
 * `--broker`: where the readings go. `embedded` (the default): the daemon's
 * own broker, which takes them in-process. `mosquitto`: a Mosquitto (Debian's
 * `mosquitto` on the PATH or in /usr/sbin) started for each daemon on
 * 127.0.0.1 and a free port with a configuration file of its own
 * ({@link MOSQUITTO_CONFIG}), the daemon subscribed to it (`--mqtt-url`) and
 * the publishers connected to it, as on a gateway that runs one; its CPU is
 * given per reading beside the daemon's (`brokerUsPerReading`). A URL: a
 * broker already running there (its CPU is not read). A broker outside the
 * daemon delivers every reading to the daemon's one client; the readings of
 * an earlier daemon's session would be queued for it, hence one Mosquitto
 * per daemon.
 *
 * `--cpu-prof=DIR`: the daemon runs under `deno run --cpu-prof`, which writes a
 * V8 CPU profile of its main thread, and of each shard worker whose thread
 * ends before the process does, into DIR when it exits (wall-time samples:
 * a thread that waits for a core shows as busy in whatever it was running).
 *
 * RSS figures of a deployed daemon need its V8 flags:
 * `--v8-flags=--optimize-for-size`, as `deno task start`, the compiled
 * binary and the image run it (it holds the heap near its live size); the
 * default is none. Each result names them (`v8Flags`).
 *
 * One `RESULT {json}` line per measurement on stdout, progress on stderr.
 */
import mqtt from "mqtt";
import { readHelperTrace } from "./helper_trace.ts";
import {
  type Daemon,
  daemonPermissions,
  findMosquitto,
  type Mosquitto,
  startDaemon,
  startMosquitto,
} from "../tests/e2e/_daemon.ts";
import {
  boolean,
  exitOnFlagError,
  integer,
  integerList,
  oneOf,
  parseFlags,
  positive,
  someOf,
  text,
} from "./args.ts";
import {
  byNamePer,
  loadavg,
  ownCpu,
  perShardWorker,
  threadCpu,
  threadCpuAsync,
  threadSched,
} from "./proc_stats.ts";
import { globalSeries } from "./global_series.ts";
import { emitResult, median, quantile } from "./stats.ts";
import { bytesBatch, httpBatch } from "../tests/e2e/_big_batches.ts";
import { encodeMessages, type RawMessage, RawPublisher } from "./raw_mqtt.ts";
import { ackedEverySecond, ackedRate, AckLog, sustainedRate } from "./sustained_rate.ts";
import { MOSQUITTO_CONFIG } from "./mosquitto_config.ts";
import { CpuProbe, summarizeProbe } from "./cpu_probe.ts";
import { LongTasks } from "./long_tasks.ts";
import { type Reader, READERS, startReader, ThreadSampler, wallMs } from "./wait_readers.ts";
import {
  hopSummary,
  READ_HOPS,
  type ReaderRequest,
  readHops,
  readingHops,
  type ReadTraceEntry,
  type Send,
  type TraceEntry,
} from "./reading_hops.ts";
import { heapGrowth, MainHeap } from "./main_heap.ts";
import { deviceValue, seedSteadyState } from "./steady_state.ts";
import { type FeedKind, FEEDS, keptUp, runFeed } from "./feed_schedule.ts";
import type { WorkerIngest } from "../src/domain/worker_ingest.ts";

const CLIENTS = ["mqttjs", "raw"] as const;
const PARTS = ["capacity", "latency", "restart", "healthz", "footprint"] as const;
const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    part: someOf(PARTS),
    streams: integer(100),
    preset: text("a preset name", "default"),
    "per-stream": integer(100),
    "per-message": integer(1),
    "warm-up": integer(1),
    workers: integerList([1, 2], 0, 64),
    rounds: integer(3),
    connections: integer(8),
    rate: positive(1000),
    seconds: positive(20),
    "sample-every": integer(50),
    batch: integer(10_000),
    via: someOf(["http", "ws", "mqtt"] as const, ["http"]),
    reader: someOf(READERS, ["healthz"]),
    background: integer(0, 0),
    "scrape-ms": integer(0, 0),
    minutes: positive(3),
    client: oneOf(CLIENTS, "mqttjs"),
    "v8-flags": text("V8 flags of the daemon", "", true),
    "cpu-prof": text("a directory", "", true),
    "stdout-dir": text("a directory", "", true),
    "helper-trace": boolean(false),
    "idle-samples": boolean(false),
    "cpu-probe": boolean(false),
    // the share of the readings acknowledged before the sustained rate's window opens
    "sustained-from": {
      must: "a number at least 0 and below 1",
      read: (t: string) => {
        const x = t.trim() === "" ? NaN : Number(t);
        return x >= 0 && x < 1 ? x : undefined;
      },
      fallback: 0.25,
    },
    stop: oneOf(["after-save", "at-once"] as const, "after-save"),
    "shutdown-timeout": positive(10),
    "long-tasks": integer(0, 0),
    "warm-readers": boolean(false),
    "reader-every-ms": positive(10),
    trace: boolean(false),
    "malloc-arena-max": integer(0, 0),
    "checkpoint-seconds": positive(60),
    "worker-nice": integerList([10], 0, 19),
    "profile-main": integer(0, 0),
    "main-heap": boolean(false),
    slices: integer(1),
    feed: {
      must: `one of ${FEEDS.join(", ")}`,
      read: (t: string) => FEEDS.find((c) => c === t),
      // absent: burst, or closed with --slices above 1 (the eighth round's spread feed)
      fallback: "" as FeedKind | "",
    },
    "period-ms": integer(300_000),
    steady: boolean(false),
    "seed-cache": text("a directory", "", true),
    broker: {
      must: "embedded, mosquitto or an mqtt:// URL",
      read: (t: string) =>
        t === "embedded" || t === "mosquitto" || /^mqtts?:\/\/\S+$/.test(t) ? t : undefined,
      fallback: "embedded",
    },
  }, "Cannot parse scale flags")
);

/** The footprint part's feed (bench/feed_schedule.ts). */
const FEED: FeedKind = f.feed || (f.slices > 1 ? "closed" : "burst");
if (FEED === "burst" && f.slices > 1) {
  console.error(
    `Cannot parse scale flags: --feed=burst publishes each second at once, --slices must be 1: current value is ${f.slices}`,
  );
  Deno.exit(2);
}
/** The daemon's V8 flags: --v8-flags, and V8's traces that --helper-trace reads. */
const V8_FLAGS = [f["v8-flags"], ...(f["helper-trace"] ? ["--trace-opt,--trace-gc-nvp"] : [])]
  .filter((x) => x !== "").join(",");
const START = Date.UTC(2025, 5, 2);
const STEP = f["period-ms"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => console.error(m);
const result = (r: Record<string, unknown>) =>
  emitResult({
    ...r,
    v8Flags: f["v8-flags"],
    ...(f.broker === "embedded" ? {} : { broker: f.broker }),
  });

/** The Mosquitto of the running daemon (`--broker=mosquitto`), for its CPU time. */
let mosquittoNow: Mosquitto | null = null;
/** CPU seconds of the running Mosquitto, or 0 when none runs (or the broker is not ours). */
const brokerCpu = () => mosquittoNow === null ? 0 : cpuSeconds(mosquittoNow.pid);
/** The µs per reading of `sec` CPU seconds of our broker, as a result field (none when embedded). */
const brokerField = (sec: number, per: number) =>
  f.broker === "embedded"
    ? {}
    : { brokerUsPerReading: mosquittoNow === null ? null : Math.round(sec / per * 1e6) };

function proc(pid: number, name: string): string {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/${name}`], stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(out.stdout);
}
/** The resident set of the daemon and its threads, MiB. */
const rssMiB = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(proc(pid, "status"))![1]) / 1024;
/**
 * CPU seconds by thread role (bench/proc_stats.ts), with V8's helper threads
 * (`V8 DefaultWorker`: garbage collection's parallel and concurrent tasks and
 * the optimising compiler, for every isolate) apart from the other threads.
 */
function roleCpu(pid: number): { main: number; workers: number; v8: number; other: number } {
  const { main, workers, other } = threadCpu(pid);
  const out = new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/*/stat`],
    stderr: "null",
  }).outputSync();
  let v8 = 0;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0 || !line.slice(line.indexOf("(") + 1, close).startsWith("V8 ")) continue;
    const x = line.slice(close + 2).split(" ");
    v8 += (Number(x[11]) + Number(x[12])) / 100;
  }
  return { main, workers, v8, other: other - v8 };
}
/** CPU µs per `per` (streams) by thread role from `a` to `b` (roleCpu()). */
function perRole(a: ReturnType<typeof roleCpu>, b: ReturnType<typeof roleCpu>, per: number) {
  const us = (k: keyof typeof a) => Math.round((b[k] - a[k]) / per * 1e6);
  return { main: us("main"), workers: us("workers"), v8: us("v8"), other: us("other") };
}
const cpuSeconds = (pid: number) => {
  const s = proc(pid, "stat");
  const x = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(x[11]) + Number(x[12])) / 100;
};
const writeBytes = (pid: number) => Number(/^write_bytes:\s+(\d+)/m.exec(proc(pid, "io"))![1]);

/**
 * The daemon's series of /metrics, but the per-stream ones (a stream label):
 * at 10,000 streams the page has 120,000 of those, 7 MB, and splitting and
 * keeping them all held the bench's own thread (its publishers) for a
 * tenth of a second or more at each read.
 */
async function metrics(d: Daemon): Promise<Map<string, number>> {
  return globalSeries(await (await fetch(`${d.http}/metrics`)).text());
}

async function counts(d: Daemon) {
  const m = await metrics(d);
  let rejected = 0;
  /** Of `rejected`, by the daemon's reason (its `reason` label). */
  const rejectedBy: Record<string, number> = {};
  for (const [k, v] of m) {
    if (!k.startsWith("forecastd_rejected_readings_total")) continue;
    rejected += v;
    const reason = /reason="([^"]*)"/.exec(k)?.[1] ?? "";
    rejectedBy[reason] = (rejectedBy[reason] ?? 0) + v;
  }
  return {
    readings: m.get('forecastd_readings_total{source="mqtt"}') ?? 0,
    trained: m.get("forecastd_training_steps_total") ?? 0,
    // scored and forecast from, learned or shed
    observed: m.get("forecastd_observed_readings_total") ?? 0,
    shed: m.get("forecastd_training_shed_total") ?? 0,
    rejected,
    rejectedBy,
    checkpoints: m.get("forecastd_checkpoints_total") ?? 0,
  };
}

/** What `c` counts by reason more than `base` (the reasons that rose). */
function rejectedSince(
  base: Awaited<ReturnType<typeof counts>>,
  c: Awaited<ReturnType<typeof counts>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, n] of Object.entries(c.rejectedBy)) {
    const more = n - (base.rejectedBy[reason] ?? 0);
    if (more > 0) out[reason] = more;
  }
  return out;
}

/** The daemon's last refusals of MQTT readings (GET /v1/rejects), newest first. */
async function lastRejects(d: Daemon): Promise<unknown[]> {
  const res = await fetch(`${d.http}/v1/rejects?source=mqtt`);
  if (!res.ok) return [`GET /v1/rejects answered ${res.status}: ${await res.text()}`];
  return ((await res.json()) as { sources: { mqtt?: unknown[] } }).sources.mqtt ?? [];
}

/**
 * Waits until `target` more readings were taken than `base`, and as many
 * trained unless `takenOnly` (a stream's first reading trains nothing); the
 * ms it took from t0.
 */
async function caughtUp(
  d: Daemon,
  base: Awaited<ReturnType<typeof counts>>,
  target: number,
  t0: number,
  takenOnly = false,
  timeoutMs = 600_000,
  quarter?: { ms: number; trained: number; workers: WorkerIdle[] },
) {
  for (;;) {
    const c = await counts(d);
    if (quarter && Number.isNaN(quarter.ms) && c.trained - base.trained >= target / 4) {
      quarter.ms = performance.now() - t0;
      quarter.trained = c.trained - base.trained;
      quarter.workers = await workerIdle(d);
    }
    const trained = takenOnly || c.trained - base.trained >= target;
    if (c.readings - base.readings >= target && trained) {
      return { ms: performance.now() - t0, c };
    }
    // every reading answered, some refused: they will never be taken (a fault, not a slow daemon)
    const refused = c.rejected - base.rejected;
    if (refused > 0 && c.readings - base.readings + refused >= target) {
      throw new Error(
        `${refused} of ${target} readings refused, by reason ` +
          `${JSON.stringify(rejectedSince(base, c))}: ${JSON.stringify(c)}; the daemon's last ` +
          `refusals: ${JSON.stringify(await lastRejects(d))}; its warnings and errors: ` +
          JSON.stringify(d.log.filter((e) => e.level === "warn" || e.level === "error").slice(-20)),
      );
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`not caught up: ${JSON.stringify(c)}`);
    // /metrics has series per stream: at 10,000 streams, building it every 20 ms takes the main thread
    await sleep(Math.max(20, f.streams / 10));
  }
}

/** A shard worker's idle time and its batches' overlap, as /healthz gives them (ms, counts). */
interface WorkerIdle {
  idleMs: number;
  nothingSentMs: number;
  sentBehind: readonly number[];
  /** Readings it took since it started. */
  readings: number;
}

/** Every shard worker's WorkerIdle now, from /healthz (empty with `--workers 0`). */
async function workerIdle(d: Daemon): Promise<WorkerIdle[]> {
  const h = await (await fetch(`${d.http}/healthz`)).json() as {
    workers?: { ingest?: WorkerIngest }[];
  };
  return (h.workers ?? []).map((w) => ({
    idleMs: (w.ingest?.idleSeconds ?? NaN) * 1000,
    nothingSentMs: (w.ingest?.nothingSentSeconds ?? NaN) * 1000,
    sentBehind: w.ingest?.sentBehind ?? [],
    readings: w.ingest?.readings ?? NaN,
  }));
}

/**
 * Each worker's idle time while readings were still to come to it: `samples`
 * of workerIdle() over a run (at `t` ms), the idle time up to the first
 * sample at which the worker had taken its last reading of the run; and how
 * long before the run's end (the last sample) that was (its part done, it
 * waits for the other's: the split's imbalance, not a stall). From `from` ms
 * on (the steady part).
 */
function idleWhilePending(samples: { t: number; workers: WorkerIdle[] }[], from = 0) {
  const last = samples.at(-1);
  if (last === undefined) return [];
  return last.workers.map((w, i) => {
    const done = samples.find((s) => s.workers[i]?.readings >= w.readings) ?? last;
    const start = samples.find((s) => s.t >= from) ?? last;
    const at = done.t >= start.t ? done : start;
    return {
      idleWithInputPendingMs: Math.round(at.workers[i].idleMs - start.workers[i].idleMs),
      doneBeforeEndMs: Math.round(last.t - done.t),
    };
  });
}

/**
 * Each worker's idle time from `a` to `b` (ms, and as a share of `ms`), the
 * part of it the main thread had nothing out for it, the rest (it waited for
 * the main thread), and its batches by how many were in flight when sent.
 */
function idleBetween(a: WorkerIdle[], b: WorkerIdle[], ms: number) {
  return b.map((w, i) => {
    const idle = w.idleMs - (a[i]?.idleMs ?? 0);
    const nothingSent = w.nothingSentMs - (a[i]?.nothingSentMs ?? 0);
    return {
      idleMs: Math.round(idle),
      idleShare: Math.round((idle / ms) * 1000) / 1000,
      nothingSentMs: Math.round(nothingSent),
      waitedForMainMs: Math.round(idle - Math.min(idle, nothingSent)),
      sentBehind: w.sentBehind.map((n, k) => n - (a[i]?.sentBehind[k] ?? 0)),
    };
  });
}

/** The daemon's inspector port (`--long-tasks`), or null. */
let inspectPort: number | null = null;
/** The daemon's --worker-nice. */
let workerNice = f["worker-nice"][0];

async function daemon(dataDir: string, workers: number, extra: string[] = []): Promise<Daemon> {
  const url = mosquittoNow?.url ?? (f.broker.includes("://") ? f.broker : null);
  if (url !== null) extra = [...extra, "--mqtt-url", url];
  return await startDaemon({
    dataDir,
    args: [
      "--workers",
      String(workers),
      "--default-preset",
      f.preset,
      "--max-streams",
      String(Math.max(f.streams, f.background) + 10),
      "--max-body-bytes",
      "100000000",
      "--max-queued-readings",
      "1000000",
      // the API's limit on new streams per client and minute (the restart part creates them over HTTP)
      "--new-streams-per-minute",
      "100000",
      "--worker-nice",
      String(workerNice),
      ...extra,
    ],
    env: {
      FORECASTD_WORKERS: String(workers),
      ...(f["malloc-arena-max"] > 0 ? { MALLOC_ARENA_MAX: String(f["malloc-arena-max"]) } : {}),
    },
    // (--steady: 10,000 streams of 80 KB restored before it serves)
    startMs: f.steady ? 1_800_000 : 120_000,
    // e.g. --v8-flags=--prof: V8 writes isolate-*.log (one per thread) in the repo's root
    ...(V8_FLAGS === "" && inspectPort === null && f["cpu-prof"] === "" ? {} : {
      program: {
        cmd: Deno.execPath(),
        args: [
          "run",
          ...(f["cpu-prof"] === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${f["cpu-prof"]}`]),
          ...(V8_FLAGS === "" ? [] : [`--v8-flags=${V8_FLAGS}`]),
          ...(inspectPort === null ? [] : [`--inspect=127.0.0.1:${inspectPort}`]),
          ...daemonPermissions(dataDir),
          "main.ts",
        ],
      },
    }),
  });
}

/** Reading n of stream k as a device writes it. */
function reading(k: number, n: number): string {
  const value = STEP !== 300_000
    ? deviceValue(k, n, STEP)
    : Math.round((20 + 3 * Math.sin((2 * Math.PI * n) / 288) + k * 0.01) * 1000) / 1000;
  return `{"value":${value},"ts":${START + n * STEP}}`;
}

/**
 * Readings [n, n + count) of stream k as the message a device publishes: one
 * reading alone, or an array of them (a device that buffers, --per-message).
 */
function message(k: number, n: number, count = 1): RawMessage {
  const topic = `sensors/s${k}/v`;
  if (count === 1) return { topic, payload: reading(k, n) };
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(reading(k, n + i));
  return { topic, payload: `[${parts.join(",")}]`, readings: count };
}

/**
 * Publishes readings [n, n + count) of stream k in one message; resolves when
 * acknowledged (`acks` told then).
 */
function publish(
  c: mqtt.MqttClient,
  k: number,
  n: number,
  count = 1,
  acks?: AckLog,
): Promise<void> {
  return publishMessage(c, message(k, n, count), acks);
}

/** Publishes `m` at QoS 1; resolves when acknowledged (`acks` told its readings then). */
function publishMessage(c: mqtt.MqttClient, m: RawMessage, acks?: AckLog): Promise<void> {
  return new Promise((res, rej) =>
    c.publish(m.topic, m.payload, { qos: 1 }, (e) => {
      if (e) return rej(e);
      acks?.add(m.readings ?? 1);
      res();
    })
  );
}

/** Messages a publisher connection of the capacity part leaves unacknowledged at most. */
const WINDOW = 2000;

/** The capacity part's devices: MQTT.js clients, or lean ones (raw_mqtt.ts). */
interface Feeder {
  /** Every stream's readings [from, to), as feed() sends them (of one slice: `part`). */
  feed(from: number, to: number, part?: Slice): Promise<void>;
  /**
   * feed()'s messages made now (and, for the lean publishers, encoded): the
   * function returned sends them. The capacity part prepares its feed
   * before its clock starts, so that the publishers' CPU while the daemon
   * is fed is the sending alone.
   */
  prepare(from: number, to: number, part?: Slice): () => Promise<void>;
  end(): Promise<void>;
}

/**
 * Each connection's messages of every stream's readings [from, to) (of
 * `part`), as feed() sends them: connection j carries streams j, j + C, ...
 */
function messagesOf(
  connections: number,
  streams: number,
  from: number,
  to: number,
  part = WHOLE,
): RawMessage[][] {
  return Array.from({ length: connections }, (_, j) => {
    const messages: RawMessage[] = [];
    for (let n = from; n < to; n += f["per-message"]) {
      const count = Math.min(f["per-message"], to - n);
      for (let k = j; k < streams; k += connections) {
        if (k % part.of === part.slice) messages.push(message(k, n, count));
      }
    }
    return messages;
  });
}

/** The devices of `streams` streams; with `acks`, every acknowledgement logged there. */
async function feeder(d: Daemon, streams: number, acks?: AckLog): Promise<Feeder> {
  if (f.client === "mqttjs") {
    const cs = await clients(d, f.connections);
    return {
      feed: (from, to, part) => feed(cs, streams, from, to, part, acks),
      prepare: (from, to, part) => {
        const all = messagesOf(cs.length, streams, from, to, part);
        return async () => {
          await Promise.all(cs.map(async (c, j) => {
            const pending: Promise<void>[] = [];
            for (const m of all[j]) {
              pending.push(publishMessage(c, m, acks));
              // as feed(): at most WINDOW unacknowledged, the oldest first
              while (pending.length > WINDOW) await pending.shift();
            }
            await Promise.all(pending);
          }));
        };
      },
      end: async () => void await Promise.all(cs.map((c) => c.endAsync())),
    };
  }
  // at most WINDOW messages unacknowledged a connection: its packet ids, each used again once its
  // PUBACK came (a window that slides; waiting for all of 2000 before the next 2000 starved a
  // worker at each boundary: docs/scaling.md, "the idle time of two workers")
  const cs = await Promise.all(
    Array.from(
      { length: f.connections },
      (_, i) =>
        RawPublisher.connect(d.mqttUrl, `scale-raw-${i}-${Date.now()}`, {
          inflight: WINDOW,
          acks,
        }),
    ),
  );
  // the messages encoded once, as the packets they go out as (raw_mqtt.ts encodeMessages)
  const prepare = (from: number, to: number, part?: Slice) => {
    const encoded = messagesOf(cs.length, streams, from, to, part).map(encodeMessages);
    return async () => void await Promise.all(cs.map((c, j) => c.publish(encoded[j])));
  };
  return {
    feed: (from, to, part) => prepare(from, to, part)(),
    prepare,
    end: async () => void await Promise.all(cs.map((c) => c.close())),
  };
}

async function clients(d: Daemon, n: number): Promise<mqtt.MqttClient[]> {
  return await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        mqtt.connectAsync(d.mqttUrl, {
          clientId: `scale-${i}-${Date.now()}`,
          reconnectPeriod: 0,
          // (--steady, --period-ms: a loaded daemon of 10,000 streams may not answer a ping for a while)
          ...(f.steady || STEP !== 300_000 ? { keepalive: 0 } : {}),
        }),
    ),
  );
}

async function withDaemon<T>(
  workers: number,
  extra: string[],
  fn: (d: Daemon, dir: string) => Promise<T>,
  seed?: (dir: string) => Promise<unknown>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-scale-" });
  // the daemon's data directory apart from the broker's configuration file
  const data = `${dir}/data`;
  await Deno.mkdir(data);
  if (seed) log(`seeded: ${JSON.stringify(await seed(data))}`);
  const d = await startBroker(dir).then(() => daemon(data, workers, extra)).catch(
    async (e) => {
      await stopBroker();
      await Deno.remove(dir, { recursive: true });
      throw e;
    },
  );
  try {
    return await fn(d, data);
  } finally {
    await d.stop("SIGTERM");
    await stopBroker();
    await Deno.remove(dir, { recursive: true });
  }
}

/** With `--broker=mosquitto`, starts one in `dir` (its configuration file there). */
async function startBroker(dir: string): Promise<void> {
  if (f.broker !== "mosquitto") return;
  const exe = await findMosquitto();
  if (exe === null) throw new Error("--broker=mosquitto: mosquitto is not installed");
  mosquittoNow = await startMosquitto(exe, dir, undefined, { extraConfig: MOSQUITTO_CONFIG });
}

async function stopBroker(): Promise<void> {
  await mosquittoNow?.stop();
  mosquittoNow = null;
}

/**
 * Which streams a feed sends: those whose number k has `k % of === slice`
 * (a sensor's phase within the second, --slices).
 */
interface Slice {
  slice: number;
  of: number;
}
const WHOLE: Slice = { slice: 0, of: 1 };

/** Every stream's readings [from, to) (of `part`), stream by stream in turn, over the connections. */
async function feed(
  cs: mqtt.MqttClient[],
  streams: number,
  from: number,
  to: number,
  part = WHOLE,
  acks?: AckLog,
) {
  // connection j carries streams j, j + C, ...: a stream's readings stay on one connection, in order
  await Promise.all(cs.map(async (c, j) => {
    const pending: Promise<void>[] = [];
    for (let n = from; n < to; n += f["per-message"]) {
      const count = Math.min(f["per-message"], to - n);
      for (let k = j; k < streams; k += cs.length) {
        if (k % part.of === part.slice) pending.push(publish(c, k, n, count, acks));
      }
      // at most WINDOW unacknowledged: the oldest first (acknowledged in order), a window that slides
      while (pending.length > WINDOW) await pending.shift();
    }
    await Promise.all(pending);
  }));
}

async function capacity(): Promise<void> {
  if (f["profile-main"] > 0 || f["main-heap"]) inspectPort = freePort();
  const order: number[] = [];
  for (let r = 0; r < f.rounds; r++) order.push(...f.workers);
  const rates = new Map<number, number[]>();
  const sustained = new Map<number, number[]>();
  for (const w of order) {
    const load = loadavg();
    // --checkpoint-seconds: a cadence other than the daemon's 60 s (3600: the saves the readings
    // ask for alone, whatever the window's length on a loaded machine)
    const cadence = f["checkpoint-seconds"] === 60
      ? []
      : ["--checkpoint-seconds", String(f["checkpoint-seconds"])];
    await withDaemon(w, ["--shed-after-ms", "3600000", ...cadence], async (d) => {
      // every PUBACK's time: the sustained rate without a read of the daemon (sustained_rate.ts)
      const acks = new AckLog();
      const devices = await feeder(d, f.streams, acks);
      try {
        let base = await counts(d);
        const warm = f["warm-up"];
        await devices.feed(0, warm);
        await caughtUp(d, base, f.streams * warm, performance.now(), true);
        base = await counts(d);
        acks.clear();
        // the messages made and encoded before the clock starts: the publishers' CPU while the
        // daemon is fed is their sending alone (it shares the daemon's cores)
        const send = devices.prepare(warm, warm + f["per-stream"]);
        const cpu0 = cpuSeconds(d.pid);
        const threads0 = threadCpu(d.pid);
        const sched0 = threadSched(d.pid);
        const self0 = cpuSeconds(Deno.pid);
        const broker0 = brokerCpu();
        const out0 = d.banner.length;
        const total = f.streams * f["per-stream"];
        const heapClient = f["main-heap"] ? await MainHeap.connect(inspectPort!) : null;
        await heapClient?.startAllocations();
        const profiler = f["profile-main"] > 0 ? await LongTasks.connect(inspectPort!) : null;
        await profiler?.start(f["profile-main"]);
        const idle0 = await workerIdle(d);
        const quarter = { ms: NaN, trained: 0, workers: [] as WorkerIdle[] };
        // the cores' speed meanwhile (bench/cpu_probe.ts), its child started before the clock
        const probe = f["cpu-probe"] ? CpuProbe.start() : null;
        if (probe) await sleep(1500);
        const wall0 = Date.now();
        const t0 = performance.now();
        // watched while it is fed: the publishers' last acknowledgements come once nearly
        // every reading is taken
        // each worker's idle time and readings taken, every 100 ms
        const samples = [{ t: 0, workers: idle0 }];
        let sampling = f["idle-samples"];
        const sampler = (async () => {
          while (sampling) {
            await sleep(100);
            samples.push({ t: performance.now() - t0, workers: await workerIdle(d) });
          }
        })();
        // polled while fed only with --idle-samples: /metrics every 20 ms and /healthz every 100 ms
        // cost the daemon's main thread 5 to 9 µs a reading (eighteenth round, lead)
        const fed = f["idle-samples"]
          ? Promise.all([
            caughtUp(d, base, total, t0, false, 600_000, quarter),
            send(),
          ]).then(([done]) => done)
          : send().then(() => caughtUp(d, base, total, t0));
        const { ms, c } = await fed;
        const steady = sustainedRate(acks, total, t0, f["sustained-from"]);
        sampling = false;
        await sampler;
        const idle1 = await workerIdle(d);
        samples.push({ t: Math.max(ms, samples.at(-1)!.t), workers: idle1 });
        const rate = total / (ms / 1000);
        const threads1 = threadCpu(d.pid);
        const sched1 = threadSched(d.pid);
        const probed = await probe?.stop(wall0, wall0 + ms);
        const checkpointsAfter = (await counts(d)).checkpoints;
        const mainAlloc = await heapClient?.stopAllocations(total, 40);
        heapClient?.close();
        const mainProfile = await profiler?.stopSummary(40);
        profiler?.close();
        const out = d.banner.slice(out0);
        if (f["stdout-dir"] !== "") {
          await Deno.writeTextFile(
            `${f["stdout-dir"]}/capacity-w${w}-${Date.now()}.txt`,
            out.join("\n") + "\n",
          );
          await Deno.writeTextFile(
            `${f["stdout-dir"]}/capacity-w${w}-start-${Date.now()}.txt`,
            [
              ...d.log.filter((e) => e.event === "streams.loaded").map((e) => JSON.stringify(e)),
              ...d.banner.slice(0, out0),
            ].join("\n") + "\n",
          );
        }
        const us = (sec: number) => Math.round(sec / total * 1e6);
        (rates.get(w) ?? rates.set(w, []).get(w)!).push(rate);
        if (steady.readingsPerSecond !== null) {
          (sustained.get(w) ?? sustained.set(w, []).get(w)!).push(steady.readingsPerSecond);
        }
        const result = {
          part: "capacity",
          workers: w,
          streams: f.streams,
          preset: f.preset,
          client: f.client,
          perMessage: f["per-message"],
          readings: total,
          seconds: Math.round(ms) / 1000,
          readingsPerSecond: Math.round(rate),
          // after the first quarter of the readings was trained on (JIT warm-up, the first
          // batches' start): readings trained from then on over the time they took
          steadyReadingsPerSecond: Number.isNaN(quarter.ms) || ms <= quarter.ms
            ? null
            : Math.round((total - quarter.trained) / ((ms - quarter.ms) / 1000)),
          // from the publishers' PUBACKs alone (each says its readings were trained on), no read
          // of the daemon: the readings acknowledged after `sustained-from` of them were (default
          // a quarter) up to the last, over the time between (sustainedWindow, ms after the start)
          sustainedReadingsPerSecond: steady.readingsPerSecond,
          sustainedWindow: { fromMs: steady.fromMs, toMs: steady.toMs, readings: steady.readings },
          // the whole run by the PUBACKs (start to the last): readingsPerSecond without the poll
          ackedReadingsPerSecond: ackedRate(acks, t0, 0, steady.toMs),
          // the readings acknowledged in each second of the run
          ackedEverySecond: ackedEverySecond(acks, t0),
          // with --idle-samples: the PUBACKs' rate over steadyReadingsPerSecond's polled window
          ...(Number.isNaN(quarter.ms) ? {} : {
            ackedSteadyReadingsPerSecond: ackedRate(acks, t0, quarter.ms, ms),
            steadyWindow: { fromMs: Math.round(quarter.ms), toMs: Math.round(ms) },
          }),
          // each worker's idle time over the whole window and over the steady part, and the
          // part of it while readings were still to come to it (sampled every 100 ms)
          workerIdle: idleBetween(idle0, idle1, ms).map((x, i) => ({
            ...x,
            ...idleWhilePending(samples)[i],
          })),
          steadyWorkerIdle: quarter.workers.length === 0
            ? null
            : idleBetween(quarter.workers, idle1, ms - quarter.ms).map((x, i) => ({
              ...x,
              ...idleWhilePending(samples, quarter.ms)[i],
            })),
          rejected: c.rejected - base.rejected,
          shed: c.shed - base.shed,
          cpuUsPerReading: us(cpuSeconds(d.pid) - cpu0),
          // the daemon's CPU by thread (and by thread name), and the load generator's (this process)
          mainUsPerReading: us(threads1.main - threads0.main),
          workersUsPerReading: us(threads1.workers - threads0.workers),
          otherUsPerReading: us(threads1.other - threads0.other),
          threadUsPerReading: byNamePer(threads0, threads1, total),
          // each shard worker's thread (worker-1 is shard 0, ...: Deno numbers its Workers in the
          // order they start) over the readings that worker took
          workerThreadUs: perShardWorker(
            threads0,
            threads1,
            idle0.map((w) => w.readings),
            idle1.map((w) => w.readings),
            sched0,
            sched1,
          ),
          // checkpoints the workers saved in the window (the crash-loss bound saves a stream every
          // --checkpoint-every / 2 readings, the cadence each changed one every 60 s)
          checkpoints: checkpointsAfter - base.checkpoints,
          // each worker's warm-up before ready (its `streams.loaded` line): readings through the
          // scratch engines and the scratch service, and its ms (capped at 1,000)
          warmUp: d.log.filter((e) => e.event === "streams.loaded" && "worker" in e).map((e) => ({
            worker: e.worker,
            readings: e.warmUpReadings,
            serviceReadings: e.warmUpServiceReadings,
            ms: e.warmUpMs,
          })),
          ...(probed ? { cpuProbe: summarizeProbe(probed) } : {}),
          generatorUsPerReading: us(cpuSeconds(Deno.pid) - self0),
          ...brokerField(brokerCpu() - broker0, total),
          rssMiB: Math.round(rssMiB(d.pid)),
          loadavg1: load,
          ...(f["helper-trace"] ? { helperTrace: readHelperTrace(out) } : {}),
          ...(mainAlloc ? { mainAllocBytesPerReading: mainAlloc } : {}),
          ...(mainProfile ? { mainProfile } : {}),
        };
        emitResult(result);
        log(JSON.stringify(result));
      } finally {
        await devices.end();
      }
    });
  }
  const med = [...rates].map(([w, r]) => ({ workers: w, median: Math.round(median(r)) }));
  const one = med.find((m) => m.workers === 1)?.median;
  const two = med.find((m) => m.workers === 2)?.median;
  const sus = [...sustained].map(([w, r]) => ({ workers: w, median: Math.round(median(r)) }));
  const susOne = sus.find((m) => m.workers === 1)?.median;
  const susTwo = sus.find((m) => m.workers === 2)?.median;
  result({
    part: "capacity-summary",
    streams: f.streams,
    preset: f.preset,
    client: f.client,
    perMessage: f["per-message"],
    medians: med,
    speedup: one && two ? Math.round((two / one) * 100) / 100 : null,
    sustainedMedians: sus,
    sustainedSpeedup: susOne && susTwo ? Math.round((susTwo / susOne) * 100) / 100 : null,
  });
}

async function latency(): Promise<void> {
  const w = f.workers.at(-1)!;
  await withDaemon(w, [], async (d) => {
    const cs = await clients(d, f.connections);
    try {
      const base = await counts(d);
      await feed(cs, f.streams, 0, 1);
      await caughtUp(d, base, f.streams, performance.now(), true);
      const total = Math.round(f.rate * f.seconds);
      const lat: Promise<number>[] = [];
      const t0 = performance.now();
      for (let i = 0; i < total; i++) {
        const due = t0 + (i / f.rate) * 1000;
        if (performance.now() < due) await sleep(due - performance.now());
        const k = i % f.streams;
        const n = 1 + Math.floor(i / f.streams);
        const sent = performance.now();
        const acked = publish(cs[k % cs.length], k, n);
        if (i % f["sample-every"] === 0) {
          lat.push(acked.then(async () => {
            const origin = new Date(START + n * STEP).toISOString();
            for (;;) {
              const r = await fetch(`${d.http}/v1/streams/s${k}/forecast`);
              const body = await r.json();
              if (r.status === 200 && body.origin >= origin) return performance.now() - sent;
              await sleep(2);
            }
          }));
        }
      }
      const ms = (await Promise.all(lat)).sort((a, b) => a - b);
      const c = await counts(d);
      result({
        part: "latency",
        workers: w,
        streams: f.streams,
        preset: f.preset,
        rate: f.rate,
        samples: ms.length,
        p50Ms: Math.round(quantile(ms, 0.5) * 10) / 10,
        p99Ms: Math.round(quantile(ms, 0.99) * 10) / 10,
        taken: c.readings - base.readings,
        trained: c.trained - base.trained,
        shed: c.shed - base.shed,
        rejected: c.rejected - base.rejected,
        rssMiB: Math.round(rssMiB(d.pid)),
        loadavg1: loadavg(),
      });
    } finally {
      await Promise.all(cs.map((c) => c.endAsync()));
    }
  });
}

async function restart(): Promise<void> {
  const w = f.workers.at(-1)!;
  const dir = await Deno.makeTempDir({ prefix: "forecastd-scale-" });
  try {
    await startBroker(dir);
    const atOnce = f.stop === "at-once";
    let d = await daemon(dir, w, ["--shutdown-timeout", String(f["shutdown-timeout"])]);
    const readings = [];
    for (let n = 0; n < 20; n++) {
      for (let k = 0; k < f.streams; k++) {
        readings.push({
          stream: `s${k}`,
          ts: START + n * STEP,
          values: { v: 20 + Math.sin(n + k) },
        });
      }
    }
    // at most 10,000 readings per request (the API's limit)
    for (let i = 0; i < readings.length; i += 10_000) {
      const r = await fetch(`${d.http}/v1/readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(readings.slice(i, i + 10_000)),
      });
      if (r.status !== 200) throw new Error(`batch: ${r.status} ${await r.text()}`);
      await r.body?.cancel();
    }
    // a 200 means queued: wait until every reading was taken (a SIGTERM refuses what waits)
    for (const t0 = performance.now();;) {
      const m = await metrics(d);
      if ((m.get('forecastd_readings_total{source="http"}') ?? 0) >= readings.length) break;
      if (performance.now() - t0 > 600_000) throw new Error("the readings were not all taken");
      await sleep(1000);
    }
    // then until the checkpoint cadence saved every stream since (a save of as many checkpoints
    // as streams, and no change older than 5 s unsaved), as on a daemon that ran a while: the
    // stop's final save has little to write
    const tSave = performance.now();
    const saved0 = (await metrics(d)).get("forecastd_checkpoints_total") ?? 0;
    for (; !atOnce;) {
      await sleep(2000); // the metrics page of 10,000 streams is not free to build
      const m = await metrics(d);
      const saved = (m.get("forecastd_checkpoints_total") ?? 0) - saved0;
      if (saved >= f.streams && (m.get("forecastd_checkpoint_age_seconds") ?? 0) < 5) break;
      if (performance.now() - tSave > 600_000) throw new Error("the streams were not all saved");
    }
    const savedMs = performance.now() - tSave;
    const streamsSaved = performance.now();
    await d.stop("SIGTERM");
    const stopMs = performance.now() - streamsSaved;
    const problems = (l: Daemon["log"]) =>
      l.filter((e) => e.level === "error" || e.level === "warn" || e.event === "shutdown.done")
        .slice(0, 20);
    log(`stopped: ${JSON.stringify(problems(d.log))}`);
    // the final save of each worker (or of the main thread), and the timer's cut
    const finals = d.log.filter((e) => e.event === "checkpoint.final_saved");
    const cut = d.log.find((e) => e.event === "shutdown.timeout");
    const finalSave = {
      finalSaveMs: finals.length > 0 ? Math.max(...finals.map((e) => e.ms as number)) : null,
      finalSaved: cut ? cut.streamsSaved : finals.reduce((n, e) => n + (e.streams as number), 0),
      finalCut: cut ? cut.streamsCut : 0,
    };
    const t0 = performance.now();
    d = await daemon(dir, w);
    const banner = performance.now() - t0;
    try {
      const failed: string[] = [];
      let empty = 0;
      // 64 requests at a time: 10,000 at once overflow the listen backlog (connection reset)
      let next = 0;
      await Promise.all(Array.from({ length: 64 }, async () => {
        for (let k = next++; k < f.streams; k = next++) {
          // a stream the final save did not reach comes back empty: it answers, without forecast
          const res = await fetch(`${d.http}/v1/streams/s${k}${atOnce ? "" : "/forecast"}`);
          if (atOnce && res.ok) {
            if ((await res.json()).readings === 0) empty++;
          } else await res.body?.cancel();
          if (res.status !== 200) failed.push(`s${k}: ${res.status}`);
        }
      }));
      if (failed.length > 0) {
        log(`restarted: ${JSON.stringify(problems(d.log))}`);
        throw new Error(`${failed.length} streams do not forecast: ${failed.slice(0, 5)}`);
      }
      const all = performance.now() - t0;
      result({
        part: "restart",
        workers: w,
        streams: f.streams,
        preset: f.preset,
        stop: f.stop,
        shutdownTimeoutS: f["shutdown-timeout"],
        savedMs: atOnce ? null : Math.round(savedMs),
        stopMs: Math.round(stopMs),
        ...finalSave,
        ...(atOnce ? { backEmpty: empty } : {}),
        startedMs: Math.round(banner),
        [atOnce ? "everyStreamAnswersMs" : "everyStreamForecastsMs"]: Math.round(all),
        rssMiB: Math.round(rssMiB(d.pid)),
        loadavg1: loadavg(),
      });
    } finally {
      await d.stop("SIGTERM");
    }
  } finally {
    await stopBroker();
    await Deno.remove(dir, { recursive: true });
  }
}

async function healthz(): Promise<void> {
  const w = f.workers.at(-1)!;
  if (f["long-tasks"] > 0) inspectPort = freePort();
  for (const via of f.via) {
    for (const nice of f["worker-nice"]) {
      workerNice = nice;
      await healthzOnce(w, via);
    }
  }
}

/** One big batch by `via`, the readers polling; see the module comment. */
async function healthzOnce(w: number, via: "http" | "ws" | "mqtt"): Promise<void> {
  const cadence = f["checkpoint-seconds"] === 60
    ? []
    : ["--checkpoint-seconds", String(f["checkpoint-seconds"])];
  // --trace: the MQTT and WebSocket readers' streams' hops (src/shard/reading_trace.ts)
  // and the forecast reader's stream's reads through its worker (read.trace)
  const traced = f.trace
    ? ["--trace-stream", "q0", "--trace-stream", "q1", "--trace-stream", "r0"]
    : [];
  await withDaemon(w, [...cadence, ...traced], async (d) => {
    const readers = [...f.reader];
    if (f.reader.has("forecast")) {
      const warm = await fetch(`${d.http}/v1/streams/r0/readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          Array.from({ length: 48 }, (_, i) => ({ value: i % 7, ts: START + i * STEP })),
        ),
      });
      await warm.body?.cancel();
      if (warm.status !== 200) throw new Error(`cannot create r0: ${warm.status}`);
    }
    // --background: streams s0 … s(N-1) with 48 readings each, then 1 reading/s each meanwhile
    const N = f.background;
    const bg = N > 0 ? await clients(d, 1) : [];
    if (N > 0) {
      const base = await counts(d);
      const ready = performance.now();
      const created: Promise<void>[] = [];
      for (let k = 0; k < N; k++) created.push(publish(bg[0], k, 0, 48));
      await Promise.all(created);
      const up = await caughtUp(d, base, 48 * N, ready, true, 120_000);
      log(`background: ${N} streams of 48 readings in ${Math.round(up.ms)} ms`);
    }
    // with --trace the shard workers' threads are sampled too (the main thread first, as before)
    const threadNames = [
      "main",
      ...(f.trace ? workerThreads(d.pid).map((_, k) => `worker${k}`) : []),
    ];
    const sampler = new ThreadSampler(d.pid, [d.pid, ...(f.trace ? workerThreads(d.pid) : [])]);
    await sampler.ready;
    const sent = await bigBatch(d, via);
    const [mq] = f.reader.has("mqtt") ? await clients(d, 1) : [];
    const ws = f.reader.has("ws") ? await openSocket(d) : null;
    let mqN = 0;
    let wsN = 0;
    // --trace: each MQTT and WebSocket reading's send and answer (wall-clock ms)
    const sends: Send[] = [];
    const timed = (reader: string, stream: string, ts: number, go: () => Promise<void>) => {
      if (!f.trace) return go();
      const sentAt = wallMs();
      return go().then(() => void sends.push({ reader, stream, ts, sentAt, answeredAt: wallMs() }));
    };
    // --trace: each forecast request's send and answer (wall-clock ms)
    const requests: ReaderRequest[] = [];
    const once: Record<typeof readers[number], () => Promise<void>> = {
      healthz: () => get(d, "/healthz"),
      forecast: () => {
        if (!f.trace) return get(d, "/v1/streams/r0/forecast");
        const sentAt = wallMs();
        return get(d, "/v1/streams/r0/forecast")
          .then(() => void requests.push({ sentAt, answeredAt: wallMs() }));
      },
      mqtt: () => {
        const ts = START + mqN * STEP;
        const payload = `{"value":${mqN++ % 7},"ts":${ts}}`;
        return timed(
          "mqtt",
          "q0",
          ts,
          () =>
            new Promise<void>((resolve, reject) =>
              mq.publish("sensors/q0/v", payload, { qos: 1 }, (e) => e ? reject(e) : resolve())
            ),
        );
      },
      ws: () => {
        const ts = START + wsN * STEP;
        const message = `{"stream":"q1","value":${wsN++ % 7},"ts":${ts}}`;
        return timed("ws", "q1", ts, () => ws!.send(message));
      },
    };
    // --warm-readers: each reader's first request before the batch (a daemon in service has
    // answered its routes, and has its readers' streams, before a big batch comes)
    const warmMs: Record<string, number> = {};
    if (f["warm-readers"]) {
      for (const r of readers) {
        const s = performance.now();
        await once[r]();
        warmMs[r] = Math.round((performance.now() - s) * 10) / 10;
      }
      await sleep(200);
    }
    const profiler = inspectPort === null ? null : await LongTasks.connect(inspectPort);
    await profiler?.start();
    let done = false;
    const idle0 = await workerIdle(d);
    const cpu0 = roleCpu(d.pid);
    const t0 = performance.now();
    let batchMs = NaN;
    const batch = sent.taken().then((status) => {
      done = true;
      batchMs = Math.round(performance.now() - t0);
      return status;
    });
    // the background feed: every 100 ms a tenth of the streams get their next reading
    let tick = 0;
    const feeding = N === 0 ? null : (async () => {
      const pending: Promise<void>[] = [];
      while (!done) {
        const n = 48 + Math.floor(tick / 10);
        for (let k = tick % 10; k < N; k += 10) pending.push(publish(bg[0], k, n));
        tick++;
        await sleep(100);
      }
      await Promise.all(pending);
    })();
    const scrapes: number[] = [];
    const scraping = f["scrape-ms"] === 0 ? null : (async () => {
      while (!done) {
        const s = performance.now();
        await (await fetch(`${d.http}/metrics`)).arrayBuffer();
        scrapes.push(Math.round(performance.now() - s));
        await sleep(f["scrape-ms"]);
      }
    })();
    const running: Reader[] = readers.map((r) =>
      startReader(r, { t0, everyMs: f["reader-every-ms"] }, once[r])
    );
    const status = await batch;
    const cpu1 = roleCpu(d.pid);
    const idle1 = await workerIdle(d);
    const waits = await Promise.all(running.map((r) => r.stop(sampler)));
    await sampler.stop();
    const measured = sends.filter((x) => x.sentAt >= performance.timeOrigin + t0);
    const traces = d.log.filter((e) => e.event === "reading.trace") as unknown as TraceEntry[];
    const hops = f.trace ? readingHops(traces, measured, sampler, threadNames) : [];
    const reads = f.trace
      ? readHops(
        d.log.filter((e) => e.event === "read.trace") as unknown as ReadTraceEntry[],
        requests.filter((x) => x.sentAt >= performance.timeOrigin + t0),
        "forecast",
        sampler,
        threadNames,
      )
      : [];
    await feeding;
    await scraping;
    const tasks = await profiler?.stop({ minMs: f["long-tasks"] });
    profiler?.close();
    await sent.close();
    await mq?.endAsync();
    await ws?.close();
    if (bg.length > 0) await bg[0].endAsync();
    const first = waits[0];
    // (a save that fails lets readings past the crash-loss bound: no gate to wait for)
    const failures = (await metrics(d)).get("forecastd_checkpoint_failures_total") ?? 0;
    result({
      part: "healthz",
      reader: readers.join(","),
      via,
      workers: w,
      workerNice,
      batch: sent.readings,
      bytes: sent.bytes,
      status,
      batchMs,
      requests: first.requests,
      readerEveryMs: f["reader-every-ms"],
      p50Ms: first.p50Ms,
      maxMs: first.maxMs,
      ...(readers.length > 1 || N > 0 || f["scrape-ms"] > 0
        ? {
          background: N,
          checkpointSeconds: f["checkpoint-seconds"],
          scrapesMs: scrapes,
          checkpointFailures: failures,
          waits: Object.fromEntries(waits.map(({ reader, ...rest }) => [reader, rest])),
        }
        : { slow: first.slow }),
      cpuMs: {
        main: Math.round((cpu1.main - cpu0.main) * 1000),
        workers: Math.round((cpu1.workers - cpu0.workers) * 1000),
        v8: Math.round((cpu1.v8 - cpu0.v8) * 1000),
        other: Math.round((cpu1.other - cpu0.other) * 1000),
      },
      // each worker's idle time while the batch was taken (the pieces' round trips, the
      // worker whose part is done first)
      workerIdle: idleBetween(idle0, idle1, batchMs),
      loadavg1: loadavg(),
      ...(f["warm-readers"] ? { warmMs } : {}),
      ...(tasks === undefined ? {} : { longTasks: tasks }),
      ...(f.trace
        ? {
          hops: Object.fromEntries([
            ...["mqtt", "ws"].filter((r) => f.reader.has(r as "mqtt"))
              .map((r) => [r, hopSummary(hops.filter((h) => h.reader === r))]),
            ...(f.reader.has("forecast")
              ? [["forecast", hopSummary(reads, 30, 5, READ_HOPS)]]
              : []),
          ]),
        }
        : {}),
    });
  });
}

/** The daemon's shard workers' thread ids (named `worker-<n>`), in the order they were started. */
function workerThreads(pid: number): number[] {
  const out = new Deno.Command("sh", {
    args: ["-c", `cd /proc/${pid}/task && for t in *; do echo "$t $(cat $t/comm)"; done`],
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((l) => l.split(" "))
    .filter(([, comm]) => comm?.startsWith("worker-"))
    .map(([tid, comm]) => ({ tid: Number(tid), n: Number(comm.slice(7)) }))
    .sort((a, b) => a.n - b.n)
    .map((x) => x.tid);
}

/** GET `path`; throws unless it answered 200. */
async function get(d: Daemon, path: string): Promise<void> {
  const r = await fetch(`${d.http}${path}`);
  await r.body?.cancel();
  if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
}

/** A WebSocket to the ingest route whose send() resolves with the daemon's reply. */
async function openSocket(d: Daemon) {
  const ws = new WebSocket(`${d.http.replace("http:", "ws:")}/v1/ingest/ws`);
  await new Promise((resolve) => (ws.onopen = resolve));
  const closed = new Promise((resolve) => (ws.onclose = resolve));
  let answer: ((ok: boolean) => void) | null = null;
  ws.onmessage = (e) => answer?.(JSON.parse(String(e.data)).ok === true);
  return {
    send: (message: string) =>
      new Promise<void>((resolve, reject) => {
        answer = (ok) => ok ? resolve() : reject(new Error(`the daemon refused ${message}`));
        ws.send(message);
      }),
    close: async () => {
      ws.close();
      await closed;
    },
  };
}

/**
 * A big batch ready to go by `via`: `taken()` sends it and resolves with the
 * answer's status (200: taken; the WebSocket's reply and the MQTT PUBACK
 * count as 200) once the daemon took it.
 */
async function bigBatch(d: Daemon, via: "http" | "ws" | "mqtt") {
  if (via === "http") {
    const body = JSON.stringify(httpBatch(f.batch, ["h0", "h1", "h2", "h3"]));
    return {
      readings: f.batch,
      bytes: body.length,
      taken: () =>
        fetch(`${d.http}/v1/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
      close: () => Promise.resolve(),
    };
  }
  if (via === "ws") {
    const readings = bytesBatch(1024 * 1024, ["w0", "w1", "w2", "w3"]);
    const message = JSON.stringify(readings);
    const ws = new WebSocket(`${d.http.replace("http:", "ws:")}/v1/ingest/ws`);
    await new Promise((resolve) => (ws.onopen = resolve));
    const closed = new Promise((resolve) => (ws.onclose = resolve));
    return {
      readings: readings.length,
      bytes: message.length,
      taken: () => {
        const reply = new Promise<number>((resolve) => {
          ws.onmessage = (e) => resolve(JSON.parse(String(e.data)).ok === true ? 200 : 400);
        });
        ws.send(message);
        return reply;
      },
      close: async () => {
        ws.close();
        await closed;
      },
    };
  }
  const readings = bytesBatch(1024 * 1024, ["m0"]);
  const payload = JSON.stringify(readings);
  const [c] = await clients(d, 1);
  return {
    readings: readings.length,
    bytes: payload.length,
    taken: () =>
      new Promise<number>((resolve, reject) =>
        c.publish("sensors/m0", payload, { qos: 1 }, (e) => e ? reject(e) : resolve(200))
      ),
    close: () => c.endAsync(),
  };
}

/** A TCP port of 127.0.0.1 free now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) n += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  return n;
}

/** Watches MQTT.js clients: a connection that closes leaves its QoS 1 callbacks unsettled. */
function watchClients(cs: mqtt.MqttClient[]): string[] {
  const events: string[] = [];
  cs.forEach((c, i) => {
    const at = () => `${Math.round(performance.now() / 100) / 10}s`;
    c.on("close", () => events.push(`client ${i} closed at ${at()}`));
    c.on("error", (e) => events.push(`client ${i} error at ${at()}: ${e.message}`));
  });
  return events;
}

/** A snapshot of the main isolate of the daemon whose inspector is on `port` (--main-heap). */
async function mainHeap(port: number) {
  const h = await MainHeap.connect(port);
  try {
    return await h.snapshot();
  } finally {
    h.close();
  }
}

const mib = (bytes: number) => Math.round(bytes / 1048576 * 10) / 10;

/** The median, 99th percentile and most of `ms`, whole ms. */
function ackSummary(ms: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    p50: Math.round(median(sorted)),
    p99: Math.round(quantile(sorted, 0.99)),
    max: Math.round(sorted.at(-1) ?? 0),
  };
}

async function footprint(): Promise<void> {
  const w = f.workers.at(-1)!;
  if (f["profile-main"] > 0 || f["main-heap"]) inspectPort = freePort();
  const empty = await withDaemon(w, [], async (d) => {
    await sleep(3000);
    const heap = f["main-heap"] ? await mainHeap(inspectPort!) : null;
    return { rss: rssMiB(d.pid), heap };
  });
  const cadence = f["checkpoint-seconds"] === 60
    ? []
    : ["--checkpoint-seconds", String(f["checkpoint-seconds"])];
  // --steady: the streams' checkpoints, written into the data directory before the daemon starts
  const seed = f.steady
    ? (dir: string) =>
      seedSteadyState(dir, {
        ...f,
        start: START,
        periodMs: STEP,
        ...(f["seed-cache"] ? { cacheDir: f["seed-cache"] } : {}),
      })
    : undefined;
  await withDaemon(w, cadence, async (d, dir) => {
    log(`serving: rss ${Math.round(rssMiB(d.pid))} MiB`);
    // MQTT.js clients, watched for closing; or the lean ones, whose publish() throws instead
    const cs = f.client === "mqttjs" ? await clients(d, f.connections) : [];
    const events = watchClients(cs);
    const pub = f.client === "mqttjs"
      ? {
        feed: (from: number, to: number, part?: Slice) => feed(cs, f.streams, from, to, part),
        end: () => {},
      }
      : await feeder(d, f.streams);
    const profiler = f["profile-main"] > 0 ? await LongTasks.connect(inspectPort!) : null;
    const heapClient = f["main-heap"] ? await MainHeap.connect(inspectPort!) : null;
    const problems = () =>
      JSON.stringify({
        rssMiB: Math.round(rssMiB(d.pid)),
        clients: events.slice(0, 10),
        daemon: d.log.filter((e) => e.level === "warn" || e.level === "error").slice(0, 10),
      });
    /** feed() of second s, or a diagnosis when its acknowledgements do not come within 120 s. */
    const feedSecond = async (s: number, part?: Slice) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`second ${s} not acknowledged in time: ${problems()}`)),
          f.steady || STEP !== 300_000 ? 900_000 : 120_000,
        );
      });
      try {
        await Promise.race([pub.feed(s, s + 1, part), late]);
      } finally {
        // (a timer left running would hold the bench's exit for its length)
        clearTimeout(timer);
      }
    };
    try {
      // creation: every stream's first reading, as fast as the connections take them
      const base = await counts(d);
      const tCreate = performance.now();
      const cpuCreate = cpuSeconds(d.pid);
      const threadsCreate = roleCpu(d.pid);
      await feedSecond(0);
      await caughtUp(d, base, f.streams, tCreate, true);
      const takenSeconds = Math.round(performance.now() - tCreate) / 1000;
      const takenCpu = cpuSeconds(d.pid) - cpuCreate;
      // then until the workers have observed them all: the feed's first second starts on a daemon
      // that has finished its first readings, as 1 Hz sensors would send their next a second later
      // (the bench did not wait before the tenth round, and its first seconds were late)
      let cCreated = await counts(d);
      while (cCreated.observed - base.observed < f.streams) {
        if (performance.now() - tCreate > 600_000) {
          throw new Error(
            `the first readings not observed in 600 s: ${JSON.stringify(cCreated)}`,
          );
        }
        await sleep(Math.max(20, f.streams / 10));
        cCreated = await counts(d);
      }
      const threadsCreated = roleCpu(d.pid);
      const created = {
        createSeconds: takenSeconds,
        createCpuUsPerStream: Math.round(takenCpu / f.streams * 1e6),
        // until every first reading was observed (the workers done with them), and by thread
        createObservedSeconds: Math.round(performance.now() - tCreate) / 1000,
        createObservedCpuUsPerStream: Math.round(
          (cpuSeconds(d.pid) - cpuCreate) / f.streams * 1e6,
        ),
        createCpuUsPerStreamByRole: perRole(threadsCreate, threadsCreated, f.streams),
        // learning shed in the creation (shedEvery10s counts from before it, so includes these)
        createShed: cCreated.shed - base.shed,
        rssAfterCreateMiB: Math.round(rssMiB(d.pid)),
      };
      log(`created: ${JSON.stringify(created)} ${problems()}`);
      // sustained: one reading per stream each second; the first `warm` seconds are left out
      const seconds = Math.round(f.minutes * 60);
      const warm = Math.min(30, Math.floor(seconds / 4));
      let cpu0 = cpuSeconds(d.pid);
      let self0 = ownCpu();
      let broker0 = brokerCpu();
      let threads0 = threadCpu(d.pid);
      let wb0 = writeBytes(d.pid);
      let t0 = performance.now();
      // (no read of /metrics here: the one above is a moment old, and the feed starts now)
      let observed0 = cCreated.observed;
      let checkpoints0 = cCreated.checkpoints;
      const tStart = t0;
      // the daemon's CPU by thread role each second of the feed, ms (read without blocking)
      const everySecond = {
        main: [] as number[],
        workers: [] as number[],
        other: [] as number[],
      };
      let lastSample = await threadCpuAsync(d.pid);
      const sampler = setInterval(async () => {
        const now = await threadCpuAsync(d.pid).catch(() => null);
        if (now === null) return;
        for (const k of ["main", "workers", "other"] as const) {
          everySecond[k].push(Math.round((now[k] - lastSample[k]) * 1000));
        }
        lastSample = now;
      }, 1000);
      const lags: number[] = [];
      // trainings shed since the feed began, at each 10 s check (when the overload rule fired)
      const shedAt: number[] = [];
      // published and not yet acknowledged, every 10 s (the open feed's slices in flight)
      const unacked: number[] = [];
      let published = 0, acked = 0;
      // a daemon far behind: stop publishing after 3 times the run's length (at least 2 minutes)
      const cutMs = Math.max(120_000, 3000 * seconds);
      // --feed (bench/feed_schedule.ts): slice i of a second (the streams k with k % N === i) is
      // due i/N s into it; burst: the whole second at once; closed: a slice at its due time or
      // once the slice before is acknowledged if later; open: at its due time, whatever is in
      // flight. A second is late when a slice of it is acknowledged more than a second after it
      // was due (its sensors' next reading)
      const slices = FEED === "burst" ? 1 : f.slices;
      const report = await runFeed({
        kind: FEED,
        slices,
        seconds,
        start: tStart,
        stop: () => performance.now() - tStart >= cutMs,
        send: async (s, i) => {
          // the streams k < streams with k % slices === i
          const n = Math.max(0, Math.ceil((f.streams - i) / slices));
          published += n;
          await feedSecond(s, { slice: i, of: slices });
          acked += n;
        },
        afterSecond: async (s) => {
          // one read of /metrics every 10 s (and at the steady start, the same read when it
          // falls on one: it did two in a row there before the tenth round, and those
          // seconds were late); a Prometheus scrape comes every 15 s
          const c = s % 10 === 0 || s === warm ? await counts(d) : null;
          if (s === warm) {
            cpu0 = cpuSeconds(d.pid);
            self0 = ownCpu();
            broker0 = brokerCpu();
            threads0 = threadCpu(d.pid);
            wb0 = writeBytes(d.pid);
            t0 = performance.now();
            observed0 = c!.observed;
            checkpoints0 = c!.checkpoints;
            await profiler?.start(f["profile-main"]);
            await heapClient?.startAllocations();
          }
          // the backlog (published, not yet observed) every 10 s: /metrics of 10,000 streams costs
          // (the open feed goes on publishing meanwhile: what was published by its answer counts)
          if (c !== null && s % 10 === 0) {
            const lag = f.streams + published - (c.observed - base.observed);
            lags.push(lag);
            shedAt.push(c.shed - base.shed);
            unacked.push(published - acked);
            log(
              `t=${s}s backlog ${lag} readings, unacknowledged ${published - acked}, ` +
                `rss ${Math.round(rssMiB(d.pid))} MiB`,
            );
          }
        },
      });
      clearInterval(sampler);
      const fed = report.secondsFed;
      const late = report.lateSeconds;
      const sent = f.streams * (fed + 1);
      // every slice acknowledged: what the daemon has not observed yet (through Mosquitto, which
      // acknowledges on receipt, the daemon may be far behind with every PUBACK in)
      const cEnd = await counts(d);
      const backlogAtEnd = sent - (cEnd.observed - base.observed);
      const elapsed = (performance.now() - t0) / 1000;
      const threads1 = threadCpu(d.pid);
      const cpu1 = cpuSeconds(d.pid);
      const self1 = ownCpu();
      const broker1 = brokerCpu();
      const mainProfile = await profiler?.stopSummary();
      const heap = await heapClient?.snapshot();
      const written = writeBytes(d.pid) - wb0;
      const rss = rssMiB(d.pid);
      // the readings observed over the steady part: what its CPU was spent on
      const steady = cEnd.observed - observed0;
      const mainAlloc = await heapClient?.stopAllocations(steady);
      // then every reading sent must have been taken and observed (none lost); kept up: none shed
      let c = await counts(d);
      for (const t = performance.now(); c.observed - base.observed < sent; c = await counts(d)) {
        if (performance.now() - t > 300_000) {
          throw new Error(`not all observed in 300 s: ${JSON.stringify(c)}: ${problems()}`);
        }
        await sleep(1000);
      }
      const drainSeconds = Math.round(performance.now() - t0 - elapsed * 1000) / 1000;
      const us = (sec: number) => Math.round(sec / steady * 1e6);
      result({
        part: "footprint",
        workers: w,
        streams: f.streams,
        preset: f.preset,
        periodMs: STEP,
        steady: f.steady,
        seconds,
        secondsFed: fed,
        steadySeconds: Math.round(elapsed),
        ...created,
        // bench/feed_schedule.ts keptUp(): with the backlog at the end under a second of readings
        keptUp: keptUp({
          seconds,
          secondsFed: fed,
          lateSeconds: late,
          sent,
          trained: c.trained - base.trained,
          shed: c.shed - base.shed,
          rejected: c.rejected - base.rejected,
          backlogAtEnd,
          perSecond: f.streams,
        }),
        backlogAtEnd,
        lateSeconds: late,
        feed: FEED,
        slices,
        lateSlices: report.lateSlices,
        // which seconds were late (the backlog checks fall on multiples of 10)
        lateAt: report.lateAt,
        // how long a slice (a whole second when --slices=1) took to be acknowledged, ms: from its
        // publication, and from its due time (what lateness is counted from)
        ackMs: ackSummary(report.slices.map((t) => t.acked - t.published)),
        ackFromDueMs: ackSummary(report.slices.map((t) => t.acked - t.due)),
        // how long after its due time a slice was published, ms (closed: waiting for the one before)
        publishDelayMs: ackSummary(report.slices.map((t) => t.published - t.due)),
        drainSeconds,
        backlogEvery10s: lags,
        shedEvery10s: shedAt,
        // the daemon's CPU ms by thread role in each second of the feed (V8's helpers in other)
        cpuMsEverySecond: everySecond,
        unackedEvery10s: unacked,
        taken: c.readings - base.readings,
        trained: c.trained - base.trained,
        shed: c.shed - base.shed,
        rejected: c.rejected - base.rejected,
        rssMiB: Math.round(rss),
        mallocArenaMax: f["malloc-arena-max"] || null,
        checkpointSeconds: f["checkpoint-seconds"],
        steadyReadings: steady,
        emptyRssMiB: Math.round(empty.rss),
        rssBytesPerStream: Math.round((rss - empty.rss) * 1048576 / f.streams),
        cpuUsPerReading: us(cpu1 - cpu0),
        mainUsPerReading: us(threads1.main - threads0.main),
        workersUsPerReading: us(threads1.workers - threads0.workers),
        otherUsPerReading: us(threads1.other - threads0.other),
        // µs per reading by thread name (bench/proc_stats.ts): which of the others
        threadUsPerReading: byNamePer(threads0, threads1, steady),
        client: f.client,
        // the bench's own CPU (its publishers) per reading, on the same cores
        publisherUsPerReading: us(self1 - self0),
        ...brokerField(broker1 - broker0, steady),
        kvBytesPerStream: Math.round(await dirBytes(dir) / f.streams),
        writtenBytesPerStreamPerHour: Math.round(written / elapsed * 3600 / f.streams),
        // the checkpoints saved over the same window (one round every --checkpoint-seconds: a
        // window of 90 s holds one or two) and the bytes written per checkpoint saved
        checkpointsSaved: cEnd.checkpoints - checkpoints0,
        writtenBytesPerCheckpoint: Math.round(
          written / Math.max(1, cEnd.checkpoints - checkpoints0),
        ),
        clientEvents: events.length,
        loadavg1: loadavg(),
        ...(mainProfile ? { mainProfile } : {}),
        ...(heap && empty.heap
          ? {
            mainHeapMiB: { empty: mib(empty.heap.bytes), end: mib(heap.bytes) },
            mainHeapPerStream: heapGrowth(empty.heap.counts, heap.counts, f.streams, 40),
            // bytes the main thread allocated per reading over the steady part, by function
            mainAllocBytesPerReading: mainAlloc,
          }
          : {}),
      });
    } catch (e) {
      log(`failed: ${problems()}`);
      throw e;
    } finally {
      // forced: a closed client's unacknowledged publishes would hold a plain end() forever
      await Promise.all(cs.map((c) => c.endAsync(true)));
      await pub.end();
      profiler?.close();
      heapClient?.close();
    }
  }, seed);
}

const run = { capacity, latency, restart, healthz, footprint };
for (const p of f.part) await run[p]();
