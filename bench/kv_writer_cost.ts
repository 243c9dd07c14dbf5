/**
 * What Deno KV's SQLite thread does for a checkpoint save (not part of the
 * test suite): `streams` streams' checkpoints of `bytes` random bytes each
 * (zstd's output is as incompressible) saved `rounds` times with
 * `Store.saveCheckpoints` in batches of `batch` streams (the scheduler's
 * batches of about 2 MiB hold 22 default checkpoints), into a real KV file
 * in /tmp, as a shard worker saves them. Every checkpoint changes each round.
 *
 * Measured on the KV's own thread (the one Deno KV's SQLite runs on, found
 * by name: `sw-N`, else the thread that appeared with the KV), per
 * checkpoint: its CPU µs (`/proc/.../schedstat`, ns), its read and write
 * system calls (`syscr`, `syscw`) and the bytes through them (`rchar`,
 * `wchar`: SQLite's reads of its file and of its write-ahead log, its writes
 * to both) from `/proc/.../io`; the commits.
 *
 *   deno run --allow-read=/tmp,. --allow-write=/tmp --allow-run=sh,cat --allow-sys=loadavg \
 *     bench/kv_writer_cost.ts [--streams=100] [--bytes=95000] [--rounds=6] [--batch=22] \
 *     [--root=.]
 *
 * `--root=DIR` measures the src/ of another checkout (A/B of two trees in
 * one command's shape). One `RESULT {json}` line on stdout.
 */
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";
import { loadavg } from "./proc_stats.ts";
import type { Store as StoreType } from "../src/store/store.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(100),
    bytes: integer(95_000),
    rounds: integer(6),
    batch: integer(22),
    root: text("a checkout's directory", "."),
  }, "Cannot parse kv_writer_cost flags")
);

const root = new URL(`${f.root.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
const { Store } = await import(new URL("src/store/store.ts", root).href) as {
  Store: typeof StoreType;
};

/** One thread's counters: CPU ns, read and write calls and bytes. */
interface ThreadIo {
  ns: number;
  syscr: number;
  syscw: number;
  rchar: number;
  wchar: number;
}

/** Every thread of this process: tid -> name (Deno reads /proc/self/task only with --allow-all). */
function threads(): Map<string, string> {
  const out = new Deno.Command("sh", {
    args: ["-c", `for t in /proc/${Deno.pid}/task/*; do echo "\${t##*/} $(cat $t/comm)"; done`],
    stderr: "null",
  }).outputSync();
  const m = new Map<string, string>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const sp = line.indexOf(" ");
    if (sp > 0) m.set(line.slice(0, sp), line.slice(sp + 1));
  }
  return m;
}

function threadIo(tid: string): ThreadIo {
  const dir = `/proc/${Deno.pid}/task/${tid}`;
  const out = new Deno.Command("sh", {
    args: ["-c", `cat ${dir}/schedstat ${dir}/io`],
    stderr: "null",
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)![1]);
  return {
    ns: Number(text.split(" ")[0]),
    syscr: field("syscr"),
    syscw: field("syscw"),
    rchar: field("rchar"),
    wchar: field("wchar"),
  };
}

const before = threads();
const dir = await Deno.makeTempDir({ prefix: "forecastd-kv-writer-" });
const kv = await Deno.openKv(`${dir}/forecastd.kv`);
await kv.get(["warm"]);
const after = threads();
const fresh = [...after].filter(([tid]) => !before.has(tid));
const sw = fresh.find(([, name]) => /^sw-\d+$/.test(name)) ??
  [...after].find(([, name]) => /^sw-\d+$/.test(name)) ?? fresh[0];
if (!sw) throw new Error("Cannot find the KV's thread: no thread named sw-N and none appeared");
const [tid, threadName] = sw;

const store = new Store(kv);
const ids = Array.from({ length: f.streams }, (_, k) => `s${k}`);
const config = (id: string) => ({ id, preset: "default", columns: ["v"], periodMs: 1000 });
// random bytes, a new series each round (getRandomValues fills at most 65,536 bytes a call)
function checkpoint(): Uint8Array {
  const b = new Uint8Array(f.bytes);
  for (let i = 0; i < b.length; i += 65_536) crypto.getRandomValues(b.subarray(i, i + 65_536));
  return b;
}
async function saveAll(): Promise<number> {
  let commits = 0;
  for (let i = 0; i < ids.length; i += f.batch) {
    const entries = ids.slice(i, i + f.batch).map((id) => ({
      id,
      bytes: checkpoint(),
      config: config(id),
    }));
    commits += (await store.saveCheckpoints(entries)).commits;
  }
  return commits;
}

await saveAll(); // every stream's first checkpoint
await saveAll(); // and a second: every save from here on replaces one
const t0 = threadIo(tid);
let commits = 0;
const wall0 = performance.now();
for (let r = 0; r < f.rounds; r++) commits += await saveAll();
const wallMs = performance.now() - wall0;
const t1 = threadIo(tid);
// the checkpoints read back (and checked) as at start-up: the store's format is unchanged
for (const id of ids) {
  const bytes = await store.loadCheckpoint(id);
  if (bytes?.byteLength !== f.bytes) throw new Error(`Cannot read back ${id}'s checkpoint`);
}
kv.close();
const fileBytes = (await Deno.stat(`${dir}/forecastd.kv`)).size;
await Deno.remove(dir, { recursive: true });

const n = f.rounds * f.streams;
const per = (k: keyof ThreadIo) => Math.round((t1[k] - t0[k]) / n * 10) / 10;
emitResult({
  bench: "kv_writer_cost",
  root: f.root,
  streams: f.streams,
  bytes: f.bytes,
  batch: f.batch,
  checkpoints: n,
  thread: threadName,
  usPerCheckpoint: Math.round((t1.ns - t0.ns) / n / 100) / 10,
  readCallsPerCheckpoint: per("syscr"),
  writeCallsPerCheckpoint: per("syscw"),
  readBytesPerCheckpoint: Math.round(per("rchar")),
  writtenBytesPerCheckpoint: Math.round(per("wchar")),
  commitsPerCheckpoint: Math.round(commits / n * 1000) / 1000,
  msPerCheckpoint: Math.round(wallMs / n * 1000) / 1000,
  fileBytes,
  loadavg1: loadavg(),
});
