import assert from "node:assert/strict";
import { encodeState, readState } from "../../src/stream/state.ts";
import {
  resolveServiceOptions,
  Service,
  SERVICE_DEFAULTS,
  ServiceError,
  type ServiceOptions,
} from "../../src/service/service.ts";
import { firstCrossing } from "../../src/service/crossing.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import type { Reading } from "../../src/domain/reading.ts";
import { withTempDir } from "../_helpers.ts";
import { probeKv } from "../store/_kv.ts";
import { Engine } from "../../src/stream/engine.ts";
import { getPreset } from "../../src/stream/preset.ts";

/** Polls `cond` every 5 ms until it holds, failing after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const T0 = Date.UTC(2026, 0, 5);
const STEP = 300_000;

function sine(stream: string, from: number, to: number, amp = 2): Reading[] {
  const out: Reading[] = [];
  for (let t = from; t < to; t++) {
    out.push({
      stream,
      ts: T0 + t * STEP,
      values: { temp: 21 + amp * Math.sin((2 * Math.PI * t) / 288) + 0.05 * Math.sin(t * 1.7) },
    });
  }
  return out;
}

async function withService(
  fn: (svc: Service, kv: Deno.Kv) => void | Promise<void>,
  options: ServiceOptions = { checkpointEvery: 50 },
) {
  const kv = await Deno.openKv(":memory:");
  try {
    const svc = new Service({ options, store: new Store(kv), log: captureLog().log });
    await fn(svc, kv);
    await svc.close();
  } finally {
    kv.close();
  }
}

Deno.test("Service creates a stream on its first reading, with that reading's values as columns", async () => {
  await withService(async (svc) => {
    const r = await svc.ingest(
      [{ stream: "kitchen", ts: T0, values: { temp: 21, hum: 40 } }],
      "http",
    );
    assert.deepEqual(r, { accepted: 1, rejected: [] });
    const s = svc.summary("kitchen");
    assert.deepEqual(s.columns, ["temp", "hum"]);
    assert.equal(s.preset, "default");
    assert.equal(s.state, "warming_up");
    assert.equal(svc.counters.readings.http, 1);
  });
});

Deno.test("Service keeps the last refusals per source: readings it refused and messages sources refused", async () => {
  const kv = await Deno.openKv(":memory:");
  let now = T0 + 1;
  try {
    const svc = new Service({ store: new Store(kv), log: captureLog().log, now: () => now });
    assert.deepEqual(svc.lastRejects(), { capacity: 20, sources: {} });
    await svc.ingest([{ stream: "k", ts: T0, values: { temp: 21 } }], "mqtt");
    now = T0 + 2;
    const r = await svc.ingest([{ stream: "k", ts: T0 - STEP, values: { temp: 20 } }], "mqtt");
    assert.equal(r.rejected.length, 1);
    now = T0 + 3;
    svc.reject("bad_json", {
      source: "mqtt",
      stream: null,
      topic: "sensors/k",
      message: "Cannot ingest reading: the payload must be JSON",
    });
    svc.reject("too_large"); // counted only
    now = T0 + 4;
    await svc.ingest([{ stream: "k", ts: T0 + STEP, values: { hum: 40 } }], "http");
    const last = svc.lastRejects();
    assert.deepEqual(Object.keys(last.sources), ["http", "mqtt"]);
    assert.deepEqual(last.sources.mqtt, [
      {
        time: T0 + 3,
        source: "mqtt",
        stream: null,
        reason: "bad_json",
        message: "Cannot ingest reading: the payload must be JSON",
        topic: "sensors/k",
      },
      {
        time: T0 + 2,
        source: "mqtt",
        stream: "k",
        reason: r.rejected[0].reason,
        message: r.rejected[0].message,
      },
    ]);
    assert.equal(last.sources.http.length, 1);
    assert.deepEqual(
      [last.sources.http[0].reason, last.sources.http[0].stream, last.sources.http[0].time],
      ["missing_value", "k", T0 + 4],
    );
    assert.equal(svc.rejects().too_large, 1);
    assert.equal(svc.rejects().missing_value, 1, "a reading refused is counted once");
    await svc.close();
  } finally {
    kv.close();
  }
});

Deno.test("Service rejects a reading with other values than the stream's, counts it and goes on", async () => {
  await withService(async (svc) => {
    await svc.ingest([{ stream: "k", ts: T0, values: { temp: 21 } }], "mqtt");
    const r = await svc.ingest([
      { stream: "k", ts: T0 + STEP, values: { hum: 40 } },
      { stream: "k", ts: T0 + 2 * STEP, values: { temp: 21.2 } },
      { stream: "k", ts: T0 + 2 * STEP, values: { temp: 21.3 } },
    ], "mqtt");
    assert.equal(r.accepted, 1);
    assert.deepEqual(r.rejected.map((x) => [x.index, x.reason]), [[0, "missing_value"], [
      2,
      "duplicate",
    ]]);
    assert.match(
      r.rejected[0].message,
      /values must be exactly \["temp"\].*current values are \["hum"\]/,
    );
    assert.deepEqual(svc.rejects(), { missing_value: 1, duplicate: 1 });
    // a value that is not a number (Service.ingest is public) is no 0 or 1
    const odd = await svc.ingest([
      { stream: "k", ts: T0 + 3 * STEP, values: { temp: null as unknown as number } },
      { stream: "k", ts: T0 + 4 * STEP, values: { temp: true as unknown as number } },
    ], "http");
    assert.equal(odd.accepted, 0);
    assert.deepEqual(odd.rejected.map((x) => x.reason), ["not_finite", "not_finite"]);
  });
});

Deno.test("Service refuses new streams past maxStreams with a 409 reason", async () => {
  await withService(async (svc) => {
    const r = await svc.ingest([
      { stream: "a", ts: T0, values: { v: 1 } },
      { stream: "b", ts: T0, values: { v: 1 } },
    ], "http");
    assert.equal(r.accepted, 1);
    assert.equal(r.rejected[0].reason, "too_many_streams");
    assert.match(r.rejected[0].message, /at most 1 streams are allowed/);
  }, { maxStreams: 1 });
});

Deno.test("Service forecasts ahead of the last reading with intervals, and answers 404 for an unknown stream", async () => {
  await withService(async (svc) => {
    await svc.ingest(sine("s", 0, 400), "http");
    const f = svc.forecast("s", 6);
    assert.equal(f.timestamps.length, 6);
    assert.equal(f.timestamps[0], T0 + 400 * STEP);
    const t = f.targets.temp;
    assert.ok(t.lower.every((v, i) => v !== null && v < t.point[i] && t.upper[i]! > t.point[i]));
    assert.equal(f.model.version, svc.engine.get("s")!.learnedReadings);
    assert.throws(
      () => svc.forecast("nope"),
      (e) => e instanceof ServiceError && e.kind === "not_found",
    );
  });
});

Deno.test("Service.load() takes each restored stream's recent ring before its first reading", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const options = { checkpointEvery: 1000, recentReadings: 5 };
    const a = new Service({ options, store: new Store(kv), log: captureLog().log });
    for (const id of ["s1", "s2", "s3"]) await a.ingest(sine(id, 0, 20), "http");
    await a.close(); // the final checkpoint
    const b = new Service({ options, store: new Store(kv), log: captureLog().log });
    await b.load();
    // held from the load: the first reading after the restart takes none
    assert.equal(b.recentRings, 3);
    assert.deepEqual(b.recent("s1").readings, []);
    await b.ingest(sine("s1", 20, 27), "http");
    assert.deepEqual(b.recent("s1").readings.map((r) => r.ts), sine("s1", 22, 27).map((r) => r.ts));
    assert.deepEqual(b.recent("s2").readings, []);
    assert.equal(b.recentRings, 3);
    await b.delete("s2");
    assert.equal(b.recentRings, 2);
    await b.close();
    // none kept, none taken
    const c = new Service({
      options: { ...options, recentReadings: 0 },
      store: new Store(kv),
      log: captureLog().log,
    });
    await c.load();
    assert.equal(c.recentRings, 0);
    await c.close();
  } finally {
    kv.close();
  }
});

Deno.test("Service checkpoints to KV and a new Service on the same KV continues exactly", async () => {
  const kv = await Deno.openKv(":memory:");
  const refKv = await Deno.openKv(":memory:");
  try {
    const options = { checkpointEvery: 1000 };
    const a = new Service({ options, store: new Store(kv), log: captureLog().log });
    await a.ingest(sine("s", 0, 350), "http");
    await a.close(); // the final checkpoint
    const b = new Service({ options, store: new Store(kv), log: captureLog().log });
    await b.load();
    assert.deepEqual(b.forecast("s"), a.forecast("s"));
    // the same readings without a restart: the restarted service goes on exactly as this one
    const ref = new Service({ options, store: new Store(refKv), log: captureLog().log });
    await ref.ingest(sine("s", 0, 350), "http");
    assert.deepEqual(ref.forecast("s"), a.forecast("s"));
    await ref.ingest(sine("s", 350, 360), "http");
    await b.ingest(sine("s", 350, 360), "http");
    assert.deepEqual(b.forecast("s"), ref.forecast("s"));
    await b.close();
    await ref.close();
  } finally {
    kv.close();
    refKv.close();
  }
});

Deno.test("Service.put() creates with a preset, freezes learning, and rebuilds on a preset change", async () => {
  await withService(async (svc) => {
    await assert.rejects(
      svc.put("x", { preset: "default" }),
      /'columns' must list its value names/,
    );
    await assert.rejects(
      svc.put("x", { preset: "nope", columns: ["v"] }),
      /name must be one of .*: current value is "nope"/,
    );
    const s = await svc.put("x", { preset: "pi-small", columns: ["v"] });
    assert.equal(s.model.hidden, 16);
    await svc.ingest(sine("x", 0, 10).map((r) => ({ ...r, values: { v: r.values.temp } })), "http");
    const frozen = await svc.put("x", { frozen: true });
    assert.equal(frozen.state, "frozen");
    assert.equal(frozen.readings, 10, "freezing keeps the model");
    const rebuilt = await svc.put("x", { preset: "default" });
    assert.equal(rebuilt.readings, 0);
    assert.equal(rebuilt.model.hidden, 32);
    assert.equal(await svc.delete("x"), true);
    assert.equal(await svc.delete("x"), false);
  });
});

Deno.test("Service stores an alert before it reaches live subscribers, with its id", async () => {
  await withService(async (svc) => {
    const got: string[] = [];
    svc.hub.subscribe({ send: (e) => got.push(`${e.id}:${e.stream}:${e.type}`) });
    const readings = sine("s", 0, 600, 2);
    for (let t = 500; t < 600; t++) readings[t].values.temp += 15; // a lasting fault
    await svc.ingest(readings, "http");
    await svc.flushAlerts();
    const stored = await svc.listAlerts({ stream: "s" });
    assert.ok(stored.length >= 1, "an alert was raised");
    assert.equal(stored[0].type, "opened");
    assert.ok(stored[0].time >= T0 + 500 * STEP);
    assert.deepEqual(got, stored.map((e) => `${e.id}:${e.stream}:${e.type}`));
    const acked = await svc.acknowledge(stored[0].id);
    assert.equal(acked.state, "acknowledged");
    assert.deepEqual(await svc.alert(stored[0].id), acked, "alert() reads it back");
    assert.deepEqual(await svc.acknowledge(stored[0].id), acked, "a second ack changes nothing");
    await assert.rejects(
      svc.alert("0000000000009999"),
      (e) =>
        e instanceof ServiceError && e.kind === "not_found" &&
        e.message === 'Cannot get alert: id must exist: "0000000000009999" is unknown',
    );
  });
});

Deno.test("crossing: the earliest time the path reaches the threshold, interpolated; null beyond the horizon", () => {
  const ts = [10, 20, 30];
  assert.equal(firstCrossing(0, 1, ts, [2, 3, 4], 2.5, "above"), 15);
  assert.equal(firstCrossing(0, 1, ts, [2, 3, 4], 5, "above"), null);
  assert.equal(firstCrossing(0, 1, ts, [0.5, 0, -1], 0, "below"), 20);
  assert.equal(firstCrossing(0, 3, ts, [2, 3, 4], 2.5, "above"), 0, "already above");
  assert.equal(firstCrossing(0, 1, ts, [2, null, 4], 5, "above"), null);
});

Deno.test("Service.crossing() names the target it needs and answers with times in ms", async () => {
  await withService(async (svc) => {
    await svc.ingest(sine("s", 0, 300), "http");
    assert.throws(
      () => svc.crossing("s", "hum", 30, "above"),
      /'target' must be one of \["temp"\]/,
    );
    const c = svc.crossing("s", "temp", -100, "below");
    assert.equal(c.crossing, null);
    const now = svc.crossing("s", "temp", -100, "above");
    assert.equal(now.crossing, now.origin, "a value already above crosses now");
    assert.equal(now.origin, T0 + 299 * STEP, "the newest reading's time");
  });
});

Deno.test("Service saves all due streams in one save, not one per reading while a save is pending", async () => {
  await withTempDir(async (dir) => {
    const kv = await Deno.openKv(`${dir}/kv.sqlite`); // a real KV file
    try {
      const { log, entries } = captureLog("debug");
      const svc = new Service({ options: { checkpointEvery: 50 }, store: new Store(kv), log });
      // 20 streams in step, 300 readings each, the event loop turning between rounds
      const streams = 20, rounds = 300;
      for (let t = 0; t < rounds; t++) {
        for (let k = 0; k < streams; k++) {
          await svc.ingest(
            [{ stream: `s${k}`, ts: T0 + t * STEP, values: { v: Math.sin(t / 10) + k } }],
            "mqtt",
          );
        }
        await new Promise((r) => setTimeout(r, 0));
      }
      await svc.close();
      const due = rounds / 25; // saves each stream has earned: one per checkpointEvery / 2
      const saves = entries().filter((e) => e.event === "checkpoint.saved").length;
      const what = `${saves} saves, ${svc.counters.checkpoints} stream saves`;
      assert.ok(saves <= 2 * due + 2, what);
      // a stream goes along with another's save from checkpointEvery / 4 (13) unsaved readings:
      // on a loaded machine the streams fall out of step and some go along at 13, not 25
      const along = Math.ceil(Math.ceil(50 / 2) / 2);
      assert.ok(
        svc.counters.checkpoints >= streams * due &&
          svc.counters.checkpoints <= streams * (Math.ceil(rounds / along) + 2),
        what,
      );
    } finally {
      kv.close();
    }
  });
});

Deno.test("resolveServiceOptions() applies the defaults and names a bad option and its value", () => {
  assert.deepEqual(resolveServiceOptions(), {
    maxStreams: 1000,
    defaultPreset: "default",
    falseAlertsPerWeek: null,
    checkpointEvery: 500,
    checkpointSeconds: 60,
    retryMs: 1000,
    maxQueuedReadings: 50_000,
    shedAfterMs: 250,
    sliceMs: 10,
    recentReadings: 288,
    maxValuesPerStream: 64,
    maxNameLength: 128,
    maxAbsValue: 1e15,
    maxValueSpreads: 1e6,
    warmUpReadings: 4000,
    warmUpMs: 1000,
    warmUpNew: false,
  });
  assert.deepEqual(resolveServiceOptions({ maxStreams: 3, checkpointEvery: undefined }), {
    ...SERVICE_DEFAULTS,
    maxStreams: 3,
  });
  assert.throws(
    () => resolveServiceOptions({ checkpointEvery: 0 }),
    /^RangeError: Cannot create service: checkpointEvery must be a positive integer: current value is 0$/,
  );
  assert.throws(
    () => resolveServiceOptions({ maxStreams: 1.5 }),
    /^RangeError: Cannot create service: maxStreams must be a positive integer: current value is 1\.5$/,
  );
  assert.throws(
    () => resolveServiceOptions({ checkpointSeconds: -1 }),
    /^RangeError: Cannot create service: checkpointSeconds must be a positive number: current value is -1$/,
  );
  assert.throws(
    () => resolveServiceOptions({ falseAlertsPerWeek: -1 }),
    /^RangeError: Cannot create service: falseAlertsPerWeek must be null or a number from 0 to 10000: current value is -1$/,
  );
  assert.throws(
    () => resolveServiceOptions({ recentReadings: -1 }),
    /^RangeError: Cannot create service: recentReadings must be an integer of at least 0: current value is -1$/,
  );
  assert.throws(
    () => resolveServiceOptions({ shedAfterMs: NaN }),
    /^RangeError: Cannot create service: shedAfterMs must be a number >= 0 \(Infinity: never shed\): current value is NaN$/,
  );
  assert.throws(
    () => resolveServiceOptions({ maxQueuedReadings: 0 }),
    /^RangeError: Cannot create service: maxQueuedReadings must be a positive integer: current value is 0$/,
  );
  assert.throws(
    () => resolveServiceOptions({ maxValuesPerStream: 257 }),
    /^RangeError: Cannot create service: maxValuesPerStream must be an integer from 1 to 256: current value is 257$/,
  );
  assert.throws(
    () => resolveServiceOptions({ maxNameLength: 0 }),
    /^RangeError: Cannot create service: maxNameLength must be an integer from 1 to 128: current value is 0$/,
  );
  assert.throws(
    () => resolveServiceOptions({ maxAbsValue: Infinity }),
    /^RangeError: Cannot create service: maxAbsValue must be a positive number of at most 1e\+30: current value is Infinity$/,
  );
  assert.throws(
    () => resolveServiceOptions({ maxValueSpreads: 0 }),
    /^RangeError: Cannot create service: maxValueSpreads must be a positive number of at most 1e\+30: current value is 0$/,
  );
});

Deno.test("lastReading() is the newest reading's time of a known stream, else null", async () => {
  await withService(async (svc) => {
    assert.equal(svc.lastReading("s"), null, "unknown stream");
    await svc.ingest(sine("s", 0, 3), "http");
    assert.equal(svc.lastReading("s"), T0 + 2 * STEP);
    assert.equal(svc.lastReading("s"), svc.summary("s").lastReading);
  });
});

// ---- durability: saves never take the daemon down, the crash-loss bound, batching ----------

/** Value names that make a stream's config (columns and targets) larger than a KV value. */
const WIDE = Array.from({ length: 256 }, (_, i) => `${i}`.padStart(128, "v"));

