/**
 * Helpers of the end-to-end tests: the real daemon (`deno run main.ts serve`)
 * as a child process on 127.0.0.1 with port 0 and a temporary data
 * directory, a real Mosquitto when installed, and clients for the alert
 * channels (SSE, WebSocket, MQTT).
 *
 * The daemon is started with narrow permissions: the network of 127.0.0.1
 * only (so it cannot send traffic elsewhere), reads and writes of its data
 * directory only. Its start-up lines on stdout give the bound ports; its
 * JSON log lines on stderr are kept for assertions. Every process started
 * here is ended by its pid and awaited.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import type { LogEntry } from "../../src/log.ts";
export { withTempDir } from "../_helpers.ts";

/** The project root, where main.ts and deno.json are. */
export const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** How long a test waits for something the daemon should do soon. */
export const WAIT_MS = 15_000;

/** A running daemon. */
export interface Daemon {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly http: string;
  /** The broker URL of its `mqtt:` start-up line (embedded or external). */
  readonly mqttUrl: string;
  /** The start-up lines on stdout. */
  readonly banner: string[];
  /** Its JSON log lines so far, parsed. */
  readonly log: LogEntry[];
  /** Waits for a log entry matching `pred` (already written or to come). */
  waitForLog(pred: (e: LogEntry) => boolean, what: string, timeoutMs?: number): Promise<LogEntry>;
  /** Sends `signal` and waits for the exit; resolves with the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Resolves with the exit status once the process has ended. */
  readonly exited: Promise<Deno.CommandStatus>;
}

/** Options of startDaemon. */
export interface DaemonOptions {
  dataDir: string;
  /** Further flags of `serve` (port 0 and the data directory are given). */
  args?: string[];
  /** Wait for the MQTT source's subscriptions (default: true unless the broker is down). */
  waitSubscribed?: boolean;
  /**
   * What to run instead of `deno run <permissions> main.ts`: a program and the
   * arguments before `serve` (a bundle, or the arm64 Deno under qemu).
   */
  program?: { cmd: string; args: string[] };
  /** Extra environment of the child. */
  env?: Record<string, string>;
  /** How long to wait for the start-up lines (default WAIT_MS). */
  startMs?: number;
}

/** The permissions the daemon gets in these tests. */
export function daemonPermissions(dataDir: string): string[] {
  return [
    "--allow-net=127.0.0.1",
    "--allow-env",
    // the shard workers load their modules with the read permission
    `--allow-read=${dataDir},${ROOT}src,${ROOT}models`,
    `--allow-write=${dataDir}`,
    // the shard workers lower their own threads' priority (--worker-nice)
    "--allow-sys=getPriority,setPriority",
  ];
}

