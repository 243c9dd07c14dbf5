/**
 * What Deno KV's SQLite reads to find a key beside big values (not part of
 * the test suite), on a real KV file in /tmp, measured on the KV's own
 * thread (`sw-N`: /proc's schedstat and io, as bench/kv_writer_cost.ts):
 *
 * - `--part=ops`: 100 streams' two chunks (64 KiB and 29,464 bytes) and
 *   manifest, twice replaced; then, for each stream, one kind of operation
 *   at a time: the KB read and the read calls an operation, and its CPU µs.
 *   `--layout=near` keeps the chunks under the stream's prefix beside its
 *   manifest (forecastd's keys), `apart` under a prefix of their own.
 * - `--part=cycle`: saves of 100 streams' checkpoints of `bytes` bytes in
 *   chunks of `chunk` bytes (new chunks, the manifest, the old chunks
 *   deleted; `per-commit` streams a commit), 5 rounds: the CPU µs, reads
 *   and writes a checkpoint. Chunks small enough to stay inside SQLite's
 *   page (under about 1,000 bytes with the key) are never read whole, but
 *   cost a mutation each.
 *
 *   deno run --allow-read=/tmp --allow-write=/tmp --allow-run=sh bench/kv_key_reads.ts \
 *     [--part=ops|cycle] [--layout=near|apart] [--chunk=65536] [--per-commit=8] [--bytes=95000]
 *
 * The keys imitate forecastd's (src/store/keys.ts); nothing of src/ runs.
 */
import { exitOnFlagError, integer, oneOf, parseFlags } from "./args.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    part: oneOf(["ops", "cycle"] as const, "ops"),
    layout: oneOf(["near", "apart"] as const, "near"),
    chunk: integer(65_536),
    "per-commit": integer(8),
    bytes: integer(95_000),
  }, "Cannot parse kv_key_reads flags")
);

const pid = Deno.pid;
const sh = (script: string) =>
  new TextDecoder().decode(
    new Deno.Command("sh", { args: ["-c", script], stderr: "null" }).outputSync().stdout,
  );
const dir = await Deno.makeTempDir({ prefix: "forecastd-kv-key-reads-" });
const kv = await Deno.openKv(`${dir}/x.kv`);
await kv.get(["warm"]);
const tid = sh(`for t in /proc/${pid}/task/*; do echo "\${t##*/} $(cat $t/comm)"; done`)
  .trim().split("\n").map((l) => l.split(" ")).find(([, n]) => /^sw-\d+$/.test(n))?.[0];
if (!tid) throw new Error("Cannot find the KV's thread: no thread named sw-N");

/** The KV thread's counters: bytes and calls read and written, CPU ns. */
function io() {
  const t = sh(`cat /proc/${pid}/task/${tid}/io /proc/${pid}/task/${tid}/schedstat`);
  const g = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+)`, "m").exec(t)![1]);
  const ns = Number(t.trim().split("\n").at(-1)!.split(" ")[0]);
  return { r: g("rchar"), rc: g("syscr"), w: g("wchar"), wc: g("syscw"), ns };
}
function random(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) {
    crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65_536)));
  }
  return b;
}
const N = 100;
const version = (v: number) => `m${v.toString(36).padStart(7, "0")}-0123456789abcdef`;
const chunkKey = (id: string, v: number, i: number): Deno.KvKey =>
  f.layout === "near"
    ? ["forecastd", "v1", "streams", id, "chunks", version(v), i]
    : ["forecastd", "v1", "chunks", id, version(v), i];
const manifestKey = (id: string): Deno.KvKey => ["forecastd", "v1", "streams", id, "manifest"];
const per = (a: ReturnType<typeof io>, b: ReturnType<typeof io>, n: number) => ({
  readKB: Math.round((b.r - a.r) / n / 102.4) / 10,
  readCalls: Math.round((b.rc - a.rc) / n * 10) / 10,
  writtenKB: Math.round((b.w - a.w) / n / 102.4) / 10,
  writeCalls: Math.round((b.wc - a.wc) / n * 10) / 10,
  us: Math.round((b.ns - a.ns) / n / 1000),
});

if (f.part === "ops") {
  const sizes = [65_536, 29_464];
  for (let v = 0; v < 2; v++) {
    for (let k = 0; k < N; k++) {
      const a = kv.atomic().set(manifestKey(`s${k}`), { v });
      sizes.forEach((n, i) => a.set(chunkKey(`s${k}`, v, i), random(n)));
      if (v > 0) sizes.forEach((_, i) => a.delete(chunkKey(`s${k}`, v - 1, i)));
      await a.commit();
    }
  }
  const ops: [string, (k: number) => Promise<unknown>][] = [
    ["get a manifest", (k) => kv.get(manifestKey(`s${k}`))],
    ["set a manifest", (k) => kv.set(manifestKey(`s${k}`), { v: 2 })],
    ["set a new 64 KiB chunk", (k) => kv.set(chunkKey(`s${k}`, 2, 0), random(sizes[0]))],
    ["set a new 29 KB chunk", (k) => kv.set(chunkKey(`s${k}`, 2, 1), random(sizes[1]))],
    ["delete an old 64 KiB chunk", (k) => kv.delete(chunkKey(`s${k}`, 1, 0))],
    ["delete an old 29 KB chunk", (k) => kv.delete(chunkKey(`s${k}`, 1, 1))],
    ["an empty commit", () => kv.atomic().commit()],
    ["get a 64 KiB chunk", (k) => kv.get(chunkKey(`s${k}`, 2, 0))],
  ];
  const rows: Record<string, unknown> = {};
  for (const [name, op] of ops) {
    const a = io();
    for (let k = 0; k < N; k++) await op(k);
    rows[name] = per(a, io(), N);
  }
  console.log(
    `RESULT ${JSON.stringify({ bench: "kv_key_reads", part: "ops", layout: f.layout, ops: rows })}`,
  );
} else {
  const chunks = Math.ceil(f.bytes / f.chunk);
  const round = async (v: number) => {
    for (let k0 = 0; k0 < N; k0 += f["per-commit"]) {
      const a = kv.atomic();
      for (let k = k0; k < Math.min(N, k0 + f["per-commit"]); k++) {
        const b = random(f.bytes);
        for (let i = 0; i < chunks; i++) {
          a.set(chunkKey(`s${k}`, v, i), b.subarray(i * f.chunk, (i + 1) * f.chunk));
        }
        a.set(manifestKey(`s${k}`), { v, chunks });
        if (v > 0) { for (let i = 0; i < chunks; i++) a.delete(chunkKey(`s${k}`, v - 1, i)); }
      }
      if (!(await a.commit()).ok) throw new Error("Cannot commit a round: a check failed");
    }
  };
  await round(0);
  await round(1);
  const a = io();
  for (let v = 2; v < 7; v++) await round(v);
  console.log(`RESULT ${
    JSON.stringify({
      bench: "kv_key_reads",
      part: "cycle",
      layout: f.layout,
      chunk: f.chunk,
      chunks,
      perCommit: f["per-commit"],
      perCheckpoint: per(a, io(), 5 * N),
    })
  }`);
}
kv.close();
await Deno.remove(dir, { recursive: true });
