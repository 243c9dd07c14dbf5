/**
 * What a shard worker's path allocates per reading (not part of the test
 * suite): in process, readings as a worker gets them (a ReadingBatch of up
 * to 250 readings, encoded before the count starts, decoded in it) into a
 * Service over `streams` streams, 10 readings of each stream per round,
 * with recent readings kept (the daemon's default). Run as a parent, it
 * runs itself as a child under V8's `--trace-gc-nvp` and sums the bytes
 * allocated between collections, from a full collection forced before the
 * counted rounds to one forced after them (every byte allocated in them,
 * none outside), over `rounds` rounds after the streams'
 * first readings and `skip` rounds more (0: the count includes V8's
 * warm-up; 200: the steady state of a long-running daemon): bytes per
 * reading, which the load of other processes barely changes. With the
 * collections V8 made itself over the same rounds: scavenges and full
 * (mark-compact) ones, and their pauses (ms in all and the longest). And
 * what V8's helper threads (`V8 DefaultWorker`: the collector's parallel and
 * concurrent tasks, the compilers' background jobs) did meanwhile: their CPU
 * µs per reading (`helperUsPerReading`, from /proc/self/task/N/schedstat,
 * against the isolate's own thread's `mainUsPerReading`) and the helper ms
 * V8's trace gives the counted collections (`gcHelperMs`, their
 * `background.*` fields): how the helpers' part follows the bytes.
 *
 * `--part=engine` counts the engine alone (an Engine's `observe`, as the Service's, with the
 * readings' value rows made before the count: no decoding, no Service);
 * `--part=worker` (the default) the whole path. `--preset` is the streams'
 * preset (`default` or `pi-small`, the daemon's presets). The Service
 * saves checkpoints at its defaults (every 500 readings or 60 s of a
 * stream); `--checkpoints=false` leaves them out (the readings' path alone).
 *
 *   deno run --allow-run --allow-read bench/worker_path_alloc.ts [--streams=100] [--rounds=29] \
 *     [--skip=0] [--part=worker] [--preset=default] \
 *     [--checkpoints=true] [--v8-flags=]
 *
 * One `RESULT {json}` line on stdout.
 */
import { Service } from "../src/service/service.ts";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { Store } from "../src/store/store.ts";
import { createLogger } from "../src/log.ts";
import { decodeReadings, encodeReadings, type ReadingBatch } from "../src/shard/reading_batch.ts";
import type { Reading } from "../src/domain/reading.ts";
import { boolean, exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(100),
    rounds: integer(29),
    skip: integer(0, 0),
    role: text("parent or child", "parent"),
    part: oneOf(["worker", "engine"] as const, "worker"),
    checkpoints: boolean(true),
    preset: text("the streams' preset", "default"),
    "v8-flags": text("more V8 flags of the child, comma-separated", ""),
  }, "Cannot parse flags")
);

const START = Date.UTC(2025, 5, 2);

/** A full collection (V8's reason "testing"): the count runs from one to another. */
const collect = () => (globalThis as unknown as { gc(): void }).gc();

/**
 * CPU ns of this process's threads from /proc/PID/task/N/schedstat (through
 * `sh`: Deno reads /proc itself only with every permission): V8's helper
 * threads (named `V8 ...`) and the isolate's own (the main thread).
 */
function threadNs(): { helpers: number; main: number } {
  const out = new Deno.Command("sh", {
    args: [
      "-c",
      `cd /proc/${Deno.pid}/task && for t in *; do echo "$t $(cut -d' ' -f1 $t/schedstat) $(cat $t/comm)"; done`,
    ],
  }).outputSync();
  let helpers = 0;
  let main = 0;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const [tid, ns, ...comm] = line.split(" ");
    if (tid === String(Deno.pid)) main += Number(ns);
    else if (comm.join(" ").startsWith("V8 ")) helpers += Number(ns);
  }
  return { helpers, main };
}

/** Prints the threads' CPU ns as a line the parent reads (not without `sh`, as under heap_sample.ts). */
const printThreads = (tag: string) => {
  if (Deno.permissions.querySync({ name: "run", command: "sh" }).state !== "granted") return;
  const t = threadNs();
  console.log(`${tag} ${t.helpers} ${t.main}`);
};

/** Where the count starts: a mark on stdout, then a full collection. */
function mark(): void {
  console.log(`MARK ${performance.now()}`);
  collect();
  printThreads("THREADS0");
}

/** Where the count ends: the threads' CPU (the forced collections' left out), a full collection. */
function end(): void {
  printThreads("THREADS1");
  collect();
}

/** The value of reading n of stream k. */
const valueOf = (k: number, n: number) => 20 + Math.sin(n / 40) + k * 0.01;

/** The engine alone: each stream's rows made before the count, fed to Engine.observe. */
function engineChild(): void {
  const engine = new Engine();
  const preset = getPreset(f.preset);
  const ids = Array.from({ length: f.streams }, (_, k) => `s${k}`);
  for (const id of ids) engine.create(id, { columns: ["v"], preset });
  const rows = Array.from({ length: (f.skip + f.rounds + 1) * 10 }, () => new Float64Array(1));
  for (let round = 0; round <= f.skip + f.rounds; round++) {
    if (round === f.skip + 1) mark();
    for (let k = 0; k < f.streams; k++) {
      for (let i = 0; i < 10; i++) {
        const n = round * 10 + i;
        const row = rows[n];
        row[0] = valueOf(k, n);
        engine.observe(ids[k], START + n * 300_000, row);
      }
    }
  }
  end();
  Deno.exit(0);
}

