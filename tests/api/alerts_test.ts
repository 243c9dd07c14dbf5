/**
 * Alerts through the API: the history and its filters, acknowledgement, the
 * SSE and WebSocket feeds (format, filters, resume with Last-Event-ID, the
 * heartbeat, cleanup, clients that do not read), and an injected fault in a
 * real stream that reaches SSE, the alerts WebSocket and a real webhook
 * receiver.
 */
import assert from "node:assert/strict";
import { startWebhooks } from "../../src/alerts/webhook.ts";
import type { AlertSubscriber } from "../../src/alerts/alert_source.ts";
import { alertRoutes } from "../../src/api/alerts.ts";
import { createRouter } from "../../src/api/router.ts";
import { captureLog } from "../../src/log.ts";
import type { StoredAlert } from "../../src/domain/alert.ts";
import { storedAlert } from "../_helpers.ts";
import {
  type Daemon,
  FIVE_MIN,
  json,
  serve,
  sineReadings,
  SseReader,
  startDaemon,
  until,
  within,
  WsClient,
} from "./_harness.ts";

const T = Date.UTC(2025, 5, 1, 12);

/** Stores an alert and fans it out, as the service does with an engine alert. */
async function raise(d: Daemon, stream: string, extra: Record<string, unknown> = {}) {
  const { id: _, ...input } = storedAlert({ id: "", stream, time: T, ...extra });
  // the store keeps what it is given and adds the id, as for the service's alerts
  const stored = await d.store.appendAlert(input) as unknown as StoredAlert;
  d.service.hub.publish(stored, (e) => {
    throw e;
  });
  return stored;
}

