/**
 * Ingest over HTTP and WebSocket, end to end: the conformance table of
 * tests/ingest/cases.ts run against each route (what the engine received, or
 * the rejection the client was told), then what the routes add: replies to
 * every WebSocket message, per-reading rejections, status codes, limits and
 * reject counters.
 */
import assert from "node:assert/strict";
import { assertOutcome, INGEST_CASES, type IngestCase, type Outcome } from "../ingest/cases.ts";
import { type Daemon, json, serve, startDaemon, until, within, WsClient } from "./_harness.ts";

/** The readings the engine received since `mark` (an index into d.ingested). */
function since(d: Daemon, mark: number) {
  return d.ingested.slice(mark);
}

/** Runs every case written for `form` through `send`, checking each outcome. */
async function conformance(
  d: Daemon,
  form: "http" | "ws",
  source: "http" | "ws",
  send: (c: IngestCase) => Promise<{ outcome: Outcome; accepted?: number; rejected?: number }>,
): Promise<number> {
  let ran = 0;
  for (const c of INGEST_CASES) {
    if (form === "http" ? !c.http : c.ws === undefined) continue;
    const rejectsBefore = { ...d.service.rejects() };
    const before = Date.now();
    const { outcome, accepted, rejected } = await send(c);
    const after = Date.now();
    assertOutcome(c, source, outcome, [before, after]);
    if ("readings" in c.expect) {
      // the service may still refuse a reading (c08's second has other columns): counted, not lost
      assert.equal(
        (accepted ?? 0) + (rejected ?? 0),
        c.expect.readings.length,
        `${c.name} (${source}): accepted + rejected`,
      );
    } else {
      const reason = c.expect.reason;
      assert.equal(
        d.service.rejects()[reason],
        (rejectsBefore[reason] ?? 0) + 1,
        `${c.name} (${source}): the ${reason} counter went up by one`,
      );
    }
    ran++;
  }
  return ran;
}

/** The outcome of an HTTP ingest response. */
async function httpOutcome(d: Daemon, res: Response, mark: number) {
  const r = await json(res);
  if (r.status === 400) {
    assert.equal(typeof r.body.error, "string");
    assert.deepEqual(Object.keys(r.body).sort(), ["error", "field", "reason"]);
    return { outcome: { ok: false as const, reason: r.body.reason, message: r.body.error } };
  }
  assert.ok(r.status === 200 || r.status === 422, `status ${r.status}: ${JSON.stringify(r.body)}`);
  return {
    outcome: { ok: true as const, readings: since(d, mark) },
    accepted: r.body.accepted as number,
    rejected: (r.body.rejected as unknown[]).length,
  };
}

Deno.test("POST /v1/streams/{id}/readings passes every HTTP case of the ingest conformance table", async () => {
  const d = await startDaemon();
  try {
    const ran = await conformance(d, "http", "http", async (c) => {
      const mark = d.ingested.length;
      const res = await d.app.request(
        `/v1/streams/${encodeURIComponent(c.http!.stream)}/readings`,
        { method: "POST", headers: { "content-type": "application/json" }, body: c.http!.body },
      );
      return await httpOutcome(d, res, mark);
    });
    assert.equal(ran, INGEST_CASES.filter((c) => c.http).length);
    assert.ok(ran >= 25, `ran ${ran} cases`);
  } finally {
    await d.close();
  }
});

Deno.test("POST /v1/readings passes every WebSocket-form case of the ingest conformance table", async () => {
  const d = await startDaemon();
  try {
    const ran = await conformance(d, "ws", "ws", async (c) => {
      const mark = d.ingested.length;
      const res = await d.app.request("/v1/readings", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: c.ws!,
      });
      return await httpOutcome(d, res, mark);
    });
    assert.equal(ran, INGEST_CASES.filter((c) => c.ws !== undefined).length);
  } finally {
    await d.close();
  }
});

Deno.test("GET /v1/ingest/ws passes every WebSocket case of the ingest conformance table, one reply per message", async () => {
  const d = await startDaemon();
  const server = await serve(d.app);
  const ws = new WsClient(`ws://${server.base}/v1/ingest/ws`);
  try {
    await ws.opened;
    const ran = await conformance(d, "ws", "ws", async (c) => {
      const mark = d.ingested.length;
      const reply = await ws.ask(c.ws!);
      if (reply.ok === true) {
        assert.deepEqual(Object.keys(reply).sort(), ["accepted", "ok"]);
        return { outcome: { ok: true, readings: since(d, mark) }, accepted: reply.accepted };
      }
      assert.equal(typeof reply.reason, "string", JSON.stringify(reply));
      assert.equal(typeof reply.error, "string", JSON.stringify(reply));
      if (reply.accepted === undefined) {
        // rejected by the parser: nothing reached the engine
        assert.equal(d.ingested.length, mark);
        return { outcome: { ok: false, reason: reply.reason, message: reply.error } };
      }
      // parsed, then some readings refused by the service
      return {
        outcome: { ok: true, readings: since(d, mark) },
        accepted: reply.accepted,
        rejected: reply.rejected.length,
      };
    });
    assert.equal(ran, INGEST_CASES.filter((c) => c.ws !== undefined).length);
    assert.equal(ws.pending, 0, "exactly one reply per message");
  } finally {
    await ws.close();
    await server.close();
    await d.close();
  }
});