async function child(): Promise<void> {
  if (f.part === "engine") return engineChild();
  const kv = await Deno.openKv(":memory:");
  const s = new Service({
    store: new Store(kv),
    log: createLogger({ level: "error" }),
    options: {
      shedAfterMs: 3_600_000,
      defaultPreset: f.preset,
      // without checkpoints: the readings' path alone, none of the saves' bytes
      ...(f.checkpoints ? {} : { checkpointEvery: 1e9, checkpointSeconds: 86_400 }),
    },
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
        readings.push({ stream: `s${k}`, ts: START + n * 300_000, values: { v: valueOf(k, n) } });
      }
    }
    const batches: ReadingBatch[] = [];
    for (let off = 0; off < readings.length; off += 250) {
      batches.push(encodeReadings(readings.slice(off, off + 250)));
    }
    rounds.push(batches);
  }
  for (let round = 0; round <= f.skip + f.rounds; round++) {
    // the first round creates the streams, `skip` more warm V8's compilers up; the parent counts
    // from their end (V8's lines carry the ms since the isolate started, and come out of their own
    // buffer, in no order with this one)
    if (round === f.skip + 1) mark();
    for (const batch of rounds[round]) {
      await s.ingest(decodeReadings(batch), "mqtt"); // as a shard worker decodes
    }
  }
  end();
  Deno.exit(0); // the service's timers would keep the process alive
}

/** What the child's stdout says of the counted rounds. */
export interface ChildCount {
  /** Bytes V8 allocated from the first forced collection to the last. */
  allocated: number;
  /** V8's own collections between them (the forced ones left out). */
  collections: number;
  /** Their pauses, ms. */
  pauses: { scavenge: number[]; full: number[] };
  /** Their `background.*` ms: the helper threads' part of them. */
  gcHelperMs: number;
  /** CPU ns of V8's helper threads and of the isolate's own between THREADS0 and THREADS1. */
  helperNs: number;
  mainNs: number;
}

/**
 * Reads the child's stdout: its MARK, its THREADS0/THREADS1 lines (each
 * `THREADSn <helpers' ns> <isolate's ns>`) and V8's `--trace-gc-nvp` lines
 * after the mark. V8's lines come out of their own buffer: one of ours may
 * land inside one of them, and is taken out before they are read.
 */
export function readChild(text: string): ChildCount {
  const mark = Number(/MARK ([\d.]+)/.exec(text)![1]);
  const lines = text.replace(/MARK [\d.]+\n/, "").replace(/THREADS\d \d+ \d+\n/g, "").split("\n");
  const threads = (tag: string) => {
    const m = new RegExp(`${tag} (\\d+) (\\d+)`).exec(text);
    if (m === null) throw new Error(`Cannot read the child's threads: no ${tag} line`);
    return [Number(m[1]), Number(m[2])];
  };
  const [t0, t1] = [threads("THREADS0"), threads("THREADS1")];
  let gcHelperMs = 0;
  let allocated = 0;
  let collections = 0;
  let forced = 0;
  const pauses = { scavenge: [] as number[], full: [] as number[] };
  for (const line of lines) {
    const at = line.indexOf(" ms: GC: {");
    if (at < 0 || Number(line.slice(line.indexOf("]") + 1, at)) < mark) continue;
    const gc = JSON.parse(line.slice(at + 9));
    // the first forced collection counts what came before the mark; the last, what came since
    // the collection before it: every byte between the two, none outside
    if (gc.reason === "testing" && forced++ === 0) continue;
    allocated += gc.allocated;
    if (gc.reason === "testing") continue;
    for (const [k, v] of Object.entries(gc)) {
      if (k.startsWith("background.") && typeof v === "number") gcHelperMs += v;
    }
    collections++;
    // V8's nvp names a scavenge "s" (or "mmc", a minor mark-compact) and a full collection "mc"
    (gc.gc === "mc" ? pauses.full : pauses.scavenge).push(gc.pause);
  }
  return {
    allocated,
    collections,
    pauses,
    gcHelperMs,
    helperNs: t1[0] - t0[0],
    mainNs: t1[1] - t0[1],
  };
}

async function parent(): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--v8-flags=--trace-gc-nvp,--expose-gc${f["v8-flags"] ? "," + f["v8-flags"] : ""}`,
      "--allow-read",
      "--allow-run=sh",
      new URL(import.meta.url).pathname,
      `--streams=${f.streams}`,
      `--rounds=${f.rounds}`,
      `--skip=${f.skip}`,
      `--part=${f.part}`,
      `--preset=${f.preset}`,
      `--checkpoints=${f.checkpoints}`,
      "--role=child",
    ],
    stderr: "inherit",
  }).output();
  const { allocated, collections, pauses, gcHelperMs, helperNs, mainNs } = readChild(
    new TextDecoder().decode(out.stdout),
  );
  const sum = (a: number[]) => Math.round(a.reduce((x, y) => x + y, 0) * 10) / 10;
  const max = (a: number[]) => Math.round(Math.max(0, ...a) * 10) / 10;
  const readings = f.streams * 10 * f.rounds;
  emitResult({
    part: "worker-path-alloc",
    path: f.part,
    preset: f.preset,
    checkpoints: f.checkpoints,
    streams: f.streams,
    skip: f.skip,
    readings,
    collections,
    bytesPerReading: Math.round(allocated / readings),
    scavenges: pauses.scavenge.length,
    scavengeMs: sum(pauses.scavenge),
    scavengeMaxMs: max(pauses.scavenge),
    fulls: pauses.full.length,
    fullMs: sum(pauses.full),
    fullMaxMs: max(pauses.full),
    gcHelperMs: Math.round(gcHelperMs * 10) / 10,
    helperUsPerReading: Math.round(helperNs / readings / 10) / 100,
    mainUsPerReading: Math.round(mainNs / readings / 10) / 100,
    v8Flags: f["v8-flags"],
  });
}

if (import.meta.main) await (f.role === "child" ? child() : parent());
