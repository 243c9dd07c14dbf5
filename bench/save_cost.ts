/**
 * What one checkpoint save of many streams costs the disk: KV commits,
 * fsync and fdatasync calls, bytes, time. A service with `--streams`
 * streams of `--preset` on a real KV file in /tmp; each round gives every
 * stream one more reading, then saves them all (`service.checkpoint()`).
 *
 *   deno run --allow-run --allow-read=/tmp,. --allow-write=/tmp bench/save_cost.ts \
 *     [--streams=100] [--preset=default] [--rounds=3] [--strace=auto]
 *
 * Commits are counted on the KV itself (every `atomic().commit()`), so
 * whatever the service writes counts, configs included. With strace
 * (`--strace=auto` uses it when installed), the bench runs itself again
 * under `strace -f -e trace=fsync,fdatasync,write` and counts the fsync
 * and fdatasync calls between the markers it writes to stderr around each
 * save. One `RESULT {json}` line per round on stdout.
 */
import { Service } from "../src/service/service.ts";
import { Store } from "../src/store/store.ts";
import { captureLog } from "../src/log.ts";
import { exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const cfg = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(100),
    preset: text("a preset name", "default"),
    rounds: integer(3),
    strace: oneOf(["auto", "on", "off", "child"] as const, "auto"),
  }, "Cannot parse save_cost flags")
);

const MARK = "SAVE_COST_MARK";

async function hasStrace(): Promise<boolean> {
  try {
    return (await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

if (cfg.strace === "on" || (cfg.strace === "auto" && await hasStrace())) {
  // run again under strace; count the fsyncs between each round's markers
  const trace = await Deno.makeTempFile({ prefix: "forecastd-save-cost-", suffix: ".strace" });
  const self = new URL(import.meta.url).pathname;
  const out = await new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-e",
      "trace=fsync,fdatasync,write",
      "-o",
      trace,
      Deno.execPath(),
      "run",
      "--allow-read=/tmp,.",
      "--allow-write=/tmp",
      self,
      `--streams=${cfg.streams}`,
      `--preset=${cfg.preset}`,
      `--rounds=${cfg.rounds}`,
      "--strace=child",
    ],
    stderr: "inherit",
  }).output();
  const lines = (await Deno.readTextFile(trace)).split("\n");
  await Deno.remove(trace);
  const fsyncs: number[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.includes(`${MARK} start`)) {
      inside = true;
      fsyncs.push(0);
    } else if (line.includes(`${MARK} end`)) inside = false;
    else if (inside && /\b(fsync|fdatasync)\(/.test(line)) fsyncs[fsyncs.length - 1]++;
  }
  const results = new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.startsWith("RESULT "))
    .map((l) => JSON.parse(l.slice(7)));
  results.forEach((r, i) => emitResult({ ...r, fsyncs: fsyncs[i] ?? null }));
  Deno.exit(out.code);
}

const dir = await Deno.makeTempDir({ prefix: "forecastd-save-cost-" });
const kv = await Deno.openKv(`${dir}/forecastd.kv`);
let commits = 0;
const counted = new Proxy(kv, {
  get(target, prop) {
    if (prop === "atomic") {
      return () => {
        const op = target.atomic();
        const commit = op.commit.bind(op);
        op.commit = () => {
          commits++;
          return commit();
        };
        return op;
      };
    }
    const v = Reflect.get(target, prop, target);
    return typeof v === "function" ? v.bind(target) : v;
  },
});
const service = new Service({
  store: new Store(counted),
  log: captureLog().log,
  options: { checkpointEvery: 1_000_000, checkpointSeconds: 3600, defaultPreset: cfg.preset },
});
const T0 = Date.UTC(2026, 0, 5), STEP = 300_000;
let t = 0;
const feed = async () => {
  const readings = [];
  for (let k = 0; k < cfg.streams; k++) {
    readings.push({ stream: `s${k}`, ts: T0 + t * STEP, values: { v: Math.sin(t / 20 + k) } });
  }
  t++;
  await service.ingest(readings, "http");
};
for (let i = 0; i < 3; i++) await feed();
const bytes = service.engine.get("s0")!.toBytes().byteLength;
for (let round = 1; round <= cfg.rounds; round++) {
  await feed();
  const before = commits;
  console.error(`${MARK} start ${round}`);
  const t0 = performance.now();
  await service.checkpoint();
  const ms = performance.now() - t0;
  console.error(`${MARK} end ${round}`);
  emitResult({
    bench: "save_cost",
    streams: cfg.streams,
    preset: cfg.preset,
    round,
    checkpointBytes: bytes,
    commits: commits - before,
    ms: Math.round(ms),
  });
}
await service.close();
kv.close();
await Deno.remove(dir, { recursive: true });
