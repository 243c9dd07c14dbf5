import assert from "node:assert/strict";
import { Service, type ServiceOptions } from "../../src/service/service.ts";
import {
  SERVICE_WARM_UP_MIN_MS,
  WARM_UP_COPIES,
  WARM_UP_DEFAULTS,
  warmUp,
  warmUpService,
} from "../../src/service/warm_up.ts";
import { roomTemperature } from "../../src/model/room_temperature.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import { memoryScratchStore } from "./_memory_scratch_store.ts";
import type { Reading } from "../../src/domain/reading.ts";
import type { AlertEvent } from "../../src/domain/alert.ts";
import { Engine } from "../../src/stream/engine.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset } from "../../src/stream/preset.ts";

const T0 = Date.UTC(2026, 0, 5);
const STEP = 60_000;

/** Readings n in [from, to) of `stream`, one value or two. */
function readings(stream: string, from: number, to: number, two = false): Reading[] {
  const out: Reading[] = [];
  for (let n = from; n < to; n++) {
    const temp = 21 + 2 * Math.sin((2 * Math.PI * n) / 60) + 0.05 * Math.sin(n * 1.7);
    out.push({ stream, ts: T0 + n * STEP, values: two ? { temp, hum: 40 + temp / 10 } : { temp } });
  }
  return out;
}

/** Stores streams s1 and s2 (one value) and two (two values) in `kv`, with readings, as `options` say. */
async function storeStreams(kv: Deno.Kv, options: ServiceOptions): Promise<void> {
  const a = new Service({ options, store: new Store(kv), log: captureLog().log });
  await a.ingest(readings("s1", 0, 200), "http");
  await a.ingest(readings("s2", 0, 150), "http");
  await a.ingest(readings("two", 0, 120, true), "http");
  await a.close(); // the final checkpoint
}

Deno.test("Service.load() warms a twin of each kind of stream and leaves the streams as they were", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // no wall-time bound (warmUpMs): the counts below whatever the machine's load
    const options = { checkpointEvery: 1000, defaultPreset: "pi-small", warmUpMs: 600_000 };
    await storeStreams(kv, options);
    const raised: AlertEvent[] = [];
    const load = async (warmUpReadings?: number) => {
      const s = new Service({
        options: warmUpReadings === undefined ? options : { ...options, warmUpReadings },
        store: new Store(kv),
        log: captureLog().log,
        raise: (e) => raised.push(e),
      });
      await s.load();
      return s;
    };
    const warmed = await load();
    const cold = await load(0);
    // one twin per kind (one value, two values), 4,000 readings each by default
    assert.equal(WARM_UP_DEFAULTS.readings, 4000);
    assert.equal(warmed.warmUpReadings, 8000);
    assert.equal(cold.warmUpReadings, 0);
    // nothing of the twins reached the service: no reading counted, no alert raised
    assert.equal(warmed.engine.counters.readings, 0);
    assert.equal(Object.values(warmed.counters.readings).reduce((x, y) => x + y, 0), 0);
    assert.deepEqual(raised, []);
    // the restored streams are as without the warm-up, and go on alike
    for (const id of ["s1", "s2", "two"]) {
      assert.deepEqual(warmed.engine.get(id)!.toBytes(), cold.engine.get(id)!.toBytes(), id);
    }
    for (const svc of [warmed, cold]) {
      await svc.ingest(readings("s1", 200, 230), "http");
      await svc.ingest(readings("two", 120, 150, true), "http");
    }
    assert.deepEqual(warmed.forecast("s1"), cold.forecast("s1"));
    assert.deepEqual(warmed.forecast("two"), cold.forecast("two"));
    assert.deepEqual(warmed.engine.get("s1")!.toBytes(), cold.engine.get("s1")!.toBytes());
    await warmed.close();
    await cold.close();
  } finally {
    kv.close();
  }
});

/**
 * A scratch of warmUp whose readings go into `fed` as [copy, ts - T0, value];
 * no new stream by default.
 */
