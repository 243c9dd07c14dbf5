/**
 * The API of shard 0 of 2 (`--shard 0/2`): calls for shard 1's streams are
 * redirected to its peer with the same path and query, batches take only
 * shard 0's readings and name the owner of each other one, every response
 * names the shard, /healthz and /metrics report it. A real Service over a
 * `:memory:` KV, through `app.request()`.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/api/app.ts";
import { PEERS_HEADER, SHARD_HEADER } from "../../src/api/shard_routing.ts";
import { resolveConfig } from "../../src/config/mod.ts";
import { captureLog } from "../../src/log.ts";
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import type { ShardMap } from "../../src/domain/shard_map.ts";
import { serve, WsClient } from "./_harness.ts";
import { installed, promtool } from "../_promtool.ts";

const PEERS = ["http://127.0.0.1:18080", "http://127.0.0.1:18081/fd"];
const SHARD_0: ShardMap = { index: 0, count: 2, peers: PEERS };
// fixed vectors (tests/domain/shard_of_test.ts): of 2 shards, boiler-1 and s0 are 0, pump.2 and s1 are 1
const MINE = "boiler-1", THEIRS = "pump.2";

async function startShard() {
  const kv = await Deno.openKv(":memory:");
  const config = resolveConfig({ args: [], env: {}, readFile: () => "{}" });
  const { log } = captureLog("error");
  const service = new Service({ options: config, store: new Store(kv), log });
  await service.load();
  const app = createApp({
    service,
    log,
    version: "0.0.0-test",
    readiness: () => ({ kv: true, broker: null }),
    shard: SHARD_0,
  });
  const request = (method: string, path: string, body?: unknown) =>
    Promise.resolve(app.request(path, {
      method,
      redirect: "manual",
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    }));
  return {
    app,
    service,
    request,
    async close() {
      await service.close();
      kv.close();
    },
  };
}

Deno.test("a call for another shard's stream is a 307 to its owner with the same path and query", async () => {
  const d = await startShard();
  try {
    for (
      const [method, path] of [
        ["GET", `/v1/streams/${THEIRS}`],
        ["GET", `/v1/streams/${THEIRS}/forecast?horizon=3`],
        ["PUT", `/v1/streams/${THEIRS}`],
        ["DELETE", `/v1/streams/${THEIRS}`],
        ["POST", `/v1/streams/${THEIRS}/readings`],
        ["GET", `/v1/streams/${THEIRS}/anomalies?limit=5`],
        ["GET", `/v1/alerts?stream=${THEIRS}&state=open`],
        ["GET", `/v1/alerts/events?stream=${THEIRS},s1`],
        ["GET", `/v1/rejects?stream=${THEIRS}`],
      ]
    ) {
      const res = await d.request(method, path, method === "POST" ? { value: 1 } : undefined);
      assert.equal(res.status, 307, `${method} ${path}`);
      assert.equal(res.headers.get("location"), `${PEERS[1]}${path}`, `${method} ${path}`);
      assert.equal(res.headers.get(SHARD_HEADER), "0/2");
      const body = await res.json();
      assert.match(
        body.error,
        /^Cannot \w+ \/v1\/\S+ here: the stream must belong to this instance's shard 0\/2: it belongs to shard 1\/2, served at http:\/\/127\.0\.0\.1:18081\/fd\/v1\//,
      );
      assert.equal(body.location, `${PEERS[1]}${path}`);
    }
    assert.equal(d.service.records.size, 0, "nothing was created here");
  } finally {
    await d.close();
  }
});

Deno.test("calls for this shard's streams and listings are answered here, naming the shard", async () => {
  const d = await startShard();
  try {
    let res = await d.request("POST", `/v1/streams/${MINE}/readings`, { value: 1 });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    res = await d.request("GET", `/v1/streams/${MINE}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get(SHARD_HEADER), "0/2");
    assert.equal(res.headers.get(PEERS_HEADER), PEERS.join(", "));
    await res.body?.cancel();
    res = await d.request("GET", "/v1/streams");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get(SHARD_HEADER), "0/2");
    const list = await res.json();
    assert.deepEqual(JSON.stringify(list).includes(MINE), true);
    res = await d.request("GET", `/v1/alerts?stream=${MINE}`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // a bad id is refused here, not sent around
    res = await d.request("GET", "/v1/streams/bad%20id");
    assert.notEqual(res.status, 307);
    await res.body?.cancel();
  } finally {
    await d.close();
  }
});

Deno.test("a stream of another shard stored here from before is deleted here, not redirected", async () => {
  const d = await startShard();
  try {
    // as if stored while this instance owned every stream
    const taken = await d.service.ingest([{
      stream: THEIRS,
      ts: 1_700_000_000_000,
      values: { t: 1 },
    }], "demo");
    assert.equal(taken.accepted, 1);
    let res = await d.request("GET", `/v1/streams/${THEIRS}`);
    assert.equal(res.status, 307, "read calls go to the owner");
    await res.body?.cancel();
    res = await d.request("DELETE", `/v1/streams/${THEIRS}`);
    assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
    await res.body?.cancel();
    assert.equal(d.service.records.has(THEIRS), false);
    res = await d.request("DELETE", `/v1/streams/${THEIRS}`);
    assert.equal(res.status, 307, "once gone, a DELETE goes to the owner");
    await res.body?.cancel();
  } finally {
    await d.close();
  }
});

Deno.test("alerts of streams of several shards are refused with each stream's owner", async () => {
  const d = await startShard();
  try {
    const res = await d.request("GET", `/v1/alerts?stream=${MINE},${THEIRS}`);
    assert.equal(res.status, 400);
    assert.equal(
      (await res.json()).error,
      "Cannot GET /v1/alerts: the streams of 'stream' must belong to one shard (each instance " +
        "has only its own streams' alerts and refusals; ask each owner): current value names 2 shards " +
        `(${MINE}: shard 0 at ${PEERS[0]}, ${THEIRS}: shard 1 at ${PEERS[1]})`,
    );
  } finally {
    await d.close();
  }
});

Deno.test("a batch takes this shard's readings and names the owner of each other one", async () => {
  const d = await startShard();
  try {
    const ts = 1_700_000_000_000;
    let res = await d.request("POST", "/v1/readings", [
      { stream: THEIRS, ts, values: { t: 1 } },
      { stream: MINE, ts, values: { t: 2 } },
      { stream: "s1", ts, values: { t: 3 } },
      { stream: "s0", ts, values: { t: 4 } },
    ]);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.accepted, 2);
    assert.deepEqual(body.rejected.map((r: { index: number }) => r.index), [0, 2]);
    assert.deepEqual(body.rejected[0], {
      index: 0,
      stream: THEIRS,
      reason: "other_shard",
      message: `Cannot ingest reading: the stream must belong to this instance's shard 0/2: ` +
        `"${THEIRS}" belongs to shard 1/2; send it to ${PEERS[1]}`,
      owner: PEERS[1],
    });
    assert.deepEqual([...d.service.records.keys()].sort(), [MINE, "s0"]);
    // only other shards' readings: refused whole, 422
    res = await d.request("POST", "/v1/readings", [{ stream: THEIRS, ts, values: { t: 1 } }]);
    assert.equal(res.status, 422);
    assert.equal((await res.json()).reason, "other_shard");
    assert.equal(d.service.rejects().other_shard, 3);
  } finally {
    await d.close();
  }
});

Deno.test("a WebSocket batch takes this shard's readings and names the owner of the others", async () => {
  const d = await startShard();
  const server = await serve(d.app);
  const ws = new WsClient(`ws://${server.base}/v1/ingest/ws`);
  try {
    await ws.opened;
    ws.socket.send(JSON.stringify([
      { stream: MINE, ts: 1_700_000_000_000, values: { t: 1 } },
      { stream: THEIRS, ts: 1_700_000_000_000, values: { t: 2 } },
    ]));
    const reply = await ws.next();
    assert.equal(reply.ok, false);
    assert.equal(reply.accepted, 1);
    assert.deepEqual(
      reply.rejected.map((r: { index: number; reason: string; owner: string }) => [
        r.index,
        r.reason,
        r.owner,
      ]),
      [[1, "other_shard", PEERS[1]]],
    );
    assert.deepEqual([...d.service.records.keys()], [MINE]);
  } finally {
    await ws.close();
    await server.close();
    await d.close();
  }
});

Deno.test("/healthz and /metrics report the shard", async () => {
  const d = await startShard();
  try {
    let res = await d.request("GET", "/healthz");
    assert.deepEqual((await res.json()).shard, { index: 0, count: 2, peers: PEERS });
    res = await d.request("GET", "/metrics");
    const text = await res.text();
    assert.match(text, /^forecastd_shard_info\{shard="0",shards="2"\} 1$/m);
    if (await installed("promtool")) {
      const r = await promtool(["check", "metrics"], text);
      assert.equal(r.out.trim(), "", "promtool names no problem");
      assert.equal(r.code, 0);
    }
  } finally {
    await d.close();
  }
});
