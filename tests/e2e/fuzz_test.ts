/**
 * The real daemon under a stream of generated bad and borderline messages on
 * every reading source (HTTP on both routes, the ingest WebSocket, the
 * embedded MQTT broker), good readings of known streams mixed in
 * (tests/e2e/_fuzz_payloads.ts makes them). Afterwards the process is alive,
 * no answer was a 5xx or an unexplained refusal, nothing was logged as an
 * error, every stream's forecast and intervals are finite, and each good
 * stream learned exactly its good readings.
 *
 * The run is seeded and prints its seed; to replay one:
 *
 *   FUZZ_SEED=1234 FUZZ_COUNT=5000 deno test <permissions of deno task test> tests/e2e/fuzz_test.ts
 *
 * FUZZ_COUNT is the number of garbage messages (default 5,000), spread over
 * the four sources.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { createToken, hashToken } from "../../src/auth/token_hash.ts";
import { type Daemon, eventually, getJson, startDaemon, withTempDir } from "./_daemon.ts";
import {
  type FuzzMessage,
  type FuzzSource,
  generateFuzz,
  GOOD_COLUMN,
  type SourcePlan,
  SOURCES,
} from "./_fuzz_payloads.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(Deno.env.get("FUZZ_COUNT") ?? 5000);
if (!Number.isSafeInteger(SEED) || !Number.isSafeInteger(COUNT) || COUNT < 1) {
  throw new Error(
    `Cannot run the fuzz test: FUZZ_SEED and FUZZ_COUNT must be integers (FUZZ_COUNT > 0): current values are ${
      Deno.env.get("FUZZ_SEED")
    } and ${Deno.env.get("FUZZ_COUNT")}`,
  );
}
console.log(
  `fuzz: seed ${SEED}, ${COUNT} messages (replay: FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT})`,
);

/** Most values one stream may have (the daemon's default maxValuesPerStream). */
const MAX_VALUES = 64;
/**
 * The largest forecast, bound or point, taken as sane: the borderline values
 * go up to 1e308, a daemon may take values up to its bound (--max-abs-value,
 * 1e15 by default), and a stream whose intervals reach 1e305 is poisoned.
 */
const MAX_FORECAST_MAGNITUDE = 1e18;
/** The daemon's body and message limit (the default --max-body-bytes). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Readings after which every horizon of a good stream has an interval (24 horizons and a margin). */
const CALIBRATED_AFTER = 60;
/** Streams the fuzz daemon allows: the good and edge streams and some made-up ones. */
const MAX_STREAMS = 40;

/** What the senders saw, for the assertions and for failure messages. */
interface Tally {
  sent: number;
  byStatus: Map<string, number>;
  /** Answers that break the contract: a 5xx, a refusal without a reason, a lost reply. */
  broken: string[];
  /** Time spent sending, ms. */
  ms: number;
}

function newTally(): Tally {
  return { sent: 0, byStatus: new Map(), broken: [], ms: 0 };
}

function count(t: Tally, key: string) {
  t.byStatus.set(key, (t.byStatus.get(key) ?? 0) + 1);
}

function describe(m: FuzzMessage): string {
  return `${m.kind}${m.target ? ` to ${m.target.slice(0, 80)}` : ""}`;
}

/** Checks a refusal's body: JSON naming the problem as `Cannot ...`, with a reason code. */
function refusalProblem(status: number, text: string): string | null {
  let body: { error?: unknown; reason?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return `a ${status} whose body is not JSON: ${text.slice(0, 200)}`;
  }
  if (typeof body.error !== "string" || !body.error.startsWith("Cannot ")) {
    return `a ${status} without a "Cannot ..." error: ${text.slice(0, 200)}`;
  }
  if (status === 400 && typeof body.reason !== "string") {
    return `a 400 without a reason code: ${text.slice(0, 200)}`;
  }
  return null;
}