/** Opens an SSE connection; its reader. */
async function sse(base: string, query = "", headers: HeadersInit = {}): Promise<SseReader> {
  const res = await fetch(`http://${base}/v1/alerts/events${query}`, { headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-cache");
  return new SseReader(res.body!);
}

Deno.test("GET /v1/alerts filters by stream, state, time and id, pages both ways; ack marks one acknowledged", async () => {
  const d = await startDaemon();
  try {
    for (const id of ["a", "b"]) {
      await (await d.request("PUT", `/v1/streams/${id}`, { columns: ["v"] })).body?.cancel();
    }
    const streams = ["a", "b", "a", "b", "a"];
    for (const [i, stream] of streams.entries()) {
      await d.store.appendAlert({ stream, time: T + i * 60_000, type: "opened" });
    }
    const ids = (r: { body: { alerts: StoredAlert[] } }) => r.body.alerts.map((a) => Number(a.id));

    let r = await json(await d.request("GET", "/v1/alerts"));
    assert.equal(r.status, 200);
    assert.deepEqual(ids(r), [1, 2, 3, 4, 5]);
    assert.equal(r.body.next, null);
    assert.match(r.body.alerts[0].id, /^\d{16}$/);

    r = await json(await d.request("GET", "/v1/alerts?stream=a"));
    assert.deepEqual(ids(r), [1, 3, 5]);
    const since = new Date(T + 60_000).toISOString();
    r = await json(await d.request("GET", `/v1/alerts?since=${since}&until=${T + 4 * 60_000}`));
    assert.deepEqual(ids(r), [2, 3, 4], "since (ISO) inclusive, until (ms) exclusive");

    r = await json(await d.request("GET", "/v1/alerts?limit=2"));
    assert.deepEqual(ids(r), [1, 2]);
    assert.equal(r.body.next, "0000000000000002");
    r = await json(await d.request("GET", `/v1/alerts?limit=2&after=${r.body.next}`));
    assert.deepEqual(ids(r), [3, 4]);
    r = await json(await d.request("GET", "/v1/alerts?order=desc&limit=2"));
    assert.deepEqual(ids(r), [5, 4]);
    r = await json(await d.request("GET", `/v1/alerts?order=desc&limit=2&before=${r.body.next}`));
    assert.deepEqual(ids(r), [3, 2]);

    r = await json(await d.request("GET", "/v1/streams/b/anomalies?order=desc"));
    assert.equal(r.status, 200);
    assert.deepEqual(ids(r), [4, 2]);
    r = await json(await d.request("GET", "/v1/streams/b/anomalies?stream=a"));
    assert.equal(r.status, 400, "a stream's anomalies take no 'stream' filter");

    r = await json(await d.request("POST", "/v1/alerts/3/ack"));
    assert.equal(r.status, 200);
    assert.equal(r.body.id, "0000000000000003");
    assert.equal(r.body.state, "acknowledged");
    assert.equal(typeof r.body.acknowledgedAt, "number");
    r = await json(await d.request("GET", "/v1/alerts?state=acknowledged"));
    assert.deepEqual(ids(r), [3]);
    r = await json(await d.request("GET", "/v1/alerts?state=open"));
    assert.deepEqual(ids(r), [1, 2, 4, 5]);

    r = await json(await d.request("POST", "/v1/alerts/99/ack"));
    assert.equal(r.status, 404);
    assert.ok(r.body.error.includes('"0000000000000099" is unknown'), r.body.error);
    r = await json(await d.request("GET", "/v1/alerts?after=x1&limit=5000"));
    assert.equal(r.status, 400);
    assert.ok(r.body.error.includes("'after' must be an alert id"), r.body.error);
    assert.ok(r.body.error.includes("'limit' must be an integer from 1 to 1000"), r.body.error);
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/alerts/{id} answers one alert; a second ack keeps the first acknowledgedAt", async () => {
  const d = await startDaemon();
  try {
    await d.store.appendAlert({ stream: "a", time: T, type: "opened", state: "open" });
    let r = await json(await d.request("GET", "/v1/alerts/1"));
    assert.equal(r.status, 200);
    assert.deepEqual(
      [r.body.id, r.body.stream, r.body.state, r.body.acknowledgedAt],
      ["0000000000000001", "a", "open", undefined],
    );
    assert.deepEqual(
      (await json(await d.request("GET", "/v1/alerts/0000000000000001"))).body,
      r.body,
    );

    const first = await json(await d.request("POST", "/v1/alerts/1/ack"));
    assert.equal(first.status, 200);
    assert.equal(typeof first.body.acknowledgedAt, "number");
    await new Promise((resolve) => setTimeout(resolve, 5)); // the service's clock (Date.now) moves on
    const second = await json(await d.request("POST", "/v1/alerts/1/ack"));
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body, "the second acknowledgement changes nothing");
    r = await json(await d.request("GET", "/v1/alerts/1"));
    assert.deepEqual(r.body, first.body, "GET shows the acknowledgement");

    r = await json(await d.request("GET", "/v1/alerts/42"));
    assert.deepEqual([r.status, r.body], [404, {
      error: 'Cannot get alert: id must exist: "0000000000000042" is unknown',
    }]);
    r = await json(await d.request("GET", "/v1/alerts/latest"));
    assert.deepEqual([r.status, r.body], [400, {
      error: "Cannot get alert: 'id' must be an alert id of 1-16 decimal digits: current value " +
        'is "latest"',
    }]);
    const feed = await d.request("GET", "/v1/alerts/ws");
    assert.equal(feed.status, 426, "/ws is still the WebSocket feed, not an id");
    await feed.body?.cancel();
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/alerts?state= takes open, acknowledged or resolved; anything else is a 400 naming them", async () => {
  const d = await startDaemon();
  try {
    await d.store.appendAlert({ stream: "a", time: T, type: "opened", state: "open" });
    await d.store.appendAlert({ stream: "a", time: T + 1, type: "resolved", state: "resolved" });
    for (const [state, ids] of [["open", [1]], ["resolved", [2]], ["acknowledged", []]] as const) {
      const r = await json(await d.request("GET", `/v1/alerts?state=${state}`));
      assert.equal(r.status, 200, state);
      assert.deepEqual(r.body.alerts.map((a: StoredAlert) => Number(a.id)), ids, state);
    }
    const cases: [string, string][] = [
      [
        "bogus",
        `Cannot list alerts: 'state' must be one of open, acknowledged, resolved: current value ` +
        `is "bogus"`,
      ],
      [
        "opened",
        "Cannot list alerts: 'state' must be one of open, acknowledged, resolved (opened is a " +
        "type of alert event, not a state: an opened event is open until it is acknowledged; " +
        `resolved and new_normal events are resolved): current value is "opened"`,
      ],
      [
        "OPEN",
        `Cannot list alerts: 'state' must be one of open, acknowledged, resolved: ` +
        `current value is "OPEN"`,
      ],
    ];
    for (const [state, error] of cases) {
      const r = await json(await d.request("GET", `/v1/alerts?state=${state}`));
      assert.deepEqual([r.status, r.body], [400, { error }], state);
    }
    const r = await json(await d.request("GET", "/v1/streams/a/anomalies?state=new_normal"));
    assert.equal(r.status, 400, "a stream's anomalies check the state too");
    assert.ok(
      r.body.error.startsWith("Cannot list anomalies: 'state' must be one of"),
      r.body.error,
    );
    const twice = await json(await d.request("GET", "/v1/alerts?state=open&state=resolved"));
    assert.equal(twice.status, 400);
    assert.ok(twice.body.error.includes("'state' must be given once"), twice.body.error);
  } finally {
    await d.close();
  }
});

Deno.test("SSE sends each alert as id/event/data, filtered by stream; Last-Event-ID resumes with exactly the missed ones", async () => {
  const d = await startDaemon({ heartbeatMs: 20 });
  const server = await serve(d.app);
  try {
    const first = await sse(server.base, "?stream=a,b");
    await until(() => d.service.subscribers === 1, 2000, "the SSE client to subscribe");
    const a1 = await raise(d, "a");
    const a2 = await raise(d, "a", { message: "two\nlines" });
    await raise(d, "c"); // filtered out
    const b4 = await raise(d, "b");

    const got = await first.events(3);
    assert.deepEqual(got.map((f) => f.id), [a1.id, a2.id, b4.id]);
    for (const f of got) {
      assert.equal(f.event, "alert");
      const data = JSON.parse(f.data!);
      assert.equal(data.id, f.id, "the event id is the alert id");
    }
    assert.deepEqual(JSON.parse(got[1].data!), a2, "data is the stored alert (newlines escaped)");
    // the heartbeat: a comment every heartbeatMs
    let frame = await within(first.next(), 2000, "a heartbeat");
    while (frame && !frame.comments.includes("ping")) frame = await first.next();
    assert.ok(frame, "a ping comment arrived");
    await first.cancel();
    await until(
      () => d.service.subscribers === 0,
      2000,
      "the SSE subscription to end with the client",
    );

    // missed while disconnected: a5, c6 (filtered), b7
    const a5 = await raise(d, "a");
    await raise(d, "c");
    const b7 = await raise(d, "b");
    const again = await sse(server.base, "?stream=a,b&after=0000000000000001", {
      "last-event-id": a2.id, // wins over ?after
    });
    const replayed = await again.events(3);
    assert.deepEqual(replayed.map((f) => f.id), [b4.id, a5.id, b7.id]);
    await until(() => d.service.subscribers === 1, 2000, "the resumed client to go live");
    const a8 = await raise(d, "a");
    const b9 = await raise(d, "b");
    assert.deepEqual(
      (await again.events(2)).map((f) => f.id),
      [a8.id, b9.id],
      "then live, no repeats",
    );

    const fromQuery = await sse(server.base, `?after=${b7.id}`);
    assert.deepEqual(
      (await fromQuery.events(2)).map((f) => f.id),
      [a8.id, b9.id],
      "?after= resumes too",
    );

    const bad = await fetch(`http://${server.base}/v1/alerts/events`, {
      headers: { "last-event-id": "yesterday" },
    });
    assert.equal(bad.status, 400);
    assert.equal(
      (await bad.json()).error,
      "Cannot open alert stream: the Last-Event-ID header must be an alert id of 1-16 decimal " +
        'digits: current value is "yesterday"',
      "the message names the header",
    );

    await again.cancel();
    await fromQuery.cancel();
    await until(() => d.service.subscribers === 0, 2000, "every SSE subscription to end");
  } finally {
    await server.close();
    await d.close();
  }
});

Deno.test("the shutdown signal ends live SSE streams so the server can shut down", async () => {
  const d = await startDaemon();
  const server = await serve(d.app);
  const reader = await sse(server.base);
  await until(() => d.service.subscribers === 1, 2000, "the SSE client to subscribe");
  d.shutdown.abort();
  const closing = server.close();
  let frame = await within(reader.next(), 2000, "the SSE stream to end");
  while (frame !== null) frame = await within(reader.next(), 2000, "the SSE stream to end");
  await within(closing, 2000, "server.shutdown()");
  assert.equal(d.service.subscribers, 0);
  await d.close();
});

Deno.test("the alerts WebSocket sends each alert as JSON, filtered by stream, resuming with ?after=", async () => {
  const d = await startDaemon();
  const server = await serve(d.app);
  const live = new WsClient(`ws://${server.base}/v1/alerts/ws?stream=a`);
  let resumed: WsClient | undefined;
  try {
    await live.opened;
    await until(() => d.service.subscribers === 1, 2000, "the WebSocket client to subscribe");
    const a1 = await raise(d, "a");
    await raise(d, "b");
    const a3 = await raise(d, "a");
    assert.deepEqual(await live.next(), a1);
    assert.deepEqual(await live.next(), a3);

    resumed = new WsClient(`ws://${server.base}/v1/alerts/ws?after=${a1.id}`);
    await resumed.opened;
    assert.deepEqual((await resumed.next()).id, "0000000000000002");
    assert.deepEqual(await resumed.next(), a3);
    await until(() => d.service.subscribers === 2, 2000, "the resumed client to go live");
    const b4 = await raise(d, "b");
    assert.deepEqual(await resumed.next(), b4);
    assert.equal(live.pending, 0, "stream a's client got nothing of b");

    await live.close();
    await resumed.close();
    await until(() => d.service.subscribers === 0, 2000, "the WebSocket subscriptions to end");
  } finally {
    await live.close();
    await resumed?.close();
    await server.close();
    await d.close();
  }
});

Deno.test("an injected fault raises an alert that reaches SSE, the alerts WebSocket and a webhook (retried, signed)", async () => {
  const d = await startDaemon();
  const server = await serve(d.app);
  const secret = "webhook-secret";

  // the receiver: fails the first attempt with 500, then checks the HMAC itself
  const deliveries: { attempt: string | null; id: string | null; body: string; valid: boolean }[] =
    [];
  const other: string[] = [];
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    if (new URL(req.url).pathname === "/other") {
      other.push(body);
      return new Response(null, { status: 204 });
    }
    const sig = req.headers.get("x-forecastd-signature") ?? "";
    const hex = sig.replace(/^sha256=/, "");
    const mac = new Uint8Array(hex.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
    const valid = sig.startsWith("sha256=") && hex.length === 64 &&
      await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(body));
    deliveries.push({
      attempt: req.headers.get("x-forecastd-attempt"),
      id: req.headers.get("x-forecastd-event-id"),
      body,
      valid: valid && req.headers.get("content-type") === "application/json",
    });
    return new Response(null, { status: deliveries.length === 1 ? 500 : 204 });
  });
  const hooks = startWebhooks(
    d.service,
    [
      { url: `http://127.0.0.1:${receiver.addr.port}/hook`, secret, streams: ["fault"] },
      { url: `http://127.0.0.1:${receiver.addr.port}/other`, secret: null, streams: ["quiet"] },
    ],
    d.log.log,
    { baseDelayMs: 10, attempts: 4 },
  );

  const events = await sse(server.base, "?stream=fault");
  const ws = new WsClient(`ws://${server.base}/v1/alerts/ws?stream=fault`);
  try {
    await ws.opened;
    await until(
      () => d.service.subscribers === 4,
      2000,
      "SSE, WebSocket and 2 webhooks to subscribe",
    );

    // a smooth sine every 5 minutes, past the default preset's 288-reading warm-up, then +40 for 10
    const t0 = Date.now() - 420 * FIVE_MIN;
    const normal = await d.service.ingest(sineReadings("fault", t0, 0, 400), "mqtt");
    assert.equal(normal.accepted, 400);
    assert.equal(d.service.summary("fault").state, "learning", "warmed up, no alert yet");
    assert.equal(d.service.counters.alertsStored, 0);
    await d.service.ingest(
      sineReadings("fault", t0, 400, 410, { faultAt: 400, spike: 40 }),
      "mqtt",
    );
    await d.service.flushAlerts();

    const [frame] = await events.events(1);
    const alert = JSON.parse(frame.data!);
    assert.equal(frame.id, alert.id);
    assert.match(alert.id, /^\d{16}$/);
    assert.equal(alert.stream, "fault");
    assert.equal(alert.type, "opened");
    assert.equal(alert.state, "open");
    assert.ok(alert.ts >= t0 + 400 * FIVE_MIN, "raised by a faulty reading");
    assert.ok(alert.since >= t0 + 400 * FIVE_MIN, "the anomaly began with the fault");
    assert.ok(alert.targets.v.value > 50, `the reading in the alert: ${alert.targets.v.value}`);
    assert.ok(Math.abs(alert.targets.v.forecast - 20) < 5, "the forecast was of the normal level");
    assert.equal(typeof alert.message, "string");

    assert.deepEqual(await ws.next(), alert, "the WebSocket got the same alert");

    await until(() => deliveries.length >= 2, 5000, "the webhook's retry");
    await hooks.senders[0].idle();
    const [failed, retried] = deliveries;
    assert.equal(failed.attempt, "1");
    assert.equal(retried.attempt, "2");
    assert.equal(retried.id, alert.id, "X-Forecastd-Event-Id is the alert id");
    assert.ok(failed.valid && retried.valid, "signed with HMAC-SHA256 of the body");
    assert.deepEqual(JSON.parse(retried.body), alert);
    assert.equal(hooks.senders[0].counters.delivered, deliveries.length - 1);
    assert.equal(hooks.senders[0].counters.retries, 1);
    assert.deepEqual(other, [], "a webhook of another stream got nothing");

    const history = await json(await d.request("GET", "/v1/streams/fault/anomalies"));
    assert.equal(history.body.alerts[0].id, alert.id);
    assert.equal(d.service.summary("fault").state, "anomaly");

    // a client that was away replays it
    const late = new WsClient(`ws://${server.base}/v1/alerts/ws?after=0`);
    await late.opened;
    assert.deepEqual(await late.next(), alert);
    await late.close();
  } finally {
    await hooks.close();
    await ws.close();
    await events.cancel();
    await server.close();
    await receiver.shutdown();
    await d.close();
  }
});

/** Opens a TCP connection, sends `request`, and never reads (until `drain()`). */
async function deadClient(base: string, request: string) {
  const [hostname, port] = base.split(":");
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new TextEncoder().encode(request.replaceAll("\n", "\r\n")));
  return {
    /** Reads what the server sent until it closed the connection; the bytes read. */
    async drain(ms: number): Promise<number> {
      let bytes = 0;
      const buf = new Uint8Array(1 << 16);
      const read = (async () => {
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) bytes += n;
      })();
      await within(read, ms, "the server to close the connection");
      return bytes;
    },
    close() {
      try {
        conn.close();
      } catch { /* closed */ }
    },
  };
}

