/**
 * Why a shard worker costs more a reading beside the other worker (not part
 * of the test suite): one worker's window (bench/worker_spread.ts's child: a
 * Service over a `:memory:` KV, `streams` streams, `per-stream` readings
 * each through ingest() in messages of `per-message`, timed in `blocks`
 * blocks by the thread's own CPU ns from its schedstat) run in a fresh
 * process alone and beside a neighbour, the modes alternated round by
 * round:
 *
 * - `alone`: nothing else of this bench runs;
 * - `worker`: two such windows at once, each in its own process (as the
 *   daemon's two shard workers): both are reported;
 * - `alu`, `mem`, `llc`: beside bench/burner.ts of that kind (a busy loop with
 *   no memory traffic; one streaming 256 MiB; one holding 24 MiB of the last
 *   level cache);
 * - `alu-same`, `mem-same`, `llc-same`: that burner on CPU 0 with the window
 *   (with `--pin=split`): the two time-sliced on one core, each refilling
 *   the core's own caches after the other, nothing on the second core.
 *
 * Thread CPU time leaves out the time the thread waited for a core, so a rise
 * beside `alu` is the core's clock (or the cost of sharing one core's caches
 * when the two are time-sliced on it), a rise beside `mem` or `llc` and not
 * `alu` the caches and memory bandwidth the cores share. `--pin=split` puts
 * the window on CPU 0 and its neighbour on CPU 1 (`taskset`), `--pin=same`
 * both on CPU 0 (time-sliced: each refills the core's own caches after the
 * other), `none` (the default) leaves them to the scheduler. `--root=DIR`
 * runs another checkout's Service (worker_spread.ts `--root`), `--roots=A,B`
 * alternates two checkouts within each mode (A/B pairs).
 *
 *   deno run --allow-run --allow-read --allow-write=/tmp bench/worker_pairing.ts \
 *     [--rounds=3] [--modes=alone,worker,alu,mem] [--streams=100] [--per-stream=1000] \
 *     [--per-message=10] [--blocks=10] [--skip=2] [--pin=none] [--roots=.]
 *
 * A line a window on stderr; one `RESULT {json}` line on stdout: each
 * window's median µs a reading over its blocks after `skip`, by mode (and
 * root), with the load average at its start, and each mode's median.
 */
import { exitOnFlagError, integer, oneOf, parseFlags, text } from "./args.ts";
import { emitResult, median } from "./stats.ts";
import { loadavg } from "./proc_stats.ts";

const MODES = [
  "alone",
  "worker",
  "alu",
  "mem",
  "llc",
  "alu-same",
  "mem-same",
  "llc-same",
] as const;
type Mode = typeof MODES[number];

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    rounds: integer(3),
    modes: text("modes, comma-separated", "alone,worker,alu,mem"),
    streams: integer(100),
    "per-stream": integer(1000),
    "per-message": integer(10),
    blocks: integer(10),
    skip: integer(2, 0),
    pin: oneOf(["none", "split", "same"] as const, "none"),
    roots: text("checkouts, comma-separated", "."),
  }, "Cannot parse worker_pairing flags")
);
const modes = f.modes.split(",") as Mode[];
for (const m of modes) {
  if (!MODES.includes(m)) {
    console.error(
      `Cannot parse worker_pairing flags: --modes must be of ${
        MODES.join(",")
      }: current value is "${m}"`,
    );
    Deno.exit(2);
  }
}
const roots = f.roots.split(",");
const here = new URL(".", import.meta.url).pathname;

/** The command of one worker window (worker_spread.ts's child), on `cpu` when pinned. */
function windowCommand(root: string, cpu: string | null): Deno.Command {
  const args = [
    "run",
    "--allow-read",
    "--allow-write=/tmp",
    "--allow-env",
    "--allow-run=cat",
    "--unstable-kv",
    `${here}worker_spread.ts`,
    "--child=true",
    `--streams=${f.streams}`,
    `--per-stream=${f["per-stream"]}`,
    `--per-message=${f["per-message"]}`,
    `--blocks=${f.blocks}`,
    `--warm-up-ms=1000`,
    `--root=${root}`,
  ];
  return cpu === null
    ? new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" })
    : new Deno.Command("taskset", {
      args: ["-c", cpu, Deno.execPath(), ...args],
      stdout: "piped",
      stderr: "inherit",
    });
}