/** POSTs each message in order; records every answer. */
async function sendHttp(
  base: string,
  msgs: readonly FuzzMessage[],
  src: FuzzSource,
  tally: Tally,
  headers: Record<string, string> = {},
): Promise<void> {
  let prev: FuzzMessage | null = null;
  for (const m of msgs) {
    const before = prev;
    prev = m;
    const path = src === "http_all" ? (m.target || "/v1/readings") : m.target;
    tally.sent++;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": m.contentType ?? "application/json", ...headers },
        body: m.body,
      });
    } catch (e) {
      // a body over the limit may be answered 413 before it is read whole: the send can fail then
      if (m.body.length > MAX_BODY_BYTES) {
        count(tally, "413 (cut)");
        continue;
      }
      tally.broken.push(
        `${describe(m)}: the request failed: ${e} (${(e as Error).cause}); the one before: ${
          before ? describe(before) : "none"
        }`,
      );
      continue;
    }
    const text = await res.text();
    count(tally, String(res.status));
    if (res.status >= 500) tally.broken.push(`${describe(m)}: ${res.status} ${text.slice(0, 300)}`);
    else if (res.status >= 400) {
      const problem = refusalProblem(res.status, text);
      if (problem) tally.broken.push(`${describe(m)}: ${problem}`);
    }
    if (res.status < 300 || res.status === 422) {
      // a reading the stream refused for no reason of its own (reason "error") is a bug
      const body = JSON.parse(text) as { accepted?: number; rejected?: { reason: string }[] };
      if (body.rejected?.some((r) => r.reason === "error")) {
        tally.broken.push(`${describe(m)}: ${res.status} ${text.slice(0, 300)}`);
      } else if (m.good > 0 && (body.accepted !== m.good || body.rejected?.length !== 0)) {
        tally.broken.push(`${describe(m)}: a good reading was not taken: ${text.slice(0, 300)}`);
      }
    }
  }
}

/** Sends each message on the ingest WebSocket and waits for its one reply (a new socket after a 1009). */
async function sendWs(
  url: string,
  msgs: readonly FuzzMessage[],
  tally: Tally,
  protocols?: string[],
): Promise<void> {
  let ws: WebSocket | null = null;
  let replies: string[] = [];
  let closed: { code: number } | null = null;
  let wake: (() => void) | null = null;
  const open = async () => {
    const sock = new WebSocket(url, protocols);
    replies = [];
    closed = null;
    sock.binaryType = "arraybuffer";
    sock.onmessage = (e) => {
      replies.push(String(e.data));
      wake?.();
    };
    sock.onclose = (e) => {
      closed = { code: e.code };
      wake?.();
    };
    await new Promise<void>((resolve, reject) => {
      sock.onopen = () => resolve();
      sock.onerror = () => reject(new Error(`cannot open ${url}`));
    });
    sock.onerror = null;
    return sock;
  };
  const next = async (): Promise<string | { code: number }> => {
    const deadline = Date.now() + 10_000;
    while (replies.length === 0 && closed === null) {
      if (Date.now() > deadline) throw new Error("no reply within 10 s");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, 200);
      });
      clearTimeout(timer);
      wake = null;
    }
    return replies.length > 0 ? replies.shift()! : closed!;
  };
  try {
    for (const m of msgs) {
      if (ws === null || closed !== null) ws = await open();
      tally.sent++;
      ws.send(m.body);
      let r: string | { code: number };
      try {
        r = await next();
      } catch (e) {
        tally.broken.push(`${describe(m)}: ${(e as Error).message}`);
        continue;
      }
      if (typeof r !== "string") {
        count(tally, `close ${r.code}`);
        if (!(r.code === 1009 && m.body.length > MAX_BODY_BYTES)) {
          tally.broken.push(`${describe(m)}: the socket closed with ${r.code}`);
        }
        continue;
      }
      const reply = JSON.parse(r) as { ok: boolean; reason?: string; error?: string };
      count(tally, reply.ok ? "ok" : `ok:false ${reply.reason}`);
      if (!reply.ok && (typeof reply.reason !== "string" || !reply.error?.startsWith("Cannot "))) {
        tally.broken.push(`${describe(m)}: a refusal without a reason: ${r.slice(0, 300)}`);
      }
      if (reply.reason === "error") tally.broken.push(`${describe(m)}: ${r.slice(0, 300)}`);
      if (m.good > 0 && !reply.ok) {
        tally.broken.push(`${describe(m)}: a good reading was not taken: ${r.slice(0, 300)}`);
      }
    }
  } finally {
    if (ws !== null && closed === null) {
      const done = new Promise<void>((resolve) => ws!.addEventListener("close", () => resolve()));
      ws.close();
      await done;
    }
  }
}

