/**
 * Soak benchmark of the daemon (not part of the test suite): the real
 * `main.ts serve` under steady load for a long time, to see that it keeps
 * up, stays answerable, does not grow, and what it costs the disk.
 *
 *   deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-env \
 *     bench/soak.ts [--minutes=10] [--streams=100] [--rate=500] [--checkpoint-every=500] \
 *     [--checkpoint-seconds=60] [--strace=auto]
 *
 * Load: `--streams` streams of one value, `--rate` readings a second in all,
 * each stream's readings 5 minutes apart (in the past). The first half of
 * the streams get theirs over HTTP (`POST /v1/readings`, one batch per
 * stream group every 100 ms), the other half over MQTT through the embedded
 * broker (one QoS 1 message per reading). Meanwhile a reader asks for a
 * random stream's forecast and for /healthz every 100 ms.
 *
 * Measured, every 30 s and at the end (one `RESULT {json}` line on stdout,
 * a summary on stderr): readings sent, acknowledged, taken and learned (the
 * daemon's counters), learning shed and caught up, the readers' and the
 * HTTP writers' latency (p50, p99, max), the daemon's RSS, the KV file's
 * size (with its -wal), the bytes the daemon wrote to storage
 * (/proc/<pid>/io write_bytes), its stream checkpoints and the commits
 * they took, and its fsync and fdatasync calls when it runs under strace
 * (`--strace=auto` uses strace when installed; `on` requires it, `off`
 * does without).
 *
 * Only 127.0.0.1 is contacted; the daemon and strace are ended by their pid.
 */
import mqtt from "mqtt";
import { type Daemon, daemonPermissions, startDaemon } from "../tests/e2e/_daemon.ts";
import { exitOnFlagError, integer, oneOf, parseFlags, positive } from "./args.ts";
import { emitResult, quantile } from "./stats.ts";
import { everySeries } from "./global_series.ts";

const cfg = exitOnFlagError(() =>
  parseFlags(Deno.args, {
    minutes: positive(10),
    streams: integer(100, 2, "half over HTTP, half over MQTT"),
    rate: positive(500),
    "checkpoint-every": integer(500),
    "checkpoint-seconds": positive(60),
    strace: oneOf(["auto", "on", "off"] as const, "auto"),
  }, "Cannot parse soak flags")
);

const STEP_MS = 300_000;
const TICK_MS = 100;
const SAMPLE_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.error(msg);

const seconds = cfg.minutes * 60;
const perStream = Math.ceil((cfg.rate * seconds) / cfg.streams) + 1;
/** The first reading's time: the last one is still a day in the past. */
const START = Date.now() - (perStream + 288) * STEP_MS;
const httpStreams = Math.floor(cfg.streams / 2);

