/**
 * Who gets in: tokens and roles on every route, the Host check (DNS
 * rebinding), the Origin check of browsers' requests, CORS, and the body
 * limit of every route, through `app.request()`.
 */
import assert from "node:assert/strict";
import { hashToken } from "../../src/auth/token_hash.ts";
import { requiredRole } from "../../src/api/require_token.ts";
import { PAGE_ROUTES } from "../../src/dashboard/dashboard.ts";
import { type Daemon, json, startDaemon } from "./_harness.ts";

const READ = "fcd_read-token-of-the-tests-000000000000000000";
const WRITE = "fcd_write-token-of-the-tests-00000000000000000";
const TOKENS = `read:${hashToken(READ)},write:${hashToken(WRITE)}`;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function withDaemon(env: Record<string, string>, fn: (d: Daemon) => Promise<void>) {
  const d = await startDaemon({ env });
  try {
    await fn(d);
  } finally {
    await d.close();
  }
}

Deno.test("with tokens, every route but /healthz, /readyz and the pages answers 401 without one", async () => {
  await withDaemon({ FORECASTD_API_TOKENS: TOKENS }, async (d) => {
    const routes = d.app.routes.filter((r) => r.method !== "ALL")
      .map((r) => [r.method, r.path.replace(/:id\b/g, "x")] as const);
    /** The route a path was made from (the pages' `:file`). */
    const r0 = (path: string) =>
      d.app.routes.find((r) => r.path.replace(/:id\b/g, "x") === path)!.path;
    assert.ok(routes.length >= 15, `the routes: ${JSON.stringify(routes)}`);
    for (const [method, path] of routes) {
      const res = await d.app.request(path, { method });
      // the pages hold no data: their data comes from the API, with the token
      const open = path === "/healthz" || path === "/readyz" || PAGE_ROUTES.includes(r0(path));
      assert.equal(res.status === 401, !open, `${method} ${path} answered ${res.status}`);
      if (!open) {
        assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="forecastd"');
        const { error } = await res.json();
        assert.match(
          error,
          new RegExp(
            `^Cannot ${method} ${path}: the request must carry an API token with the (read|write) role`,
          ),
        );
        assert.ok(error.endsWith("current value is missing"), error);
      } else await res.body?.cancel();
    }
    assert.equal(d.service.records.size, 0, "nothing was created");
  });
});

Deno.test("a read token reads; writing needs a write token (403), which also reads", async () => {
  await withDaemon({ FORECASTD_API_TOKENS: TOKENS }, async (d) => {
    const reading = { stream: "s", ts: Date.UTC(2025, 5, 1), values: { t: 20 } };
    assert.equal((await d.request("GET", "/v1/streams", undefined, bearer(READ))).status, 200);
    assert.equal((await d.request("GET", "/metrics", undefined, bearer(READ))).status, 200);
    assert.equal((await d.request("GET", "/openapi.json", undefined, bearer(READ))).status, 200);

    for (
      const [method, path, body] of [
        ["POST", "/v1/readings", reading],
        ["POST", "/v1/streams/s/readings", { t: 1 }],
        ["PUT", "/v1/streams/s", { columns: ["t"] }],
        ["DELETE", "/v1/streams/s", undefined],
        ["POST", "/v1/alerts/1/ack", undefined],
        ["GET", "/v1/ingest/ws", undefined],
      ] as const
    ) {
      const r = await json(await d.request(method, path, body, bearer(READ)));
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.match(
        r.body.error,
        new RegExp(
          `^Cannot ${method} ${path}: the API token must have the write role: current value ` +
            `is a read token \\(sha256:[0-9a-f]{8}\\)$`,
        ),
      );
    }
    assert.equal(d.service.records.size, 0, "the read token changed nothing");

    const ok = await json(await d.request("POST", "/v1/readings", reading, bearer(WRITE)));
    assert.deepEqual(ok, { status: 200, body: { accepted: 1, rejected: [] } });
    assert.equal((await d.request("GET", "/v1/streams/s", undefined, bearer(WRITE))).status, 200);
    // with a token, a bare number may come as text/plain: no page of another site has the token
    const plain = await d.app.request("/v1/streams/p/readings", {
      method: "POST",
      headers: { "content-type": "text/plain", ...bearer(WRITE) },
      body: "21.5",
    });
    assert.deepEqual(await plain.json(), { accepted: 1, rejected: [] });

    const metrics = await (await d.request("GET", "/metrics", undefined, bearer(READ))).text();
    assert.match(metrics, /^forecastd_http_refused_total\{reason="auth_role"\} 6$/m);
  });
});

