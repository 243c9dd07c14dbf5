import assert from "node:assert/strict";
import { ShardedService } from "../../src/shard/sharded_service.ts";
import { Service, ServiceError, type ServiceOptions } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";
import type { IngestResult } from "../../src/ingest/ingest_sink.ts";
import { shardOf } from "../../src/shard/shard_of.ts";
import { withTempDir } from "../_helpers.ts";
import { withShardedService } from "./_with_sharded_service.ts";

const T0 = Date.UTC(2026, 0, 5);
const STEP = 300_000;

/** `n` readings of each of `streams`, interleaved, a sine per stream. */
function readings(streams: string[], from: number, n: number): Reading[] {
  const out: Reading[] = [];
  for (let t = from; t < from + n; t++) {
    streams.forEach((s, k) => {
      out.push({
        stream: s,
        ts: T0 + t * STEP,
        values: { temp: 20 + k + 2 * Math.sin((2 * Math.PI * t) / 288) + 0.1 * Math.sin(t * 1.3) },
      });
    });
  }
  return out;
}

/** Streams that fall on both of two shards. */
const STREAMS = ["kitchen", "hall", "attic", "cellar", "garage", "porch"];

/**
 * Runs `fn` with a service of two workers over a KV file in `dir`: a second
 * over the same `dir` restores the streams the first saved.
 */
function withSharded(
  dir: string,
  fn: (svc: ShardedService, store: Store) => Promise<void>,
  options: ServiceOptions = { checkpointEvery: 50 },
): Promise<void> {
  return withShardedService({ workers: 2, options }, fn, { dir });
}

Deno.test("the test streams fall on both of two shards", () => {
  const shards = new Set(STREAMS.map((s) => shardOf(s, 2)));
  assert.deepEqual([...shards].sort(), [0, 1]);
});

Deno.test("ShardedService with 2 workers forecasts exactly as the in-process Service", async () => {
  await withTempDir(async (dir) => {
    const batch = readings(STREAMS, 0, 60);
    const kv = await Deno.openKv(":memory:");
    const local = new Service({ store: new Store(kv), log: captureLog().log });
    const want = await local.ingest(batch, "http");
    const forecasts = STREAMS.map((s) => local.forecast(s, 8));
    const summaries = STREAMS.map((s) => local.summary(s));
    await local.close();
    kv.close();
    await withSharded(dir, async (svc) => {
      const got = await svc.ingest(batch, "http");
      assert.deepEqual(got, want);
      for (let i = 0; i < STREAMS.length; i++) {
        assert.deepEqual(await svc.forecast(STREAMS[i], 8), forecasts[i]);
        const s = await svc.summary(STREAMS[i]);
        assert.equal(s.readings, summaries[i].readings);
        assert.equal(s.learnedReadings, summaries[i].learnedReadings);
      }
      assert.deepEqual([...svc.records.keys()].sort(), [...STREAMS].sort());
      assert.equal(svc.counters.readings.http, batch.length);
      assert.equal(svc.lastReading("kitchen"), batch.at(-1)!.ts);
    });
  });
});

Deno.test("ShardedService reports refused readings at their index in the whole batch", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      await svc.ingest(readings(STREAMS, 0, 3), "http");
      const batch = readings(STREAMS, 3, 2);
      // an out-of-order reading and a reading with a missing value, on different streams
      batch[1] = { ...batch[1], ts: T0 };
      batch[8] = { stream: batch[8].stream, ts: batch[8].ts, values: { hum: 3 } };
      const r = await svc.ingest(batch, "http");
      assert.equal(r.accepted, batch.length - 2);
      assert.deepEqual(r.rejected.map((x) => [x.index, x.stream, x.reason]), [
        [1, batch[1].stream, "out_of_order"],
        [8, batch[8].stream, "missing_value"],
      ]);
      assert.equal(svc.rejects().out_of_order, 1);
      assert.equal(svc.rejects().missing_value, 1);
      assert.equal(svc.lastRejects().sources.http.length, 2);
    });
  });
});