/**
 * A window's medians over its blocks after `skip`: µs a reading, the core's
 * clock and memory probes at the blocks' ends (worker_spread.ts's `aluNs`,
 * `memNs`: ns a step) and the thread's preemptions a block.
 */
async function windowUs(child: Deno.ChildProcess): Promise<Window> {
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  const at = text.indexOf("=== blocks ===");
  if (!out.success || at < 0) throw new Error(`Cannot run a worker window: exit code ${out.code}`);
  const { blocks } = JSON.parse(text.slice(at + 14, text.indexOf("\n", at)));
  const kept = (blocks as Window[]).slice(f.skip);
  const r = (x: number, d: number) => Math.round(x * d) / d;
  return {
    us: r(median(kept.map((b) => b.us)), 10),
    aluNs: r(median(kept.map((b) => b.aluNs)), 1000),
    memNs: r(median(kept.map((b) => b.memNs)), 1000),
    involuntary: median(kept.map((b) => b.involuntary)),
  };
}

/** Starts a burner of `kind` and waits until it burns. */
async function startBurner(kind: string, cpu: string | null): Promise<Deno.ChildProcess> {
  const args = ["run", `${here}burner.ts`, `--kind=${kind}`];
  const child =
    (cpu === null
      ? new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" })
      : new Deno.Command("taskset", {
        args: ["-c", cpu, Deno.execPath(), ...args],
        stdout: "piped",
        stderr: "inherit",
      })).spawn();
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("BURNING")) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(`Cannot start the burner: it ended before burning: kind is "${kind}"`);
    }
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return child;
}

const cpuOf = f.pin === "none" ? null : "0";
const neighbourCpu = f.pin === "none" ? null : f.pin === "split" ? "1" : "0";
/** A window's (or a block's) µs a reading and its probes' ns a step. */
interface Window {
  us: number;
  aluNs: number;
  memNs: number;
  /** The times the scheduler took the thread's CPU from it in a block (a window: the median block). */
  involuntary: number;
}
const windows: {
  round: number;
  mode: Mode;
  root: string;
  load: number;
  us: number[];
  aluNs: number[];
  memNs: number[];
  involuntary: number[];
  at: string;
}[] = [];
for (let round = 1; round <= f.rounds; round++) {
  for (const mode of modes) {
    for (const root of round % 2 === 1 ? roots : [...roots].reverse()) {
      const load = loadavg();
      const at = new Date().toISOString().slice(11, 19);
      let ws: Window[];
      if (mode === "alone") {
        ws = [await windowUs(windowCommand(root, cpuOf).spawn())];
      } else if (mode === "worker") {
        const a = windowCommand(root, cpuOf).spawn();
        const b = windowCommand(root, neighbourCpu).spawn();
        ws = await Promise.all([windowUs(a), windowUs(b)]);
      } else {
        const [kind, same] = mode.split("-");
        const burner = await startBurner(kind, same === undefined ? neighbourCpu : "0");
        try {
          ws = [await windowUs(windowCommand(root, cpuOf).spawn())];
        } finally {
          burner.kill("SIGKILL");
          await burner.status;
        }
      }
      const us = ws.map((w) => w.us);
      const aluNs = ws.map((w) => w.aluNs);
      const memNs = ws.map((w) => w.memNs);
      const involuntary = ws.map((w) => w.involuntary);
      windows.push({ round, mode, root, load, us, aluNs, memNs, involuntary, at });
      console.error(
        `${at} round ${round} ${mode} ${root}: load ${load}, µs a reading ${us.join(" / ")}, ` +
          `clock ns ${aluNs.join(" / ")}, memory ns ${memNs.join(" / ")}, ` +
          `preemptions a block ${involuntary.join(" / ")}`,
      );
    }
  }
}
const byMode: Record<string, { median: number; windows: number[] }> = {};
for (const mode of modes) {
  for (const root of roots) {
    const us = windows.filter((w) => w.mode === mode && w.root === root).flatMap((w) => w.us);
    byMode[roots.length > 1 ? `${mode} ${root}` : mode] = {
      median: Math.round(median(us) * 10) / 10,
      windows: us,
    };
  }
}
emitResult({
  bench: "worker_pairing",
  streams: f.streams,
  perStream: f["per-stream"],
  pin: f.pin,
  roots,
  byMode,
  windows,
});