/** Readings of streams s0..s{n-1}, `per` each, interleaved in time order. */
function interleaved(n: number, from: number, to: number, offset = (_t: number) => 0): Reading[] {
  const out: Reading[] = [];
  for (let t = from; t < to; t++) {
    for (let k = 0; k < n; k++) {
      const v = 21 + 2 * Math.sin((2 * Math.PI * t) / 288 + k) + 0.05 * Math.sin(t * 1.7);
      out.push({ stream: `s${k}`, ts: T0 + t * STEP, values: { temp: v + offset(t) } });
    }
  }
  return out;
}

/** The readings count of each stream's saved checkpoint, read back by a fresh service. */
async function savedReadings(kv: Deno.Kv): Promise<Map<string, number>> {
  const fresh = new Service({ store: new Store(kv), log: captureLog().log });
  await fresh.load();
  return new Map(fresh.list().map((s) => [s.id, s.readings]));
}

Deno.test("put() refuses a config over 64 KiB as invalid before anything changes; saving goes on", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { log, entries } = captureLog("debug");
    const svc = new Service({
      options: { checkpointEvery: 50, maxValuesPerStream: 256 },
      store: new Store(kv),
      log,
    });
    await svc.ingest(sine("kitchen", 0, 30), "http");
    const refused = await svc.put("big", { columns: WIDE, targets: [...WIDE] }).catch((e) => e);
    assert.ok(refused instanceof ServiceError, String(refused));
    assert.equal(refused.kind, "invalid");
    assert.match(
      refused.message,
      /^Cannot create stream "big": its configuration must serialise to at most 65536 bytes: current size is 67\d{3} \(use fewer or shorter value names\)$/,
    );
    assert.equal(svc.records.has("big"), false, "nothing changed");
    assert.equal(svc.engine.get("big"), undefined, "no model was made");
    // an existing stream is not changed either
    const before = svc.summary("kitchen");
    await assert.rejects(
      svc.put("kitchen", { columns: WIDE, targets: [...WIDE] }),
      /^ServiceError: Cannot change stream "kitchen": its configuration must serialise to at most 65536 bytes/,
    );
    assert.deepEqual(svc.summary("kitchen"), before);
    // the next save still saves every stream, and nothing failed
    assert.equal(await svc.checkpoint(), true);
    assert.equal(svc.counters.checkpointFailures, 0);
    assert.equal(entries().filter((e) => e.level === "error").length, 0);
    await svc.close();
    assert.deepEqual([...await savedReadings(kv)], [["kitchen", 30]]);
  } finally {
    kv.close();
  }
});