Deno.test("ShardedService gives each of many one-reading calls at once its own result, in order", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      // as the MQTT source calls it: one reading per message, many messages unanswered
      const all = readings(STREAMS, 0, 40);
      // a missing value and an out-of-order reading amid the others: refused, the rest taken
      all[50] = { stream: all[50].stream, ts: all[50].ts, values: { hum: 3 } };
      all[101] = { ...all[101], ts: T0 };
      const calls = all.map((r, i) => svc.ingest([r], i % 7 === 3 ? "http" : "mqtt"));
      // a call of two streams on both workers, joining the others
      const both = svc.ingest(readings(["late-a", "late-b"], 0, 1), "mqtt");
      const results = await Promise.all(calls);
      results.forEach((r, i) => {
        if (i === 50 || i === 101) {
          assert.equal(r.accepted, 0, `call ${i}`);
          assert.deepEqual(r.rejected.map((x) => [x.index, x.stream]), [[0, all[i].stream]]);
        } else {
          assert.deepEqual(r, { accepted: 1, rejected: [] }, `call ${i}`);
        }
      });
      assert.equal(results[50].rejected[0].reason, "missing_value");
      assert.equal(results[101].rejected[0].reason, "out_of_order");
      // each refusal kept among its source's last ones (call 50 came by MQTT, 101 by HTTP)
      const last = svc.lastRejects().sources;
      assert.deepEqual(last.mqtt?.map((x) => [x.stream, x.reason]), [
        [all[50].stream, "missing_value"],
      ]);
      assert.deepEqual(last.http?.map((x) => [x.stream, x.reason]), [
        [all[101].stream, "out_of_order"],
      ]);
      assert.deepEqual(await both, { accepted: 2, rejected: [] });
      for (const s of STREAMS) {
        // every reading but the two refused, in order (one out of order would be refused too)
        const missing = [all[50], all[101]].filter((r) => r.stream === s).length;
        assert.equal((await svc.summary(s)).readings, 40 - missing, s);
      }
      const counted = svc.counters.readings;
      assert.equal(counted.mqtt + counted.http, all.length - 2 + 2);
      assert.equal(svc.queued, 0);
    });
  });
});

Deno.test("ShardedService refuses a count of batches in flight below 1, before any worker starts", () => {
  for (const inflight of [0, 1.5]) {
    assert.throws(
      () =>
        new ShardedService({
          store: {} as Store,
          log: captureLog().log,
          kvPath: "/tmp/never-opened.sqlite3",
          workers: 2,
          inflight,
        }),
      new RegExp(`inflight must be a positive integer: current value is ${inflight}$`),
    );
  }
});

Deno.test("ShardedService keeps maxStreams across workers", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      const r = await svc.ingest(readings(STREAMS, 0, 1), "http");
      assert.equal(r.accepted, 4);
      assert.equal(svc.records.size, 4);
      assert.deepEqual(r.rejected.map((x) => x.reason), ["too_many_streams", "too_many_streams"]);
      assert.match(r.rejected[0].message, /at most 4 streams are allowed \(maxStreams\)/);
      await assert.rejects(
        svc.put("new", { columns: ["x"] }),
        (e) => e instanceof ServiceError && e.kind === "conflict",
      );
      assert.equal(await svc.delete(r.rejected.length ? STREAMS[0] : "none"), true);
      await svc.put("new", { columns: ["x"] });
      assert.equal(svc.records.size, 4);
    }, { maxStreams: 4 });
  });
});

Deno.test("ShardedService answers a stream's errors as the Service does", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      await assert.rejects(
        Promise.resolve(svc.forecast("nope")),
        (e) =>
          e instanceof ServiceError && e.kind === "not_found" &&
          /"nope" is unknown/.test(e.message),
      );
      await svc.put("empty", { columns: ["x"] });
      await assert.rejects(
        Promise.resolve(svc.forecast("empty")),
        (e) => e instanceof ServiceError && e.kind === "conflict",
      );
      assert.equal(await svc.delete("nope"), false);
    });
  });
});

Deno.test("ShardedService saves every stream at close and restores them in new workers", async () => {
  await withTempDir(async (dir) => {
    const batch = readings(STREAMS, 0, 40);
    let before: unknown[] = [];
    await withSharded(dir, async (svc) => {
      await svc.ingest(batch, "http");
      before = await Promise.all(STREAMS.map((s) => svc.forecast(s, 4)));
    }, { checkpointEvery: 10_000 });
    await withSharded(dir, async (svc) => {
      assert.equal(svc.records.size, STREAMS.length);
      const after = await Promise.all(STREAMS.map((s) => svc.forecast(s, 4)));
      assert.deepEqual(after, before);
      assert.equal(svc.lastReading("hall"), batch.at(-1)!.ts);
    });
  });
});

