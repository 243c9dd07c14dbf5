/**
 * Slow and dead subscribers of the real daemon: 200 clients that never read
 * (20 SSE and 20 WebSocket alert feeds replaying a long alert history, 140
 * MQTT subscribers of the embedded broker that stop reading and never
 * acknowledge, 5 of them fed until their connection is full, 20 webhooks
 * whose receiver never answers). The daemon keeps its memory within the
 * channels' bounds, drops each full one with a logged reason, and meanwhile
 * /healthz and a reading's ingest (HTTP and MQTT) answer within 200 ms and
 * healthy subscribers get a live alert.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { hashPassword } from "../../src/ingest/broker_users.ts";
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_BYTES,
} from "../../src/alerts/slow_client_guard.ts";
import { Store } from "../../src/store/store.ts";
import type { StoredAlert } from "../../src/domain/alert.ts";
import {
  batchPayload,
  type Daemon,
  eventually,
  spikeAt,
  sseClient,
  START,
  startDaemon,
  STEP,
  streamWithReadings,
  withTempDir,
  wsClient,
} from "./_daemon.ts";

/** Dead SSE feeds, WebSocket feeds and webhooks, each. */
const DEAD = 20;
/** Dead MQTT readers: 200 dead clients in all. */
const DEAD_MQTT = 200 - 3 * DEAD;
/**
 * Of them, the ones also reading a noisy topic, sent 16 MB each: what it
 * takes to fill a paused loopback connection (the kernel holds about 13 MB).
 */
const GREEDY = 5;
/** Alerts in the history the dead feeds replay. */
const STORED_ALERTS = 3000;
/** The longest a probe may take while the dead clients hang, ms. */
const MAX_LATENCY_MS = 200;
/** Probes of each kind; the slowest one of them is ignored (a scheduling hiccup of a busy machine). */
const PROBES = 20;

/** What an SSE or WebSocket client may have queued (src/alerts/slow_client_guard.ts), bytes. */
const FEED_MAX_BYTES = DEFAULT_MAX_QUEUED_BYTES;
/** How long its queue may stay non-empty, ms. */
const FEED_DRAIN_MS = DEFAULT_DRAIN_TIMEOUT_MS;

/** An alert of the stored history, about 2.4 KB as JSON. */
function storedAlert(i: number, now: number): Omit<StoredAlert, "id"> {
  // within the retention (30 days), which the daemon applies when it starts
  const ts = now - (STORED_ALERTS - i) * 1000;
  return {
    type: i % 2 === 0 ? "opened" : "resolved",
    stream: `history-${i % 10}`,
    ts,
    time: ts,
    since: ts,
    targets: { temperature: { value: 25, forecast: 21, lower: 20, upper: 22 } },
    score: 5,
    likelihood: 0.999,
    percentile: 0.99,
    unusual: { count: 3, of: 20, most: 2 },
    learning: false,
    state: i % 2 === 0 ? "open" : "resolved",
    message: `history alert ${i}: ${"the temperature left its interval ".repeat(64)}`,
  };
}

/** The daemon's resident memory, bytes (ps). */
async function rss(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) * 1024;
}

