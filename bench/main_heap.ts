/**
 * What a daemon's main isolate holds, from a V8 heap snapshot taken through
 * the inspector (the daemon runs with `--inspect=127.0.0.1:<port>`): every
 * node counted by type and constructor (`object:Map`, `string:` every
 * string, `number:` the boxed numbers, `closure:<name>`), with its self
 * size, and the strings, boxed numbers and arrays also by their first
 * retainer (`string: <- Map.table[]`, `number: <- ShardHost.horizons`), so
 * what a stream adds on the main thread can be told by who keeps it.
 * bench/scale.ts --part=footprint --main-heap takes one of an empty daemon
 * and one after the run and gives the difference per stream.
 *
 * ```ts
 * const heap = await MainHeap.connect(9330);
 * const counts = await heap.snapshot(); // after a full collection
 * heap.close();
 * ```
 *
 * The snapshot pauses the daemon's main thread (about a second per 100 MB of
 * heap) and costs the bench the parse: take it after the measured part.
 */

/** Per key (type:constructor, or with its retainer): [objects, self bytes]. */
export type HeapCounts = Map<string, [number, number]>;

/** A V8 heap snapshot as the inspector writes it. */
export interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Types whose nodes are also counted by their first retainer. */
const BY_RETAINER = new Set(["string", "concatenated string", "sliced string", "number"]);
/** Constructors whose nodes are also counted by their first retainer. */
const BY_RETAINER_KEY = new Set([
  "object:Array",
  "array:(object properties)",
  "object:Object",
  "object:Map",
  "array:(object elements)",
]);

/** Counts the nodes of a heap snapshot by type and constructor, and some by retainer. */
export function countHeap(s: Snapshot): HeapCounts {
  const { node_fields: nf, edge_fields: ef, edge_types: [edgeTypes] } = s.snapshot.meta;
  const [nodeTypes] = s.snapshot.meta.node_types;
  const N = nf.length, E = ef.length;
  const nType = nf.indexOf("type"), nName = nf.indexOf("name");
  const nSize = nf.indexOf("self_size"), nEdges = nf.indexOf("edge_count");
  const eType = ef.indexOf("type"), eName = ef.indexOf("name_or_index");
  const eTo = ef.indexOf("to_node");
  const { nodes, edges, strings } = s;
  const typeOf = (n: number) => nodeTypes[nodes[n + nType]];
  const key = (n: number) => {
    const t = typeOf(n);
    return t === "object" || t === "native" || t === "closure" || t === "array"
      ? `${t}:${strings[nodes[n + nName]]}`
      : `${t}:`;
  };
  // the first retainer of each node by a property or element edge: "Holder.name" or "Holder[]"
  const retainer = new Map<number, string>();
  for (let n = 0, e = 0; n < nodes.length; n += N) {
    for (let k = 0; k < nodes[n + nEdges]; k++, e += E) {
      const to = edges[e + eTo];
      if (retainer.has(to)) continue;
      const t = edgeTypes[edges[e + eType]];
      if (t === "weak" || t === "shortcut") continue;
      const holder = key(n).replace(/^(object|array|closure|native):/, "");
      const edge = t === "element"
        ? "[]"
        : t === "property" || t === "internal"
        ? `.${strings[edges[e + eName]]}`
        : `.(${t})`;
      retainer.set(to, `${holder}${edge}`);
    }
  }
  const out: HeapCounts = new Map();
  const add = (k: string, size: number) => {
    const a = out.get(k) ?? [0, 0];
    a[0]++;
    a[1] += size;
    out.set(k, a);
  };
  for (let n = 0; n < nodes.length; n += N) {
    const k = key(n), size = nodes[n + nSize];
    add(k, size);
    if (BY_RETAINER.has(typeOf(n)) || BY_RETAINER_KEY.has(k)) {
      add(`${k} <- ${retainer.get(n) ?? "?"}`, size);
    }
  }
  return out;
}

/**
 * The keys of `after` that grew most over `before`, per `per` (streams):
 * objects and self bytes each, the `top` largest by bytes.
 */