Deno.test("a save that fails (a full disk) is logged, counted, retried with back-off, and rejects nothing", async () => {
  const raw = await Deno.openKv(":memory:");
  try {
    let failing = true;
    const probe = probeKv(raw, {
      beforeCommit: () => {
        if (failing) throw new Error("database or disk is full");
      },
    });
    const { log, entries } = captureLog("debug");
    const svc = new Service({
      options: { checkpointEvery: 1000, retryMs: 40 },
      store: new Store(probe.kv),
      log,
    });
    await svc.ingest([...sine("a", 0, 20), ...sine("b", 0, 20)], "http");
    assert.equal(await svc.checkpoint(), false, "the save failed, and said so");
    assert.ok(svc.counters.checkpointFailures >= 1);
    const failed = entries().find((e) => e.event === "checkpoint.failed");
    assert.ok(failed, "the failure is logged");
    assert.equal(failed.level, "error");
    assert.equal(failed.retryInMs, 40, "the first retry after retryMs");
    // the retries back off: 40, 80, 160 ms ...
    await until(() => svc.counters.checkpointFailures >= 3, 2000, "two retries");
    const delays = entries().filter((e) => e.event === "checkpoint.failed").map((e) => e.retryInMs);
    assert.deepEqual(delays.slice(0, 3), [40, 80, 160]);
    // the disk has room again: the next retry saves both streams, with nothing asked
    failing = false;
    await until(() => svc.unsaved("a") === 0 && svc.unsaved("b") === 0, 3000, "a retry that saves");
    assert.deepEqual([...await savedReadings(raw)], [["a", 20], ["b", 20]]);
    await svc.close();
  } finally {
    raw.close();
  }
});

