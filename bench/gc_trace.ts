/**
 * The garbage collections of each isolate of the daemon (not part of the
 * test suite): `main.ts serve` with `--v8-flags=<flags>,--trace-gc`, two
 * shard workers, `streams` `pi-small` streams fed one reading a second each
 * through the embedded broker by lean publishers (bench/raw_mqtt.ts) for
 * `seconds`; V8's `--trace-gc` lines (on the daemon's stdout, each with its
 * isolate's address) counted per isolate: scavenges and full (mark-compact)
 * collections, how many and their pauses' ms, and how many of the full ones
 * were memory-reducing, and the longest pause of each kind (`scavengeMaxMs`,
 * `fullMaxMs`: the time its thread, a shard worker's readings with it,
 * stood still), and the full ones by the reason V8 gives (`fullReasons`). With the CPU µs a reading by thread role over the
 * same time, and the RSS at the end. The main isolate is the one with the
 * most scavenges (the main thread allocates the most: the broker, the
 * sources); its address is also the only one outside the threads' mmap
 * region (not 0x7f...).
 *
 *   deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-env \
 *     bench/gc_trace.ts [--streams=2000] [--seconds=45] [--v8-flags=--optimize-for-size]
 *
 * One `RESULT {json}` line on stdout.
 */
import { daemonPermissions, startDaemon } from "../tests/e2e/_daemon.ts";
import { RawPublisher } from "./raw_mqtt.ts";
import { loadavg, threadCpu } from "./proc_stats.ts";
import { exitOnFlagError, integer, parseFlags, text } from "./args.ts";
import { emitResult } from "./stats.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    streams: integer(2000),
    seconds: integer(45),
    "v8-flags": text("V8 flags of the daemon", "--optimize-for-size"),
  }, "Cannot parse gc_trace flags")
);
const START = Date.UTC(2025, 5, 2);
const CONNECTIONS = 8;

const dir = await Deno.makeTempDir({ prefix: "forecastd-gc-" });
const d = await startDaemon({
  dataDir: dir,
  args: [
    ...["--workers", "2", "--default-preset", "pi-small", "--worker-nice", "10"],
    ...["--max-streams", String(f.streams + 10), "--checkpoint-seconds", "600"],
  ],
  program: {
    cmd: Deno.execPath(),
    args: ["run", `--v8-flags=${f["v8-flags"]},--trace-gc`, ...daemonPermissions(dir), "main.ts"],
  },
  startMs: 60_000,
});
try {
  const cs = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => RawPublisher.connect(d.mqttUrl, `gc-${i}`)),
  );
  const t0 = performance.now();
  const cpu0 = threadCpu(d.pid);
  const from = d.banner.length;
  for (let n = 0; n < f.seconds; n++) {
    await Promise.all(cs.map((c, j) => {
      const messages = [];
      for (let k = j; k < f.streams; k += CONNECTIONS) {
        const value = Math.round((20 + 3 * Math.sin(n / 30 + k)) * 1000) / 1000;
        messages.push({
          topic: `sensors/s${k}/v`,
          payload: `{"value":${value},"ts":${START + n * 1000}}`,
        });
      }
      return c.publish(messages);
    }));
    const due = t0 + (n + 1) * 1000;
    if (performance.now() < due) await new Promise((r) => setTimeout(r, due - performance.now()));
  }
  const cpu1 = threadCpu(d.pid);
  const lines = d.banner.slice(from);
  await Promise.all(cs.map((c) => c.close()));
  const status = new TextDecoder().decode(
    new Deno.Command("cat", { args: [`/proc/${d.pid}/status`] }).outputSync().stdout,
  );
  const per = (a: number, b: number) => Math.round((a - b) / (f.streams * f.seconds) * 1e6);
  emitResult({
    part: "gc-trace",
    streams: f.streams,
    seconds: f.seconds,
    v8Flags: f["v8-flags"],
    isolates: byIsolate(lines),
    usPerReading: {
      main: per(cpu1.main, cpu0.main),
      workers: per(cpu1.workers, cpu0.workers),
      v8: per(cpu1.byName["V8 DefaultWorke"] ?? 0, cpu0.byName["V8 DefaultWorke"] ?? 0),
    },
    rssMiB: Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024),
    loadavg1: loadavg(),
  });
} finally {
  await d.stop("SIGTERM");
  await Deno.remove(dir, { recursive: true });
}

/** The `--trace-gc` lines counted per isolate, the most scavenges first. */
function byIsolate(lines: readonly string[]) {
  const out = new Map<string, {
    scavenges: number;
    scavengeMs: number;
    full: number;
    fullMs: number;
    reducing: number;
    scavengeMaxMs: number;
    fullMaxMs: number;
    fullReasons: Record<string, number>;
  }>();
  for (const line of lines) {
    const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (.*?) [\d.]+ \(.*? MB, .*?([\d.]+) \/ [\d.]+ ms/
      .exec(line);
    if (!m) continue;
    const o = out.get(m[1]) ??
      {
        scavenges: 0,
        scavengeMs: 0,
        full: 0,
        fullMs: 0,
        reducing: 0,
        scavengeMaxMs: 0,
        fullMaxMs: 0,
        fullReasons: {},
      };
    out.set(m[1], o);
    const ms = Number(m[3]);
    if (m[2].startsWith("Scavenge")) {
      o.scavenges++;
      o.scavengeMs += ms;
      o.scavengeMaxMs = Math.max(o.scavengeMaxMs, ms);
    } else if (m[2].includes("Mark-Compact")) {
      o.full++;
      o.fullMs += ms;
      o.fullMaxMs = Math.max(o.fullMaxMs, ms);
      // the reason ends the line, after the mutator utilisation: "... current mu = 0.8) <reason>"
      const reason = /mu = [\d.]+\) (.*)$/.exec(line)?.[1]?.trim() ?? "?";
      o.fullReasons[reason] = (o.fullReasons[reason] ?? 0) + 1;
      if (m[2].includes("(reduce)")) o.reducing++;
    }
  }
  return [...out].sort((a, b) => b[1].scavenges - a[1].scavenges).map(([isolate, o]) => ({
    isolate,
    ...o,
    scavengeMs: Math.round(o.scavengeMs),
    fullMs: Math.round(o.fullMs),
  }));
}