/** A file of /proc/<pid>, read by `cat` (Deno asks for --allow-all to read /proc itself). */
function procFile(pid: number, name: string): string {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/${name}`], stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(out.stdout);
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(procFile(pid, "status"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

function writeBytes(pid: number): number {
  const m = /^write_bytes:\s+(\d+)/m.exec(procFile(pid, "io"));
  return m ? Number(m[1]) : NaN;
}

function fileBytes(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

async function metrics(d: Daemon): Promise<Map<string, number>> {
  return everySeries(await (await fetch(`${d.http}/metrics`)).text());
}

/** Latencies of one kind of request, ms. */
class Latencies {
  readonly ms: number[] = [];
  add(ms: number) {
    this.ms.push(ms);
  }
  summary(): { n: number; p50: number; p99: number; max: number } {
    const s = [...this.ms].sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    return { n: s.length, p50: r(quantile(s, 0.5)), p99: r(quantile(s, 0.99)), max: r(s.at(-1)!) };
  }
}

function value(stream: number, n: number): number {
  return Math.round((20 + 3 * Math.sin((2 * Math.PI * n) / 288) + stream * 0.01) * 1000) / 1000;
}

async function hasStrace(): Promise<boolean> {
  try {
    return (await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

const useStrace = cfg.strace === "on" || (cfg.strace === "auto" && await hasStrace());
if (cfg.strace === "on" && !await hasStrace()) {
  console.error("Cannot run soak with --strace=on: strace must be installed: it is not");
  Deno.exit(2);
}

const dataDir = await Deno.makeTempDir({ prefix: "forecastd-soak-" });
const straceOut = `${dataDir}.strace`;
const daemonArgs = [
  "run",
  ...daemonPermissions(dataDir),
  "--v8-flags=--optimize-for-size",
  "main.ts",
];
const d = await startDaemon({
  dataDir,
  args: [
    "--checkpoint-every",
    String(cfg["checkpoint-every"]),
    "--checkpoint-seconds",
    String(cfg["checkpoint-seconds"]),
  ],
  program: useStrace
    ? {
      cmd: "strace",
      args: [
        "-f",
        "-qq",
        "-e",
        "trace=fsync,fdatasync",
        "-o",
        straceOut,
        Deno.execPath(),
        ...daemonArgs,
      ],
    }
    : { cmd: Deno.execPath(), args: daemonArgs },
  startMs: 60_000,
});
/** The Deno process (under strace, the daemon's pid is not strace's). */
const pid = Number(d.log.find((e) => e.event === "forecastd.starting")?.pid ?? d.pid);
const kvFile = `${dataDir}/forecastd.kv`;
const device = await mqtt.connectAsync(d.mqttUrl, { clientId: "soak-device", reconnectPeriod: 0 });
device.on("close", () => {
  log(
    `soak: the device's MQTT connection closed at ${
      Math.round(performance.now() / 1000)
    } s (acked ${counts.acked} of ${counts.sent}); the daemon said: ${
      JSON.stringify(
        d.log.filter((e) => e.level !== "info" || e.event.startsWith("broker.")).slice(-5),
      )
    }`,
  );
});
device.on("error", (e) => log(`soak: the device's MQTT connection failed: ${e.message}`));

const counts = { sent: 0, acked: 0, refused: 0, errors: 0 };
const next = new Int32Array(cfg.streams); // next reading index per stream
const readers = { forecast: new Latencies(), healthz: new Latencies() };
const writers = new Latencies();
let running = true;

/** The readings due for streams [from, to) up to now, round-robin; returns them per stream. */
function due(from: number, to: number, t0: number, owed: { n: number }): [number, number][] {
  const share = (cfg.rate * (to - from)) / cfg.streams;
  const target = Math.floor(((performance.now() - t0) / 1000) * share);
  const out: [number, number][] = [];
  while (owed.n < target) {
    const k = from + (owed.n % (to - from));
    out.push([k, next[k]++]);
    owed.n++;
  }
  return out;
}