Deno.test("a save of 100 streams writes their configs in the checkpoints' commits: a handful, not 117", async () => {
  const raw = await Deno.openKv(":memory:");
  try {
    const probe = probeKv(raw);
    const svc = new Service({
      options: { checkpointEvery: 1000 },
      store: new Store(probe.kv),
      log: captureLog().log,
    });
    await svc.ingest(interleaved(100, 0, 3), "http");
    const before = probe.commits;
    assert.equal(await svc.checkpoint(), true);
    const commits = probe.commits - before;
    // 100 default-preset checkpoints of about 128 KB: the payload limit of 819,200 bytes per
    // commit makes 16 the floor
    const bytes = svc.engine.get("s0")!.toBytes().byteLength;
    const floor = Math.ceil((100 * bytes) / 819_200);
    assert.ok(commits <= floor + 2, `${commits} commits for 100 streams (floor ${floor})`);
    assert.equal(svc.counters.checkpointCommits, commits, "the counter counts every commit");
    const saved = await savedReadings(raw);
    assert.equal(saved.size, 100);
    assert.ok([...saved.values()].every((n) => n === 3));
    await svc.close();
  } finally {
    raw.close();
  }
});

Deno.test("no stream ever has more than checkpointEvery acknowledged readings outside its saved checkpoint, even when saves are slow", async () => {
  const raw = await Deno.openKv(":memory:");
  try {
    // a slow SD card: every commit takes 100 ms
    const probe = probeKv(raw, { beforeCommit: () => new Promise((r) => setTimeout(r, 100)) });
    const every = 40;
    const svc = new Service({
      options: { checkpointEvery: every },
      store: new Store(probe.kv),
      log: captureLog().log,
    });
    const taken = new Map<string, number>();
    let worst = 0;
    for (let t = 0; t < 400; t += 4) {
      // 4 readings of each of 3 streams per batch, a batch every few ms
      const result = await svc.ingest(interleaved(3, t, t + 4), "http");
      assert.equal(result.accepted, 12);
      for (let k = 0; k < 3; k++) taken.set(`s${k}`, t + 4);
      if (t % 40 === 36) {
        const saved = await savedReadings(raw);
        for (const [id, n] of taken) worst = Math.max(worst, n - (saved.get(id) ?? 0));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(worst <= every, `at most ${every} readings unsaved: ${worst}`);
    assert.ok(worst > every / 4, `the check saw unsaved readings: ${worst}`);
    assert.equal(svc.counters.readingsBeyondLossBound, 0);
    await svc.close();
  } finally {
    raw.close();
  }
});

Deno.test("a stream held at its checkpoint bound while its save is written holds back its own readings, not another stream's", async () => {
  const raw = await Deno.openKv(":memory:");
  try {
    let release!: () => void;
    let held: Promise<void> | null = null;
    const probe = probeKv(raw, { beforeCommit: () => held ?? undefined });
    const every = 40;
    const svc = new Service({
      options: { checkpointEvery: every },
      store: new Store(probe.kv),
      log: captureLog().log,
    });
    // both streams created and their records stored, then every commit waits (a slow card)
    await svc.ingest([...sine("a", 0, 1), ...sine("b", 0, 1)], "http");
    held = new Promise<void>((r) => (release = r));
    const a = svc.ingest(sine("a", 1, 101), "mqtt");
    await until(() => svc.unsaved("a") >= every, 5_000, `stream a at its bound of ${every}`);
    const commitsBefore = probe.commits;
    // b's reading comes behind a's readings held at the bound, while a's save is being written
    const b = await svc.ingest(sine("b", 1, 2), "mqtt");
    assert.deepEqual(b, { accepted: 1, rejected: [] });
    assert.equal(svc.lastReading("b"), T0 + STEP, "b's reading taken");
    assert.equal(svc.unsaved("a"), every, "a still waits at its bound");
    assert.equal(probe.commits, commitsBefore, "a's save is still being written");
    release();
    held = null;
    assert.deepEqual(await a, { accepted: 100, rejected: [] });
    assert.equal(svc.lastReading("a"), T0 + 100 * STEP, "a's readings taken, the last one last");
    assert.equal(svc.counters.readingsBeyondLossBound, 0, "the bound held");
    await svc.close();
  } finally {
    raw.close();
  }
});

// Why the commits are held: the writer stores whatever waits each time the commit before it is
// done, and the ingest queue raises alerts slice by slice (10 ms of work each). On a loaded
// machine a slice holds only a few readings and an in-memory commit finishes between two slices,
// so the count followed the slices (4-5 commits for 12 alerts seen under load; 12 for 12 with
// 0.05 ms slices). What the writer guarantees is that the events raised while a commit is under
// way share the next commit: with the commits held while the alerts are raised, the count is
// exact whatever the slicing.
Deno.test("alerts raised while a commit is under way share the next commit, in order, before subscribers see them", async () => {
  const raw = await Deno.openKv(":memory:");
  try {
    let held: Promise<void> | null = null;
    const probe = probeKv(raw, { beforeCommit: () => held ?? undefined });
    const svc = new Service({
      options: { checkpointEvery: 100_000, checkpointSeconds: 3600 },
      store: new Store(probe.kv),
      log: captureLog().log,
    });
    const got: string[] = [];
    svc.subscribe({ send: (e) => got.push(e.id) });
    await svc.ingest(interleaved(12, 0, 400), "http");
    await svc.flushAlerts();
    assert.equal(svc.counters.alertsStored, 0, "no alert while learning");
    const before = probe.commits;
    let release = () => {};
    held = new Promise((resolve) => (release = resolve));
    // the same fault on every stream at once, while the first alert's commit is held
    await svc.ingest(interleaved(12, 400, 404, () => 15), "http");
    await until(() => probe.commits - before === 1, 5000, "the first alert's commit");
    assert.deepEqual(got, [], "nothing is published before it is stored");
    held = null;
    release();
    await svc.flushAlerts();
    const stored = await svc.listAlerts({ limit: 100 });
    assert.ok(stored.length >= 10, `alerts opened: ${stored.length}`);
    const commits = probe.commits - before;
    assert.equal(commits, 2, `${commits} commits for ${stored.length} alerts`);
    assert.deepEqual(got, stored.map((e) => e.id), "published in id order, once stored");
    await svc.close();
  } finally {
    raw.close();
  }
});

// ---- overload: readers are answered, learning is shed and caught up -------------------------

// Checked as an order, not a wall-clock bound that load could break: a 1 ms timer keeps firing
// while the batch is learned (the queue's slices end by the clock, so load gives more turns, not
// fewer). Before the queue, the batch held the event loop for 4 to 14 s: the timer fired once at
// most, after it.
Deno.test("a 10,000-reading batch lets the event loop run between its slices", async () => {
  await withService(async (svc) => {
    // the streams exist and the code is compiled (a cold start takes its time once)
    await svc.ingest(interleaved(10, 0, 1), "http");
    let beats = 0;
    let worst = 0;
    let last = performance.now();
    const beat = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      beats++;
    }, 1);
    let during: number;
    try {
      const result = await svc.ingest(interleaved(10, 1, 1001), "http");
      during = beats;
      assert.equal(result.accepted, 10_000);
    } finally {
      clearInterval(beat);
    }
    console.log(`timer beats while learning: ${during}; longest wait ${worst.toFixed(1)} ms`);
    assert.ok(
      during >= 20,
      `a 1 ms timer fired ${during} times while 10,000 readings were learned`,
    );
    assert.equal(svc.counters.trainingShed, 0, "one batch alone is no overload: all learned");
  }, { checkpointEvery: 100_000 });
});

