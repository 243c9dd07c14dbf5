/**
 * The main thread answers requests while it parses a big batch: the parse
 * goes in slices (src/ingest/parse.ts's parse*Async) and the event loop,
 * with the HTTP server's sockets, runs between them.
 *
 * An order, not a time, is asserted, so that load cannot break it (a stall
 * of the process delays the slices and the answers alike): the batch goes
 * in by app.request() or ingestMessage(), with no socket, so its parse
 * begins at once; /healthz is asked over real sockets, by POLLERS clients
 * one request after another, and the server answers some before the
 * readings reach the service. A parse in one piece cannot answer any: it
 * has ended before a request is read. With parseHttpBodyAsync and
 * parseWebSocketMessageAsync made synchronous in src/api/ingest.ts, or
 * DEFAULT_SLICE_MS made Infinity in src/ingest/parse.ts, both tests failed
 * with 0 answers; sliced, they had 8 to 40 (load average 7 to 11).
 * tests/e2e/fairness_test.ts has the daemon take such batches whole while
 * /healthz is polled.
 */
import assert from "node:assert/strict";
import { ingestMessage, type ReadingSink } from "../../src/api/ingest.ts";
import { captureLog } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { type Daemon, serve, startDaemon } from "./_harness.ts";
import { bytesBatch } from "../e2e/_big_batches.ts";

/** Answers of /healthz while the batch was parsed, at the least. */
const MIN_ANSWERED = 1;

/** How many ask /healthz side by side, each one request after another. */
const POLLERS = 8;

/**
 * Serves `app` on a real socket and asks its /healthz from POLLERS clients,
 * each one request after another (their connections opened first), from
 * `start()` on while `parsing()`; asserts that the server answered at least
 * MIN_ANSWERED while `parsing()` (counted as it answered, whenever the
 * client reads it) and resolves with what `start()` returned.
 */
async function healthzWhile<T>(
  what: string,
  app: Daemon["app"],
  parsing: () => boolean,
  start: () => Promise<T>,
): Promise<T> {
  let answered = 0;
  const server = await serve({
    fetch: async (req, env) => {
      const res = await app.fetch(req, env);
      if (parsing()) answered++;
      return res;
    },
  });
  try {
    const ask = async () => {
      const r = await fetch(`http://${server.base}/healthz`);
      assert.equal(r.status, 200, await r.text());
    };
    await Promise.all(Array.from({ length: POLLERS }, ask));
    answered = 0;
    let settled = false;
    const done = start();
    done.then(() => settled = true, () => settled = true);
    let asked = 0;
    await Promise.all(Array.from({ length: POLLERS }, async () => {
      while (!settled && parsing()) {
        await ask();
        asked++;
      }
    }));
    const result = await done;
    console.log(`/healthz answered while ${what} was parsed: ${answered}`);
    assert.ok(
      answered >= MIN_ANSWERED,
      `/healthz answered while ${what} was parsed: ${answered} of ${asked}; ` +
        `at least ${MIN_ANSWERED} expected`,
    );
    return result;
  } finally {
    await server.close();
  }
}

Deno.test("/healthz is answered between the slices of a 10,000-reading HTTP batch's parse", async () => {
  const d = await startDaemon({ maxBodyBytes: 8_000_000 });
  try {
    const readings = bytesBatch(2 * 1024 * 1024, ["slices-a", "slices-b", "slices-c"]);
    assert.equal(readings.length, 10_000);
    const r = await healthzWhile(
      "the batch",
      d.app,
      () => d.ingested.length === 0,
      () => d.request("POST", "/v1/readings", JSON.stringify(readings)),
    );
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal((await r.json()).accepted, 10_000);
  } finally {
    await d.close();
  }
});

Deno.test("/healthz is answered between the slices of a 10,000-reading WebSocket message's parse", async () => {
  const d = await startDaemon();
  try {
    const message = JSON.stringify(bytesBatch(2 * 1024 * 1024, ["slices-ws-a", "slices-ws-b"]));
    assert.ok(message.length > 1024 * 1024 && message.length <= 2 * 1024 * 1024);
    let handed: readonly Reading[] = [];
    const sink: ReadingSink = {
      ingest: (readings) => {
        handed = readings;
        return Promise.resolve({ accepted: readings.length, rejected: [] });
      },
      exists: () => false,
      reject: (reason) => assert.fail(`the message was refused: ${reason}`),
    };
    const log = captureLog("warn").log;
    const reply = await healthzWhile(
      "the message",
      d.app,
      () => handed.length === 0,
      () => ingestMessage({ sink, log, now: Date.now }, message, 2 * 1024 * 1024),
    );
    assert.deepEqual(reply, { ok: true, accepted: handed.length });
    assert.equal(handed.length, 10_000);
  } finally {
    await d.close();
  }
});