function recording(
  fed: [number, number, number][],
  twin: (s: StreamModel, copy: number) => StreamModel = (s) => s,
  newStream: ((copy: number) => StreamModel) | null = null,
) {
  return {
    twin,
    newStream,
    observe: (_s: StreamModel, ts: number, row: Float64Array, copy: number) =>
      fed.push([copy, ts - T0, row[0]]),
  };
}

/**
 * The copy the kind's fed reading `n` goes to, and that copy's reading
 * number: the first copy's first 16, then the copies in turn.
 */
function copyOf(n: number): [number, number] {
  if (n < 16) return [0, n];
  const copy = (n - 16) % 2;
  return [copy, copy === 0 ? 16 + (n - 16) / 2 : (n - 17) / 2];
}

Deno.test("warmUp() feeds two twins of a stream in turn, each the rows its history holds, one period apart, and skips a stream with none", () => {
  const engine = new Engine();
  const spec = { preset: getPreset("pi-small"), columns: ["v"], targets: ["v"], periodMs: 1000 };
  const empty = engine.create("empty", spec);
  const s = engine.create("s", spec);
  for (let n = 0; n < 5; n++) engine.observe("s", T0 + n * 1000, [10 + n]);
  // each copy in a scratch engine of its own
  const scratch = [new Engine(), new Engine()];
  const fed: [number, number, number][] = [];
  const twins: [string, number][] = [];
  const twin = (x: StreamModel, copy: number) => {
    twins.push([x.id, copy]);
    const t = scratch[copy].create(x.id, spec);
    t.restoreNew(x.toBytes());
    return t;
  };
  const n = warmUp([empty, s], recording(fed, twin), { readings: 24 });
  assert.equal(n, 24);
  assert.equal(WARM_UP_COPIES, 2);
  assert.deepEqual(twins, [["s", 0], ["s", 1]]);
  // the rows held (the newest readings), oldest first, again and again, after the newest
  // reading; the second copy from the first's 17th reading on, then in turn
  const held = s.history.length;
  assert.ok(held >= 2 && held <= 5, `held ${held}`);
  const rows = [10, 11, 12, 13, 14].slice(5 - held);
  assert.deepEqual(fed.map(([copy]) => copy), [...Array(17).fill(0), 1, 0, 1, 0, 1, 0, 1]);
  assert.deepEqual(
    fed,
    fed.map((_, i) => {
      const [copy, k] = copyOf(i);
      return [copy, 5000 + 1000 * k, rows[k % held]];
    }),
  );
  assert.throws(
    () => new Service({ options: { warmUpReadings: -1 }, store: null!, log: captureLog().log }),
    /warmUpReadings must be an integer of at least 0: current value is -1/,
  );
});

Deno.test("Service.load() starts when the warm-up fails, and says so", async () => {
  const kv = await Deno.openKv(":memory:");
  const toBytes = StreamModel.prototype.toBytes;
  try {
    const options = { checkpointEvery: 1000, defaultPreset: "pi-small" };
    const a = new Service({ options, store: new Store(kv), log: captureLog().log });
    await a.ingest(readings("s1", 0, 100), "http");
    await a.close();
    const captured = captureLog();
    const b = new Service({ options, store: new Store(kv), log: captured.log });
    // the twin's copy of the stream's bytes fails (after the restore, which does not take them)
    StreamModel.prototype.toBytes = () => {
      throw new Error("no bytes");
    };
    await b.load();
    StreamModel.prototype.toBytes = toBytes;
    assert.equal(b.warmUpReadings, 0);
    const warned = captured.entries().find((e) => e.event === "streams.warm_up_failed");
    assert.ok(warned, "streams.warm_up_failed logged");
    await b.ingest(readings("s1", 100, 110), "http");
    assert.equal(b.summary("s1").readings, 110);
    await b.close();
  } finally {
    StreamModel.prototype.toBytes = toBytes;
    kv.close();
  }
});