Deno.test("an unknown or malformed token is refused with 401 and never shown back", async () => {
  await withDaemon({ FORECASTD_API_TOKENS: TOKENS }, async (d) => {
    const secret = "fcd_not-a-configured-token-0000000000000000000";
    let r = await json(await d.request("GET", "/v1/streams", undefined, bearer(secret)));
    assert.equal(r.status, 401);
    assert.equal(
      r.body.error,
      "Cannot GET /v1/streams: the API token must be one forecastd is configured with " +
        "(--api-token): current value is an unknown token",
    );
    r = await json(
      await d.request("GET", "/v1/streams", undefined, { authorization: `Basic ${btoa("u:pw")}` }),
    );
    assert.equal(r.status, 401);
    assert.equal(
      r.body.error,
      'Cannot GET /v1/streams: the Authorization header must be "Bearer <token>": current value ' +
        'is a "Basic" credential',
    );
    r = await json(await d.request("GET", `/v1/streams?token=${secret}`));
    assert.equal(r.status, 401);
    assert.match(r.body.error, /a token in the query \(\?token=\) is taken only by the live feeds/);
    assert.ok(d.log.lines.length > 0, "requests were logged (debug)");
    assert.ok(!d.log.lines.join("\n").includes(secret), "the log never holds a token");
  });
});

