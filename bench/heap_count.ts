/**
 * How many ArrayBuffer and typed-array objects a stream holds, and who holds
 * them (not part of the test suite): creates `streams` streams of one value
 * in one process (with `--steady=true` each restored as the daemon restores
 * it, from the checkpoint of a stream fed two days: bench/steady_state.ts),
 * feeds each `readings` readings `period-ms` apart, writes a
 * V8 heap snapshot (`node:v8` writeHeapSnapshot) before the streams and one
 * after, and counts per stream the objects of each kind that were added,
 * with their self size in the JS heap. A typed array is named by the object
 * and property that hold it (`Rls.P`; an array element by the array's
 * holder: `LinearExpert.rls[]`), an ArrayBuffer by the typed array that
 * views it first; and the `top` largest self sizes added per stream of
 * every kind of node, by type and constructor (`object:Rls`, `number:` the
 * boxed numbers, `native:system / JSArrayBufferData` the ArrayBuffers'
 * contents, the kernels' memory among them). With `--numbers=true` the
 * holders count the boxed numbers too (`heap number <- AnomalyScorer.total`).
 * The snapshots go to a temporary directory, removed after.
 *
 *   deno run --allow-read --allow-write=/tmp --allow-env --v8-flags=--expose-gc bench/heap_count.ts \
 *     [--streams=1000] [--readings=150] [--period-ms=1000] [--preset=pi-small] [--top=40] \
 *     [--steady=false] [--numbers=false]
 *
 * One `RESULT {json}` line on stdout.
 */
import { writeHeapSnapshot } from "node:v8";
import { boolean, exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { deviceValue, steadyCheckpoint } from "./steady_state.ts";
import { emitResult } from "./stats.ts";
import { Engine } from "../src/stream/engine.ts";
import { getPreset } from "../src/stream/preset.ts";
import type { Snapshot } from "./main_heap.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(1000),
    readings: integer(150),
    "period-ms": integer(1000),
    preset: text("a preset name", "pi-small"),
    top: integer(40),
    steady: boolean(false),
    numbers: boolean(false),
  }, "Cannot parse heap_count flags")
);

const TYPED = new Set([
  "Float64Array",
  "Float32Array",
  "Int32Array",
  "Uint32Array",
  "Int16Array",
  "Uint16Array",
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "BigInt64Array",
  "BigUint64Array",
]);

interface Counts {
  /** kind -> [objects, self bytes] */
  kinds: Map<string, [number, number]>;
  /** every node by type and constructor ("object:Rls", "number:") -> [objects, self bytes] */
  all: Map<string, [number, number]>;
  /** holder -> objects */
  holders: Map<string, number>;
}

