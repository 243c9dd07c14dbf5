import assert from "node:assert/strict";
import { SHAPE_BLOCKS, SHAPE_MEMORY, ShapeDetector } from "../../src/stream/shape.ts";
import { LOG_TAIL_BINS } from "../../src/stream/log_tail.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset, type Preset } from "../../src/stream/preset.ts";
import { gaussian, mulberry32 } from "../../src/model/rng.ts";
import { FIVE_MIN, T0 } from "./_series.ts";

const OPTS = { window: 32, history: 20_000, warmup: 288 };

/**
 * A small stream preset (LSTM H = 8), with the shape detector's window set
 * and without the drift detector (which sees a stuck sensor too: the shape
 * detector is compared here with the residuals alone).
 */
function small(window: number): Preset {
  const p = getPreset("default");
  return {
    ...p,
    model: { ...p.model, hidden: 8, window: 8 },
    horizons: 6,
    anomaly: {
      ...p.anomaly,
      shape: { ...p.anomaly.shape, window },
      drift: { ...p.anomaly.drift, hours: 0 },
    },
  };
}

/** A noisy daily cycle every 5 minutes. */
function daily(n: number, seed: number): Float64Array {
  const g = gaussian(mulberry32(seed));
  return Float64Array.from(
    { length: n },
    (_, t) => 20 + 2 * Math.sin((2 * Math.PI * t) / 288) + 0.5 * g(),
  );
}

Deno.test("ShapeDetector gives no evidence during the warm-up nor before its memory is full", () => {
  const sd = new ShapeDetector(1, OPTS);
  const g = gaussian(mulberry32(1));
  const z = new Float64Array(1);
  // the memory fills one shape per block (B = 4) from the end of the warm-up:
  // full after 288 + 2·32 + 255·4 readings; a day's distances (288), each
  // counted S readings after it was measured, later it is ready
  const full = OPTS.warmup + 2 * 32 + (SHAPE_MEMORY - 1) * (32 / SHAPE_BLOCKS);
  let first = -1;
  for (let n = 0; n < 2000; n++) {
    z[0] = g();
    sd.update(z, T0 + n * FIVE_MIN, true);
    if (n < full) {
      assert.equal(sd.evidence, 0, `reading ${n}`);
      assert.equal(sd.ready, false, `reading ${n}`);
    }
    if (sd.ready && first < 0) first = n;
  }
  assert.ok(first >= full + 288 && first < full + 32 + 300, `ready from reading ${first}`);
  assert.equal(sd.used, SHAPE_MEMORY);
});

Deno.test("the shape detector catches a stuck sensor that the forecast residuals miss", () => {
  // a noisy daily cycle whose sensor sticks for 100 readings at 5,000 (day
  // 17: the alert budget has a record of two weeks): one step ahead the
  // frozen value is no surprise, its flatness is a new shape
  const x = daily(5600, 5);
  for (let t = 5000; t < 5100; t++) x[t] = x[4999];
  const opened = (window: number) => {
    const s = new StreamModel({ id: "s", preset: small(window), columns: ["v"] });
    const at: number[] = [];
    for (let t = 0; t < x.length; t++) {
      if (s.observe(T0 + t * FIVE_MIN, [x[t]]).event?.type === "opened") at.push(t);
    }
    return at;
  };
  const without = opened(0), withShape = opened(32);
  assert.ok(!without.some((t) => t >= 5000 && t < 5100), `residuals alone: ${without}`);
  assert.ok(withShape.some((t) => t >= 5000 && t < 5100), `with the shape detector: ${withShape}`);
  // and no other alert opened before the sensor stuck
  assert.deepEqual(withShape.filter((t) => t < 5000), without.filter((t) => t < 5000));
});

Deno.test("a stream with the shape detector restores from its checkpoint and continues exactly", () => {
  const x = daily(2400, 8);
  const preset = small(32);
  const a = new StreamModel({ id: "r", preset, columns: ["v"] });
  for (let t = 0; t < 1900; t++) a.observe(T0 + t * FIVE_MIN, [x[t]]);
  assert.ok(a.shape.ready, "the detector is scoring when the checkpoint is taken");
  const b = new StreamModel({ id: "r", preset, columns: ["v"] });
  b.restore(a.toBytes());
  for (let t = 1900; t < x.length; t++) {
    const oa = a.observe(T0 + t * FIVE_MIN, [x[t]]);
    const ob = b.observe(T0 + t * FIVE_MIN, [x[t]]);
    assert.deepEqual(ob, oa, `t=${t}`);
    assert.equal(b.shape.evidence, a.shape.evidence, `t=${t}`);
  }
  assert.deepEqual(b.toBytes(), a.toBytes());
});