export function heapGrowth(
  before: HeapCounts,
  after: HeapCounts,
  per: number,
  top = 30,
): Record<string, { objects: number; bytes: number }> {
  const rows = [...after].map(([k, [n, b]]) => {
    const [n0, b0] = before.get(k) ?? [0, 0];
    return [k, {
      objects: Math.round((n - n0) / per * 10) / 10,
      bytes: Math.round((b - b0) / per),
    }] as const;
  }).filter(([, r]) => Math.abs(r.bytes) >= 4).sort((a, b) => b[1].bytes - a[1].bytes);
  return Object.fromEntries(rows.slice(0, top));
}

/** A client of a daemon's inspector that takes heap snapshots of its main isolate. */
export class MainHeap {
  readonly #ws: WebSocket;
  #id = 0;
  readonly #pending = new Map<number, (r: unknown) => void>();
  #chunks: string[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data));
      if (m.method === "HeapProfiler.addHeapSnapshotChunk") this.#chunks.push(m.params.chunk);
      if (typeof m.id === "number") {
        this.#pending.get(m.id)?.(m.error ? Promise.reject(new Error(m.error.message)) : m.result);
        this.#pending.delete(m.id);
      }
    };
  }

  /** Connects to the main isolate's inspector on 127.0.0.1:`port`. */
  static async connect(port: number): Promise<MainHeap> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const ws = new WebSocket(targets[0].webSocketDebuggerUrl as string);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const h = new MainHeap(ws);
    await h.#call("HeapProfiler.enable");
    return h;
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#id;
    const done = new Promise((resolve) => this.#pending.set(id, resolve));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return done;
  }

  /** Takes a snapshot (after a full collection) and counts it; its total self bytes too. */
  async snapshot(): Promise<{ counts: HeapCounts; bytes: number }> {
    await this.#call("HeapProfiler.collectGarbage");
    this.#chunks = [];
    await this.#call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const s = JSON.parse(this.#chunks.join("")) as Snapshot;
    this.#chunks = [];
    const counts = countHeap(s);
    let bytes = 0;
    for (const [k, [, b]] of counts) if (!k.includes(" <- ")) bytes += b;
    return { counts, bytes };
  }

  /**
   * Starts V8's sampling heap profiler (one sample per `intervalBytes`
   * allocated, default 32 KiB), the objects the collector took since kept.
   */
  async startAllocations(intervalBytes = 32768): Promise<void> {
    await this.#call("HeapProfiler.startSampling", {
      samplingInterval: intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }

  /**
   * Stops the sampling; the bytes allocated since start() by function (self:
   * the function that allocated, `name (file:line)`; a built-in one, which
   * has no file, with the nearest caller that has one: `next (:0) <- caller
   * (file:line)`), per `per` (readings), the `top` largest.
   */
  async stopAllocations(per: number, top = 25): Promise<Record<string, number>> {
    const { profile } = await this.#call("HeapProfiler.stopSampling") as {
      profile: { head: AllocationNode };
    };
    const bytes = new Map<string, number>();
    const name = (c: AllocationNode["callFrame"]) => {
      const file = c.url.replace(/^.*\/(src|node_modules|npm)\//, "$1/").replace(/^.*\//, "");
      return `${c.functionName || "(anonymous)"} (${file}:${c.lineNumber + 1})`;
    };
    const walk = (n: AllocationNode, caller: string) => {
      const own = name(n.callFrame);
      const k = n.callFrame.url === "" && caller !== "" ? `${own} <- ${caller}` : own;
      if (n.selfSize > 0) bytes.set(k, (bytes.get(k) ?? 0) + n.selfSize);
      for (const ch of n.children) walk(ch, n.callFrame.url === "" ? caller : own);
    };
    walk(profile.head, "");
    let total = 0;
    for (const b of bytes.values()) total += b;
    const rows = [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([k, b]) => [k, Math.round(b / per)] as const);
    return { "(all)": Math.round(total / per), ...Object.fromEntries(rows) };
  }

  close(): void {
    this.#ws.close();
  }
}

interface AllocationNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocationNode[];
}