/** Counts the ArrayBuffers and typed arrays of the snapshot in `path`. */
function count(path: string): Counts {
  const s = JSON.parse(Deno.readTextFileSync(path)) as Snapshot;
  const { node_fields: nf, edge_fields: ef, edge_types: [edgeTypes] } = s.snapshot.meta;
  const N = nf.length, E = ef.length;
  const nName = nf.indexOf("name"), nSize = nf.indexOf("self_size");
  const nEdges = nf.indexOf("edge_count");
  const eType = ef.indexOf("type"), eName = ef.indexOf("name_or_index");
  const eTo = ef.indexOf("to_node");
  const { nodes, edges, strings } = s;
  const name = (n: number) => strings[nodes[n + nName]];
  const nType = nf.indexOf("type"), [nodeTypes] = s.snapshot.meta.node_types;
  const isNumber = (n: number) => nodeTypes[nodes[n + nType]] === "number";
  const wanted = (n: number) =>
    name(n) === "ArrayBuffer" || TYPED.has(name(n)) || (f.numbers && isNumber(n));
  // the first retainer of each wanted node (a property or element edge rather than an internal one)
  const holder = new Map<number, string>();
  const parentOf = new Map<number, number>();
  const viewOf = new Map<number, number>();
  const label = (e: number) => {
    const t = edgeTypes[edges[e + eType]];
    return t === "element" ? "[]" : t === "property" ? strings[edges[e + eName]] : "";
  };
  for (let n = 0, e = 0; n < nodes.length; n += N) {
    // a typed array holds its buffer through an internal edge
    const view = TYPED.has(name(n));
    for (let k = 0; k < nodes[n + nEdges]; k++, e += E) {
      const to = edges[e + eTo];
      const l = view && name(to) === "ArrayBuffer" && edgeTypes[edges[e + eType]] !== "weak"
        ? "buffer"
        : label(e);
      if (l === "") continue;
      if (!parentOf.has(to)) parentOf.set(to, n);
      if (wanted(to) && !holder.has(to)) {
        const from = name(n);
        if (view && l === "buffer") viewOf.set(to, n);
        else holder.set(to, `${from}.${l}`);
      }
    }
  }
  for (const [buffer, view] of viewOf) {
    holder.set(buffer, `${name(view)} <- ${holder.get(view) ?? "?"}`);
  }
  const kinds = new Map<string, [number, number]>(), holders = new Map<string, number>();
  const all = new Map<string, [number, number]>();
  for (let n = 0; n < nodes.length; n += N) {
    // strings and numbers by type alone, objects by their constructor
    const t = nodeTypes[nodes[n + nType]];
    const of = t === "object" || t === "native" || t === "closure" ? `${t}:${name(n)}` : `${t}:`;
    const a = all.get(of) ?? [0, 0];
    a[0]++;
    a[1] += nodes[n + nSize];
    all.set(of, a);
    if (!wanted(n)) continue;
    if (!isNumber(n)) {
      const k = kinds.get(name(n)) ?? [0, 0];
      k[0]++;
      k[1] += nodes[n + nSize];
      kinds.set(name(n), k);
    }
    let h = holder.get(n) ?? "?";
    // an element of an array: name the array by its own holder
    if (h.startsWith("Array.")) {
      const arr = parentOf.get(n);
      const up = arr === undefined ? undefined : parentOf.get(arr);
      h = up === undefined ? h : `${name(up)}.[]`;
    }
    const key = `${name(n)} <- ${h}`;
    holders.set(key, (holders.get(key) ?? 0) + 1);
  }
  return { kinds, holders, all };
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const dir = Deno.makeTempDirSync({ prefix: "heap_count" });
try {
  const preset = getPreset(f.preset);
  const t0 = Date.UTC(2026, 0, 5);
  const steady = f.steady ? steadyCheckpoint(0, f.preset, t0, f["period-ms"]) : null;
  const engine = new Engine();
  gc();
  const before = count(writeHeapSnapshot(`${dir}/before.heapsnapshot`));
  for (let k = 0; k < f.streams; k++) {
    const s = engine.create(`s${k}`, { preset, columns: ["v"], periodMs: f["period-ms"] });
    if (steady) s.restoreNew(steady);
  }
  for (let r = 0; r < f.readings; r++) {
    for (let k = 0; k < f.streams; k++) {
      const x = steady
        ? deviceValue(0, r, f["period-ms"])
        : 20 + Math.sin(r / 10 + k) + (k % 7) / 10;
      engine.observe(`s${k}`, t0 + r * f["period-ms"], [x]);
    }
  }
  gc();
  const after = count(writeHeapSnapshot(`${dir}/after.heapsnapshot`));
  const per = (a: number, b: number) => Math.round((a - b) / f.streams * 10) / 10;
  const kinds: Record<string, { objects: number; heapBytes: number }> = {};
  let objects = 0, heapBytes = 0, buffers = 0;
  for (const [k, [n, b]] of after.kinds) {
    const [n0, b0] = before.kinds.get(k) ?? [0, 0];
    kinds[k] = { objects: per(n, n0), heapBytes: per(b, b0) };
    objects += kinds[k].objects;
    heapBytes += kinds[k].heapBytes;
    if (k === "ArrayBuffer") buffers = kinds[k].objects;
  }
  // the largest self sizes added per stream, by type and constructor
  const constructors = [...after.all]
    .map(([k, [n, b]]) => {
      const [n0, b0] = before.all.get(k) ?? [0, 0];
      return [k, { objects: per(n, n0), heapBytes: Math.round((b - b0) / f.streams) }] as const;
    })
    .filter(([, c]) => Math.abs(c.heapBytes) >= 40)
    .sort((a, b) => b[1].heapBytes - a[1].heapBytes)
    .slice(0, f.top);
  const holders = [...after.holders]
    .map(([h, n]) => [h, per(n, before.holders.get(h) ?? 0)] as const)
    .filter(([, n]) => n >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .slice(0, f.top);
  emitResult({
    part: "heap-count",
    streams: f.streams,
    readings: f.readings,
    periodMs: f["period-ms"],
    preset: f.preset,
    steady: f.steady,
    // the engine is used after the snapshot: an optimised frame would not keep it alive otherwise
    streamFound: engine.get("s0") !== undefined,
    perStream: {
      arrayBuffers: buffers,
      typedArrays: Math.round((objects - buffers) * 10) / 10,
      heapBytes: Math.round(heapBytes),
      kinds,
      holders: Object.fromEntries(holders),
      constructors: Object.fromEntries(constructors),
    },
  });
} finally {
  Deno.removeSync(dir, { recursive: true });
}