Deno.test("the live feeds take ?token= (EventSource cannot send headers)", async () => {
  await withDaemon({ FORECASTD_API_TOKENS: TOKENS }, async (d) => {
    const ctl = new AbortController();
    const res = await d.app.request(`/v1/alerts/events?token=${READ}`, { signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    await res.body?.cancel();
    ctl.abort();
    const wrong = await json(await d.request("GET", "/v1/alerts/events?token=fcd_wrong"));
    assert.equal(wrong.status, 401);
    // a read token in the query of the ingest WebSocket is a read token still
    const ws = await json(await d.request("GET", `/v1/ingest/ws?token=${READ}`));
    assert.equal(ws.status, 403);
    // with the write token the route is reached: without the handshake it answers 426
    assert.equal((await d.request("GET", `/v1/ingest/ws?token=${WRITE}`)).status, 426);
  });
});

Deno.test("requiredRole(): open probes and dashboard files, write for changes and ingest", () => {
  assert.equal(requiredRole("GET", "/healthz"), null);
  assert.equal(requiredRole("GET", "/readyz"), null);
  assert.equal(requiredRole("GET", "/"), null);
  assert.equal(requiredRole("GET", "/dashboard/page.js"), null);
  assert.equal(requiredRole("OPTIONS", "/v1/streams"), null);
  assert.equal(requiredRole("GET", "/metrics"), "read");
  assert.equal(requiredRole("GET", "/v1/alerts/events"), "read");
  assert.equal(requiredRole("GET", "/v1/ingest/ws"), "write");
  assert.equal(requiredRole("POST", "/healthz"), "write");
  assert.equal(requiredRole("PATCH", "/v1/streams/x"), "write");
  assert.equal(requiredRole("GET", "/v2/anything"), "read");
});

Deno.test("the Host header must name forecastd: a rebound name is refused with 421", async () => {
  await withDaemon({}, async (d) => {
    for (const host of ["localhost:8080", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST"]) {
      const res = await d.app.request("/v1/streams", { headers: { host } });
      assert.equal(res.status, 200, host);
      await res.body?.cancel();
    }
    const r = await json(
      await d.request("POST", "/v1/readings", { stream: "s", t: 1 }, { host: "evil.example:8080" }),
    );
    assert.equal(r.status, 421);
    assert.equal(
      r.body.error,
      "Cannot POST /v1/readings: the Host header must name forecastd (127.0.0.1, localhost, ::1; " +
        'add a name with --allowed-host): current value is "evil.example:8080"',
    );
    assert.equal(d.service.records.size, 0, "nothing was ingested");
  });
  await withDaemon({ FORECASTD_ALLOWED_HOSTS: "gateway.local" }, async (d) => {
    const res = await d.app.request("/healthz", { headers: { host: "gateway.local:8080" } });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
});

Deno.test("a browser's cross-site POST is refused by its Origin (403) and not ingested", async () => {
  await withDaemon({}, async (d) => {
    const post = (headers: Record<string, string>, body = "21.5") =>
      d.app.request("http://127.0.0.1:8080/v1/streams/x/readings", {
        method: "POST",
        headers: { host: "127.0.0.1:8080", ...headers },
        body,
      });
    // a form or a text/plain fetch of another site: no preflight, but an Origin
    let r = await json(
      await post({ origin: "https://evil.example", "content-type": "application/json" }),
    );
    assert.equal(r.status, 403);
    assert.equal(
      r.body.error,
      "Cannot POST /v1/streams/x/readings: a browser's request must come from forecastd's own " +
        'origin or one allowed with --cors-origin: current value is "https://evil.example"',
    );
    // and text/plain without Origin (a no-cors fetch may leave it out): must be JSON
    r = await json(await post({ "content-type": "text/plain" }));
    assert.equal(r.status, 415);
    r = await json(await post({ "content-type": "application/x-www-form-urlencoded" }, "a=1"));
    assert.equal(r.status, 415);
    assert.equal(d.service.records.size, 0, "nothing was ingested");
    // the same origin (forecastd's own pages) passes
    r = await json(
      await post({ origin: "http://127.0.0.1:8080", "content-type": "application/json" }),
    );
    assert.deepEqual(r, { status: 200, body: { accepted: 1, rejected: [] } });
    // a WebSocket handshake from another site is refused before the upgrade
    const ws = await d.app.request("http://127.0.0.1:8080/v1/ingest/ws", {
      headers: { host: "127.0.0.1:8080", origin: "https://evil.example", upgrade: "websocket" },
    });
    assert.equal(ws.status, 403);
    const metrics = await (await d.app.request("/metrics")).text();
    assert.match(metrics, /^forecastd_http_refused_total\{reason="origin"\} 2$/m);
  });
});

Deno.test("CORS is off by default and answers only the configured origins", async () => {
  await withDaemon({}, async (d) => {
    const res = await d.app.request("/v1/streams", { headers: { origin: "https://a.example" } });
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    await res.body?.cancel();
  });
  await withDaemon({ FORECASTD_CORS_ORIGINS: "https://grafana.example:3000" }, async (d) => {
    const pre = await d.app.request("/v1/readings", {
      method: "OPTIONS",
      headers: {
        origin: "https://grafana.example:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://grafana.example:3000");
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /authorization/);
    const other = await d.app.request("/v1/streams", {
      headers: { origin: "https://evil.example" },
    });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
    const post = await d.request("POST", "/v1/readings", { stream: "g", t: 1 }, {
      origin: "https://grafana.example:3000",
    });
    assert.equal(post.status, 200, "an allowed origin may write");
    await post.body?.cancel();
  });
});

Deno.test("every route limits its body: a large PUT is refused with 413 before it is read", async () => {
  await withDaemon({ FORECASTD_MAX_BODY_BYTES: "4096" }, async (d) => {
    const big = JSON.stringify({ columns: ["t"], pad: "x".repeat(10_000) });
    let r = await json(
      await d.request("PUT", "/v1/streams/s", big, { "content-length": String(big.length) }),
    );
    assert.equal(r.status, 413);
    assert.equal(
      r.body.error,
      `Cannot PUT /v1/streams/s: the body must be at most 4096 bytes: current size is ${big.length} bytes`,
    );
    // a chunked body (no Content-Length) is cut off once past the limit
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent > 1_000_000) return ctl.close();
        sent += 1024;
        ctl.enqueue(new Uint8Array(1024).fill(32));
      },
    });
    r = await json(
      await d.app.request("/v1/streams/s", {
        method: "PUT",
        body: stream,
        headers: { "content-type": "application/json" },
      }),
    );
    assert.equal(r.status, 413);
    assert.match(r.body.error, /current size is more than 4096 bytes$/);
    assert.ok(sent < 64 * 1024, `read ${sent} bytes of a 1 MB body`);
    assert.equal(d.service.records.size, 0);
  });
});

Deno.test("GET /v1/auth tells whether tokens are required and the role of the request's token", async () => {
  await withDaemon({ FORECASTD_API_TOKENS: TOKENS }, async (d) => {
    const id = (t: string) =>
      `sha256:${hashToken(t).slice("sha256:".length, "sha256:".length + 8)}`;
    let r = await json(await d.request("GET", "/v1/auth", undefined, bearer(READ)));
    assert.deepEqual(r, { status: 200, body: { required: true, role: "read", token: id(READ) } });
    r = await json(await d.request("GET", "/v1/auth", undefined, bearer(WRITE)));
    assert.deepEqual(r, { status: 200, body: { required: true, role: "write", token: id(WRITE) } });
    assert.ok(!JSON.stringify(r.body).includes(WRITE.slice(4)), "the token itself is not shown");
    r = await json(await d.request("GET", "/v1/auth"));
    assert.equal(r.status, 401, "without a token: 401, as every route");
  });
  await withDaemon({}, async (d) => {
    const r = await json(await d.request("GET", "/v1/auth"));
    assert.deepEqual(r, { status: 200, body: { required: false, role: "write", token: null } });
  });
});