Deno.test("under overload every reading is scored, learning is shed and counted, and caught up when load drops", async () => {
  await withService(async (svc) => {
    // 30 clients at once, 200 readings each: far more than the models learn in 50 ms
    const batches = Array.from({ length: 30 }, (_, c) => interleaved(4, c * 50, c * 50 + 50));
    const results = await Promise.all(batches.map((b) => svc.ingest(b, "http")));
    const total = batches.reduce((n, b) => n + b.length, 0);
    assert.equal(results.reduce((n, r) => n + r.accepted, 0), total, "every reading taken");
    assert.equal(svc.engine.counters.readings, total, "every reading scored");
    const shed = svc.counters.trainingShed;
    assert.ok(shed > total / 4, `learning shed for ${shed} of ${total} readings`);
    assert.ok(svc.engine.counters.learned <= total - shed, "a shed reading is not learned");
    assert.equal(svc.queued, 0);
    // the load drops: readings one batch at a time; a fresh window is learned, then idle time
    // makes up the LSTM updates the streams owe
    for (let t = 1500; t < 1540; t++) await svc.ingest(interleaved(4, t, t + 1), "http");
    await until(() => svc.counters.trainingCaughtUp > 0, 3000, "catch-up updates");
    assert.equal(svc.counters.trainingShed, shed, "no more shedding once the load dropped");
  }, { checkpointEvery: 100_000, shedAfterMs: 50 });
});