Deno.test("Service.load() with warmUpNew warms a new stream of the default preset when none is restored", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const raised: AlertEvent[] = [];
    const start = async (warmUpNew: boolean) => {
      const s = new Service({
        options: {
          checkpointEvery: 1000,
          defaultPreset: "pi-small",
          warmUpReadings: 300,
          warmUpMs: 600_000,
          warmUpNew,
        },
        store: new Store(kv),
        log: captureLog().log,
        raise: (e) => raised.push(e),
      });
      await s.load();
      return s;
    };
    const warmed = await start(true);
    const cold = await start(false);
    assert.equal(warmed.warmUpReadings, 300);
    assert.equal(cold.warmUpReadings, 0);
    // the scratch stream is nobody's: no stream, no reading counted, no alert
    assert.equal(warmed.records.size, 0);
    assert.equal(warmed.engine.streams.size, 0);
    assert.equal(warmed.engine.counters.readings, 0);
    assert.deepEqual(raised, []);
    // a stream created afterwards learns and forecasts as on a daemon that did not warm up
    for (const svc of [warmed, cold]) await svc.ingest(readings("s1", 0, 150), "http");
    assert.deepEqual(warmed.forecast("s1"), cold.forecast("s1"));
    assert.deepEqual(warmed.engine.get("s1")!.toBytes(), cold.engine.get("s1")!.toBytes());
    await warmed.close();
    await cold.close();
    // with a stream restored, that stream's twin is warmed instead (1 kind, 300 readings)
    assert.equal((await start(true)).warmUpReadings, 300);
  } finally {
    kv.close();
  }
});

Deno.test("warmUp() feeds a new stream roomTemperature(1) five minutes apart when no stream has readings to replay", () => {
  const engine = new Engine();
  const spec = { preset: getPreset("pi-small"), columns: ["v"], targets: ["v"] };
  const empty = engine.create("empty", spec);
  const fresh = engine.create("w", spec);
  const fed: [number, number, number][] = [];
  const copies: number[] = [];
  const newStream = (copy: number) => (copies.push(copy), fresh);
  assert.equal(warmUp([empty], recording(fed, undefined, newStream), { readings: 600 }), 600);
  assert.deepEqual(copies, [0, 1]);
  // each copy's reading k: the sensor's reading k (shifted 10 °C from the first's 300th)
  const sensor = roomTemperature(1);
  const values: number[] = [];
  for (let k = 0; k < 320; k++) values.push(sensor(k) + (k >= 300 && k < 306 ? 10 : 0));
  const start = Date.UTC(2025, 0, 1) - T0;
  assert.deepEqual(
    fed,
    fed.map((_, i) => {
      const [copy, k] = copyOf(i);
      return [copy, start + k * 300_000, values[k]];
    }),
  );
  // without newStream nothing is fed
  assert.equal(warmUp([empty], recording([]), { readings: 600 }), 0);
  assert.throws(
    () => new Service({ options: { warmUpNew: 1 as never }, store: null!, log: captureLog().log }),
    /warmUpNew must be true or false: current value is 1/,
  );
});