Deno.test("the ingest WebSocket names per-reading rejections from the service, takes binary frames and limits size", async () => {
  const d = await startDaemon({ maxBodyBytes: 2000 });
  const server = await serve(d.app, { maxMessageBytes: 2000 });
  const ws = new WsClient(`ws://${server.base}/v1/ingest/ws`);
  try {
    await ws.opened;
    const t = Date.UTC(2025, 5, 1, 11);
    assert.deepEqual(await ws.ask(JSON.stringify({ stream: "s", ts: t, values: { a: 1 } })), {
      ok: true,
      accepted: 1,
    });

    let reply = await ws.ask(JSON.stringify({ stream: "s", ts: t + 1000, values: { b: 2 } }));
    assert.equal(reply.ok, false);
    assert.equal(reply.reason, "missing_value");
    assert.equal(reply.accepted, 0);
    assert.ok(reply.error.includes('["a"]') && reply.error.includes('["b"]'), reply.error);
    assert.deepEqual(reply.rejected.map((r: { index: number }) => r.index), [0]);

    // a batch: the first reading is out of order, the second is fine
    reply = await ws.ask(JSON.stringify([
      { stream: "s", ts: t - 1000, values: { a: 1 } },
      { stream: "s", ts: t + 2000, values: { a: 2 } },
    ]));
    assert.equal(reply.ok, false);
    assert.equal(reply.accepted, 1);
    assert.equal(reply.rejected.length, 1);
    assert.equal(reply.rejected[0].index, 0);
    assert.equal(reply.reason, reply.rejected[0].reason);

    ws.socket.send(new TextEncoder().encode(JSON.stringify({ stream: "s", ts: t + 3000, a: 3 })));
    assert.deepEqual(await ws.next(), { ok: true, accepted: 1 });
    assert.equal(d.service.counters.readings.ws, 3);

    // over the limit: refused while its header is read (2029 bytes of UTF-8), the socket closed
    ws.socket.send(JSON.stringify({ stream: "s", a: 1, pad: "é".repeat(1000) }));
    const closed = await within(ws.closed, 5000, "the close of an oversized message");
    assert.equal(closed.code, 1009, "1009: message too big");
    await until(() => d.service.rejects().too_large === 1, 5000, "too_large counted");
    assert.equal(d.service.counters.readings.ws, 3);
  } finally {
    await ws.close();
    await server.close();
    await d.close();
  }
});

Deno.test("HTTP ingest: 200 with rejections listed, 422 when every reading is refused, 413 over the size limit", async () => {
  const d = await startDaemon({ maxBodyBytes: 2000 });
  try {
    const t = Date.UTC(2025, 5, 1, 11);
    let r = await json(
      await d.request("POST", "/v1/readings", [
        { stream: "a", ts: t, v: 1 },
        { stream: "b", ts: t, v: 2 },
      ]),
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { accepted: 2, rejected: [] });

    r = await json(await d.request("POST", "/v1/readings", [{ stream: "a", ts: t, v: 1 }]));
    assert.equal(r.status, 422, "the only reading repeats a time");
    assert.equal(r.body.accepted, 0);
    assert.equal(r.body.rejected.length, 1);
    assert.equal(r.body.reason, r.body.rejected[0].reason);
    assert.match(r.body.error, /^Cannot ingest reading/);

    // a bare number, the stream named by the path: JSON; text/plain only with a token (a page of
    // another site may POST text/plain without a preflight)
    const plain = await json(
      await d.app.request("/v1/streams/c/readings", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "21.5",
      }),
    );
    assert.equal(plain.status, 415);
    assert.equal(
      plain.body.error,
      "Cannot ingest reading: the body must be sent as JSON (content-type application/json; a " +
        'bare number is JSON too) when the request carries no API token: current value is "text/plain"',
    );
    assert.equal(d.service.records.has("c"), false, "nothing was ingested");
    assert.equal(d.service.rejects().bad_content_type, 1);
    const res = await d.app.request("/v1/streams/c/readings", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "21.5",
    });
    assert.deepEqual((await json(res)).body, { accepted: 1, rejected: [] });
    assert.equal(d.service.summary("c").columns[0], "value");

    const big = JSON.stringify({ stream: "a", v: 1, pad: "x".repeat(3000) });
    r = await json(await d.request("POST", "/v1/readings", big));
    assert.equal(r.status, 413);
    assert.equal(r.body.reason, "too_large");
    assert.ok(r.body.error.includes("at most 2000 bytes"), r.body.error);
    assert.equal(d.service.rejects().too_large, 1);
    assert.equal(d.service.counters.readings.http, 3);
  } finally {
    await d.close();
  }
});

Deno.test("a reading without a time takes the time of the app's clock, over HTTP and WebSocket", async () => {
  const clock = Date.UTC(2025, 5, 1, 12);
  let now = clock;
  const d = await startDaemon({ now: () => now });
  const server = await serve(d.app);
  const ws = new WsClient(`ws://${server.base}/v1/ingest/ws`);
  try {
    let r = await json(await d.request("POST", "/v1/streams/s/readings", { v: 1 }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    now += 60_000;
    r = await json(await d.request("POST", "/v1/readings", { stream: "s", v: 2 }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await ws.opened;
    now += 60_000;
    assert.deepEqual(await ws.ask(JSON.stringify({ stream: "s", v: 3 })), {
      ok: true,
      accepted: 1,
    });
    assert.deepEqual(d.ingested.map((x) => x.ts), [clock, clock + 60_000, clock + 120_000]);
  } finally {
    await ws.close();
    await server.close();
    await d.close();
  }
});