/** Starts `main.ts serve` and returns once it printed its endpoints (and subscribed). */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const args = [
    ...(opts.program?.args ?? ["run", ...daemonPermissions(opts.dataDir), "main.ts"]),
    "serve",
    "--port",
    "0",
    "--data-dir",
    opts.dataDir,
    ...(opts.args ?? []),
  ];
  if (!(opts.args ?? []).some((a) => a === "--mqtt-url" || a === "--mqtt-port")) {
    args.push("--mqtt-port", "0");
  }
  const child = new Deno.Command(opts.program?.cmd ?? Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    // two shard workers whatever the machine's cores (the option's default is one per core)
    env: { NO_COLOR: "1", FORECASTD_WORKERS: "2", ...opts.env },
  }).spawn();

  const log: LogEntry[] = [];
  const stderrText: string[] = [];
  let wake: (() => void)[] = [];
  const notify = () => {
    for (const w of wake.splice(0)) w();
  };
  const stderrDone = (async () => {
    for await (const line of lines(child.stderr)) {
      try {
        log.push(JSON.parse(line) as LogEntry);
      } catch {
        stderrText.push(line); // not a log line: deno's own messages
      }
      notify();
    }
    notify();
  })();

  const banner: string[] = [];
  const stdoutLines = lines(child.stdout);
  let bannerDone = false;
  const stdoutDone = (async () => {
    for await (const line of stdoutLines) {
      banner.push(line);
      if (line.startsWith("  data:")) bannerDone = true;
      notify();
    }
    notify();
  })();
  const exited = child.status;
  let ended = false;
  exited.then(() => {
    ended = true;
    notify();
  });

  const waitUntil = async (cond: () => boolean, what: string, timeoutMs = WAIT_MS) => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (ended) {
        throw new Error(
          `the daemon exited while waiting for ${what}; stderr: ${stderrText.join("\n")}\nlog: ${
            JSON.stringify(log.slice(-5))
          }`,
        );
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake.push(resolve);
        timer = setTimeout(resolve, 100);
      });
      clearTimeout(timer);
    }
  };

  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    if (!ended) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    }
    const status = await exited;
    const piped = Promise.all([stderrDone, stdoutDone]);
    // behind a wrapper (opts.program), its children hold the pipes until they end: if a failed
    // start or stop leaves them running, end the daemon the log names (once it has logged its
    // start), so that no test hangs on them
    let closed = false;
    piped.then(() => (closed = true));
    const since = Date.now();
    let killed = false;
    while (!closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([piped, new Promise((r) => (timer = setTimeout(r, 100)))]);
      clearTimeout(timer);
      if (closed) break;
      const pid = Number(log.find((e) => e.event === "forecastd.starting")?.pid);
      if (!killed && Date.now() - since >= WAIT_MS && Number.isInteger(pid) && pid !== child.pid) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
        killed = true;
      }
      if (Date.now() - since > 2 * WAIT_MS) {
        throw new Error(
          `the wrapper ended, but its children still hold its output (daemon pid ${pid})`,
        );
      }
    }
    wake = [];
    return status;
  };

  try {
    await waitUntil(() => bannerDone, "the start-up lines", opts.startMs);
    const http = banner.map((l) => /^ {2}http: (https?:\/\/\S+?)\/?(\s|$)/.exec(l)?.[1])
      .find((x) => x);
    const mqttUrl = banner.map((l) => /^ {2}mqtt: (mqtts?:\/\/\S+)/.exec(l)?.[1]).find((x) => x);
    if (!http) throw new Error(`no http: line in ${JSON.stringify(banner)}`);
    if (opts.waitSubscribed ?? true) {
      await waitUntil(() => log.some((e) => e.event === "mqtt.subscribed"), "mqtt.subscribed");
    }
    const daemon: Daemon = {
      pid: child.pid,
      http,
      mqttUrl: mqttUrl ?? "",
      banner,
      log,
      exited,
      stop,
      async waitForLog(pred, what, timeoutMs) {
        let found: LogEntry | undefined;
        await waitUntil(() => (found = log.find(pred)) !== undefined, what, timeoutMs);
        return found!;
      },
    };
    return daemon;
  } catch (e) {
    await stop("SIGKILL");
    throw e;
  }
}

/** The lines of a byte stream, as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf !== "") yield buf;
}

/** A port that was free a moment ago on 127.0.0.1 (bound to port 0, then closed). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** GET `url` as JSON; throws with the body on a status other than `status`. */
export async function getJson<T = Record<string, unknown>>(url: string, status = 200): Promise<T> {
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== status) {
    throw new Error(`GET ${url}: expected ${status}, got ${res.status}: ${text}`);
  }
  return JSON.parse(text) as T;
}

/**
 * Polls `fn` until it returns a value other than undefined. On a timeout the
 * error adds what `context` says (the daemon's state), when given.
 */
