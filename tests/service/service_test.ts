import assert from "node:assert/strict";
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
import { encodeState, readState } from "../../src/stream/state.ts";

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
  await withService((svc) => {
    const r = svc.ingest([{ stream: "kitchen", ts: T0, values: { temp: 21, hum: 40 } }], "http");
    assert.deepEqual(r, { accepted: 1, rejected: [] });
    const s = svc.summary("kitchen");
    assert.deepEqual(s.columns, ["temp", "hum"]);
    assert.equal(s.preset, "default");
    assert.equal(s.state, "warming_up");
    assert.equal(svc.counters.readings.http, 1);
  });
});

Deno.test("Service rejects a reading with other values than the stream's, counts it and goes on", async () => {
  await withService((svc) => {
    svc.ingest([{ stream: "k", ts: T0, values: { temp: 21 } }], "mqtt");
    const r = svc.ingest([
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
    const odd = svc.ingest([
      { stream: "k", ts: T0 + 3 * STEP, values: { temp: null as unknown as number } },
      { stream: "k", ts: T0 + 4 * STEP, values: { temp: true as unknown as number } },
    ], "http");
    assert.equal(odd.accepted, 0);
    assert.deepEqual(odd.rejected.map((x) => x.reason), ["not_finite", "not_finite"]);
  });
});

Deno.test("Service refuses new streams past maxStreams with a 409 reason", async () => {
  await withService((svc) => {
    const r = svc.ingest([
      { stream: "a", ts: T0, values: { v: 1 } },
      { stream: "b", ts: T0, values: { v: 1 } },
    ], "http");
    assert.equal(r.accepted, 1);
    assert.equal(r.rejected[0].reason, "too_many_streams");
    assert.match(r.rejected[0].message, /at most 1 streams are allowed/);
  }, { maxStreams: 1 });
});

Deno.test("Service forecasts ahead of the last reading with intervals, and answers 404 for an unknown stream", async () => {
  await withService((svc) => {
    svc.ingest(sine("s", 0, 400), "http");
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

Deno.test("Service checkpoints to KV and a new Service on the same KV continues exactly", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const options = { checkpointEvery: 1000 };
    const a = new Service({ options, store: new Store(kv), log: captureLog().log });
    a.ingest(sine("s", 0, 350), "http");
    await a.close(); // the final checkpoint
    const b = new Service({ options, store: new Store(kv), log: captureLog().log });
    await b.load();
    assert.deepEqual(b.forecast("s"), a.forecast("s"));
    a.ingest(sine("s", 350, 360), "http");
    b.ingest(sine("s", 350, 360), "http");
    assert.deepEqual(b.forecast("s"), a.forecast("s"));
    await b.close();
  } finally {
    kv.close();
  }
});

Deno.test("a checkpoint that fails validation is refused with its reason; the stream starts fresh", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new Store(kv);
    const a = new Service({ store, log: captureLog().log });
    a.ingest(sine("s", 0, 50), "http");
    a.ingest(sine("t", 0, 50), "http");
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
    const r = b.ingest(sine("s", 0, 30), "http");
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

Deno.test("a checkpoint whose newest reading lies more than a day ahead is refused: it would refuse every reading", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new Store(kv);
    const a = new Service({ store, log: captureLog().log, now: () => T0 });
    a.ingest(sine("s", 0, 20), "http");
    await a.close();
    const { scalars, arrays } = readState((await store.loadCheckpoint("s"))!);
    (scalars as { lastTs: number }).lastTs = Date.UTC(2100, 0, 1);
    await store.saveCheckpoint("s", encodeState(scalars, arrays));
    const log = captureLog("debug");
    const b = new Service({ store, log: log.log, now: () => T0 + 20 * STEP });
    await b.load();
    const failed = log.entries().find((e) => e.event === "stream.restore_failed")!;
    assert.match((failed.error as Error).message, /'lastTs' must be at most 2026-01-06T.*2100/);
    assert.equal(b.ingest(sine("s", 20, 21), "http").accepted, 1);
    await b.close();
  } finally {
    kv.close();
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
    svc.ingest(sine("x", 0, 10).map((r) => ({ ...r, values: { v: r.values.temp } })), "http");
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
    svc.ingest(readings, "http");
    await svc.flushAlerts();
    const stored = await svc.listAlerts({ stream: "s" });
    assert.ok(stored.length >= 1, "an alert was raised");
    assert.equal(stored[0].type, "opened");
    assert.ok(stored[0].time >= T0 + 500 * STEP);
    assert.deepEqual(got, stored.map((e) => `${e.id}:${e.stream}:${e.type}`));
    const acked = await svc.acknowledge(stored[0].id);
    assert.equal(acked.state, "acknowledged");
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
  await withService((svc) => {
    svc.ingest(sine("s", 0, 300), "http");
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

Deno.test("Service counters.checkpointedAt is the start of the last full checkpoint that succeeded", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let clock = 1_000;
    const store = new Store(kv);
    const svc = new Service({ store, log: captureLog().log, now: () => clock });
    assert.equal(svc.counters.checkpointedAt, 1_000, "nothing is unsaved at creation");
    clock = 2_000;
    svc.ingest(sine("a", 0, 10).concat(sine("b", 0, 10)), "http");
    await svc.checkpoint(["a"]);
    assert.equal(svc.counters.checkpointedAt, 1_000, "b is still unsaved after a save of a only");
    clock = 3_000;
    await svc.checkpoint();
    assert.equal(svc.counters.checkpointedAt, 3_000, "every stream saved");
    clock = 4_000;
    await svc.checkpoint();
    assert.equal(svc.counters.checkpointedAt, 4_000, "nothing to save: still everything saved");
    svc.ingest(sine("a", 10, 11), "http");
    store.saveCheckpoints = () => Promise.reject(new Error("disk full"));
    clock = 5_000;
    await svc.checkpoint();
    assert.equal(svc.counters.checkpointFailures, 1);
    assert.equal(svc.counters.checkpointedAt, 4_000, "a failed save changes nothing");
  } finally {
    kv.close();
  }
});

Deno.test("Service queues one save for all streams past checkpointEvery, not one per reading while a save is pending", async () => {
  await withTempDir(async (dir) => {
    const kv = await Deno.openKv(`${dir}/kv.sqlite`); // a real KV file
    try {
      const svc = new Service({
        options: { checkpointEvery: 50 },
        store: new Store(kv),
        log: captureLog().log,
      });
      let asked = 0;
      const checkpoint = svc.checkpoint.bind(svc);
      svc.checkpoint = (only?: string[]) => {
        asked++;
        return checkpoint(only);
      };
      // 20 streams in step, 300 readings each, the event loop turning between rounds
      const streams = 20, rounds = 300;
      for (let t = 0; t < rounds; t++) {
        for (let k = 0; k < streams; k++) {
          svc.ingest(
            [{ stream: `s${k}`, ts: T0 + t * STEP, values: { v: Math.sin(t / 10) + k } }],
            "mqtt",
          );
        }
        await new Promise((r) => setTimeout(r, 0));
      }
      await svc.close();
      const due = rounds / 50; // saves each stream has earned
      assert.ok(asked <= 2 * due + 2, `saves asked for: ${asked}`);
      assert.ok(
        svc.counters.checkpoints >= streams * due &&
          svc.counters.checkpoints <= streams * (due + 2),
        `stream saves: ${svc.counters.checkpoints}`,
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
    checkpointEvery: 500,
    checkpointSeconds: 60,
    recentReadings: 288,
    maxValuesPerStream: 64,
    maxNameLength: 128,
    maxAbsValue: 1e15,
    maxValueSpreads: 1e6,
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
    () => resolveServiceOptions({ recentReadings: -1 }),
    /^RangeError: Cannot create service: recentReadings must be an integer of at least 0: current value is -1$/,
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

Deno.test("Service hands its value bounds to every stream: out_of_range readings are counted", async () => {
  await withService((svc) => {
    const r = svc.ingest([
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
    svc.ingest(sine("s", 0, 100), "http");
    svc.engine.get("s")!.net!.params[3] = NaN;
    const r = svc.ingest(sine("s", 100, 101), "http");
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
    svc.ingest(sine("s", 0, 200).map((r, i) => ({ ...r, ts: T0 + i * 1000 })), "http");
    const warned = log.entries().filter((e) => e.event === "stream.gaps");
    assert.equal(warned.length, 1);
    assert.equal(warned[0].level, "warn");
    assert.match(
      warned[0].message as string,
      /^\d+% of the recent readings of "s" came after a gap: its configured period is 28 ms, its readings come every 1000 ms \(the median of the recent intervals\); set periodMs to null to estimate it$/,
    );
    const s = svc.summary("s");
    assert.deepEqual([s.periodMs, s.periodSource, s.observedPeriodMs], [28, "configured", 1000]);
    svc.ingest(sine("e", 0, 3), "http");
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
    const r = svc.ingest([
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
    const r = svc.ingest([
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

Deno.test("lastReading() is the newest reading's time of a known stream, else null", async () => {
  await withService((svc) => {
    assert.equal(svc.lastReading("s"), null, "unknown stream");
    svc.ingest(sine("s", 0, 3), "http");
    assert.equal(svc.lastReading("s"), T0 + 2 * STEP);
    assert.equal(svc.lastReading("s"), svc.summary("s").lastReading);
  });
});