Deno.test("ShapeDetector's memory is bounded: the same bytes after 30,000 readings as once full", () => {
  const sd = new ShapeDetector(1, OPTS);
  const arrays = () => [sd.ring, sd.rough, sd.memory, sd.pending, sd.bins];
  const bytes = () => arrays().reduce((n, a) => n + a.byteLength, 0);
  const K = 2 * SHAPE_BLOCKS;
  const expected = (2 * 32 + 1) * 8 + 8 + SHAPE_MEMORY * K * 4 + 32 * 8 + LOG_TAIL_BINS * 8;
  // the memory is held as it fills: none at the start, the whole once its slots are used
  assert.equal(bytes(), expected - SHAPE_MEMORY * K * 4);
  assert.equal(sd.memoryLength * 4, SHAPE_MEMORY * K * 4);
  assert.equal(expected, 17_936);
  const g = gaussian(mulberry32(2));
  const z = new Float64Array(1);
  for (let n = 0; n < 30_000; n++) {
    z[0] = g() + (n % 5000 < 50 ? 5 : 0);
    sd.update(z, T0 + n * FIVE_MIN, n % 5000 >= 50); // the bursts not learned, as inside alerts
  }
  assert.equal(bytes(), expected);
  assert.equal(sd.memory.length, sd.memoryLength);
  assert.equal(sd.used, SHAPE_MEMORY);
  assert.ok(sd.remembered > 7 * SHAPE_MEMORY, `${sd.remembered} shapes went through the memory`);
});

Deno.test("ShapeDetector of several targets remembers fewer shapes: its memory stays near 16 KB", () => {
  for (const [J, M] of [[1, 256], [2, 128], [7, 36], [40, 32]]) {
    const sd = new ShapeDetector(J, OPTS);
    assert.equal(sd.K, 2 * SHAPE_BLOCKS * J);
    assert.equal(sd.M, M, `J=${J}`);
    assert.equal(sd.memoryLength * 4, M * sd.K * 4);
    assert.equal(sd.memory.byteLength, 0, "held as it fills");
    if (J <= 7) assert.ok(sd.memoryLength * 4 <= 16_384, `J=${J}: ${sd.memoryLength * 4} bytes`);
  }
});

Deno.test("ShapeDetector remembers nothing seen within S readings of a reading it did not learn", () => {
  const sd = new ShapeDetector(1, { ...OPTS, warmup: 0 });
  const z = new Float64Array(1);
  const g = gaussian(mulberry32(4));
  for (let n = 0; n < 200; n++) {
    z[0] = g();
    sd.update(z, T0 + n * FIVE_MIN, true);
  }
  const before = sd.remembered;
  // 40 readings inside an open alert: what was seen from 32 before them on is dropped
  for (let n = 200; n < 240; n++) {
    z[0] = 10 + g();
    sd.update(z, T0 + n * FIVE_MIN, false);
  }
  assert.equal(sd.remembered, before, "nothing remembered while the alert is open");
  for (let n = 240; n < 272; n++) {
    z[0] = g();
    sd.update(z, T0 + n * FIVE_MIN, true);
  }
  assert.equal(sd.remembered, before, "nor the shapes of the alert, S readings later");
  for (let n = 272; n < 300; n++) {
    z[0] = g();
    sd.update(z, T0 + n * FIVE_MIN, true);
  }
  assert.ok(sd.remembered > before, "after S clean readings it learns again");
});

Deno.test("ShapeDetector refuses a window that is not a multiple of 8", () => {
  assert.throws(
    () => new ShapeDetector(1, { ...OPTS, window: 20 }),
    /^RangeError: Cannot create shape detector: the window must be 0 or a positive multiple of 8: current value is 20$/,
  );
});

Deno.test("the preset's shape.memory sets the shapes remembered: pi-small 128 (8 KB), several targets fewer", () => {
  const sd = new ShapeDetector(1, { ...OPTS, memory: 128 });
  const z = new Float64Array(1);
  const g = gaussian(mulberry32(3));
  for (let n = 0; n < 2000; n++) {
    z[0] = g();
    sd.update(z, T0 + n * FIVE_MIN, true);
  }
  assert.deepEqual([sd.M, sd.used, sd.memory.length, sd.memoryLength], [128, 128, 2048, 2048]);
  // 3 targets: 128 · 16 / 48 = 42 shapes; 7 targets: at least 32
  assert.equal(new ShapeDetector(3, { ...OPTS, memory: 128 }).M, 42);
  assert.equal(new ShapeDetector(7, { ...OPTS, memory: 128 }).M, 32);
  assert.equal(new ShapeDetector(7, OPTS).M, 36, "256 by default, as before");
  const pi = new StreamModel({ id: "p", preset: getPreset("pi-small"), columns: ["v"] });
  assert.equal(pi.shape.M, 128);
  assert.equal(new StreamModel({ id: "d", preset: small(16), columns: ["v"] }).shape.M, 256);
});