/** A TCP client that sends `request` and never reads a byte. */
async function deadHttpClient(base: string, request: (host: string) => string): Promise<Deno.Conn> {
  const url = new URL(base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  await conn.write(new TextEncoder().encode(request(url.host)));
  return conn;
}

const t00 = performance.now();
const step = (what: string) =>
  console.log(`${((performance.now() - t00) / 1000).toFixed(1)} s: ${what}`);

/** The p-th slowest of `ms` (1: the slowest). */
function slowest(ms: number[], p: number): number {
  return [...ms].sort((a, b) => b - a)[p - 1];
}

Deno.test({
  name:
    "serve: 200 subscribers that never read (SSE, WebSocket, MQTT, webhooks) stay bounded and are dropped with a reason while ingest and /healthz answer within 200 ms",
  fn: async () => {
    await withTempDir(async (dir) => {
      const data = `${dir}/data`;
      await Deno.mkdir(data);
      // a long alert history, for the dead feeds to replay
      const kv = await Deno.openKv(`${data}/forecastd.kv`);
      try {
        const store = new Store(kv);
        const now = Date.now();
        for (let i = 0; i < STORED_ALERTS; i++) await store.appendAlert(storedAlert(i, now));
      } finally {
        kv.close();
      }

      // a webhook receiver that takes every request and never answers
      const hanging: (() => void)[] = [];
      let hooked = 0;
      let answering = false;
      const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
        hooked++;
        if (answering) return new Response("late");
        return new Promise<Response>((resolve) =>
          hanging.push(() => resolve(new Response("late")))
        );
      });
      const hookBase = `http://127.0.0.1:${receiver.addr.port}`;

      const password = "subscribers-test";
      // a cheap hash: 160 clients connect (the cost of a real one is not what is tested here)
      const hash = await hashPassword(password, { N: 1024 });
      const users = {
        users: [
          { username: "device", password: hash },
          {
            username: "reader",
            password: hash,
            publish: [],
            read: ["forecastd/alerts/#", "sensors/noise/#"],
          },
        ],
      };
      const webhooks = Array.from(
        { length: DEAD },
        (_, i) => ["--webhook", `${hookBase}/hook/${i}`],
      )
        .flat();
      let d: Daemon | null = null;
      const conns: Deno.Conn[] = [];
      const clients: mqtt.MqttClient[] = [];
      try {
        d = await startDaemon({
          dataDir: data,
          args: webhooks,
          env: { FORECASTD_BROKER_USERS: JSON.stringify(users) },
        });
        const daemon = d;
        const mqttAs = async (username: string, opts: mqtt.IClientOptions = {}) => {
          const c = await mqtt.connectAsync(daemon.mqttUrl, {
            username,
            password,
            reconnectPeriod: 0,
            ...opts,
          });
          clients.push(c);
          return c;
        };
        const rssBefore = await rss(daemon.pid);

        // healthy subscribers, live only
        const sse = await sseClient(`${daemon.http}/v1/alerts/events`);
        const ws = await wsClient(`${daemon.http.replace("http:", "ws:")}/v1/alerts/ws`);
        const healthy = await mqttAs("device");
        const viaMqtt: Record<string, unknown>[] = [];
        healthy.on("message", (_t, p) => viaMqtt.push(JSON.parse(p.toString())));
        await healthy.subscribeAsync("forecastd/alerts/#", { qos: 1 });

        // the dead: feeds replaying the history, MQTT readers that stop reading and acking
        const after = "0000000000000000";
        await Promise.all(Array.from({ length: DEAD_MQTT }, async (_, i) => {
          const reader = await mqttAs("reader", { keepalive: 0, clientId: `dead-${i}` });
          const filters = ["forecastd/alerts/#", ...(i < GREEDY ? ["sensors/noise/#"] : [])];
          await reader.subscribeAsync(filters, { qos: 1 });
          (reader.stream as unknown as { pause(): void }).pause();
        }));
        step("dead clients connected");
        for (let i = 0; i < DEAD; i++) {
          conns.push(
            await deadHttpClient(
              daemon.http,
              (host) =>
                `GET /v1/alerts/events?after=${after} HTTP/1.1\r\nHost: ${host}\r\n` +
                "Accept: text/event-stream\r\n\r\n",
            ),
          );
          conns.push(
            await deadHttpClient(
              daemon.http,
              (host) =>
                `GET /v1/alerts/ws?after=${after} HTTP/1.1\r\nHost: ${host}\r\n` +
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
                `Sec-WebSocket-Key: ${btoa(String(i).padStart(16, "0"))}\r\n\r\n`,
            ),
          );
        }

        // traffic for the greedy MQTT readers: 16 MB of payloads the daemon refuses (not
        // JSON), QoS 1, 5 at a time (the last ones wait for the drops)
        const device = await mqttAs("device");
        const junk = "x".repeat(40_000);
        for (let i = 0; i < 400; i += 20) {
          await Promise.all(
            Array.from(
              { length: 20 },
              () => device.publishAsync(`sensors/noise/value`, junk, { qos: 1 }),
            ),
          );
        }
        step("noise sent");
        // (the greedy ones are dropped below; the other dead readers hang on through the probes)
        await eventually(
          () =>
            daemon.log.filter((e) => e.event === "broker.client_too_slow").length >= GREEDY
              ? true
              : undefined,
          `the ${GREEDY} greedy MQTT readers to be dropped`,
          30_000,
        ).catch(() => {});
        // the burst of 80 MB to them settles (the probes measure the hanging, not the burst)
        await new Promise((r) => setTimeout(r, 2000));

        // probes while all of them hang
        const probeDevice = await mqttAs("device");
        const health: number[] = [];
        const httpIngest: number[] = [];
        const mqttIngest: number[] = [];
        for (let i = 0; i < PROBES; i++) {
          let t0 = performance.now();
          const h = await fetch(`${daemon.http}/healthz`);
          await h.body?.cancel();
          assert.equal(h.status, 200);
          health.push(performance.now() - t0);
          t0 = performance.now();
          const r = await fetch(`${daemon.http}/v1/streams/probe-http/readings`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ ts: START + i * STEP, value: 20 + i / 10 }),
          });
          assert.equal(r.status, 200, await r.text());
          httpIngest.push(performance.now() - t0);
          t0 = performance.now();
          await probeDevice.publishAsync(
            "sensors/probe-mqtt/value",
            JSON.stringify({ ts: START + i * STEP, value: 20 + i / 10 }),
            { qos: 1 },
          );
          await streamWithReadings(daemon, "probe-mqtt", i + 1);
          mqttIngest.push(performance.now() - t0);
        }
        const shown = (ms: number[]) =>
          `max ${slowest(ms, 1).toFixed(0)} ms, 2nd ${slowest(ms, 2).toFixed(0)} ms`;
        console.log(
          `probes: /healthz ${shown(health)}; HTTP reading ${shown(httpIngest)}; MQTT reading ${
            shown(mqttIngest)
          }`,
        );
        assert.ok(slowest(health, 2) < MAX_LATENCY_MS, `/healthz: ${shown(health)}`);
        assert.ok(slowest(httpIngest, 2) < MAX_LATENCY_MS, `HTTP reading: ${shown(httpIngest)}`);
        assert.ok(slowest(mqttIngest, 2) < MAX_LATENCY_MS, `MQTT reading: ${shown(mqttIngest)}`);

        step("probes done");
        // a live alert reaches the healthy subscribers (and the hanging webhooks)
        const body = (from: number, to: number, offset?: (i: number) => number) =>
          fetch(`${daemon.http}/v1/streams/attic/readings`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: batchPayload(from, to, offset),
          }).then(async (r) => assert.equal(r.status, 200, await r.text()));
        await body(0, 576);
        for (let i = 576; i < 640; i++) await body(i, i + 1, spikeAt(600));
        const opened = (a: Record<string, unknown>) => a.type === "opened" && a.stream === "attic";
        await eventually(() => sse.events.find((e) => opened(e.data)), "the alert on SSE");
        await eventually(() => ws.messages.find(opened), "the alert on the WebSocket");
        await eventually(() => viaMqtt.find(opened), "the alert on MQTT");
        await eventually(() => hooked >= DEAD ? true : undefined, "every webhook to be called");

        step("alert delivered");
        // each dead client is dropped with a reason (all four waited for at once)
        type Entry = { event: string; error?: unknown; reason?: unknown; queued?: unknown };
        const count = (pred: (e: Entry) => boolean) => daemon.log.filter(pred).length;
        const drops: [string, number, (e: Entry) => boolean][] = [
          ["dead SSE clients", DEAD, (e) => e.event === "sse.client_too_slow"],
          ["dead WebSocket clients", DEAD, (e) => e.event === "ws.client_too_slow"],
          ["dead MQTT readers of the noise", GREEDY, (e) => e.event === "broker.client_too_slow"],
          [
            "hanging webhook requests",
            DEAD,
            (e) => e.event === "webhook.retrying" && String(e.error).startsWith("no answer within"),
          ],
        ];
        const missing = (await Promise.all(drops.map(async ([what, n, pred]) => {
          try {
            await eventually(() => count(pred) >= n ? true : undefined, what, 30_000);
            return null;
          } catch {
            return `${count(pred)} of the ${n} ${what} were dropped with a reason`;
          }
        }))).filter((x) => x !== null);
        step("drops waited for");
        // the memory they held stays within the channels' bounds
        const rssAfter = await rss(daemon.pid);
        const bound = DEAD * 2 * FEED_MAX_BYTES + 200 * 1024 * 1024;
        console.log(
          `rss: ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${
            (rssAfter / 2 ** 20).toFixed(0)
          } MiB with the dead clients (bound of the growth ${(bound / 2 ** 20).toFixed(0)} MiB)`,
        );
        if (rssAfter - rssBefore >= bound) {
          missing.push(
            `RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB (bound ${
              (bound / 2 ** 20).toFixed(0)
            } MiB)`,
          );
        }
        assert.deepEqual(missing, [], "dead subscribers kept or memory unbounded");
        // the SSE and WebSocket ones: exactly the dead, each for its queue that never emptied
        // (the replay goes at the reader's pace, so it never reaches the byte limit)
        for (const event of ["sse.client_too_slow", "ws.client_too_slow"]) {
          const seen = daemon.log.filter((e) => e.event === event).map((e) => ({
            reason: e.reason,
            limit: e.limit,
            timeoutMs: e.timeoutMs,
            queuedWithinLimit: typeof e.queued === "number" && e.queued > 0 &&
              e.queued <= FEED_MAX_BYTES,
          }));
          assert.deepEqual(
            seen,
            Array(DEAD).fill({
              reason: "undrained",
              limit: FEED_MAX_BYTES,
              timeoutMs: FEED_DRAIN_MS,
              queuedWithinLimit: true,
            }),
            `${event}: the ${DEAD} dead clients, each once, with the reason`,
          );
        }

        const errors = daemon.log.filter((e) => e.level === "error").slice(0, 5);
        assert.deepEqual(errors, [], "errors in the daemon's log");

        await sse.close();
        await ws.close();
      } finally {
        for (const c of conns) {
          try {
            c.close();
          } catch { /* closed by the daemon */ }
        }
        for (const c of clients) c.end(true);
        step("stopping");
        if (d) assert.equal((await d.stop()).code, 0, "the daemon stops cleanly");
        step("stopped");
        answering = true;
        for (const h of hanging) h();
        await receiver.shutdown();
      }
    });
  },
});
