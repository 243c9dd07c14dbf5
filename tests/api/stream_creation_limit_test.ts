import assert from "node:assert/strict";
import { StreamCreationLimit } from "../../src/api/stream_creation_limit.ts";
import { ingestLimited, ingestMessage } from "../../src/api/ingest.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { captureLog } from "../../src/log.ts";
import { hashToken } from "../../src/auth/token_hash.ts";
import { json, startDaemon } from "./_harness.ts";

Deno.test("StreamCreationLimit: a burst of perMinute per client, then one every 60/perMinute s", () => {
  let t = 0;
  const limit = new StreamCreationLimit({ perMinute: 6, now: () => t });
  for (let i = 0; i < 6; i++) assert.equal(limit.take("a"), true, `creation ${i + 1}`);
  assert.equal(limit.take("a"), false);
  assert.equal(limit.waitSeconds("a"), 10);
  assert.equal(limit.take("b"), true, "another client has its own bucket");
  t = 9_999;
  assert.equal(limit.take("a"), false);
  t = 10_000;
  assert.equal(limit.take("a"), true, "one more after 10 s");
  t = 10_000 + 3_600_000;
  for (let i = 0; i < 6; i++) assert.equal(limit.take("a"), true, "full again, not more");
  assert.equal(limit.take("a"), false);
});

Deno.test("StreamCreationLimit forgets full buckets when it holds maxClients", () => {
  let t = 0;
  const limit = new StreamCreationLimit({ perMinute: 1, now: () => t, maxClients: 2 });
  assert.equal(limit.take("a"), true);
  assert.equal(limit.take("b"), true);
  t = 60_000; // both full again: forgotten when a third client comes
  assert.equal(limit.take("c"), true);
  assert.equal(limit.take("a"), true);
});

Deno.test("one batch of 1,100 new stream ids creates only the client's share; existing streams and other clients go on", async () => {
  const one = "fcd_stream-limit-test-one-0000000000000000000000";
  const two = "fcd_stream-limit-test-two-0000000000000000000000";
  // the app's clock, which the limit reads, stands still: no creation comes back meanwhile
  const d = await startDaemon({
    now: () => Date.UTC(2025, 5, 2),
    env: {
      FORECASTD_API_TOKENS: `write:${hashToken(one)},write:${hashToken(two)}`,
      FORECASTD_NEW_STREAMS_PER_MINUTE: "100",
    },
  });
  try {
    const ts = Date.UTC(2025, 5, 1);
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    assert.equal(
      (await d.request("POST", "/v1/readings", { stream: "sensor", ts, t: 1 }, auth(two))).status,
      200,
    );
    const batch = Array.from({ length: 1100 }, (_, i) => ({ stream: `junk${i}`, ts, v: i }));
    const r = await json(await d.request("POST", "/v1/readings", batch, auth(one)));
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 100);
    assert.equal(r.body.rejected.length, 1000);
    assert.deepEqual(r.body.rejected[0], {
      index: 100,
      stream: "junk100",
      reason: "stream_rate",
      message: 'Cannot create stream "junk100": a client may create at most 100 streams a ' +
        "minute (--new-streams-per-minute): current value is over the limit; the next in 0.6 s",
    });
    assert.equal(d.service.records.size, 101, "maxStreams (1000) is far away");
    assert.equal(d.service.rejects().stream_rate, 1000);

    // the flooding client's existing streams go on; so do other clients' new sensors
    let again = await json(
      await d.request("POST", "/v1/readings", [{ stream: "junk5", ts: ts + 1, v: 1 }, {
        stream: "fresh",
        ts,
        v: 1,
      }], auth(one)),
    );
    assert.equal(again.body.accepted, 1);
    assert.deepEqual(again.body.rejected.map((x: { index: number }) => x.index), [1]);
    again = await json(
      await d.request("POST", "/v1/streams/new-sensor/readings", { ts, t: 1 }, auth(two)),
    );
    assert.deepEqual(again, { status: 200, body: { accepted: 1, rejected: [] } });
    const metrics = await (await d.request("GET", "/metrics", undefined, auth(two))).text();
    assert.match(metrics, /^forecastd_rejected_readings_total\{reason="stream_rate"\} 1001$/m);
    assert.ok(
      d.log.entries().some((e) => e.event === "ingest.stream_rate_limited" && e.level === "warn"),
    );
  } finally {
    await d.close();
  }
});

