/**
 * End-to-end load benchmark of the daemon (not part of the test suite): the
 * real `main.ts serve` as a child process on 127.0.0.1 with a temporary data
 * directory and the default preset, N streams (one value each, topic
 * `sensors/s{k}/v`) fed through the embedded broker by an MQTT.js client
 * (QoS 1), one reading per message, round-robin over the streams, each
 * stream's timestamps 5 minutes apart starting in the past.
 *
 *   deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-env \
 *     bench/daemon_load.ts [--streams=100] [--rates=1000,2000,3000,4000] [--seconds=20] \
 *     [--latency-rate=1000] [--latency-seconds=30] [--sample-every=50] [--rss-minutes=10] \
 *     [--rss-rate=1000] [--parts=throughput,latency,rss] [--v8-flags=FLAGS]
 *
 * Measurements, one `RESULT {json}` line each on stdout, a summary on stderr:
 *
 * 1. throughput: each offered rate for `--seconds`; after publishing stops,
 *    how long until forecastd_readings_total{source="mqtt"} equals what was
 *    published and forecastd_training_steps_total rose by as much. A rate is
 *    kept up with when the counters catch up within 2 s, nothing is lost
 *    and nothing rejected.
 * 2. latency: at `--latency-rate`, 1 reading in `--sample-every` is followed
 *    by polling GET /v1/streams/s{k}/forecast until its `origin` is that
 *    reading's timestamp; publish-to-forecast p50/p99 in ms.
 * 3. rss: `--rss-minutes` of load at `--rss-rate`, the daemon's VmRSS from
 *    /proc/<pid>/status sampled along the way and at the end.
 *
 * Each part starts its own daemon with a fresh data directory. Only
 * 127.0.0.1 is contacted; the daemon is ended by its pid. A bad or unknown
 * flag ends the run with status 2.
 */
import mqtt from "mqtt";
import { type Daemon, daemonPermissions, startDaemon } from "../tests/e2e/_daemon.ts";
import {
  exitOnFlagError,
  FlagError,
  integer,
  parseFlags,
  positive,
  positiveList,
  someOf,
  text,
} from "./args.ts";
import { emitResult, quantile } from "./stats.ts";
import { everySeries } from "./global_series.ts";

interface Config {
  streams: number;
  rates: number[];
  seconds: number;
  latencyRate: number;
  latencySeconds: number;
  sampleEvery: number;
  rssMinutes: number;
  rssRate: number;
  parts: Set<string>;
  /** V8 flags of the daemon: those of `deno task start` unless given; empty for Deno's defaults. */
  v8Flags: string;
}

/** The `--v8-flags=...` value of deno.json's start task ("" if none): the daemon as users run it. */
function startTaskV8Flags(): string {
  const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  const m = /--v8-flags=(\S+)/.exec(String(deno.tasks?.start?.command ?? ""));
  return m ? m[1] : "";
}

const PARTS = ["throughput", "latency", "rss"] as const;

function readConfig(argv: readonly string[]): Config {
  const f = parseFlags(argv, {
    streams: integer(100),
    rates: positiveList([1000, 2000, 3000, 4000]),
    seconds: positive(20),
    "latency-rate": positive(1000),
    "latency-seconds": positive(30),
    "sample-every": integer(50),
    "rss-minutes": positive(10),
    "rss-rate": positive(1000),
    parts: someOf(PARTS, PARTS),
    "v8-flags": text("the daemon's V8 flags (empty: Deno's defaults)", startTaskV8Flags(), true),
  }, "Cannot parse daemon_load flags");
  return {
    streams: f.streams,
    rates: f.rates,
    seconds: f.seconds,
    latencyRate: f["latency-rate"],
    latencySeconds: f["latency-seconds"],
    sampleEvery: f["sample-every"],
    rssMinutes: f["rss-minutes"],
    rssRate: f["rss-rate"],
    parts: f.parts,
    v8Flags: f["v8-flags"],
  };
}

/**
 * The most readings one stream gets in any of the chosen parts: each part
 * has its own daemon and publisher, sends one reading per stream to warm up,
 * then round(rate · seconds) readings per rate (Publisher.run) round-robin.
 */
