/**
 * The long tasks of a daemon's main thread, from V8's sampling profiler
 * through the inspector (the daemon runs with `--inspect=127.0.0.1:<port>`):
 * `start()` begins sampling every `intervalUs`, `stop()` ends it and returns
 * each run of consecutive busy samples (not `(idle)`) longer than `minMs`,
 * with when it started (ms from the start of sampling), how long it took and
 * where the time went: the functions with the most self time, and the
 * share of the garbage collector.
 *
 * ```ts
 * const p = await LongTasks.connect(9330);
 * await p.start();
 * // ... load the daemon ...
 * const tasks = await p.stop({ minMs: 10 });
 * p.close();
 * ```
 *
 * A sample is taken where the thread is; V8 marks the time the thread
 * waits in the event loop as `(idle)`, so a busy run is one task of the
 * event loop or several back to back with no wait between. The profile's
 * clock is the daemon's; the runs are as long as the thread was busy, with
 * the profiler's own overhead (a few per cent at 250 µs).
 */

/** One run of busy samples. */
export interface LongTask {
  /** When it began, ms after sampling started. */
  atMs: number;
  /** How long the thread stayed busy, ms. */
  ms: number;
  /**
   * Samples in the run times the interval, ms: about the thread's CPU time
   * in it (a thread that is not running takes no sample until it runs
   * again), so it is what the run would take on a core of its own.
   */
  sampledMs: number;
  /** Of it, in the garbage collector, ms. */
  gcMs: number;
  /** The functions with the most self time in it: `name (file:line) ms`. */
  top: string[];
  /** The outermost functions of ours (src/, main.ts) on the stacks of the run, by time. */
  ours: string[];
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A client of the daemon's inspector that samples its main thread. */
export class LongTasks {
  readonly #ws: WebSocket;
  #id = 0;
  #intervalUs = 250;
  readonly #pending = new Map<number, (r: unknown) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data));
      if (typeof m.id === "number") {
        this.#pending.get(m.id)?.(m.error ? Promise.reject(new Error(m.error.message)) : m.result);
        this.#pending.delete(m.id);
      }
    };
  }

  /** Connects to the main thread's inspector on 127.0.0.1:`port`. */
  static async connect(port: number): Promise<LongTasks> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const url = targets[0].webSocketDebuggerUrl as string;
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const p = new LongTasks(ws);
    await p.#call("Profiler.enable");
    return p;
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#id;
    const done = new Promise((resolve) => this.#pending.set(id, resolve));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return done;
  }

  /** Starts sampling the main thread every `intervalUs` µs (default 250). */
  async start(intervalUs = 250): Promise<void> {
    this.#intervalUs = intervalUs;
    await this.#call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.#call("Profiler.start");
  }

  /** Stops sampling; the busy runs longer than `minMs` (default 10), in order. */
  async stop(opts: { minMs?: number; top?: number } = {}): Promise<LongTask[]> {
    const { profile } = await this.#call("Profiler.stop") as { profile: Profile };
    return longTasks(profile, opts.minMs ?? 10, opts.top ?? 6, this.#intervalUs);
  }

  /** Stops sampling; where the busy samples went (profileSummary). */
  async stopSummary(topN = 25): Promise<ProfileSummary> {
    const { profile } = await this.#call("Profiler.stop") as { profile: Profile };
    return profileSummary(profile, topN);
  }

  close(): void {
    this.#ws.close();
  }
}

