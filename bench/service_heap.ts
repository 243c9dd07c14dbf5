/**
 * What a shard worker's Service holds per stream beyond the engine (not part
 * of the test suite): one Service over a KV file in a temporary directory,
 * `streams` streams of one value created by their first reading and fed
 * `readings` readings `period-ms` apart, a V8 heap snapshot (after a full
 * collection) before the streams and one after, and the growth per stream by
 * type and constructor and, for strings, numbers, arrays and objects, by
 * retainer (bench/main_heap.ts's countHeap), with `total`, every self size
 * and ArrayBuffer content; `memory`, the growth of `Deno.memoryUsage()` per
 * stream (after full collections). `--recent=0` keeps no recent readings;
 * `--service=false` feeds the same readings to an Engine alone, so the
 * difference of the two totals is what the service holds beyond the engine.
 *
 *   deno run --allow-read --allow-write=/tmp --allow-env --v8-flags=--expose-gc bench/service_heap.ts \
 *     [--streams=1000] [--readings=20] [--period-ms=1000] [--preset=pi-small] [--recent=288] [--top=40] \
 *     [--service=true]
 *
 * One `RESULT {json}` line on stdout.
 */
import { writeHeapSnapshot } from "node:v8";
import { boolean, exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import { emitResult } from "./stats.ts";
import { countHeap, heapGrowth, type Snapshot } from "./main_heap.ts";
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { createLogger } from "../src/log.ts";
import type { Reading } from "../src/domain/reading.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(1000),
    readings: integer(20),
    "period-ms": integer(1000),
    preset: text("a preset name", "pi-small"),
    recent: integer(288, 0),
    top: integer(40),
    service: boolean(true),
  }, "Cannot parse service_heap flags")
);

const dir = Deno.makeTempDirSync({ prefix: "service_heap_" });
const gc = (globalThis as unknown as { gc: () => void }).gc;
/** RSS and the isolate's memory, bytes, after a full collection. */
function memory() {
  gc();
  gc();
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}
/** What grew from `a` to `b`, bytes per stream. */
function perStream(a: ReturnType<typeof memory>, b: ReturnType<typeof memory>) {
  const out: Record<string, number> = {};
  for (const k of Object.keys(a) as (keyof typeof a)[]) {
    out[k] = Math.round((b[k] - a[k]) / f.streams);
  }
  return out;
}
function snap(name: string) {
  gc();
  gc();
  const path = writeHeapSnapshot(`${dir}/${name}.heapsnapshot`);
  return countHeap(JSON.parse(Deno.readTextFileSync(path)) as Snapshot);
}
const t0 = 1_700_000_000_000;
const ids = Array.from({ length: f.streams }, (_, i) => `s${i}`);
const valueOf = (k: number, i: number) => 20 + Math.sin((k + i) / 7);
const growth = (before: ReturnType<typeof snap>, after: ReturnType<typeof snap>) => {
  const g = heapGrowth(before, after, f.streams, 100_000);
  let total = 0;
  for (const [k, v] of Object.entries(g)) if (!k.includes(" <- ")) total += v.bytes;
  return { total, growth: Object.fromEntries(Object.entries(g).slice(0, f.top)) };
};
/** Takes the memory and the snapshot after the readings, and emits the growth from `before`, `m0`. */
function report(before: Counts, m0: Memory, extra: Record<string, unknown>) {
  const m1 = memory();
  const after = snap("after");
  emitResult({
    streams: f.streams,
    readings: f.readings,
    preset: f.preset,
    ...extra,
    memory: perStream(m0, m1),
    ...growth(before, after),
  });
}
type Counts = ReturnType<typeof snap>;
type Memory = ReturnType<typeof memory>;
try {
  if (f.service) {
    const kv = await Deno.openKv(`${dir}/kv.sqlite`);
    const service = new Service({
      store: new Store(kv),
      log: createLogger({ level: "error" }),
      options: {
        maxStreams: f.streams + 1,
        recentReadings: f.recent,
        checkpointEvery: 1_000_000,
        defaultPreset: f.preset,
      },
    });
    await service.load();
    service.start();
    // one stream first, so the service's and engine's code and shared blocks exist before
    await service.ingest([{ stream: "warm", ts: t0, values: { value: 1 } }], "http");
    const before = snap("before");
    const m0 = memory();
    for (let k = 0; k < f.readings; k++) {
      const batch: Reading[] = ids.map((stream, i) => ({
        stream,
        ts: t0 + k * f["period-ms"],
        values: { value: valueOf(k, i) },
      }));
      await service.ingest(batch, "http");
    }
    await service.flushAlerts();
    report(before, m0, { recent: f.recent });
    await service.close();
    kv.close();
  } else {
    const engine = new Engine();
    const preset = getPreset(f.preset);
    const spec = { preset, columns: ["value"] };
    engine.create("warm", spec);
    engine.observe("warm", t0, [1]);
    const before = snap("before");
    const m0 = memory();
    for (const id of ids) engine.create(id, spec);
    for (let k = 0; k < f.readings; k++) {
      ids.forEach((id, i) => engine.observe(id, t0 + k * f["period-ms"], [valueOf(k, i)]));
    }
    report(before, m0, { service: false });
    // the engine is used after the snapshot: an optimised frame would not keep it alive otherwise
    if (engine.get("s0") === undefined) {
      throw new Error("Cannot count the engine: stream s0 is gone");
    }
  }
} finally {
  Deno.removeSync(dir, { recursive: true });
}