function readingsPerStream(c: Config): number {
  const sent = (rate: number, seconds: number) => Math.round(rate * seconds);
  const perPart = [0];
  if (c.parts.has("throughput")) {
    perPart.push(c.rates.reduce((n, rate) => n + sent(rate, c.seconds), 0));
  }
  if (c.parts.has("latency")) perPart.push(sent(c.latencyRate, c.latencySeconds));
  if (c.parts.has("rss")) perPart.push(sent(c.rssRate, c.rssMinutes * 60));
  return Math.ceil((c.streams + Math.max(...perPart)) / c.streams);
}

const STEP_MS = 300_000;
/**
 * How far back the first reading lies at least: 120 days, as in the
 * published runs (enough for 10 minutes at 1000/s over 100 streams).
 */
const MIN_BACK_MS = 120 * 86_400_000;
/** Steps kept between the last reading and the start of the run: one day. */
const SLACK_STEPS = 288;
/** The earliest timestamp the daemon accepts (src/ingest/timestamp.ts: MIN_TS). */
const EARLIEST_TS = Date.UTC(2000, 0, 1);
const THROUGHPUT_CATCH_UP_MS = 2000;

const cfg = exitOnFlagError(() => readConfig(Deno.args));
/**
 * The first reading's time: far enough back that the last reading of the
 * busiest part is still SLACK_STEPS steps before the run started (the daemon
 * rejects readings more than a day in the future as bad_ts).
 */
const START = exitOnFlagError(() => {
  const perStream = readingsPerStream(cfg);
  const start = Date.now() - Math.max(MIN_BACK_MS, (perStream + SLACK_STEPS) * STEP_MS);
  if (start < EARLIEST_TS) {
    const most = Math.floor((Date.now() - EARLIEST_TS) / STEP_MS) - SLACK_STEPS;
    throw new FlagError(
      `Cannot plan daemon load: the readings per stream (5 minutes apart, from 2000-01-01 ` +
        `until a day ago) must be at most ${most}: current value is ${perStream}`,
    );
  }
  return start;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(msg: string) {
  console.error(msg);
}

interface Counters {
  readings: number;
  trained: number;
  rejected: number;
  observeSeconds: number;
}

/** The daemon's /metrics samples, by `name{labels}`. */
async function metrics(d: Daemon): Promise<Map<string, number>> {
  return everySeries(await (await fetch(`${d.http}/metrics`)).text());
}

async function counters(d: Daemon): Promise<Counters> {
  const m = await metrics(d);
  let rejected = 0;
  for (const [name, v] of m) {
    if (name.startsWith("forecastd_rejected_readings_total")) rejected += v;
  }
  return {
    readings: m.get('forecastd_readings_total{source="mqtt"}') ?? 0,
    trained: m.get("forecastd_training_steps_total") ?? 0,
    rejected,
    observeSeconds: m.get("forecastd_observe_seconds_total") ?? 0,
  };
}

/**
 * A file of /proc/<pid>: read by `cat`, since Deno asks for --allow-all to
 * read /proc/<pid> itself.
 */
function procFile(pid: number, name: string): string {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/${name}`], stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(out.stdout);
}

function rssKiB(pid: number): number {
  const status = procFile(pid, "status");
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) : NaN;
}

/** The daemon's JS heap and external memory from its /metrics, MiB. */
async function memory(
  d: Daemon,
): Promise<{ heapUsedMiB: number; heapTotalMiB: number; externalMiB: number }> {
  const m = await metrics(d);
  const mib = (kind: string) =>
    Math.round((m.get(`forecastd_memory_bytes{kind="${kind}"}`) ?? NaN) / 1048576 * 10) / 10;
  return {
    heapUsedMiB: mib("heap_used"),
    heapTotalMiB: mib("heap_total"),
    externalMiB: mib("external"),
  };
}

/** The CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = procFile(pid, "stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** A publisher of round-robin readings: reading i goes to stream i % N, its (i / N)-th. */
class Publisher {
  next = 0;
  acked = 0;
  errors = 0;
  constructor(readonly client: mqtt.MqttClient, readonly streams: number) {}

  /** Publishes reading `this.next`; returns its stream and timestamp. */
  publishOne(): { stream: string; ts: number } {
    const i = this.next++;
    const k = i % this.streams;
    const n = Math.floor(i / this.streams);
    const ts = START + n * STEP_MS;
    const value = Math.round((20 + 3 * Math.sin((2 * Math.PI * n) / 288) + k * 0.01) * 1000) /
      1000;
    this.client.publish(
      `sensors/s${k}/v`,
      `{"value":${value},"ts":${ts}}`,
      { qos: 1 },
      (err) => {
        if (err) this.errors++;
        else this.acked++;
      },
    );
    return { stream: `s${k}`, ts };
  }

  /**
   * Publishes at `rate` readings/s for `seconds`, in ticks of 5 ms; `onEach`
   * sees every reading. Returns the achieved publish rate.
   */
  async run(
    rate: number,
    seconds: number,
    onEach?: (r: { stream: string; ts: number; index: number }) => void,
    onTick?: () => void,
  ): Promise<{ published: number; seconds: number }> {
    const first = this.next;
    const total = Math.round(rate * seconds);
    const t0 = performance.now();
    let lastTick = t0;
    while (this.next - first < total) {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * rate));
      while (this.next - first < due) {
        const index = this.next;
        const r = this.publishOne();
        onEach?.({ ...r, index });
      }
      if (onTick && now - lastTick >= 500) {
        lastTick = now;
        onTick();
      }
      await sleep(5);
    }
    return { published: this.next - first, seconds: (performance.now() - t0) / 1000 };
  }
}

async function withDaemon<T>(fn: (d: Daemon, pub: Publisher) => Promise<T>): Promise<T> {
  const dataDir = await Deno.makeTempDir({ prefix: "forecastd-load-" });
  const d = await startDaemon({
    dataDir,
    program: cfg.v8Flags
      ? {
        cmd: Deno.execPath(),
        args: ["run", ...daemonPermissions(dataDir), `--v8-flags=${cfg.v8Flags}`, "main.ts"],
      }
      : undefined,
  });
  let client: mqtt.MqttClient | undefined;
  try {
    client = await mqtt.connectAsync(d.mqttUrl, {
      clientId: `load-${crypto.randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
    });
    return await fn(d, new Publisher(client, cfg.streams));
  } finally {
    await client?.endAsync().catch(() => {});
    await d.stop("SIGTERM");
    await Deno.remove(dataDir, { recursive: true });
  }
}