function frameName(c: CallFrame): string {
  const file = c.url.replace(/^.*\/(src|node_modules|npm)\//, "$1/").replace(/^.*\//, "");
  return `${c.functionName || "(anonymous)"}${file ? ` (${file}:${c.lineNumber + 1})` : ""}`;
}

const ms = (us: number) => Math.round(us / 100) / 10;

/** The busy runs of a profile sampled every `intervalUs` longer than `minMs`. */
export function longTasks(
  profile: Profile,
  minMs: number,
  topN: number,
  intervalUs: number,
): LongTask[] {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isIdle = (id: number) => byId.get(id)!.callFrame.functionName === "(idle)";
  // sample i lasts until sample i + 1
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push(t += d);
  const out: LongTask[] = [];
  let i = 0;
  while (i < profile.samples.length) {
    if (isIdle(profile.samples[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < profile.samples.length && !isIdle(profile.samples[j + 1])) j++;
    const end = j + 1 < times.length ? times[j + 1] : profile.endTime;
    const length = end - times[i];
    if (length >= minMs * 1000) {
      const self = new Map<string, number>();
      const outer = new Map<string, number>();
      let gc = 0;
      for (let k = i; k <= j; k++) {
        const dt = (k + 1 < times.length ? times[k + 1] : profile.endTime) - times[k];
        const node = byId.get(profile.samples[k])!;
        const name = frameName(node.callFrame);
        if (node.callFrame.functionName === "(garbage collector)") gc += dt;
        self.set(name, (self.get(name) ?? 0) + dt);
        // the outermost frame of ours on this stack
        let ours: string | null = null;
        for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
          const c = byId.get(id)!.callFrame;
          if (/\/(src\/[^/]|main\.ts)/.test(c.url) && !c.url.includes("node_modules")) {
            ours = frameName(c);
          }
        }
        if (ours !== null) outer.set(ours, (outer.get(ours) ?? 0) + dt);
      }
      const rank = (m: Map<string, number>) =>
        [...m].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([n, us]) => `${n} ${ms(us)}`);
      out.push({
        atMs: ms(times[i] - profile.startTime),
        ms: ms(length),
        sampledMs: ms((j - i + 1) * intervalUs),
        gcMs: ms(gc),
        top: rank(self),
        ours: rank(outer),
      });
    }
    i = j + 1;
  }
  return out;
}

/** Where a whole profile's busy time went (every sample not `(idle)`). */
export interface ProfileSummary {
  /** The busy samples' time, ms. */
  busyMs: number;
  /** Self time by file (`src/ingest/mqtt.ts`, `node_modules/aedes/...`, `(gc)`), ms, largest first. */
  byFile: string[];
  /** The functions with the most self time: `name (file:line) ms`. */
  top: string[];
  /** Time under each of our functions (src/, main.ts), outermost or not (inclusive), ms. */
  ours: string[];
}

/** The busy time of `profile` by file and by function (self and our inclusive). */
export function profileSummary(profile: Profile, topN: number): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, dt: number) => m.set(k, (m.get(k) ?? 0) + dt);
  let busy = 0;
  let t = profile.startTime;
  for (let k = 0; k < profile.samples.length; k++) {
    t += profile.timeDeltas[k];
    const next = k + 1 < profile.samples.length ? t + profile.timeDeltas[k + 1] : profile.endTime;
    const dt = next - t;
    const node = byId.get(profile.samples[k])!;
    const c = node.callFrame;
    if (c.functionName === "(idle)") continue;
    busy += dt;
    add(self, frameName(c), dt);
    const file = c.functionName === "(garbage collector)"
      ? "(gc)"
      : c.url.replace(/^.*\/(src|node_modules)\//, "$1/").replace(/^.*\/npm\/[^/]+\//, "npm/") ||
        c.functionName;
    add(files, file, dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (!/\/(src\/[^/]|main\.ts)/.test(f.url) || f.url.includes("node_modules")) continue;
      const name = frameName(f);
      if (!seen.has(name)) add(inclusive, name, dt), seen.add(name);
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([n, us]) => `${n} ${ms(us)}`);
  return { busyMs: ms(busy), byFile: rank(files), top: rank(self), ours: rank(inclusive) };
}

/** Where a window of a profile went (`fromMs` to `toMs`, ms of the profile's clock). */
export interface WindowSummary {
  /** The samples' time in the window, ms. */
  sampledMs: number;
  /** Of it, in the garbage collector, ms. */
  gcMs: number;
  /** The functions with the most self time: `name (file:line) ms`. */
  top: string[];
  /** The innermost frames of ours (src/) on the stacks, by time: what of ours ran. */
  ours: string[];
  /** Our frames' names on the stacks, outermost first (the last 5), by time. */
  chains: string[];
}

/** The samples of `profile` from `fromMs` to `toMs` (its clock: `startTime`, µs, / 1000). */
export function windowSummary(
  profile: Profile,
  fromMs: number,
  toMs: number,
  topN: number,
): WindowSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inner = new Map<string, number>();
  const chain = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, dt: number) => m.set(k, (m.get(k) ?? 0) + dt);
  let gc = 0;
  let sampled = 0;
  let t = profile.startTime;
  for (let k = 0; k < profile.samples.length; k++) {
    t += profile.timeDeltas[k];
    if (t < fromMs * 1000 || t >= toMs * 1000) continue;
    const next = k + 1 < profile.samples.length ? t + profile.timeDeltas[k + 1] : profile.endTime;
    const dt = next - t;
    const node = byId.get(profile.samples[k])!;
    if (node.callFrame.functionName === "(idle)") continue;
    sampled += dt;
    if (node.callFrame.functionName === "(garbage collector)") gc += dt;
    add(self, frameName(node.callFrame), dt);
    const names: string[] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const c = byId.get(id)!.callFrame;
      if (/\/src\/[^/]/.test(c.url) && !c.url.includes("node_modules")) {
        if (names.length === 0) add(inner, frameName(c), dt);
        names.push(c.functionName || "(anonymous)");
      }
    }
    add(chain, names.slice(0, 5).reverse().join(">"), dt);
  }
  const rank = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([n, us]) => `${n} ${ms(us)}`);
  return {
    sampledMs: ms(sampled),
    gcMs: ms(gc),
    top: rank(self),
    ours: rank(inner),
    chains: rank(chain),
  };
}
