import assert from "node:assert/strict";
import { type RecentReading, RecentReadings } from "../../src/service/recent_readings.ts";

const reading = (ts: number, value = ts / 10, gap = false): RecentReading => ({
  ts,
  gap,
  targets: { t: { value, point: value - 1, lower: value - 2, upper: value + 2 } },
});

Deno.test("RecentReadings lists a stream's readings oldest first, as recorded", () => {
  const r = new RecentReadings({ capacity: 5 });
  for (const ts of [10, 20, 30]) r.record("s", ["t"], reading(ts));
  assert.deepEqual(r.list("s"), [reading(10), reading(20), reading(30)]);
  assert.deepEqual(r.list("other"), []);
  assert.deepEqual(r.targets("s"), ["t"]);
  assert.equal(r.targets("other"), null);
});

Deno.test("RecentReadings drops the oldest reading past its capacity", () => {
  const r = new RecentReadings({ capacity: 3 });
  for (const ts of [10, 20, 30, 40, 50]) r.record("s", ["t"], reading(ts));
  assert.deepEqual(r.list("s").map((x) => x.ts), [30, 40, 50]);
});

Deno.test("RecentReadings.list() takes readings after a time and the newest `limit`", () => {
  const r = new RecentReadings({ capacity: 10 });
  for (const ts of [10, 20, 30, 40]) r.record("s", ["t"], reading(ts));
  assert.deepEqual(r.list("s", { after: 20 }).map((x) => x.ts), [30, 40]);
  assert.deepEqual(r.list("s", { limit: 3 }).map((x) => x.ts), [20, 30, 40]);
  assert.deepEqual(r.list("s", { after: 10, limit: 1 }).map((x) => x.ts), [40]);
  assert.deepEqual(r.list("s", { after: 40 }), []);
});

Deno.test("RecentReadings keeps a missing forecast as null and whether a gap came before", () => {
  const r = new RecentReadings();
  r.record("s", ["a", "b"], {
    ts: 1,
    gap: true,
    targets: {
      a: { value: 1.5, point: null, lower: null, upper: null },
      b: { value: -2, point: -1, lower: null, upper: null },
    },
  });
  assert.deepEqual(r.list("s"), [{
    ts: 1,
    gap: true,
    targets: {
      a: { value: 1.5, point: null, lower: null, upper: null },
      b: { value: -2, point: -1, lower: null, upper: null },
    },
  }]);
});

Deno.test("RecentReadings keeps times and values exact, the forecasts rounded to float32", () => {
  const r = new RecentReadings();
  const ts = Date.UTC(2026, 11, 5, 14, 0, 0, 123);
  r.record("s", ["a", "b"], {
    ts,
    gap: false,
    targets: {
      a: { value: 0.1, point: 1 / 3, lower: 0.2, upper: 1e39 },
      b: { value: 123456789.123, point: -2 / 3, lower: -1, upper: 1e-9 },
    },
  });
  assert.deepEqual(r.list("s"), [{
    ts,
    gap: false,
    targets: {
      a: { value: 0.1, point: Math.fround(1 / 3), lower: Math.fround(0.2), upper: null },
      b: { value: 123456789.123, point: Math.fround(-2 / 3), lower: -1, upper: Math.fround(1e-9) },
    },
  }]);
  for (const [kept, made] of [[Math.fround(1 / 3), 1 / 3], [Math.fround(0.2), 0.2]]) {
    assert.ok(Math.abs(kept - made) <= 6e-8 * Math.abs(made), `${kept} vs ${made}`);
  }
});

Deno.test("RecentReadings starts a stream again when its targets change, and forgets it", () => {
  const r = new RecentReadings();
  r.record("s", ["t"], reading(10));
  r.record("s", ["u"], { ts: 20, gap: false, targets: { u: reading(20).targets.t } });
  assert.deepEqual(r.list("s").map((x) => Object.keys(x.targets)), [["u"]]);
  r.record("x", ["t"], reading(5));
  assert.deepEqual(r.streams().sort(), ["s", "x"]);
  r.forget("s");
  assert.deepEqual(r.list("s"), []);
  assert.deepEqual(r.streams(), ["x"]);
});

Deno.test("RecentReadings refuses a capacity that is not a positive integer", () => {
  assert.equal(new RecentReadings().capacity, 288);
  for (const capacity of [0, -1, 2.5, NaN]) {
    assert.throws(() => new RecentReadings({ capacity }), {
      name: "RangeError",
      message:
        `Cannot keep recent readings: capacity must be a positive integer: current value is ${capacity}`,
    });
  }
});

Deno.test("RecentReadings keeps each row's gap as the ring wraps, set and cleared, of several targets", () => {
  // 11 rows: the gaps' bits span two bytes, and a row reused takes its new reading's gap
  const r = new RecentReadings({ capacity: 11 });
  const gapAt = (ts: number) => ts % 3 === 0 || ts === 17;
  const row = (ts: number): RecentReading => ({
    ts,
    gap: gapAt(ts),
    targets: {
      a: { value: ts, point: ts - 1, lower: ts - 2, upper: ts + 2 },
      b: { value: -ts, point: null, lower: null, upper: null },
    },
  });
  for (let ts = 1; ts <= 30; ts++) r.record("s", ["a", "b"], row(ts));
  const kept = r.list("s");
  assert.deepEqual(kept.map((x) => x.ts), Array.from({ length: 11 }, (_, k) => 20 + k));
  assert.deepEqual(kept, kept.map((x) => row(x.ts)));
});
