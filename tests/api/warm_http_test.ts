/**
 * src/api/warm_http.ts over real sockets: the daemon's app behind the real
 * server on 127.0.0.1 port 0 gets the warm-up's requests, in order, before
 * warmHttp() resolves; a server that is gone is an error given back, not
 * thrown; HTTPS is skipped.
 */
import assert from "node:assert/strict";
import { serve, startDaemon } from "./_harness.ts";
import { WARM_PATHS, warmHttp, warmPaths } from "../../src/api/warm_http.ts";
import { hashToken } from "../../src/auth/token_hash.ts";

Deno.test("warmHttp() makes each warm path's request to the server before it resolves", async () => {
  const d = await startDaemon();
  const seen: string[] = [];
  const server = await serve({
    fetch: (req, env) => {
      seen.push(new URL(req.url).pathname);
      return d.app.fetch(req, env);
    },
  });
  try {
    const r = await warmHttp({ addr: { hostname: "127.0.0.1", port: server.port }, secure: false });
    assert.deepEqual(seen, [...WARM_PATHS]);
    assert.deepEqual(r.statuses, [200, 200, 404], "healthz, readyz, an unknown stream's forecast");
    assert.equal(r.error, undefined);
    assert.deepEqual([...d.service.records.keys()], [], "no stream made");
  } finally {
    await server.close();
    await d.close();
  }
});

Deno.test("with API tokens the warm-up asks only the open paths: nothing counted as refused", async () => {
  const d = await startDaemon({
    env: { FORECASTD_API_TOKENS: `read:${hashToken("a".repeat(32))}` },
  });
  const server = await serve({ fetch: (req, env) => d.app.fetch(req, env) });
  try {
    const r = await warmHttp(
      { addr: { hostname: "127.0.0.1", port: server.port }, secure: false },
      {
        paths: warmPaths(true),
      },
    );
    assert.deepEqual(r.statuses, [200, 200]);
    const health = await (await d.request("GET", "/healthz")).json();
    assert.deepEqual(health.httpRefused ?? {}, {}, "no request refused by the token check");
    assert.deepEqual(warmPaths(false), WARM_PATHS);
  } finally {
    await server.close();
    await d.close();
  }
});

Deno.test("warmHttp() gives back the error of a server that is gone, and does not throw", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const r = await warmHttp({ addr: { hostname: "127.0.0.1", port }, secure: false });
  assert.deepEqual(r.statuses, []);
  assert.match(r.error ?? "", /.+/);
});

Deno.test("warmHttp() skips a server that speaks HTTPS", async () => {
  const r = await warmHttp({ addr: { hostname: "127.0.0.1", port: 1 }, secure: true });
  assert.deepEqual(r, { statuses: [], ms: 0, skipped: "https" });
});
