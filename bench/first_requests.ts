/**
 * What a fresh daemon's first request of each kind costs against its next
 * ones (not part of the test suite): a daemon with two shard workers is
 * started (its embedded broker, port 0, a temporary data directory); when
 * its start-up lines are out (it is ready) the client makes, one after the
 * other and nothing else running: GET /healthz three times; a POST of 48
 * readings of stream r0, then GET r0's forecast three times; a WebSocket to
 * the ingest route opened (`wsOpen`), then three readings of stream q1, each
 * until the reply; an MQTT connection (`mqttConnect`), then three readings of
 * stream q0 published with QoS 1, each until its PUBACK. Each request's wait,
 * ms, by kind, over `runs` fresh daemons (the median per position; one
 * more run first, not counted, warms this process's clients), and the
 * time from the start to the start-up lines (`startMs`). Beside each
 * wait the daemon's CPU over it (`<kind>CpuMain`: its main thread's ms;
 * `<kind>CpuAll`: all its threads', the shard workers, V8's helpers and
 * I/O too), from each `/proc/<pid>/task/<tid>/schedstat` read before and
 * after the request (by a `sh` between the requests): what the request cost
 * the daemon whatever the machine's load, where the wait also holds the
 * time its threads waited for a core. The first reading of q0 and q1 makes
 * their stream.
 *
 *   deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-env \
 *     bench/first_requests.ts [--runs=5]
 *
 * One `RESULT {json}` line on stdout.
 */
import mqtt from "mqtt";
import { exitOnFlagError, integer, parseFlags } from "./args.ts";
import { emitResult, median } from "./stats.ts";
import { loadavg } from "./proc_stats.ts";
import { startDaemon } from "../tests/e2e/_daemon.ts";

const f = exitOnFlagError(() => parseFlags(Deno.args, { runs: integer(5) }));

const START = Date.UTC(2026, 0, 1);
const STEP = 60_000;
const round1 = (x: number) => Math.round(x * 10) / 10;

/** The CPU ms so far of process `pid`'s main thread and of all its threads. */
function cpuMs(pid: number): { main: number; all: number } {
  const out = new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/${pid}/schedstat /proc/${pid}/task/*/schedstat`],
    stderr: "null",
  }).outputSync();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const ns = lines.map((l) => Number(l.split(" ")[0]));
  return { main: ns[0] / 1e6, all: (ns.slice(1).reduce((a, b) => a + b, 0)) / 1e6 };
}

/** The daemon whose CPU `timed` reads (its pid), set by once(). */
let daemonPid = 0;
/** Each timed request's daemon CPU, by kind, in order: [main ms, all threads ms]. */
let cpu: Record<string, [number, number][]> = {};

/** How long `go` takes, ms; its daemon CPU goes to `cpu[kind]`. */
async function timed(go: () => Promise<unknown>, kind = ""): Promise<number> {
  const c0 = daemonPid > 0 ? cpuMs(daemonPid) : null;
  const s = performance.now();
  await go();
  const ms = performance.now() - s;
  if (c0 !== null && kind !== "") {
    const c1 = cpuMs(daemonPid);
    (cpu[kind] ??= []).push([c1.main - c0.main, c1.all - c0.all]);
  }
  return ms;
}

async function get(url: string): Promise<void> {
  const r = await fetch(url);
  await r.body?.cancel();
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}`);
}

/** One fresh daemon: each kind's waits in order. */
async function once(): Promise<Record<string, number[]>> {
  const dir = await Deno.makeTempDir({ prefix: "forecastd-first-" });
  const s = performance.now();
  const d = await startDaemon({ dataDir: dir, args: ["--workers", "2"] });
  const out: Record<string, number[]> = { startMs: [performance.now() - s] };
  daemonPid = d.pid;
  cpu = {};
  try {
    out.healthz = [];
    for (let i = 0; i < 3; i++) {
      out.healthz.push(await timed(() => get(`${d.http}/healthz`), "healthz"));
    }
    out.post = [
      await timed(async () => {
        const r = await fetch(`${d.http}/v1/streams/r0/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(
            Array.from({ length: 48 }, (_, i) => ({ value: i % 7, ts: START + i * STEP })),
          ),
        });
        await r.body?.cancel();
        if (r.status !== 200) throw new Error(`cannot create r0: ${r.status}`);
      }, "post"),
    ];
    out.forecast = [];
    for (let i = 0; i < 3; i++) {
      out.forecast.push(await timed(() => get(`${d.http}/v1/streams/r0/forecast`), "forecast"));
    }
    let ws: WebSocket | null = null;
    let answer: (() => void) | null = null;
    out.wsOpen = [
      await timed(async () => {
        ws = new WebSocket(`${d.http.replace("http:", "ws:")}/v1/ingest/ws`);
        ws.onmessage = () => answer?.();
        await new Promise((r) => (ws!.onopen = r));
      }, "wsOpen"),
    ];
    out.ws = [];
    for (let i = 0; i < 3; i++) {
      out.ws.push(
        await timed(() =>
          new Promise<void>((resolve) => {
            answer = resolve;
            ws!.send(`{"stream":"q1","value":${i},"ts":${START + i * STEP}}`);
          }), "ws"),
      );
    }
    const closed = new Promise((r) => (ws!.onclose = r));
    ws!.close();
    await closed;
    let client: mqtt.MqttClient | null = null;
    out.mqttConnect = [
      await timed(async () => {
        client = await mqtt.connectAsync(d.mqttUrl, { clientId: "first-q0", reconnectPeriod: 0 });
      }, "mqttConnect"),
    ];
    out.mqtt = [];
    for (let i = 0; i < 3; i++) {
      out.mqtt.push(
        await timed(
          () =>
            client!.publishAsync("sensors/q0/v", `{"value":${i},"ts":${START + i * STEP}}`, {
              qos: 1,
            }),
          "mqtt",
        ),
      );
    }
    await client!.endAsync();
  } finally {
    daemonPid = 0;
    await d.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
  for (const [k, v] of Object.entries(cpu)) {
    out[`${k}CpuMain`] = v.map((x) => x[0]);
    out[`${k}CpuAll`] = v.map((x) => x[1]);
  }
  return out;
}

const runs: Record<string, number[]>[] = [];
const load: number[] = [];
// a run first that is not counted: this process's own first fetch, WebSocket and MQTT client
// compile here, not in the first run's waits
await once();
for (let r = 0; r < f.runs; r++) {
  load.push(loadavg());
  runs.push(await once());
}
const kinds = Object.keys(runs[0]);
emitResult({
  runs: f.runs,
  // the median over the runs of each position's wait, ms; then every run's
  median: Object.fromEntries(
    kinds.map((k) => [k, runs[0][k].map((_, i) => round1(median(runs.map((x) => x[k][i]))))]),
  ),
  each: Object.fromEntries(kinds.map((k) => [k, runs.map((x) => x[k].map(round1))])),
  loadavg1: load,
});