/** Publishes each message on one connection; QoS 1 ones wait for their PUBACK. */
async function sendMqtt(url: string, msgs: readonly FuzzMessage[], tally: Tally): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    clientId: `fuzz-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
  let lost: string | null = null;
  let ending = false;
  client.on("close", () => {
    if (!ending) lost ??= "the broker closed the connection";
  });
  try {
    for (const m of msgs) {
      if (lost !== null) {
        tally.broken.push(`${describe(m)}: not sent: ${lost}`);
        return;
      }
      tally.sent++;
      const payload = typeof m.body === "string" ? m.body : new Uint8Array(m.body);
      try {
        await client.publishAsync(m.target, payload as string, { qos: m.qos ?? 1 });
        count(tally, `qos${m.qos ?? 1}`);
      } catch (e) {
        lost ??= `publishing ${describe(m)} failed: ${e}`;
      }
    }
  } finally {
    ending = true;
    await client.endAsync();
  }
  if (lost !== null) tally.broken.push(lost);
}

/** Sends a source's messages the way that source takes them. */
async function send(d: Daemon, src: FuzzSource, msgs: readonly FuzzMessage[], tally: Tally) {
  const t0 = performance.now();
  if (src === "ws") await sendWs(`${d.http.replace("http:", "ws:")}/v1/ingest/ws`, msgs, tally);
  else if (src === "mqtt") await sendMqtt(d.mqttUrl, msgs, tally);
  else await sendHttp(d.http, msgs, src, tally);
  tally.ms += performance.now() - t0;
}

/** Summaries of every stream. */
async function listStreams(d: Daemon, headers: Record<string, string> = {}) {
  const res = await fetch(`${d.http}/v1/streams`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as { streams: Record<string, unknown>[] }).streams;
}

/** What is wrong with a stream's forecast, or null: every point finite, every bound finite or not yet known. */
function forecastProblem(
  f: { targets: Record<string, { point: unknown[]; lower: unknown[]; upper: unknown[] }> },
  calibrated: boolean,
): string | null {
  for (const [t, { point, lower, upper }] of Object.entries(f.targets)) {
    for (let h = 0; h < point.length; h++) {
      const [p, lo, hi] = [point[h], lower[h], upper[h]];
      const finite = (x: unknown) =>
        typeof x === "number" && Number.isFinite(x) && Math.abs(x) <= MAX_FORECAST_MAGNITUDE;
      if (!finite(p)) return `${t}[${h}]: point ${p}`;
      if (calibrated && (lo === null || hi === null)) return `${t}[${h}]: no interval`;
      if (lo !== null && !(finite(lo) && (lo as number) <= (p as number))) {
        return `${t}[${h}]: lower ${lo} (point ${p})`;
      }
      if (hi !== null && !(finite(hi) && (hi as number) >= (p as number))) {
        return `${t}[${h}]: upper ${hi} (point ${p})`;
      }
    }
  }
  return null;
}

/**
 * What these tests count as learned must not depend on the machine's load:
 * on a busy machine a batch can wait past the default 250 ms and its readings
 * are then taken without learning (overload shedding, docs/guarantees.md,
 * tested in tests/service). An hour's wait keeps shedding out of these tests.
 */
const NEVER_SHED = ["--shed-after-ms", "3600000"];

/** The daemon's resident memory, KiB (ps). */
async function rssKiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

Deno.test({
  name:
    "serve: generated bad and borderline messages on every source leave the daemon alive, every forecast finite and every good reading learned",
  // the daemon's streams are checked at the end; the senders end their own connections
  fn: async () => {
    await withTempDir(async (dir) => {
      const d = await startDaemon({
        dataDir: `${dir}/data`,
        args: [
          "--max-streams",
          String(MAX_STREAMS),
          "--new-streams-per-minute",
          "100000",
          ...NEVER_SHED,
        ],
      });
      try {
        const plan = generateFuzz({ seed: SEED, count: COUNT, now: Date.now() });
        const tallies = Object.fromEntries(SOURCES.map((s) => [s, newTally()])) as Record<
          FuzzSource,
          Tally
        >;
        const started = performance.now();
        // the good and edge streams first, then everything at once, each source in order
        await Promise.all(SOURCES.map((s) => send(d, s, plan[s].setup, tallies[s])));
        await Promise.all(SOURCES.map((s) => send(d, s, plan[s].messages, tallies[s])));
        const seconds = (performance.now() - started) / 1000;
        console.log(
          `fuzz: ${
            SOURCES.map((s) => `${s} ${tallies[s].sent} (${(tallies[s].ms / 1000).toFixed(1)} s)`)
              .join(", ")
          } messages in ${seconds.toFixed(1)} s; daemon RSS ${
            Math.round((await rssKiB(d.pid)) / 1024)
          } MiB`,
        );
        for (const s of SOURCES) {
          console.log(`fuzz: ${s}: ${JSON.stringify(Object.fromEntries(tallies[s].byStatus))}`);
        }

        // alive, and every answer kept the contract
        const health = await fetch(`${d.http}/healthz`);
        await health.body?.cancel();
        assert.equal(health.status, 200, "the daemon answers /healthz");
        const broken = SOURCES.flatMap((s) => tallies[s].broken.map((b) => `${s}: ${b}`));
        assert.deepEqual(
          broken.slice(0, 10),
          [],
          `seed ${SEED}: ${broken.length} answers broke the contract (the first 10 shown)`,
        );

        // each good stream has exactly its good readings, and learned them
        await eventually(async () => {
          const s = await getJson(`${d.http}/v1/streams/${plan.mqtt.goodStream}`);
          return Number(s.readings) >= plan.mqtt.goodReadings ? s : undefined;
        }, "the MQTT good readings to arrive");
        for (const s of SOURCES) {
          const p: SourcePlan = plan[s];
          const sum = await getJson(`${d.http}/v1/streams/${p.goodStream}`);
          const what = `seed ${SEED}: ${p.goodStream}: ${JSON.stringify(sum).slice(0, 400)}`;
          assert.deepEqual(sum.columns, [GOOD_COLUMN], what);
          assert.equal(sum.readings, p.goodReadings, what);
          assert.equal(sum.learnedReadings, p.goodReadings, what);
          assert.equal(sum.lastReading, p.lastGoodTs, what);
          const f = await getJson<Parameters<typeof forecastProblem>[0]>(
            `${d.http}/v1/streams/${p.goodStream}/forecast`,
          );
          const calibrated = p.goodReadings >= CALIBRATED_AFTER;
          assert.equal(
            forecastProblem(f, calibrated),
            null,
            `${what}: forecast ${JSON.stringify(f)}`,
          );
        }

        // every stream: a sane number of values and a finite forecast
        const streams = await listStreams(d);
        assert.ok(streams.length <= MAX_STREAMS, `at most ${MAX_STREAMS} streams`);
        const bad: string[] = [];
        for (const s of streams) {
          const cols = s.columns as string[];
          if (cols.length > MAX_VALUES) bad.push(`${s.id}: ${cols.length} values`);
          const res = await fetch(`${d.http}/v1/streams/${s.id}/forecast`);
          const text = await res.text();
          if (res.status !== 200) {
            bad.push(`${s.id}: forecast ${res.status} ${text.slice(0, 200)}`);
            continue;
          }
          const problem = forecastProblem(JSON.parse(text), false);
          if (problem) bad.push(`${s.id} (${s.readings} readings): ${problem}`);
        }
        assert.deepEqual(bad, [], `seed ${SEED}: streams poisoned or too wide`);

        // nothing was logged as an error (a bug, not a bad message)
        const errors = d.log.filter((e) => e.level === "error").slice(0, 5);
        assert.deepEqual(errors, [], `seed ${SEED}: errors in the daemon's log`);
      } finally {
        assert.equal((await d.stop()).code, 0, "the daemon stops cleanly");
      }
    });
  },
});