Deno.test("warmUp() stops once maxMs have passed, a twin's readings and a new stream's alike, at its looks at the clock", () => {
  const engine = new Engine();
  const spec = { preset: getPreset("pi-small"), columns: ["v"], targets: ["v"], periodMs: 1000 };
  const s = engine.create("s", spec);
  for (let n = 0; n < 5; n++) engine.observe("s", T0 + n * 1000, [10 + n]);
  const two = engine.create("two", { ...spec, columns: ["v", "w"], targets: ["v", "w"] });
  for (let n = 0; n < 5; n++) engine.observe("two", T0 + n * 1000, [10 + n, n]);
  const fresh = engine.create("w", spec);
  // a clock that moves 1 ms a reading fed; the clock is looked at before each stream and reading
  let t = 0;
  const clock = () => t;
  const tick = { twin: (x: StreamModel) => x, newStream: () => fresh, observe: () => void t++ };
  assert.equal(warmUp([s, two], tick, { readings: 1000, maxMs: 120, clock }), 120);
  t = 0;
  assert.equal(warmUp([], tick, { readings: 1000, maxMs: 120, clock }), 120);
  // the first stream's 100 readings take 100 ms: the second's 20 more reach 120
  t = 0;
  assert.equal(warmUp([s, two], tick, { readings: 100, maxMs: 120, clock }), 120);
  // a stream is not begun once the time is over
  t = 0;
  const twins: string[] = [];
  const n = warmUp([s, two], { ...tick, twin: (x) => (twins.push(x.id), x) }, {
    readings: 100,
    maxMs: 100,
    clock,
  });
  assert.deepEqual([n, twins], [100, ["s", "s"]]);
  // nor a copy whose first reading would come after it (the second's: the kind's 17th)
  t = 0;
  twins.length = 0;
  const early = { ...tick, twin: (x: StreamModel) => (twins.push(x.id), x) };
  assert.equal(warmUp([s, two], early, { readings: 100, maxMs: 10, clock }), 10);
  assert.deepEqual(twins, ["s"]);
  // with 0 ms, nothing
  assert.equal(warmUp([s, two], tick, { readings: 100, maxMs: 0, clock }), 0);
  assert.throws(
    () => new Service({ options: { warmUpMs: -1 }, store: null!, log: captureLog().log }),
    /warmUpMs must be a number of at least 0: current value is -1/,
  );
});

Deno.test("Service.load() with a tiny warmUpMs stops the restored streams' warm-up early, and they go on as without it", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const options = { checkpointEvery: 1000, defaultPreset: "pi-small", warmUpReadings: 100_000 };
    await storeStreams(kv, options);
    const load = async (warmUpMs: number, warmUpReadings = options.warmUpReadings) => {
      const s = new Service({
        options: { ...options, warmUpMs, warmUpReadings },
        store: new Store(kv),
        log: captureLog().log,
      });
      await s.load();
      return s;
    };
    // 2 kinds of 100,000 readings each (seconds of CPU): stopped once 1 ms has passed
    const capped = await load(1);
    const cold = await load(1000, 0);
    assert.ok(capped.warmUpReadings < 5000, `fed ${capped.warmUpReadings}`);
    for (const svc of [capped, cold]) {
      await svc.ingest(readings("s1", 200, 230), "http");
      await svc.ingest(readings("two", 120, 150, true), "http");
    }
    for (const id of ["s1", "two"]) {
      assert.deepEqual(capped.forecast(id), cold.forecast(id), id);
      assert.deepEqual(capped.engine.get(id)!.toBytes(), cold.engine.get(id)!.toBytes(), id);
    }
    await capped.close();
    await cold.close();
  } finally {
    kv.close();
  }
});

Deno.test("warmUp() shifts each copy's readings by twice their range inside its anomalies, from its reading 300 for 6", () => {
  const engine = new Engine();
  const spec = { preset: getPreset("pi-small"), columns: ["v"], targets: ["v"], periodMs: 1000 };
  const s = engine.create("s", spec);
  for (let n = 0; n < 5; n++) engine.observe("s", T0 + n * 1000, [10 + n]);
  const held = s.history.length;
  const rows = [10, 11, 12, 13, 14].slice(5 - held);
  const range = rows[held - 1] - rows[0];
  const fed: [number, number, number][] = [];
  assert.equal(warmUp([s], recording(fed), { readings: 660 }), 660);
  for (const [i, [copy, , v]] of fed.entries()) {
    const [c, k] = copyOf(i);
    const shift = k >= 300 && k < 306 ? 2 * range : 0;
    assert.deepEqual([copy, v], [c, rows[k % held] + shift], `reading ${i}`);
  }
  assert.ok(copyOf(659)[1] >= 320, "both copies past the anomaly");
  // the made-up sensor: 10 °C
  const sensed: [number, number, number][] = [];
  const fresh = engine.create("w", spec);
  warmUp([], recording(sensed, undefined, () => fresh), { readings: 660 });
  const sensor = roomTemperature(1);
  const values: number[] = [];
  for (let k = 0; k < 340; k++) values.push(sensor(k) + (k >= 300 && k < 306 ? 10 : 0));
  for (const [i, [copy, , v]] of sensed.entries()) {
    const [c, k] = copyOf(i);
    assert.deepEqual([copy, v], [c, values[k]], `sensor reading ${i}`);
  }
});