Deno.test("ingestLimited() hands a batch to the sink as it is until a reading is refused, rejections in order", async () => {
  const readings = Array.from({ length: 1_000 }, (_, i) => ({
    stream: `s${i % 4}`,
    ts: i,
    values: { v: i },
  }));
  const handed: (readonly Reading[])[] = [];
  const sink = {
    ingest: (rs: readonly Reading[]) => {
      handed.push(rs);
      // refusals out of order, as a service of several workers may list them
      const rejected = [7, 3].map((index) => ({
        index,
        stream: rs[index].stream,
        reason: "out_of_order",
        message: "old",
      }));
      return Promise.resolve({ accepted: rs.length - 2, rejected });
    },
    exists: (id: string) => !id.startsWith("new"),
    reject: () => {},
  };
  const deps = { sink, log: captureLog().log, streamLimit: new StreamCreationLimit() };
  const r = await ingestLimited(deps, readings, "http", "c");
  assert.equal(handed[0], readings, "the caller's array, not a copy (nor one of its indices)");
  assert.deepEqual(r.rejected.map((x) => x.index), [3, 7]);
  assert.equal(r.accepted, 998);
  // a new stream among them, created within the limit: as it is too
  const mixed = [...readings.slice(0, 9), { stream: "new", ts: 0, values: { v: 0 } }];
  const m = await ingestLimited(deps, mixed, "http", "c");
  assert.equal(handed[1], mixed);
  assert.deepEqual(m.rejected.map((x) => x.index), [3, 7]);
  // one refused by the limit (none left): the rest copied, the sink's indices mapped back
  const none = { ...deps, streamLimit: new StreamCreationLimit({ perMinute: 1 }) };
  const refusing = [
    ...readings.slice(0, 5),
    { stream: "new", ts: 0, values: { v: 0 } },
    { stream: "new2", ts: 0, values: { v: 0 } },
    ...readings.slice(5, 9),
  ];
  const l = await ingestLimited(none, refusing, "http", "c");
  assert.notEqual(handed[2], refusing);
  assert.deepEqual(
    handed[2].map((r) => r.stream),
    refusing.filter((_, i) => i !== 6).map((r) => r.stream),
  );
  assert.deepEqual(l.rejected.map((x) => [x.index, x.reason]), [
    [3, "out_of_order"],
    [6, "stream_rate"],
    [8, "out_of_order"],
  ]);
  assert.equal(l.accepted, 8);
});

Deno.test("ingestMessage() sizes an ASCII text message by its length, a non-ASCII one by its UTF-8 bytes", async () => {
  const handed: (readonly Reading[])[] = [];
  const refused: string[] = [];
  const sink = {
    ingest: (rs: readonly Reading[]) => {
      handed.push(rs);
      return Promise.resolve({ accepted: rs.length, rejected: [] });
    },
    exists: () => true,
    reject: (reason: string) => void refused.push(reason),
  };
  const T0 = Date.UTC(2026, 0, 5);
  const deps = { sink, log: captureLog().log, now: () => T0 + 86_400_000 };
  const text = JSON.stringify(
    Array.from({ length: 4_000 }, (_, i) => ({ stream: "s", ts: T0 + i, values: { v: i } })),
  );
  const encode = TextEncoder.prototype.encode;
  let encoded = 0;
  TextEncoder.prototype.encode = function (this: TextEncoder, s?: string) {
    encoded++;
    return encode.call(this, s);
  };
  try {
    // up to 3 bytes a unit could pass the limit: an ASCII text is not encoded to know it does not
    const ok = await ingestMessage(deps, text, text.length + 1);
    assert.deepEqual(ok, { ok: true, accepted: 4_000 });
    assert.equal(encoded, 0, "an ASCII message encoded to measure it");
    assert.deepEqual(await ingestMessage(deps, text, text.length - 1), {
      ok: false,
      reason: "too_large",
      error: `Cannot ingest reading: payload must be at most ${
        text.length - 1
      } bytes: current size is ${text.length} bytes`,
    });
    // "é" is 2 bytes in UTF-8: 1 unit more than the limit in bytes, not in units
    const wide = text.replace('"s"', '"s","é":1');
    const bytes = new TextEncoder().encode(wide).length;
    assert.equal(bytes, wide.length + 1);
    const r = await ingestMessage(deps, wide, wide.length);
    assert.equal(r.ok, false);
    assert.match((r as { error: string }).error, new RegExp(`current size is ${bytes} bytes$`));
  } finally {
    TextEncoder.prototype.encode = encode;
  }
  assert.deepEqual(refused, ["too_large", "too_large"]);
});