Deno.test({
  name:
    "serve with API tokens: generated messages without a write token are refused and change nothing; with it the good readings are learned",
  fn: async () => {
    await withTempDir(async (dir) => {
      const write = createToken();
      const read = createToken();
      const d = await startDaemon({
        dataDir: `${dir}/data`,
        args: [
          "--api-token",
          `write:${hashToken(write)}`,
          "--api-token",
          `read:${hashToken(read)}`,
          ...NEVER_SHED,
        ],
      });
      try {
        const auth = (t: string) => ({ authorization: `Bearer ${t}` });
        const plan = generateFuzz({
          seed: SEED + 1,
          count: Math.max(40, Math.ceil(COUNT / 25)),
          now: Date.now(),
        });
        const metricsBefore = await (await fetch(`${d.http}/metrics`, { headers: auth(read) }))
          .text();
        const counters = (text: string) =>
          text.split("\n").filter((l) => /^forecastd_(readings|rejected_readings)_total/.test(l));

        const strangers: [string, Record<string, string>, number][] = [
          ["no token", {}, 401],
          ["a malformed token", { authorization: "Bearer x" }, 401],
          ["an unknown token", auth(createToken()), 401],
          ["a Basic header", { authorization: `Basic ${btoa(`user:${write}`)}` }, 401],
          ["the read token", auth(read), 403],
        ];
        for (const [who, headers, status] of strangers) {
          for (const src of ["http_all", "http_path"] as const) {
            const msgs = [...plan[src].setup, ...plan[src].messages];
            for (const m of msgs) {
              const path = src === "http_all" ? "/v1/readings" : m.target;
              const res = await fetch(`${d.http}${path}`, {
                method: "POST",
                headers: { "content-type": m.contentType ?? "application/json", ...headers },
                body: m.body,
              }).catch((e) => e as Error);
              if (res instanceof Error) {
                // a body over the limit may be cut off before it is read
                assert.ok(m.body.length > MAX_BODY_BYTES, `${who}, ${describe(m)}: ${res}`);
                continue;
              }
              const text = await res.text();
              // a path no route has is a 404 before the token is checked; nothing else
              if (res.status === 404 && !/^\/v1\/streams\/[^/]+\/readings$/.test(path)) continue;
              assert.ok(
                res.status === status || (res.status === 413 && m.body.length > MAX_BODY_BYTES),
                `${who}, ${describe(m)}: expected ${status}, got ${res.status}: ${
                  text.slice(0, 200)
                }`,
              );
            }
          }
          // the ingest WebSocket: the handshake is refused
          const wsUrl = `${d.http.replace("http:", "ws:")}/v1/ingest/ws`;
          const res = await fetch(wsUrl.replace("ws:", "http:"), {
            headers: { upgrade: "websocket", connection: "Upgrade", ...headers },
          });
          await res.body?.cancel();
          assert.equal(res.status, status, `${who}: the ingest WebSocket handshake`);
        }
        const hidden = await listStreams(d, auth(read));
        assert.deepEqual(hidden, [], "refused requests created no stream");
        const metricsAfter = await (await fetch(`${d.http}/metrics`, { headers: auth(read) }))
          .text();
        assert.deepEqual(counters(metricsAfter), counters(metricsBefore), "no reading counted");

        // the write token: the same messages are taken or refused as without tokens
        const tally = newTally();
        await sendHttp(d.http, plan.http_all.setup, "http_all", tally, auth(write));
        await sendHttp(d.http, plan.http_all.messages, "http_all", tally, auth(write));
        await sendWs(
          `${d.http.replace("http:", "ws:")}/v1/ingest/ws?token=${write}`,
          [...plan.ws.setup, ...plan.ws.messages],
          tally,
        );
        assert.deepEqual(tally.broken.slice(0, 20), [], `seed ${SEED + 1}: broken answers`);
        for (const src of ["http_all", "ws"] as const) {
          const p = plan[src];
          const res = await fetch(`${d.http}/v1/streams/${p.goodStream}`, { headers: auth(read) });
          const sum = await res.json();
          assert.equal(sum.readings, p.goodReadings, `${p.goodStream}: ${JSON.stringify(sum)}`);
          assert.equal(sum.learnedReadings, p.goodReadings, p.goodStream);
        }
      } finally {
        assert.equal((await d.stop()).code, 0, "the daemon stops cleanly");
      }
    });
  },
});