Deno.test("warmUp()'s anomalies open an alert on each copy of the default preset's new stream and resolve it", () => {
  const scratch = [new Engine(), new Engine()];
  const events: string[] = [];
  scratch.forEach((e, copy) => e.onAlert((a) => events.push(`${copy} ${a.type}`)));
  const spec = { preset: getPreset("default"), columns: ["value"], targets: ["value"] };
  const n = warmUp([], {
    twin: () => assert.fail("no stream to twin"),
    newStream: (copy) => scratch[copy].create("warm-up", spec),
    observe: (s, ts, row, copy) => void scratch[copy].observe(s.id, ts, row),
  }, { readings: 2 * 400, maxMs: 600_000 });
  assert.equal(n, 800);
  assert.ok(copyOf(799)[1] >= 306, "both copies past the anomaly");
  assert.deepEqual(events, ["0 opened", "0 resolved", "1 opened", "1 resolved"]);
});

Deno.test("warmUp() reads each copy after its first reading, its 320th and the kind's last, and reads none past maxMs", () => {
  const engine = new Engine();
  const spec = { preset: getPreset("pi-small"), columns: ["v"], targets: ["v"] };
  const fresh = [engine.create("w0", spec), engine.create("w1", spec)];
  let fed = 0;
  const reads: [string, number][] = [];
  const scratch = {
    twin: () => assert.fail("no stream to twin"),
    newStream: (copy: number) => fresh[copy],
    observe: () => void fed++,
    read: (s: StreamModel) => void reads.push([s.id, fed]),
  };
  assert.equal(warmUp([], scratch, { readings: 1000 }), 1000);
  // the first copy's 320th is fed reading 623 (16 alone, then every other), the second's 656
  assert.deepEqual(reads, [
    ["w0", 1],
    ["w1", 18],
    ["w0", 623],
    ["w1", 656],
    ["w0", 1000],
    ["w1", 1000],
  ]);
  // a clock that moves 1 ms a reading fed: past maxMs, no read
  let t = 0;
  fed = 0;
  reads.length = 0;
  const clock = () => t;
  const ticking = { ...scratch, observe: () => void (fed++, t++) };
  assert.equal(warmUp([], ticking, { readings: 1000, maxMs: 700, clock }), 700);
  assert.deepEqual(reads, [["w0", 1], ["w1", 18], ["w0", 623], ["w1", 656]]);
});

Deno.test("Service.load()'s warm-up alerts and reads on its scratch streams and leaves no trace: no alert, no KV entry, no stream, ring or count", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const raised: AlertEvent[] = [];
    const svc = new Service({
      options: {
        defaultPreset: "pi-small",
        // both anomalies of each copy (from its readings 300 and 1,500), and both reads
        warmUpReadings: 2 * 1600,
        warmUpMs: 600_000,
        warmUpNew: true,
      },
      store: new Store(kv),
      log: captureLog().log,
      raise: (e) => raised.push(e),
      // the service's own path too, on a scratch service over a KV of its own
      scratchStore: memoryScratchStore,
    });
    await svc.load();
    assert.equal(svc.warmUpReadings, 3200);
    assert.ok(svc.warmUpServiceReadings > 0);
    assert.equal(await svc.checkpoint(), true);
    await svc.flushAlerts();
    assert.deepEqual(raised, []);
    assert.deepEqual(await svc.listAlerts({}), []);
    assert.deepEqual(svc.list(), []);
    assert.equal(svc.engine.streams.size, 0);
    assert.equal(svc.recentRings, 0);
    assert.equal(svc.engine.counters.readings, 0);
    assert.equal(svc.counters.checkpoints, 0);
    assert.deepEqual(svc.rejects(), {});
    assert.equal(Object.values(svc.counters.readings).reduce((a, b) => a + b, 0), 0);
    const stored = [];
    for await (const e of kv.list({ prefix: [] })) stored.push(e.key);
    assert.deepEqual(stored, []);
    await svc.close();
  } finally {
    kv.close();
  }
});