Deno.test("SSE and WebSocket clients that do not read are dropped with the reason; readers get the whole history", async () => {
  // 200 alerts of about 50 KB: 10 MB per client, more than the kernel's socket buffers hold
  const history = Array.from({ length: 200 }, (_, i) =>
    storedAlert({
      id: String(i + 1).padStart(16, "0"),
      time: T + i,
      message: `alert ${i}: ${"x".repeat(50_000)}`,
    }));
  const subs = new Set<AlertSubscriber>();
  const alerts = {
    subscribe(sub: AlertSubscriber) {
      subs.add(sub);
      return () => subs.delete(sub);
    },
    get subscribers() {
      return subs.size;
    },
    listAlerts(f: { after?: string; limit?: number }) {
      const after = f.after ?? "";
      return Promise.resolve(history.filter((a) => a.id > after).slice(0, f.limit ?? 100));
    },
    alert: () => Promise.reject(new Error("not used")),
    acknowledge: () => Promise.reject(new Error("not used")),
  };
  const captured = captureLog("info");
  const shutdown = new AbortController();
  const app = createRouter();
  const maxBytes = 256 * 1024;
  app.route(
    "/v1/alerts",
    alertRoutes({
      alerts,
      log: captured.log,
      signal: shutdown.signal,
      slowClients: { maxBytes, drainTimeoutMs: 1000 },
      closeGraceMs: 200,
    }),
  );
  const server = await serve(app);
  const after = "0000000000000000";
  const deadSse = await deadClient(
    server.base,
    `GET /v1/alerts/events?after=${after} HTTP/1.1\nHost: ${server.base}\n\n`,
  );
  const deadWs = await deadClient(
    server.base,
    `GET /v1/alerts/ws?after=${after} HTTP/1.1\nHost: ${server.base}\nUpgrade: websocket\n` +
      "Connection: Upgrade\nSec-WebSocket-Version: 13\n" +
      `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}\n\n`,
  );
  const ws = new WsClient(`ws://${server.base}/v1/alerts/ws?after=${after}`);
  const sseRes = await fetch(`http://${server.base}/v1/alerts/events?after=${after}`);
  const events = new SseReader(sseRes.body!);
  try {
    // readers get all of it, in order, at their pace (their queue never reaches the limit)
    const viaSse = await events.events(history.length, 10_000);
    assert.deepEqual(viaSse.map((e) => e.id), history.map((a) => a.id));
    for (const a of history) assert.equal((await ws.next(10_000)).id, a.id);

    // the two that do not read are dropped once their queue stayed full for the timeout
    const tooSlow = () =>
      captured.entries().filter((e) => e.event.endsWith(".client_too_slow"))
        .map(({ event, reason, limit, timeoutMs }) => ({ event, reason, limit, timeoutMs }))
        .sort((a, b) => a.event.localeCompare(b.event));
    await until(() => tooSlow().length >= 2, 15_000, "the two dead clients to be dropped");
    assert.deepEqual(tooSlow(), [
      { event: "sse.client_too_slow", reason: "undrained", limit: maxBytes, timeoutMs: 1000 },
      { event: "ws.client_too_slow", reason: "undrained", limit: maxBytes, timeoutMs: 1000 },
    ]);
    for (const e of captured.entries().filter((e) => e.event.endsWith(".client_too_slow"))) {
      assert.ok(
        (e.queued as number) > 0 && (e.queued as number) <= maxBytes,
        `queued ${e.queued} bytes when dropped, at most the limit`,
      );
    }
    await until(() => subs.size === 2, 5000, "the dead clients' subscriptions to end");
    // their connections are cut: what the kernel held is read, then the end, well before 200 alerts
    const sizes = [await deadSse.drain(10_000), await deadWs.drain(10_000)];
    const all = history.reduce((n, a) => n + JSON.stringify(a).length, 0);
    for (const size of sizes) assert.ok(size < all, `a dead client got ${size} of ${all} bytes`);
  } finally {
    deadSse.close();
    deadWs.close();
    await events.cancel();
    await ws.close();
    shutdown.abort();
    await server.close();
  }
  assert.equal(subs.size, 0);
});