export async function eventually<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = WAIT_MS,
  context?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const more = context ? `\n${await context().catch((e) => `(no context: ${e})`)}` : "";
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}${more}`);
}

/** A stream's summary and the daemon's warnings, errors and alert events: for failure messages. */
export async function daemonState(d: Daemon, stream: string): Promise<string> {
  const res = await fetch(`${d.http}/v1/streams/${stream}`);
  const summary = await res.text();
  const notable = d.log.filter((e) =>
    e.level === "warn" || e.level === "error" || e.event.startsWith("alert")
  ).slice(-10);
  return `stream ${stream}: ${summary}\nlog: ${JSON.stringify(notable)}`;
}

/** A stream's summary once it has `n` readings. */
export function streamWithReadings(
  d: Daemon,
  stream: string,
  n: number,
): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const res = await fetch(`${d.http}/v1/streams/${stream}`);
    const body = await res.json();
    return res.ok && body.readings >= n ? body : undefined;
  }, `stream ${stream} to have ${n} readings`);
}

// ---------------------------------------------------------------------------
// Readings

/** 5 minutes: the sampling period of the simulated readings. */
export const STEP = 300_000;
/**
 * The first reading's time: fixed (the calendar inputs see the same days in
 * every run, so the model and its alerts are the same), in the past.
 */
export const START = Date.UTC(2025, 5, 2);

/** A smooth room temperature at reading `i`: a daily cycle and a 3-hour one. */
export function temperature(i: number): number {
  return Math.round(
    (21 + 2 * Math.sin((2 * Math.PI * i) / 288) + 0.6 * Math.sin((2 * Math.PI * i) / 36) +
      0.05 * Math.sin(i * 1.7)) * 1000,
  ) / 1000;
}

/** Readings `from` to `to` (exclusive) as one batch payload for `sensors/{stream}/{value}`. */
export function batchPayload(from: number, to: number, offset = (_i: number) => 0): string {
  const items = [];
  for (let i = from; i < to; i++) {
    items.push({ ts: START + i * STEP, value: temperature(i) + offset(i) });
  }
  return JSON.stringify(items);
}

/** A spike of +4.5 at readings [at, at + 3). */
export const spikeAt = (at: number) => (i: number) => i >= at && i < at + 3 ? 4.5 : 0;

// ---------------------------------------------------------------------------
// Clients

/** An MQTT.js client of the test, on a loopback broker. */
export async function mqttClient(url: string, clientId?: string): Promise<mqtt.MqttClient> {
  return await mqtt.connectAsync(url, {
    clientId: clientId ?? `test-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
}

/** Collects the messages of an MQTT subscription. */
export async function collectMqtt(
  client: mqtt.MqttClient,
  filter: string,
): Promise<{ topic: string; payload: string }[]> {
  const got: { topic: string; payload: string }[] = [];
  client.on("message", (topic, payload) => got.push({ topic, payload: payload.toString() }));
  await client.subscribeAsync(filter, { qos: 1 });
  return got;
}

/** The `data:` of each SSE event of a `GET /v1/alerts/events`, as they come. */
export interface SseClient {
  readonly events: { id: string; data: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function sseClient(url: string): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: "text/event-stream" },
    signal: controller.signal,
  });
  if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  const events: SseClient["events"] = [];
  const reading = (async () => {
    let id = "";
    let data = "";
    try {
      for await (const line of lines(res.body!)) {
        if (line.startsWith("id: ")) id = line.slice(4);
        else if (line.startsWith("data: ")) data += line.slice(6);
        else if (line === "" && data !== "") {
          events.push({ id, data: JSON.parse(data) });
          id = data = "";
        }
      }
    } catch (e) {
      if (!controller.signal.aborted) throw e;
    }
  })();
  return {
    events,
    async close() {
      controller.abort();
      await reading;
    },
  };
}

/** The alerts arriving on `GET /v1/alerts/ws`. */
export interface WsClient {
  readonly messages: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function wsClient(url: string): Promise<WsClient> {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
  ws.addEventListener("message", (e) => messages.push(JSON.parse(String(e.data))));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", (e) => reject(new Error(`WebSocket ${url}: ${e}`)));
  });
  return {
    messages,
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed;
    },
  };
}