Deno.test("warmUpService() feeds its new streams in turn, 10 readings a batch, and checkpoints after half of them and after the last", async () => {
  const batches: Reading[][] = [];
  const calls: string[] = [];
  const fed = await warmUpService({
    ingest: (batch) => {
      batches.push(batch);
      calls.push(`ingest ${batch[0].stream}`);
      return Promise.resolve();
    },
    checkpoint: () => {
      calls.push(`checkpoint after ${batches.length}`);
      return Promise.resolve();
    },
  }, { readings: 120, streams: 3, maxMs: 600_000 });
  // 120 readings: 4 rounds of 3 streams, 10 readings each
  assert.equal(fed, 120);
  assert.equal(batches.length, 12);
  assert.deepEqual(calls.slice(0, 3), ["ingest warm-up-0", "ingest warm-up-1", "ingest warm-up-2"]);
  assert.deepEqual(calls.filter((c) => c.startsWith("checkpoint")), [
    "checkpoint after 6",
    "checkpoint after 12",
  ]);
  // stream k's readings five minutes apart, in order, roomTemperature(1 + k)'s values
  const sensor = roomTemperature(2);
  const second = batches.filter((b) => b[0].stream === "warm-up-1").flat();
  assert.equal(second.length, 40);
  second.forEach((r, n) => {
    assert.equal(r.ts, Date.UTC(2025, 0, 1) + n * 300_000);
    assert.equal(r.values.value, sensor(n));
  });
});

Deno.test("warmUpService() stops once maxMs have passed, before a batch or a checkpoint", async () => {
  let now = 0;
  const calls: string[] = [];
  const fed = await warmUpService({
    ingest: (batch) => {
      calls.push("ingest");
      now += 10; // each batch takes 10 ms
      return Promise.resolve(batch);
    },
    checkpoint: () => {
      calls.push("checkpoint");
      return Promise.resolve();
    },
  }, { readings: 1000, streams: 2, maxMs: 35, clock: () => now });
  assert.equal(fed, 40);
  assert.deepEqual(calls, ["ingest", "ingest", "ingest", "ingest"]);
  // nothing at all with no time
  assert.equal(
    await warmUpService({ ingest: () => Promise.reject(), checkpoint: () => Promise.reject() }, {
      maxMs: 0,
    }),
    0,
  );
});

Deno.test("Service.load()'s warm-up takes the service's own path on a scratch service when its engines took readings", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const start = async (warmUpNew: boolean, warmUpMs = 600_000) => {
      const s = new Service({
        options: { defaultPreset: "pi-small", warmUpReadings: 300, warmUpMs, warmUpNew },
        store: new Store(kv),
        log: captureLog().log,
        scratchStore: memoryScratchStore,
      });
      await s.load();
      return s;
    };
    const warmed = await start(true);
    // at least its first batch (the rest as the 250 ms allow), whole batches
    assert.ok(warmed.warmUpServiceReadings >= 10, `${warmed.warmUpServiceReadings} readings`);
    assert.equal(warmed.warmUpServiceReadings % 10, 0);
    // none when the scratch engines took none (a Service in a test, on the main thread)
    assert.equal((await start(false)).warmUpServiceReadings, 0);
    // none when less than SERVICE_WARM_UP_MIN_MS is left of warmUpMs
    assert.equal((await start(true, SERVICE_WARM_UP_MIN_MS - 1)).warmUpServiceReadings, 0);
    // its streams, counts and checkpoints are the scratch service's: none here, none in KV
    assert.equal(warmed.engine.streams.size, 0);
    assert.deepEqual(warmed.counters.readings, (await start(false)).counters.readings);
    assert.equal(warmed.counters.checkpoints, 0);
    const stored = [];
    for await (const e of kv.list({ prefix: [] })) stored.push(e.key);
    assert.deepEqual(stored, []);
  } finally {
    kv.close();
  }
});
