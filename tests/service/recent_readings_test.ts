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

/** Numbers in [0, 1) from a linear congruential generator seeded with `seed`. */
function lcg(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** The kept readings of one stream as the simplest ring would have them: the last `capacity` recorded. */
class Oracle {
  readonly kept = new Map<string, { targets: string[]; rows: RecentReading[] }>();
  constructor(readonly capacity: number) {}
  record(stream: string, targets: string[], r: RecentReading) {
    let s = this.kept.get(stream);
    if (!s || s.targets.join() !== targets.join()) this.kept.set(stream, s = { targets, rows: [] });
    s.rows.push(r);
    if (s.rows.length > this.capacity) s.rows.shift();
  }
}

/** A reading of `targets` at `ts` whose numbers survive float32 (the forecasts) unchanged. */
const wideRow = (ts: number, targets: string[], gap: boolean): RecentReading => ({
  ts,
  gap,
  targets: Object.fromEntries(targets.map((t, j) => [t, {
    value: ts / 7 + j,
    point: j,
    lower: j === 0 ? null : -j,
    upper: 0.5 + j,
  }])),
});

Deno.test("RecentReadings keeps times exact however far apart: a day, 25 days, 50 years, fractions", () => {
  // int32 offsets from a base hold 24.8 days: the base moves, or the ring keeps float64 times
  const r = new RecentReadings({ capacity: 3 });
  const o = new Oracle(3);
  const day = 86_400_000, t0 = Date.UTC(2026, 11, 6);
  const times = [
    t0, // the first: base 0 does not fit, the base moves to it
    t0 + day,
    t0 + 10 * day,
    t0 + 20 * day, // 20 days after the base: the offset fits
    t0 + 30 * day, // 30 days after the base, 20 after the oldest kept: the base moves to it
    t0 + 40 * day,
    t0 + 50 * day,
    t0 + 40 * day + 2 ** 31 - 1, // 2^31 - 1 ms after the oldest kept: the widest span that fits
    -1, // before 1970
    -day * 365 * 50, // the kept times span more than 2^31 ms: float64 from here
    t0 + 61 * day,
    t0 + 61 * day + 0.5,
    NaN,
    t0 + 62 * day,
    t0 + 62 * day + 1,
  ];
  for (const [k, ts] of times.entries()) {
    const row = wideRow(ts, ["a"], k % 2 === 1);
    r.record("s", ["a"], row);
    o.record("s", ["a"], row);
    assert.deepEqual(r.list("s"), o.kept.get("s")!.rows, `after ${k + 1} readings`);
  }
  // a stream of its own that stays within 24.8 days keeps its times, beside one that went float64
  const t = new RecentReadings({ capacity: 4 });
  for (const [k, ts] of [t0, t0 + 1000, t0 - 5000, t0 + 24 * day].entries()) {
    t.record("x", ["a"], wideRow(ts, ["a"], false));
    t.record("y", ["a"], wideRow(k === 1 ? 0.25 : ts, ["a"], true));
  }
  assert.deepEqual(t.list("x").map((x) => x.ts), [t0, t0 + 1000, t0 - 5000, t0 + 24 * day]);
  assert.deepEqual(t.list("y").map((x) => x.ts), [t0, 0.25, t0 - 5000, t0 + 24 * day]);
});

Deno.test("RecentReadings keeps each stream's own readings as slots of shared buffers are freed and reused", () => {
  // 3,000 rows of one target: 3 rings to a buffer (2 targets: 1), so streams share,
  // free and reuse slots, and a buffer whose slots are all free goes
  const capacity = 3000;
  const r = new RecentReadings({ capacity });
  const o = new Oracle(capacity);
  const random = lcg(7);
  const widths = [["a"], ["a", "b"]];
  let ts = Date.UTC(2026, 0, 1);
  for (let step = 0; step < 4000; step++) {
    const stream = `s${Math.floor(random() * 9)}`;
    const action = random();
    if (action < 0.03) {
      r.forget(stream);
      o.kept.delete(stream);
      continue;
    }
    // now and then a stream changes its targets (a new ring), a long pause, or many rows at once
    const old = o.kept.get(stream)?.targets;
    const targets = old && action > 0.05 ? old : widths[Math.floor(random() * 2)];
    const n = action > 0.98 ? 3100 : 1;
    for (let k = 0; k < n; k++) {
      ts += action > 0.97 && k === 0 ? 30 * 86_400_000 : 1000;
      const row = wideRow(ts, targets, random() < 0.2);
      r.record(stream, targets, row);
      o.record(stream, targets, row);
    }
    if (step % 200 === 0 || step === 3999) {
      assert.deepEqual(r.streams().sort(), [...o.kept.keys()].sort(), `streams at step ${step}`);
      for (const [id, s] of o.kept) {
        assert.deepEqual(r.targets(id), s.targets);
        assert.deepEqual(r.list(id), s.rows, `${id} at step ${step}`);
      }
    }
  }
});

Deno.test("RecentReadings.reserve() takes a stream's ring before its first reading, empty", () => {
  const r = new RecentReadings({ capacity: 3 });
  r.reserve("s", ["t"]);
  assert.equal(r.size, 1);
  assert.deepEqual(r.list("s"), []);
  assert.deepEqual(r.targets("s"), ["t"]);
  for (const ts of [10, 20, 30, 40]) r.record("s", ["t"], reading(ts));
  // reserved again with the same targets: kept as it is
  r.reserve("s", ["t"]);
  assert.deepEqual(r.list("s"), [reading(20), reading(30), reading(40)]);
  // other targets: a new ring, what was kept is forgotten
  r.reserve("s", ["u"]);
  assert.deepEqual(r.list("s"), []);
  assert.deepEqual(r.targets("s"), ["u"]);
  r.forget("s");
  assert.equal(r.size, 0);
});

Deno.test("RecentReadings keeps times exact as uint16 deltas up to 65,535 ms, and past them (kept and recorded)", () => {
  // readings 0 to 65,535 ms apart are kept as deltas from the row before; a longer pause, an
  // older time or a fraction moves that ring to a slot of int32 offsets (the rows kept with it),
  // while the other streams of its slab keep theirs. keep() and record() both.
  const capacity = 7;
  const r = new RecentReadings({ capacity });
  const o = new Oracle(capacity);
  const random = lcg(11);
  const last = new Map<string, number>();
  const made = new Float64Array(6);
  for (let step = 0; step < 3000; step++) {
    const stream = `s${Math.floor(random() * 12)}`;
    const targets = stream === "s0" ? ["a", "b"] : ["a"];
    if (random() < 0.01) {
      r.forget(stream);
      o.kept.delete(stream);
      last.delete(stream);
      continue;
    }
    const a = random();
    const step_ = a < 0.1
      ? 0
      : a < 0.2
      ? 65_535
      : a < 0.23
      ? 65_536
      : a < 0.25
      ? -1
      : a < 0.26
      ? 0.5
      : 1000;
    const ts = (last.get(stream) ?? Date.UTC(2026, 11, 6) + step) + step_;
    last.set(stream, ts);
    const row = wideRow(ts, targets, random() < 0.3);
    if (step % 2 === 0) r.record(stream, targets, row);
    else {
      targets.forEach((t, j) => {
        const x = row.targets[t];
        made.set([x.point ?? NaN, x.lower ?? NaN, x.upper ?? NaN], 3 * j);
      });
      const values = targets.map((t) => row.targets[t].value);
      r.keep(
        { id: stream, targets, targetIndex: Int32Array.from(targets, (_, j) => j) },
        ts,
        values,
        made,
        row.gap,
      );
    }
    o.record(stream, targets, row);
    for (const [id, s] of o.kept) assert.deepEqual(r.list(id), s.rows, `${id} at step ${step}`);
  }
});