/**
 * Waits for the alert that opened on `stream` on all three live channels (SSE,
 * the WebSocket, MQTT messages collected by {@link collectMqtt}), asserts they
 * carry the same alert, on MQTT under `forecastd/alerts/{stream}`, and the SSE
 * event id is its id; returns the alert.
 */
export async function openedAlertEverywhere(
  d: Daemon,
  stream: string,
  channels: { sse: SseClient; ws: WsClient; mqtt: { topic: string; payload: string }[] },
  mqttWhat = "the alert on MQTT",
): Promise<Record<string, unknown>> {
  const opened = (a: Record<string, unknown>) => a.type === "opened" && a.stream === stream;
  const state = () => daemonState(d, stream);
  const viaMqtt = await eventually(
    () => channels.mqtt.find((m) => opened(JSON.parse(m.payload))),
    mqttWhat,
    WAIT_MS,
    state,
  );
  const viaSse = await eventually(
    () => channels.sse.events.find((e) => opened(e.data)),
    "the alert on SSE",
    WAIT_MS,
    state,
  );
  const viaWs = await eventually(
    () => channels.ws.messages.find(opened),
    "the alert on the WebSocket",
    WAIT_MS,
    state,
  );
  assert.equal(viaMqtt.topic, `forecastd/alerts/${stream}`);
  const alert = JSON.parse(viaMqtt.payload);
  assert.equal(viaSse.id, alert.id, "the SSE event id is the alert id");
  assert.deepEqual(viaSse.data, alert);
  assert.deepEqual(viaWs, alert);
  return alert;
}

// ---------------------------------------------------------------------------
// Mosquitto

/** A Mosquitto of the test. */
export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** Its process id (the benches read its CPU time). */
  readonly pid: number;
  stop(): Promise<void>;
}

/** The mosquitto executable, or null when it is not installed. */
export async function findMosquitto(): Promise<string | null> {
  for (const exe of ["mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]) {
    try {
      await new Deno.Command(exe, { args: ["-h"], stdout: "null", stderr: "null" }).output();
      return exe;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return null;
}

/**
 * Starts mosquitto on 127.0.0.1 and a free port (or `port`, to start it again
 * where it was), with its own configuration file in `dir` (and the lines of
 * `opts.extraConfig`). With `persistence` it keeps its sessions and queued
 * messages in `dir` across a restart (saved when it stops).
 */
export async function startMosquitto(
  exe: string,
  dir: string,
  port = freePort(),
  opts: { persistence?: boolean; extraConfig?: string[] } = {},
): Promise<Mosquitto> {
  const conf = `${dir}/mosquitto.conf`;
  // mosquitto started as root runs as the user "mosquitto": it must reach `dir`
  // (others may traverse it, not list it) and write its own folder
  const store = `${dir}/mosquitto-data`;
  if (opts.persistence) {
    await Deno.mkdir(store, { recursive: true });
    await Deno.chmod(store, 0o777);
    await Deno.chmod(dir, 0o711);
  }
  await Deno.writeTextFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      ...(opts.persistence ? ["persistence true", `persistence_location ${store}/`] : [
        "persistence false",
      ]),
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      ...(opts.extraConfig ?? []),
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(exe, {
    args: ["-c", conf],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await stderr;
  };
  // ready when it accepts a connection
  try {
    await eventually(
      async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
        return true;
      },
      `mosquitto to listen on 127.0.0.1:${port}`,
      5000,
    );
  } catch (e) {
    await stop();
    throw new Error(`mosquitto did not start: ${await stderr}`, { cause: e });
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid, stop };
}

/** A Node wrapper that runs its arguments and forwards SIGINT and SIGTERM, as npx does. */
export const NODE_WRAPPER = `const { spawn } = require("node:child_process");
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: "inherit" });
for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => child.kill(s));
child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 143)));
`;
