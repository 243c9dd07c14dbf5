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

Deno.test("Service keeps the last refusals per source: readings it refused and messages sources refused", async () => {
  const kv = await Deno.openKv(":memory:");
  let now = T0 + 1;
  try {
    const svc = new Service({ store: new Store(kv), log: captureLog().log, now: () => now });
    assert.deepEqual(svc.lastRejects(), { capacity: 20, sources: {} });
    svc.ingest([{ stream: "k", ts: T0, values: { temp: 21 } }], "mqtt");
    now = T0 + 2;
    const r = svc.ingest([{ stream: "k", ts: T0 - STEP, values: { temp: 20 } }], "mqtt");
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
    svc.ingest([{ stream: "k", ts: T0 + STEP, values: { hum: 40 } }], "http");
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
});

Deno.test("lastReading() is the newest reading's time of a known stream, else null", async () => {
  await withService((svc) => {
    assert.equal(svc.lastReading("s"), null, "unknown stream");
    svc.ingest(sine("s", 0, 3), "http");
    assert.equal(svc.lastReading("s"), T0 + 2 * STEP);
    assert.equal(svc.lastReading("s"), svc.summary("s").lastReading);
  });
});