async function httpLoad(t0: number) {
  const owed = { n: 0 };
  let pending: { stream: string; ts: number; value: number }[] = [];
  while (running) {
    for (const [k, n] of due(0, httpStreams, t0, owed)) {
      pending.push({ stream: `s${k}`, ts: START + n * STEP_MS, value: value(k, n) });
      counts.sent++;
    }
    if (pending.length > 0) {
      const batch = pending;
      const a = performance.now();
      try {
        const res = await fetch(`${d.http}/v1/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(batch),
        });
        await res.body?.cancel();
        writers.add(performance.now() - a);
        if (res.status === 200) {
          counts.acked += batch.length;
          pending = [];
        } else if (res.status === 503) counts.refused += batch.length; // sent again next tick
        else {
          counts.errors += batch.length;
          pending = [];
        }
      } catch {
        counts.errors += batch.length;
        pending = [];
      }
    }
    await sleep(TICK_MS);
  }
}

async function mqttLoad(t0: number) {
  const owed = { n: 0 };
  while (running) {
    const sends = due(httpStreams, cfg.streams, t0, owed).map(([k, n]) => {
      counts.sent++;
      return device.publishAsync(
        `sensors/s${k}/v`,
        `{"value":${value(k, n)},"ts":${START + n * STEP_MS}}`,
        { qos: 1 },
      ).then(() => counts.acked++, () => counts.errors++);
    });
    await Promise.all(sends);
    await sleep(TICK_MS);
  }
}

async function readLoad() {
  while (running) {
    const k = Math.floor(Math.random() * cfg.streams);
    for (
      const [kind, path] of [["forecast", `/v1/streams/s${k}/forecast`], [
        "healthz",
        "/healthz",
      ]] as const
    ) {
      const a = performance.now();
      const res = await fetch(`${d.http}${path}`);
      await res.body?.cancel();
      if (res.status === 200) readers[kind].add(performance.now() - a);
    }
    await sleep(TICK_MS);
  }
}

async function sample(elapsedS: number) {
  const m = await metrics(d);
  const get = (name: string) => m.get(name) ?? 0;
  return {
    elapsedS: Math.round(elapsedS),
    sent: counts.sent,
    acked: counts.acked,
    taken: get('forecastd_readings_total{source="http"}') +
      get('forecastd_readings_total{source="mqtt"}'),
    learned: get("forecastd_training_steps_total"),
    shed: get("forecastd_training_shed_total"),
    caughtUp: get("forecastd_training_caught_up_total"),
    queued: get("forecastd_ingest_queue_readings"),
    checkpoints: get("forecastd_checkpoints_total"),
    checkpointCommits: get("forecastd_checkpoint_commits_total"),
    checkpointFailures: get("forecastd_checkpoint_failures_total"),
    alerts: get("forecastd_alerts_total"),
    rssMiB: rssMiB(pid),
    kvMiB: Math.round((fileBytes(kvFile) + fileBytes(`${kvFile}-wal`)) / 104857.6) / 10,
    writtenMiB: Math.round(writeBytes(pid) / 104857.6) / 10,
  };
}

log(
  `soak: ${cfg.minutes} min, ${cfg.streams} streams (${httpStreams} HTTP, ` +
    `${cfg.streams - httpStreams} MQTT), ${cfg.rate} readings/s, strace ${
      useStrace ? "on" : "off"
    }`,
);
const rssStart = rssMiB(pid);
const writtenStart = writeBytes(pid);
const t0 = performance.now();
const loads = [httpLoad(t0), mqttLoad(t0), readLoad()];
const samples = [];
while (performance.now() - t0 < seconds * 1000) {
  await sleep(Math.min(SAMPLE_MS, seconds * 1000 - (performance.now() - t0)));
  const s = await sample((performance.now() - t0) / 1000);
  samples.push(s);
  log(`  ${JSON.stringify(s)}`);
}
running = false;
await Promise.all(loads);
const elapsed = (performance.now() - t0) / 1000;
// what was acknowledged is taken: wait for the counters to show it
let last = await sample(elapsed);
for (let i = 0; i < 100 && last.taken < counts.acked; i++) {
  await sleep(100);
  last = await sample(elapsed);
}
const writtenBytes = writeBytes(pid) - writtenStart;
await device.endAsync();
// under strace the daemon is strace's child: the signal goes to the daemon itself, and strace
// ends with it (a SIGTERM to strace would leave the daemon running, detached)
if (useStrace) {
  Deno.kill(pid, "SIGTERM");
  await d.exited;
}
const status = await d.stop("SIGTERM");
const fsyncs = useStrace
  ? (await Deno.readTextFile(straceOut)).split("\n").filter((l) => /\b(fsync|fdatasync)\(/.test(l))
    .length
  : null;
const result = {
  bench: "soak",
  minutes: cfg.minutes,
  streams: cfg.streams,
  rate: cfg.rate,
  checkpointEvery: cfg["checkpoint-every"],
  checkpointSeconds: cfg["checkpoint-seconds"],
  seconds: Math.round(elapsed),
  sent: counts.sent,
  acked: counts.acked,
  refused: counts.refused,
  errors: counts.errors,
  taken: last.taken,
  learned: last.learned,
  shed: last.shed,
  caughtUp: last.caughtUp,
  readers: { forecast: readers.forecast.summary(), healthz: readers.healthz.summary() },
  httpWriters: writers.summary(),
  rssMiB: { start: rssStart, end: last.rssMiB },
  kvMiB: last.kvMiB,
  writtenMiBPerHour: Math.round((writtenBytes / 1048576) * (3600 / elapsed) * 10) / 10,
  checkpoints: last.checkpoints,
  checkpointCommits: last.checkpointCommits,
  checkpointFailures: last.checkpointFailures,
  fsyncs,
  fsyncsPerMinute: fsyncs === null ? null : Math.round((fsyncs / (elapsed / 60)) * 10) / 10,
  exitCode: status.code,
  loadAverage: procFile(Deno.pid, "../loadavg").split(" ").slice(0, 3).map(Number),
};
emitResult(result);
log(`soak done: ${JSON.stringify(result, null, 1)}`);
await Deno.remove(dataDir, { recursive: true });
if (useStrace) await Deno.remove(straceOut);