Deno.test("without overload the service learns exactly what the engine fed directly learns", async () => {
  const readings = interleaved(3, 0, 400);
  const engine = new Engine();
  for (let k = 0; k < 3; k++) {
    engine.create(`s${k}`, { preset: getPreset("default"), columns: ["temp"] });
  }
  for (const r of readings) engine.observe(r.stream, r.ts, [r.values.temp]);
  await withService(async (svc) => {
    for (let i = 0; i < readings.length; i += 30) {
      await svc.ingest(readings.slice(i, i + 30), "mqtt");
    }
    assert.equal(svc.counters.trainingShed, 0);
    for (let k = 0; k < 3; k++) {
      const s = svc.engine.get(`s${k}`)!;
      assert.deepEqual(s.forecast(), engine.get(`s${k}`)!.forecast(), `s${k}`);
      assert.deepEqual(s.toBytes(), engine.get(`s${k}`)!.toBytes(), `s${k}: the whole model`);
    }
  }, { checkpointEvery: 100_000 });
});

Deno.test("a full queue refuses HTTP batches as unavailable (memory stays bounded) and lets MQTT in", async () => {
  await withService(async (svc) => {
    const batches = Array.from({ length: 8 }, (_, c) => interleaved(2, c * 100, c * 100 + 100));
    const outcomes = await Promise.allSettled(batches.map((b) => svc.ingest(b, "http")));
    const refused = outcomes.filter((o) => o.status === "rejected");
    assert.ok(refused.length >= 1, "some batches found the queue full");
    for (const o of refused) {
      const e = (o as PromiseRejectedResult).reason;
      assert.ok(e instanceof ServiceError && e.kind === "unavailable", String(e));
      assert.match(
        e.message,
        /^Cannot queue readings: at most 500 may wait \(maxQueuedReadings\): current count is \d+ waiting and 200 in this message; retry later$/,
      );
    }
    assert.equal(svc.rejects().queue_full, refused.length * 200);
    // a source that waits for each answer is let in
    const mqtt = await Promise.all([
      svc.ingest(interleaved(2, 900, 1200), "mqtt"),
      svc.ingest(interleaved(2, 1200, 1500), "mqtt"),
    ]);
    assert.deepEqual(mqtt.map((r) => r.accepted), [600, 600]);
  }, { checkpointEvery: 100_000, maxQueuedReadings: 500 });
});

Deno.test("a checkpoint that fails validation is refused with its reason; the stream starts fresh", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new Store(kv);
    const a = new Service({ store, log: captureLog().log });
    await a.ingest(sine("s", 0, 50), "http");
    await a.ingest(sine("t", 0, 50), "http");
    await a.close();
    // NaN weights with the checksum recomputed, as an edited file would hold
    const { scalars, arrays } = readState((await store.loadCheckpoint("s"))!);
    arrays.params[0] = NaN;
    await store.saveCheckpoint("s", encodeState(scalars, arrays));
    const log = captureLog("debug");
    const b = new Service({ store, log: log.log });
    await b.load();
    const failed = log.entries().filter((e) => e.event === "stream.restore_failed");
    assert.equal(failed.length, 1);
    assert.equal(failed[0].stream, "s");
    assert.equal(failed[0].action, "the stream starts fresh");
    assert.match(
      (failed[0].error as Error).message,
      /^Cannot restore stream state: array "params" must hold finite numbers .*: current value at \[0\] is NaN$/,
    );
    assert.equal(b.summary("s").readings, 0, "a fresh model");
    assert.deepEqual(b.summary("s").columns, ["temp"], "under its record");
    assert.equal(b.summary("t").readings, 50, "the other stream restored");
    const r = await b.ingest(sine("s", 0, 30), "http");
    assert.equal(r.accepted, 30, "a fresh stream takes readings from any time");
    await b.close();
    const c = new Service({ store, log: captureLog().log });
    await c.load();
    assert.equal(c.summary("s").readings, 30, "saved anew");
    await c.close();
  } finally {
    kv.close();
  }
});

Deno.test("a pi-small checkpoint of a daily season in 2,010 buckets (before 288) restores in 288: the stream keeps what it learned", async () => {
  const kv = await Deno.openKv(":memory:");
  const second = (from: number, to: number): Reading[] =>
    Array.from({ length: to - from }, (_, k) => ({
      stream: "p",
      ts: T0 + (from + k) * 1000,
      values: { temp: 21 + Math.sin((from + k) / 60) },
    }));
  try {
    const store = new Store(kv);
    const a = new Service({ store, log: captureLog().log });
    await a.put("p", { preset: "pi-small", columns: ["temp"] });
    await a.ingest(second(0, 100), "http");
    await a.close();
    // what pi-small wrote before: a day at 1 s in buckets of 43 readings, 2,010 of them
    const { scalars, arrays } = readState((await store.loadCheckpoint("p"))!);
    assert.equal(arrays.seasonMeans.length, 288);
    const old = new Float64Array(2010);
    old.set(arrays.seasonMeans.subarray(0, 2));
    arrays.seasonMeans = old;
    await store.saveCheckpoint("p", encodeState(scalars, arrays));
    const log = captureLog("debug");
    const b = new Service({ store, log: log.log });
    await b.load();
    const failed = log.entries().filter((e) => e.event === "stream.restore_failed");
    assert.deepEqual(failed, [], "restored, not started fresh");
    assert.equal(b.summary("p").readings, 100, "the model it had");
    assert.equal(b.summary("p").preset, "pi-small");
    // and it learns on: the next reading is taken and saved in the preset's layout
    await b.ingest(second(100, 101), "http");
    assert.equal(b.summary("p").readings, 101);
    await b.close();
    const after = readState((await store.loadCheckpoint("p"))!);
    assert.equal(after.arrays.seasonMeans.length, 288);
  } finally {
    kv.close();
  }
});

Deno.test("a checkpoint whose newest reading lies more than a day ahead is refused: it would refuse every reading", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new Store(kv);
    const a = new Service({ store, log: captureLog().log, now: () => T0 });
    await a.ingest(sine("s", 0, 20), "http");
    await a.close();
    const { scalars, arrays } = readState((await store.loadCheckpoint("s"))!);
    (scalars as { lastTs: number }).lastTs = Date.UTC(2100, 0, 1);
    await store.saveCheckpoint("s", encodeState(scalars, arrays));
    const log = captureLog("debug");
    const b = new Service({ store, log: log.log, now: () => T0 + 20 * STEP });
    await b.load();
    const failed = log.entries().find((e) => e.event === "stream.restore_failed")!;
    assert.match((failed.error as Error).message, /'lastTs' must be at most 2026-01-06T.*2100/);
    assert.equal((await b.ingest(sine("s", 20, 21), "http")).accepted, 1);
    await b.close();
  } finally {
    kv.close();
  }
});