/**
 * Waits until the counters rose by `target` readings and training steps; the
 * time from `t0` until they had, or null after `timeoutMs`.
 */
async function catchUp(
  d: Daemon,
  base: Counters,
  target: number,
  timeoutMs: number,
  t0 = performance.now(),
): Promise<{ ms: number | null; c: Counters }> {
  for (;;) {
    const c = await counters(d);
    if (c.readings - base.readings >= target && c.trained - base.trained >= target) {
      return { ms: performance.now() - t0, c };
    }
    if (performance.now() - t0 > timeoutMs) return { ms: null, c };
    await sleep(20);
  }
}

/** Creates the streams: one reading each, and waits until all are learned. */
async function warmUp(d: Daemon, pub: Publisher): Promise<Counters> {
  const base = await counters(d);
  for (let i = 0; i < cfg.streams; i++) pub.publishOne();
  const { ms, c } = await catchUp(d, base, cfg.streams, 30_000);
  if (ms === null) {
    throw new Error(`warm-up: ${cfg.streams} readings not learned: ${JSON.stringify(c)}`);
  }
  return c;
}

const when = new Date().toISOString();
log(
  `daemon_load: ${cfg.streams} streams, parts ${[...cfg.parts].join(",")}, ` +
    `daemon V8 flags ${cfg.v8Flags || "(Deno's defaults)"}, ${when}`,
);

// ---------------------------------------------------------------------------
// 1. throughput

