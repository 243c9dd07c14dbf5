/**
 * How fast the machine's cores run while a bench runs (not part of the test
 * suite). A child process times two fixed loops every `every-ms` and
 * prints, each second, the fastest of that second's timings per step:
 *
 * - `aluNs`: a chain of dependent floating-point multiply-adds (each step
 *   waits for the one before): clock-bound, so it follows the core's
 *   frequency (a cloud VM's cores boost with their host's load) and the
 *   host's other tenants on the same physical core;
 * - `memNs`: reads of an 8 MiB array, 4,099 elements apart: bound by the
 *   cache and memory the host shares.
 *
 * The fastest timing of a second (three back to back each `every-ms`) is
 * what the core gave when this probe had it: a probe that waited for a core
 * (the load) is slower in wall time, not in its fastest step, as long as one
 * timing of the second ran whole (with one timing a wake, at a load of 16 to
 * 20 on these 2 cores, the median second was 3 times the quiet one: hence
 * three; read it beside the load). The probe takes under 1% of a core (3
 * timings of about 0.5 ms every 200 ms). The shard worker's CPU µs a reading
 * (bench/scale.ts `threadUsPerReading`) is CPU time, not wall time, but a
 * slower core stretches it just the same; a run's `cpuProbe` says how fast
 * the cores were meanwhile.
 *
 *   deno run bench/cpu_probe.ts [--seconds=60] [--every-ms=200]
 *
 * One line a second on stdout: `PROBE {"t": ms since the epoch, "aluNs":
 * ..., "memNs": ...}`. bench/scale.ts's capacity part runs it beside each
 * phase with `--cpu-probe=true` ({@link CpuProbe}).
 */
import { exitOnFlagError, integer, parseFlags, positive } from "./args.ts";
import { median } from "./stats.ts";

/** One second of the probe: its time and its fastest step of each loop, ns. */
export interface ProbeSample {
  t: number;
  aluNs: number;
  memNs: number;
}

/** The probe's seconds over a window: each loop's fastest step, min / median / max over the seconds. */
export interface ProbeSummary {
  seconds: number;
  aluNs: { min: number; median: number; max: number };
  memNs: { min: number; median: number; max: number };
}

/** The steps each timing takes. */
const STEPS = 100_000;
/** The memory loop's array: 2^20 doubles, 8 MiB. */
const MEM_MASK = (1 << 20) - 1;

/** `steps` dependent multiply-adds; returns what it computed (so that V8 keeps the loop). */
export function aluChain(steps: number): number {
  let x = 1.0001;
  let s = 0;
  for (let i = 0; i < steps; i++) {
    s += x * i;
    x = x * 1.0000001 + 1e-9;
  }
  return s;
}

/** `steps` reads of `a`, 4,099 elements apart (a's length a power of two). */
export function strideReads(a: Float64Array, steps: number): number {
  let s = 0;
  let j = 0;
  const mask = a.length - 1;
  for (let i = 0; i < steps; i++) {
    s += a[j];
    j = (j + 4099) & mask;
  }
  return s;
}

/** Each loop's fastest second, its median second and its slowest second, to 3 decimals. */
export function summarizeProbe(samples: readonly ProbeSample[]): ProbeSummary | null {
  if (samples.length === 0) return null;
  const of = (xs: number[]) => {
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return { min: r(Math.min(...xs)), median: r(median(xs)), max: r(Math.max(...xs)) };
  };
  return {
    seconds: samples.length,
    aluNs: of(samples.map((s) => s.aluNs)),
    memNs: of(samples.map((s) => s.memNs)),
  };
}

/** Reads the child's `PROBE {...}` lines. */
export function parseProbeLines(text: string): ProbeSample[] {
  return text.split("\n").filter((l) => l.startsWith("PROBE ")).map((l) =>
    JSON.parse(l.slice(6)) as ProbeSample
  );
}

/**
 * The probe as a child process of the caller, started by start(): stop()
 * ends it and gives its seconds between `from` and `to` (ms since the
 * epoch, default its whole run).
 */
export class CpuProbe {
  #child: Deno.ChildProcess;
  #out: Promise<string>;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#out = new Response(child.stdout).text();
  }

  /** Starts the child (it runs until stop(), at most `seconds`). */
  static start(seconds = 3600, everyMs = 200): CpuProbe {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        new URL("./cpu_probe.ts", import.meta.url).pathname,
        `--seconds=${seconds}`,
        `--every-ms=${everyMs}`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    return new CpuProbe(child);
  }

  /** Ends the child; its seconds within [from, to]. */
  async stop(from = -Infinity, to = Infinity): Promise<ProbeSample[]> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already ended
    }
    await this.#child.status;
    return parseProbeLines(await this.#out).filter((s) => s.t >= from && s.t <= to);
  }
}

if (import.meta.main) {
  const f = exitOnFlagError(() =>
    parseFlags(Deno.args, {
      seconds: positive(60),
      "every-ms": integer(200),
    }, "Cannot parse cpu_probe flags")
  );
  const a = new Float64Array(MEM_MASK + 1).map((_, i) => i % 7);
  let sink = 0;
  // warm: both loops optimised before the first second counts
  for (let i = 0; i < 50; i++) sink += aluChain(STEPS / 2) + strideReads(a, STEPS / 2);
  const end = Date.now() + f.seconds * 1000;
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  while (Date.now() < end) {
    let alu = Infinity;
    let mem = Infinity;
    const second = performance.now();
    while (performance.now() - second < 1000) {
      // three timings back to back a wake (on a loaded machine the first after a wake is the
      // likeliest to lose its core)
      for (let k = 0; k < 3; k++) {
        let t = performance.now();
        sink += aluChain(STEPS);
        alu = Math.min(alu, performance.now() - t);
        t = performance.now();
        sink += strideReads(a, STEPS);
        mem = Math.min(mem, performance.now() - t);
      }
      await new Promise((r) => setTimeout(r, f["every-ms"]));
    }
    const ns = (ms: number) => Math.round(ms * 1e6 / STEPS * 1000) / 1000;
    console.log(`PROBE ${JSON.stringify({ t: Date.now(), aluNs: ns(alu), memNs: ns(mem) })}`);
  }
  if (sink === 0.5) console.log(sink);
}