Deno.test("Service counters.checkpointedAt is when the oldest unsaved change was made, or now", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let clock = 1_000;
    const store = new Store(kv);
    const svc = new Service({ store, log: captureLog().log, now: () => clock });
    assert.equal(svc.counters.checkpointedAt, 1_000, "nothing is unsaved at creation");
    clock = 2_000;
    await svc.ingest(sine("a", 0, 10).concat(sine("b", 0, 10)), "http");
    clock = 2_500;
    assert.equal(svc.counters.checkpointedAt, 2_000, "a and b are unsaved since 2,000");
    clock = 3_000;
    await svc.checkpoint();
    assert.equal(svc.counters.checkpointedAt, 3_000, "every stream saved: now");
    clock = 4_000;
    await svc.ingest(sine("a", 10, 11), "http");
    store.saveCheckpoints = () => Promise.reject(new Error("disk full"));
    clock = 5_000;
    assert.equal(await svc.checkpoint(), false);
    assert.ok(svc.counters.checkpointFailures >= 1);
    assert.equal(svc.counters.checkpointedAt, 4_000, "a failed save leaves a unsaved since 4,000");
    await svc.close();
  } finally {
    kv.close();
  }
});

Deno.test("Service hands its value bounds to every stream: out_of_range readings are counted", async () => {
  await withService(async (svc) => {
    const r = await svc.ingest([
      { stream: "s", ts: T0, values: { v: 1 } },
      { stream: "s", ts: T0 + STEP, values: { v: 2 } },
      { stream: "s", ts: T0 + 2 * STEP, values: { v: 1001 } },
      { stream: "s", ts: T0 + 2 * STEP, values: { v: 14 } },
      { stream: "s", ts: T0 + 3 * STEP, values: { v: 12 } },
    ], "http");
    assert.deepEqual(r.rejected.map((x) => [x.index, x.reason]), [[2, "out_of_range"], [
      3,
      "out_of_range",
    ]]);
    assert.match(r.rejected[0].message, /'v' must be from -1000 to 1000 \(maxAbsValue\)/);
    assert.match(r.rejected[1].message, /'v' must be from -9 to 12 \(10 times the range/);
    assert.deepEqual(svc.rejects(), { out_of_range: 2 });
    assert.equal(svc.summary("s").readings, 3);
  }, { maxAbsValue: 1000, maxValueSpreads: 10 });
});

Deno.test("Service logs a warning when the divergence guard repairs a stream, and keeps forecasting", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const log = captureLog("debug");
    const svc = new Service({ store: new Store(kv), log: log.log });
    await svc.ingest(sine("s", 0, 100), "http");
    svc.engine.get("s")!.net!.params[3] = NaN;
    const r = await svc.ingest(sine("s", 100, 101), "http");
    assert.deepEqual(r, { accepted: 1, rejected: [] });
    const warned = log.entries().filter((e) => e.event === "stream.recovered");
    assert.deepEqual(warned.map((e) => [e.level, e.stream, e.parts]), [["warn", "s", ["lstm"]]]);
    assert.equal(svc.summary("s").recoveries, 1);
    assert.ok(svc.forecast("s").targets.temp.point.every(Number.isFinite));
    await svc.close();
  } finally {
    kv.close();
  }
});

Deno.test("Service warns naming both periods when gaps become frequent, and reports the period", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const log = captureLog("debug");
    const svc = new Service({ store: new Store(kv), log: log.log });
    await svc.put("s", { columns: ["temp"], periodMs: 28 });
    assert.equal(svc.summary("s").periodSource, "configured");
    await svc.ingest(sine("s", 0, 200).map((r, i) => ({ ...r, ts: T0 + i * 1000 })), "http");
    const warned = log.entries().filter((e) => e.event === "stream.gaps");
    assert.equal(warned.length, 1);
    assert.equal(warned[0].level, "warn");
    assert.match(
      warned[0].message as string,
      /^\d+% of the recent readings of "s" came after a gap: its configured period is 28 ms, its readings come every 1000 ms \(the median of the recent intervals\); set periodMs to null to estimate it$/,
    );
    const s = svc.summary("s");
    assert.deepEqual([s.periodMs, s.periodSource, s.observedPeriodMs], [28, "configured", 1000]);
    await svc.ingest(sine("e", 0, 3), "http");
    const e = svc.summary("e");
    assert.deepEqual([e.periodMs, e.periodSource, e.observedPeriodMs], [STEP, "estimated", STEP]);
    await svc.close();
  } finally {
    kv.close();
  }
});

Deno.test("Service refuses a stream of more values than maxValuesPerStream, at ingest and at put", async () => {
  await withService(async (svc) => {
    const values = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, i]));
    const r = await svc.ingest([
      { stream: "wide", ts: T0, values: values(5) },
      { stream: "ok", ts: T0, values: values(4) },
    ], "mqtt");
    assert.equal(r.accepted, 1);
    assert.deepEqual(r.rejected.map((x) => [x.index, x.reason]), [[0, "too_many_values"]]);
    assert.equal(
      r.rejected[0].message,
      'Cannot create stream "wide": its values must hold at most 4 values (maxValuesPerStream): current count is 5',
    );
    assert.equal(svc.engine.get("wide"), undefined, "no stream was made");
    assert.deepEqual(svc.rejects(), { too_many_values: 1 });
    await assert.rejects(
      svc.put("wide", { columns: Object.keys(values(5)) }),
      (e) =>
        e instanceof ServiceError && e.kind === "invalid" && e.reason === "too_many_values" &&
        /must hold at most 4 values \(maxValuesPerStream\): current count is 5$/.test(e.message),
    );
    await assert.rejects(
      svc.put("ok", { columns: Object.keys(values(6)) }),
      /Cannot change stream "ok": 'columns' must hold at most 4 values/,
    );
    assert.deepEqual(svc.summary("ok").columns, Object.keys(values(4)), "the stream is unchanged");
  }, { maxValuesPerStream: 4 });
});