if (cfg.parts.has("throughput")) {
  await withDaemon(async (d, pub) => {
    await warmUp(d, pub);
    let best = 0;
    for (const rate of cfg.rates) {
      const base = await counters(d);
      const cpu0 = cpuSeconds(d.pid);
      const acked0 = pub.acked, errors0 = pub.errors;
      let maxLag = 0;
      let lagSamplesLost = 0; // /metrics requests that failed while publishing
      const published0 = pub.next;
      let sampling = false; // one /metrics request at a time
      const sent = await pub.run(rate, cfg.seconds, undefined, () => {
        if (sampling) return;
        sampling = true;
        const sentNow = pub.next - published0;
        counters(d).then((c) => {
          maxLag = Math.max(maxLag, sentNow - (c.trained - base.trained));
        }).catch(() => {
          lagSamplesLost++;
        }).finally(() => sampling = false);
      });
      // the catch-up time counts from the moment publishing stopped
      const t1 = performance.now();
      const { ms, c } = await catchUp(d, base, sent.published, 120_000, t1);
      const cpu = cpuSeconds(d.pid) - cpu0;
      const ingested = c.readings - base.readings;
      const trained = c.trained - base.trained;
      const rejected = c.rejected - base.rejected;
      const publishErrors = pub.errors - errors0;
      const totalS = sent.seconds + (ms ?? (performance.now() - t1)) / 1000;
      const kept = ms !== null && ms <= THROUGHPUT_CATCH_UP_MS && ingested === sent.published &&
        trained === sent.published && rejected === 0 && publishErrors === 0;
      if (kept) best = rate;
      const rec = {
        bench: "daemon_load",
        part: "throughput",
        streams: cfg.streams,
        offeredRate: rate,
        publishedRate: Math.round(sent.published / sent.seconds),
        published: sent.published,
        ingested,
        trained,
        rejected,
        acked: pub.acked - acked0,
        publishErrors,
        catchUpMs: ms === null ? null : Math.round(ms),
        maxLagReadings: maxLag,
        lagSamplesLost,
        sustainedRate: Math.round(trained / totalS),
        daemonCpuSeconds: Math.round(cpu * 100) / 100,
        observeSeconds: Math.round((c.observeSeconds - base.observeSeconds) * 100) / 100,
        keptUp: kept,
        rssMiB: Math.round(rssKiB(d.pid) / 1024),
        when,
      };
      emitResult(rec);
      log(
        `  ${rate}/s offered: published ${rec.publishedRate}/s, ingested ${ingested}/${sent.published}, ` +
          `trained ${trained}, rejected ${rejected}, publish errors ${publishErrors}, ` +
          `catch-up ${rec.catchUpMs} ms, max lag ${maxLag}, ` +
          `daemon CPU ${rec.daemonCpuSeconds} s (observe ${rec.observeSeconds} s) -> ${
            kept ? "kept up" : "FELL BEHIND"
          }`,
      );
      if (ms === null) break; // it cannot catch up: the higher rates would only fall further behind
    }
    emitResult({
      bench: "daemon_load",
      part: "throughput-summary",
      streams: cfg.streams,
      highestKeptUpRate: best,
      when,
    });
    log(`throughput: highest rate kept up with: ${best} readings/s (floor 2000)`);
  });
}

// ---------------------------------------------------------------------------
// 2. latency