Deno.test("shard workers whose warm-up of their restored streams would take minutes stop it at warmUpMs and become ready", async () => {
  await withTempDir(async (dir) => {
    const batch = readings(STREAMS, 0, 40);
    await withSharded(dir, (svc) => svc.ingest(batch, "http").then(() => {}), {
      checkpointEvery: 10_000,
    });
    // 10,000,000 readings of a twin of the default preset: over half an hour of CPU a worker
    await withSharded(dir, async (svc) => {
      assert.equal(svc.records.size, STREAMS.length);
      await svc.ingest(readings(STREAMS, 40, 5), "http");
      for (const s of STREAMS) assert.equal((await svc.summary(s)).readings, 45, s);
    }, { warmUpReadings: 10_000_000, warmUpMs: 50 });
  });
});

Deno.test("ShardedService stores the alerts its workers raise and fans them out", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc, store) => {
      const seen: string[] = [];
      const unsubscribe = svc.subscribe({ send: (a) => void seen.push(a.stream) });
      await svc.ingest(readings(["kitchen"], 0, 300), "http");
      // a spike far outside what the stream learned
      await svc.ingest([{ stream: "kitchen", ts: T0 + 300 * STEP, values: { temp: 90 } }], "http");
      await svc.flushAlerts();
      unsubscribe();
      const stored = await store.listAlerts({});
      assert.ok(stored.length >= 1, "an alert is stored");
      assert.equal(stored[0].stream, "kitchen");
      assert.deepEqual(seen, stored.map((a) => a.stream));
      assert.equal(svc.counters.alertsStored, stored.length);
    });
  });
});

Deno.test("a shard worker that dies is reported and restarted from its last checkpoints", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      await svc.ingest(readings(STREAMS, 0, 20), "http");
      assert.equal(await svc.checkpoint(), true);
      const w = shardOf("kitchen", 2);
      const count = [...svc.records.keys()].filter((s) => shardOf(s, 2) === w).length;
      svc.crashWorker(w);
      const end = Date.now() + 10_000;
      while (svc.workers()[w].restarts === 0) {
        assert.ok(Date.now() < end, "the crash is seen within 10 s");
        await new Promise((r) => setTimeout(r, 5));
      }
      // work sent while the new worker loads waits for it
      const s = await svc.summary("kitchen");
      assert.equal(s.readings, 20);
      const health = svc.workers()[w];
      assert.equal(health.restarts, 1);
      assert.equal(health.alive, true);
      assert.match(health.lastCrash!.message, /fault injection/);
      assert.equal(health.streams, count);
      assert.equal(svc.records.size, STREAMS.length);
      const r = await svc.ingest(readings(STREAMS, 20, 1), "http");
      assert.equal(r.accepted, STREAMS.length);
    });
  });
});

Deno.test("a stream's batch on a worker busy with another stream's big batch is taken between its pieces", async () => {
  await withTempDir(async (dir) => {
    // two streams of one worker
    const busy = "kitchen";
    const other = STREAMS.find((s) => s !== busy && shardOf(s, 2) === shardOf(busy, 2))!;
    await withSharded(dir, async (svc) => {
      const order: string[] = [];
      const big = svc.ingest(readings([busy], 0, 3000), "http").then((r) => {
        order.push(busy);
        return r;
      });
      // once the first piece of the big batch is taken
      while (((await svc.summary(busy)).readings) === 0) {
        await new Promise((r) => setTimeout(r, 1));
      }
      const small = await svc.ingest(readings([other], 0, 5), "http");
      order.push(other);
      assert.equal(small.accepted, 5);
      assert.equal((await big).accepted, 3000);
      assert.deepEqual(order, [other, busy], "the small batch did not wait for the whole big one");
      assert.equal((await svc.summary(other)).readings, 5);
    });
  });
});

Deno.test("ShardedService: an idle daemon's checkpointedAt is now (checkpoint age 0), not the time of a worker's last counters", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      await svc.ingest(readings(STREAMS, 0, 5), "http");
      assert.equal(svc.unsavedStreams, STREAMS.length, "told with the batch's reply");
      assert.ok(Date.now() - svc.counters.checkpointedAt >= 0);
      assert.equal(await svc.checkpoint(), true);
      assert.equal(svc.unsavedStreams, 0, "told after the save, before its reply");
      // the workers send their counters every second: watch them for more than one
      let worst = 0;
      for (const end = Date.now() + 1300; Date.now() < end;) {
        worst = Math.max(worst, Date.now() - svc.counters.checkpointedAt);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(worst <= 5, `the checkpoint age read up to ${worst} ms with nothing unsaved`);
    });
  });
});