Deno.test("Service refuses stream ids and value names longer than maxNameLength, or only dots", async () => {
  await withService(async (svc) => {
    const r = await svc.ingest([
      { stream: "kitchen-long", ts: T0, values: { t: 1 } },
      { stream: "kitchen", ts: T0, values: { "temperature": 1 } },
      { stream: "..", ts: T0, values: { t: 1 } },
      { stream: "k", ts: T0, values: { "..": 1 } },
      { stream: "k2", ts: T0, values: { t: 1 } },
    ], "http");
    assert.equal(r.accepted, 1);
    assert.deepEqual(r.rejected.map((x) => [x.index, x.reason]), [
      [0, "bad_name"],
      [1, "bad_name"],
      [2, "bad_name"],
      [3, "bad_name"],
    ]);
    assert.equal(
      r.rejected[0].message,
      'Cannot create stream "kitchen-long": its id must be at most 8 characters long (maxNameLength): current value is "kitchen-long"',
    );
    assert.equal(
      r.rejected[1].message,
      'Cannot create stream "kitchen": value name must be at most 8 characters long (maxNameLength): current value is "temperature"',
    );
    assert.match(r.rejected[2].message, /its id must be 1-128 characters .* not only dots/);
    assert.deepEqual(svc.rejects(), { bad_name: 4 });
    await assert.rejects(
      svc.put("k3", { columns: ["a"], targets: ["a"], preset: "default" }).then(() =>
        svc.put("k3", { columns: ["a", "temperature"] })
      ),
      /value name must be at most 8 characters long \(maxNameLength\): current value is "temperature"/,
    );
  }, { maxNameLength: 8 });
});

Deno.test("Service gives every stream its false-alarm budget, or leaves the preset's", async () => {
  for (const [budget, want] of [[null, 1], [3, 3], [0, 0]] as const) {
    await withService((svc) => {
      svc.ingest([{ stream: "k", ts: T0, values: { temp: 21 } }], "http");
      assert.equal(svc.engine.get("k")!.preset.anomaly.falseAlertsPerWeek, want, `${budget}`);
      assert.equal(svc.engine.get("k")!.budget.enabled, want > 0);
    }, { falseAlertsPerWeek: budget });
  }
});

Deno.test("a batch that creates streams is answered once their records are in KV, 100 to a commit: a service started on the same KV then restores every one", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/kv.sqlite`;
    const kv = await Deno.openKv(path);
    const probe = probeKv(kv);
    const first = new Service({ store: new Store(probe.kv), log: captureLog().log });
    const readings: Reading[] = [];
    for (let k = 0; k < 250; k++) readings.push({ stream: `s${k}`, ts: T0, values: { v: k } });
    // and one stream with a checkpoint, as every stream was stored before records existed
    readings.push(...sine("saved", 0, 30));
    const result = await first.ingest(readings, "http");
    assert.equal(result.accepted, 280);
    // 251 records at most 100 to a commit (one check each): 3 commits, none for a reading
    assert.ok(probe.commits <= 4, `${probe.commits} commits for 251 new streams`);
    const store = new Store(kv);
    assert.equal((await store.listStreams()).length, 251, "every record is in KV once answered");
    assert.equal(await store.loadCheckpoint("s0"), null, "no checkpoint was saved");
    assert.equal(first.unsavedStreams, 251);
    // "saved" gets its checkpoint (and config) the way every stream did before this change
    await store.saveCheckpoints([{
      id: "saved",
      bytes: first.engine.get("saved")!.toBytes(),
      config: first.records.get("saved"),
    }]);
    // no close, no final save: the daemon stops here (a SIGKILL) and starts again
    const second = new Service({ store: new Store(kv), log: captureLog().log });
    await second.load();
    assert.equal(second.records.size, 251);
    assert.deepEqual(second.summary("s7").columns, ["v"]);
    assert.equal(second.summary("s7").readings, 0, "back empty: it learns again");
    assert.equal(second.records.get("s7")!.createdAt, first.records.get("s7")!.createdAt);
    assert.equal(second.summary("saved").readings, 30, "a checkpointed stream comes back whole");
    assert.deepEqual(second.forecast("saved"), first.forecast("saved"));
    await second.close();
    await first.close();
    kv.close();
  });
});

Deno.test("Service.horizonStats() gives the streams in id order (the order of /metrics), not the order they came in", async () => {
  await withService(async (svc) => {
    for (const stream of ["m", "b", "z", "a:1", "a"]) {
      await svc.ingest([{ stream, ts: T0, values: { temp: 21 } }], "http");
    }
    assert.deepEqual([...svc.horizonStats()].map((s) => s.stream), ["a", "a:1", "b", "m", "z"]);
  });
});

Deno.test("checkpoints are packed in a real KV file; packed and version 3 ones restore exactly after a restart", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/kv.sqlite`;
    let kv = await Deno.openKv(path);
    const first = new Service({ store: new Store(kv), log: captureLog().log });
    await first.ingest(sine("packed", 0, 400), "http");
    await first.ingest(sine("plain", 0, 400, 3), "http");
    await first.close();
    const store = new Store(kv);
    const packed = (await store.loadCheckpoint("packed"))!;
    assert.equal(new DataView(packed.buffer, packed.byteOffset).getUint16(4, true), 4, "packed");
    // "plain" as forecastd wrote it before checkpoints were packed: the same state, version 3
    const { scalars, arrays } = readState((await store.loadCheckpoint("plain"))!);
    const plain = encodeState(scalars, arrays);
    assert.equal(new DataView(plain.buffer).getUint16(4, true), 3);
    assert.ok(packed.length < plain.length, `${packed.length} against ${plain.length} bytes`);
    await store.saveCheckpoint("plain", plain);
    kv.close();
    kv = await Deno.openKv(path);
    try {
      const second = new Service({ store: new Store(kv), log: captureLog().log });
      await second.load();
      for (const id of ["packed", "plain"]) {
        assert.deepEqual(second.forecast(id), first.forecast(id), id);
        assert.deepEqual(second.engine.get(id)!.toBytes(), first.engine.get(id)!.toBytes(), id);
      }
      // and on as the stream would have gone
      for (const r of sine("plain", 400, 450, 3)) {
        const want = first.engine.get("plain")!.observe(r.ts, [r.values.temp as number]);
        assert.deepEqual(
          second.engine.get("plain")!.observe(r.ts, [r.values.temp as number]),
          want,
        );
      }
      await second.close();
    } finally {
      kv.close();
    }
  });
});