if (cfg.parts.has("latency")) {
  await withDaemon(async (d, pub) => {
    await warmUp(d, pub);
    const base = await counters(d);
    const latencies: number[] = [];
    let late = 0; // a newer origin was seen first: the sample's own was overtaken
    let lost = 0; // no answer with the sample's origin in 10 s, or a request failed
    const polls: Promise<void>[] = [];
    const follow = (stream: string, ts: number, t0: number) =>
      (async () => {
        const want = new Date(ts).toISOString();
        const deadline = t0 + 10_000;
        try {
          while (performance.now() < deadline) {
            const res = await fetch(`${d.http}/v1/streams/${stream}/forecast`);
            const body = await res.json() as { origin?: string };
            const t = performance.now();
            if (res.ok && body.origin !== undefined) {
              if (body.origin === want) {
                latencies.push(t - t0);
                return;
              }
              if (body.origin > want) {
                late++;
                latencies.push(t - t0);
                return;
              }
            }
          }
        } catch {
          // a failed request or a body that is not JSON: the sample is lost, the run goes on
        }
        lost++;
      })();
    const sent = await pub.run(cfg.latencyRate, cfg.latencySeconds, ({ stream, ts, index }) => {
      if (index % cfg.sampleEvery === 0) polls.push(follow(stream, ts, performance.now()));
    });
    await Promise.all(polls);
    const { ms, c } = await catchUp(d, base, sent.published, 30_000);
    latencies.sort((a, b) => a - b);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const rec = {
      bench: "daemon_load",
      part: "latency",
      streams: cfg.streams,
      rate: cfg.latencyRate,
      publishedRate: Math.round(sent.published / sent.seconds),
      samples: latencies.length,
      overtaken: late,
      lost,
      p50Ms: r2(quantile(latencies, 0.5)),
      p90Ms: r2(quantile(latencies, 0.9)),
      p99Ms: r2(quantile(latencies, 0.99)),
      maxMs: r2(latencies[latencies.length - 1] ?? NaN),
      ingested: c.readings - base.readings,
      trained: c.trained - base.trained,
      rejected: c.rejected - base.rejected,
      catchUpMs: ms === null ? null : Math.round(ms),
      when,
    };
    emitResult(rec);
    log(
      `latency at ${cfg.latencyRate}/s: ${rec.samples} samples, p50 ${rec.p50Ms} ms, p90 ${rec.p90Ms} ms, ` +
        `p99 ${rec.p99Ms} ms, max ${rec.maxMs} ms (floor: p99 < 50 ms); overtaken ${late}, lost ${lost}`,
    );
  });
}

// ---------------------------------------------------------------------------
// 3. rss

if (cfg.parts.has("rss")) {
  await withDaemon(async (d, pub) => {
    await warmUp(d, pub);
    const base = await counters(d);
    const rssStart = rssKiB(d.pid);
    const samples: {
      s: number;
      rssMiB: number;
      heapUsedMiB: number;
      heapTotalMiB: number;
      externalMiB: number;
    }[] = [];
    const t0 = performance.now();
    let lastSample = 0;
    const pending: Promise<void>[] = [];
    let memorySamplesLost = 0; // /metrics requests that failed
    const sent = await pub.run(cfg.rssRate, cfg.rssMinutes * 60, undefined, () => {
      const s = (performance.now() - t0) / 1000;
      if (s - lastSample >= 30) {
        lastSample = s;
        const rssMiB = Math.round(rssKiB(d.pid) / 1024 * 10) / 10;
        pending.push(
          memory(d).then((m) => {
            samples.push({ s: Math.round(s), rssMiB, ...m });
            log(
              `  rss at ${Math.round(s)} s: ${rssMiB} MiB ` +
                `(JS heap used ${m.heapUsedMiB} of ${m.heapTotalMiB} MiB, external ${m.externalMiB} MiB)`,
            );
          }).catch(() => {
            memorySamplesLost++;
          }),
        );
      }
    });
    await Promise.all(pending);
    const rssEnd = rssKiB(d.pid);
    const { ms, c } = await catchUp(d, base, sent.published, 30_000);
    const rssMax = Math.max(rssEnd / 1024, ...samples.map((x) => x.rssMiB));
    const rssMaxMiB = Math.round(rssMax * 10) / 10;
    const rec = {
      bench: "daemon_load",
      part: "rss",
      streams: cfg.streams,
      rate: cfg.rssRate,
      minutes: cfg.rssMinutes,
      publishedRate: Math.round(sent.published / sent.seconds),
      published: sent.published,
      ingested: c.readings - base.readings,
      trained: c.trained - base.trained,
      rejected: c.rejected - base.rejected,
      catchUpMs: ms === null ? null : Math.round(ms),
      rssStartMiB: Math.round(rssStart / 1024 * 10) / 10,
      rssEndMiB: Math.round(rssEnd / 1024 * 10) / 10,
      rssMaxMiB,
      samples,
      memorySamplesLost,
      when,
    };
    emitResult(rec);
    log(
      `rss after ${cfg.rssMinutes} min at ${cfg.rssRate}/s: ${rec.rssEndMiB} MiB ` +
        `(start ${rec.rssStartMiB}, max ${rec.rssMaxMiB}; floor 150 MB); ` +
        `ingested ${rec.ingested}/${rec.published}, trained ${rec.trained}, rejected ${rec.rejected}`,
    );
  });
}