Deno.test("ShardedService answers an MQTT message of several readings of one worker at their own indices", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      // a device's message of its own ten readings, and one of two streams on one worker
      const [kitchen] = STREAMS;
      const mate = STREAMS.find((s) => s !== kitchen && shardOf(s, 2) === shardOf(kitchen, 2))!;
      const own = readings([kitchen], 0, 10);
      own[3] = { stream: kitchen, ts: own[3].ts, values: { hum: 3 } };
      own[7] = { ...own[7], ts: T0 };
      const pair = readings([kitchen, mate], 10, 5);
      pair[6] = { stream: mate, ts: pair[6].ts, values: { hum: 3 } };
      // and one of streams on both workers, its refusals at their indices too
      const other = STREAMS.find((s) => shardOf(s, 2) !== shardOf(kitchen, 2))!;
      const both = readings([mate, other], 15, 3);
      both[3] = { stream: other, ts: both[3].ts, values: { hum: 3 } };
      const [a, b, c] = await Promise.all([
        svc.ingest(own, "mqtt"),
        svc.ingest(pair, "mqtt"),
        svc.ingest(both, "mqtt"),
      ]);
      const seen = (
        r: IngestResult,
      ) => [r.accepted, r.rejected.map((x) => [x.index, x.stream, x.reason])];
      assert.deepEqual(seen(a), [8, [[3, kitchen, "missing_value"], [7, kitchen, "out_of_order"]]]);
      assert.deepEqual(seen(b), [9, [[6, mate, "missing_value"]]]);
      assert.deepEqual(seen(c), [5, [[3, other, "missing_value"]]]);
      // each refusal kept among the source's last ones (in the order their workers answered)
      const last = svc.lastRejects().sources.mqtt?.map((x) => `${x.stream} ${x.reason}`).sort();
      assert.deepEqual(
        last,
        [
          `${kitchen} missing_value`,
          `${kitchen} out_of_order`,
          `${mate} missing_value`,
          `${other} missing_value`,
        ].sort(),
      );
      assert.equal(svc.lastReading(kitchen), pair.at(-2)!.ts);
      assert.equal(svc.lastReading(other), both.at(-1)!.ts);
      // each stream on its own worker, which answers for it
      for (const s of [kitchen, mate, other]) assert.ok((await svc.summary(s)).readings > 0, s);
      assert.equal(svc.counters.readings.mqtt, 8 + 9 + 5);
    });
  });
});

Deno.test("ShardedService's workers() gives each worker's idle time and how its batches overlapped", async () => {
  await withTempDir(async (dir) => {
    await withSharded(dir, async (svc) => {
      const before = svc.workers().map((w) => w.ingest);
      await new Promise((r) => setTimeout(r, 300));
      const idle = svc.workers().map((w) => w.ingest);
      for (const w of [0, 1]) {
        // nothing sent: both clocks run, the worker's brought up to now from its last counters
        const waited = idle[w].idleSeconds - before[w].idleSeconds;
        assert.ok(waited >= 0.25 && waited < 2, `worker ${w} idle ${waited} s`);
        const unsent = idle[w].nothingSentSeconds - before[w].nothingSentSeconds;
        assert.ok(unsent >= 0.25 && unsent < 2, `worker ${w} nothing sent ${unsent} s`);
      }
      // one-reading messages at once: the first batch goes alone, the next behind it
      await Promise.all(readings(STREAMS, 0, 30).map((r) => svc.ingest([r], "mqtt")));
      const after = svc.workers().map((w) => w.ingest);
      assert.equal(after[0].readings + after[1].readings, 180, "the readings each took");
      assert.ok(after[0].readings > 0 && after[1].readings > 0);
      for (const w of [0, 1]) {
        const sent = after[w].sentBehind.map((n, k) => n - idle[w].sentBehind[k]);
        assert.ok(sent[0] >= 1, `worker ${w}: a batch sent with none in flight: ${sent}`);
        assert.equal(sent.length, 4);
      }
    });
  });
});
