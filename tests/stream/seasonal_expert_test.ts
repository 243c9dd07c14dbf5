import assert from "node:assert/strict";
import { History } from "../../src/stream/history.ts";
import type { SeasonProfile } from "../../src/stream/season_profile.ts";
import { encodeState, packState, readState } from "../../src/stream/state.ts";
import { StreamModel } from "../../src/stream/stream.ts";
import { getPreset } from "../../src/stream/preset.ts";
import { FIVE_MIN, small, T0 } from "./_series.ts";

Deno.test("seasonal persistence forecasts the value one season before the target time", () => {
  // an hour's season at 5 minutes: 12 readings; 30 horizons cross two season boundaries
  const preset = small({ seasonSeconds: 3600, horizons: 30 });
  const s = new StreamModel({ id: "s", preset, columns: ["v"] });
  const x = (t: number) => (t * 7919) % 101; // no two readings of a season alike
  for (let t = 0; t < 40; t++) {
    s.observe(T0 + t * FIVE_MIN, [x(t)]);
    const f = s.expertForecast("seasonal")!;
    if (t < 11) {
      assert.ok(f.every((r) => r[0] === x(t)), `t=${t}: persistence before a whole season`);
      continue;
    }
    assert.equal(s.season, 12);
    for (let h = 1; h <= 30; h++) {
      const back = t + h - 12 * Math.ceil(h / 12);
      assert.equal(f[h - 1][0], x(back), `t=${t} h=${h}`);
    }
  }
});

Deno.test("seasonal persistence stays out of the blend when the preset's seasonSeconds is 0", () => {
  const s = new StreamModel({ id: "s", preset: small({ seasonSeconds: 0 }), columns: ["v"] });
  const e = s.expertNames.indexOf("seasonal");
  for (let t = 0; t < 400; t++) {
    s.observe(T0 + t * FIVE_MIN, [Math.sin(t / 9)]);
    assert.equal(s.origins.active[s.step % s.origins.S] & (1 << e), 0, `t=${t}`);
  }
  assert.equal(s.season, 0);
  assert.equal(s.history.capacity, s.preset.linear.lags, "no season to keep");
});

/** A season of 4,100 readings at 5 minutes: over SEASON_POINTS, so kept as bucket means of 3. */
const LONG = {
  seasonSeconds: 4100 * 300,
  horizons: 30,
  model: { ...small().model, enabled: false },
};

Deno.test("seasonal persistence over a long season forecasts the bucket mean at the target's phase", () => {
  const s = new StreamModel({ id: "s", preset: small(LONG), columns: ["v"] });
  const x = (t: number) => (t * 7919) % 101;
  for (let t = 0; t < 4100 + 10; t++) {
    s.observe(T0 + t * FIVE_MIN, [x(t)]);
    if (t === 0) assert.equal(s.history.capacity, s.preset.linear.lags, "no raw season");
    if (t === 4098) assert.ok(s.expertForecast("seasonal")!.every((r) => r[0] === x(t)));
  }
  assert.equal(s.season, 4100);
  assert.equal(s.history.capacity, s.preset.linear.lags, "the ring holds the lags only");
  const t = 4109;
  const f = s.expertForecast("seasonal")!;
  for (let h = 1; h <= 30; h++) {
    // the bucket of the target's phase, as last filled: this season's if complete, else the one before
    // (the profile starts with the period, known at the second reading: reading t has phase t − 1)
    const q = (t - 1 + h) % 4100, b = Math.floor(q / 3);
    const phases = [0, 1, 2].map((k) => b * 3 + k).filter((n) => n < 4100);
    const complete = phases.map((n) => 1 + (phases.at(-1)! <= t - 1 - 4100 ? n + 4100 : n));
    const mean = complete.reduce((a, n) => a + x(n), 0) / complete.length;
    assert.ok(Math.abs(f[h - 1][0] - mean) < 1e-9, `h=${h}: ${f[h - 1][0]} vs ${mean}`);
  }
});

Deno.test("a checkpoint with a long raw season restores as bucket means, as if fed live", () => {
  const preset = small(LONG);
  const live = new StreamModel({ id: "s", preset, columns: ["v"] });
  const x = (t: number) => 20 + Math.sin(t / 50) + ((t * 7919) % 101) / 100;
  // the ring's oldest row then has phase 0 in the live profile (which starts at reading 1, when
  // the period is known)
  const N = 2 * 4100 + 1;
  for (let t = 0; t < N; t++) live.observe(T0 + t * FIVE_MIN, [x(t)]);
  // the layout before seasons were bounded: the whole season raw in `hist`, no bucket means
  const { scalars, arrays } = readState(live.toBytes());
  const s = scalars as Record<string, unknown>;
  assert.ok("seasonMeans" in arrays && "seasonal" in s);
  delete arrays.seasonMeans;
  delete arrays.seasonSum;
  delete s.seasonal;
  const ring = new History(1, 4100);
  for (let t = N - 4100 - 7; t < N; t++) ring.push([x(t)]);
  arrays.hist = ring.rows;
  s.histLen = ring.length;
  s.histHead = ring.head;
  const old = encodeState(s, arrays);

  const restored = new StreamModel({ id: "s", preset, columns: ["v"] });
  restored.restore(old);
  assert.equal(restored.history.capacity, preset.linear.lags);
  for (let k = 0; k < preset.linear.lags; k++) {
    assert.equal(restored.history.back(k, 0), live.history.back(k, 0), `row ${k}`);
  }
  // the same state as fed live (the ring's rows above, its head may sit elsewhere)
  const a = readState(restored.toBytes()), b = readState(live.toBytes());
  for (const x of [a, b]) delete (x.scalars as Record<string, unknown>).histHead;
  assert.deepEqual(a.scalars, b.scalars);
  assert.deepEqual(Object.keys(a.arrays), Object.keys(b.arrays));
  for (const name of Object.keys(b.arrays)) {
    if (name === "hist") continue;
    assert.deepEqual(a.arrays[name], b.arrays[name], `array ${name}: the same as fed live`);
  }
  // and it goes on as the live one does
  for (let t = N; t < N + 50; t++) {
    live.observe(T0 + t * FIVE_MIN, [x(t)]);
    restored.observe(T0 + t * FIVE_MIN, [x(t)]);
  }
  assert.deepEqual(restored.expertForecast("seasonal"), live.expertForecast("seasonal"));
});

Deno.test("a restored checkpoint of a long season keeps its bucket means", () => {
  const preset = small(LONG);
  const a = new StreamModel({ id: "s", preset, columns: ["v"] });
  for (let t = 0; t < 4200; t++) a.observe(T0 + t * FIVE_MIN, [Math.sin(t / 30) + t % 7]);
  const b = new StreamModel({ id: "s", preset, columns: ["v"] });
  b.restore(a.toBytes());
  assert.deepEqual(b.expertForecast("seasonal"), a.expertForecast("seasonal"));
  assert.deepEqual(b.toBytes(), a.toBytes());
});

Deno.test("restore() refuses a long season's profile out of range, naming the scalar", () => {
  const preset = small(LONG);
  const a = new StreamModel({ id: "s", preset, columns: ["v"] });
  for (let t = 0; t < 300; t++) a.observe(T0 + t * FIVE_MIN, [Math.sin(t / 30)]);
  for (
    const [bad, name] of [[[4100, 0], "seasonal\\[0\\]"], [[5, 1368], "seasonal\\[1\\]"]] as const
  ) {
    const { scalars, arrays } = readState(a.toBytes());
    (scalars as Record<string, unknown>).seasonal = bad;
    const b = new StreamModel({ id: "s", preset, columns: ["v"] });
    assert.throws(() => b.restore(encodeState(scalars, arrays)), new RegExp(`'${name}' must be`));
  }
});

Deno.test("a young stream's long-season means are held only up to the bucket written last", () => {
  const preset = small(LONG);
  const s = new StreamModel({ id: "s", preset, columns: ["v"] });
  const profile = () =>
    (s.experts.find((e) => e.name === "seasonal") as unknown as {
      profile: { means: Float64Array; points: number; meansLength: number };
    }).profile;
  for (let t = 0; t < 100; t++) s.observe(T0 + t * FIVE_MIN, [20 + Math.sin(t / 30)]);
  const p = profile();
  assert.equal(p.points, 1367, "4,100 readings in buckets of 3");
  assert.equal(p.meansLength, 1367);
  assert.equal(p.means.length, 64, "33 buckets written: held in 16, then 32, then 64");
  // the checkpoint holds the whole array: bytes as a whole zero-padded array would make
  const { scalars, arrays } = readState(s.toBytes());
  assert.equal(arrays.seasonMeans.length, 1367);
  const whole = new Float64Array(1367);
  whole.set(p.means);
  assert.deepEqual(arrays.seasonMeans, whole);
  assert.deepEqual(packState(encodeState(scalars, arrays)), s.toBytes());
  // restored, it holds the rows written, and goes on as the live one does
  const b = new StreamModel({ id: "s", preset, columns: ["v"] });
  b.restore(s.toBytes());
  const held = (b.experts.find((e) => e.name === "seasonal") as unknown as {
    profile: { means: Float64Array };
  }).profile.means;
  assert.equal(held.length, 33, "the rows up to the last one written");
  for (let t = 100; t < 4300; t++) {
    s.observe(T0 + t * FIVE_MIN, [20 + Math.sin(t / 30)]);
    b.observe(T0 + t * FIVE_MIN, [20 + Math.sin(t / 30)]);
  }
  assert.equal(profile().means.length, 1367, "a whole season: every bucket held");
  assert.deepEqual(b.expertForecast("seasonal"), s.expertForecast("seasonal"));
  assert.deepEqual(b.toBytes(), s.toBytes());
});

Deno.test("restore() refuses long-season means of another length, naming the array", () => {
  const preset = small(LONG);
  const a = new StreamModel({ id: "s", preset, columns: ["v"] });
  for (let t = 0; t < 100; t++) a.observe(T0 + t * FIVE_MIN, [Math.sin(t / 30)]);
  const { scalars, arrays } = readState(a.toBytes());
  arrays.seasonMeans = arrays.seasonMeans.slice(0, 1366);
  const b = new StreamModel({ id: "s", preset, columns: ["v"] });
  assert.throws(
    () => b.restore(encodeState(scalars, arrays)),
    /array "seasonMeans" must hold 1367 Float64Array values for this configuration: it holds 1366/,
  );
});

/** The seasonal expert's profile of stream s. */
const profileOf = (s: StreamModel) =>
  (s.experts.find((e) => e.name === "seasonal") as unknown as {
    profile: SeasonProfile;
  }).profile;

Deno.test("pi-small keeps a daily season at one reading a second in 288 buckets of 5 minutes", () => {
  const preset = getPreset("pi-small");
  const s = new StreamModel({ id: "s", preset, columns: ["v"] });
  for (let t = 0; t < 400; t++) s.observe(T0 + t * 1000, [20 + Math.sin(t / 30)]);
  assert.equal(s.season, 86_400);
  const p = profileOf(s);
  assert.deepEqual([p.width, p.points, p.meansLength], [300, 288, 288]);
  assert.equal(readState(s.toBytes()).arrays.seasonMeans.length, 288);
  assert.equal(s.history.capacity, preset.linear.lags, "no raw season");
  // at 5 minutes the season (288 readings) fits: raw rows, as before
  const five = new StreamModel({ id: "f", preset, columns: ["v"] });
  for (let t = 0; t < 3; t++) five.observe(T0 + t * FIVE_MIN, [20]);
  assert.equal(five.season, 288);
  assert.equal(profileOf(five).points, 0);
  assert.equal(five.history.capacity, 288);
});

Deno.test("a preset's seasonPoints buckets a season longer than it; the forecast is the bucket mean", () => {
  // 1,000 readings at 5 minutes in at most 100 points: buckets of 10
  const preset = small({ ...LONG, seasonSeconds: 1000 * 300, seasonPoints: 100 });
  const s = new StreamModel({ id: "s", preset, columns: ["v"] });
  const x = (t: number) => (t * 7919) % 101;
  for (let t = 0; t < 1000 + 5; t++) s.observe(T0 + t * FIVE_MIN, [x(t)]);
  assert.deepEqual([profileOf(s).width, profileOf(s).points], [10, 100]);
  assert.equal(s.history.capacity, preset.linear.lags);
  const t = 1004, f = s.expertForecast("seasonal")!;
  for (let h = 1; h <= 30; h++) {
    // reading t has phase t − 1 (the profile starts at the second reading, when the period is known)
    const b = Math.floor(((t - 1 + h) % 1000) / 10);
    const phases = Array.from({ length: 10 }, (_, k) => b * 10 + k);
    const complete = phases.map((n) => 1 + (phases.at(-1)! <= t - 1 - 1000 ? n + 1000 : n));
    const mean = complete.reduce((a, n) => a + x(n), 0) / 10;
    assert.ok(Math.abs(f[h - 1][0] - mean) < 1e-9, `h=${h}: ${f[h - 1][0]} vs ${mean}`);
  }
});

/** The profile's means, sum, phase and complete after `n` readings of `x` in a season of 1,000 at 5 minutes. */
function fed(points: number, n: number, x: (t: number) => number): StreamModel {
  const preset = small({ ...LONG, seasonSeconds: 1000 * 300, seasonPoints: points });
  const s = new StreamModel({ id: "s", preset, columns: ["v"] });
  for (let t = 0; t < n; t++) s.observe(T0 + t * FIVE_MIN, [x(t)]);
  return s;
}

/** A model of `points` restored from the bytes of `before`. */
function restoredAs(points: number, before: StreamModel): StreamModel {
  const preset = small({ ...LONG, seasonSeconds: 1000 * 300, seasonPoints: points });
  const s = new StreamModel({ id: "s", preset, columns: ["v"] });
  s.restore(before.toBytes());
  return s;
}

/** Means of 100 buckets of one value as a whole array. */
const whole = (means: Float64Array) => {
  const all = new Float64Array(100);
  all.set(means);
  return all;
};

const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let k = 0; k < a.length; k++) {
    assert.ok(Math.abs(a[k] - b[k]) <= tol, `${what}[${k}]: ${a[k]} vs ${b[k]}`);
  }
};

Deno.test("a checkpoint whose season was kept in more points than the preset keeps now restores in the preset's buckets", () => {
  // as pi-small's checkpoints of a daily season at 1 Hz before it kept 288 points (2,010):
  // here 200 buckets of 5 readings become 100 of 10, in the first season and after a whole one
  const x = (t: number) => 20 + Math.sin(t / 40) + ((t * 7919) % 101) / 100;
  for (const n of [637, 1000 + 1 + 458]) {
    const restored = restoredAs(100, fed(200, n, x)), direct = fed(100, n, x);
    const [r, d] = [profileOf(restored), profileOf(direct)];
    assert.deepEqual([r.points, r.width, r.phase, r.complete], [100, 10, d.phase, d.complete]);
    // the bucket being filled holds the last season's mean, which the old buckets this season
    // rewrote no longer hold: a mix of the two seasons there, every other bucket exact
    // (each holds its means up to the bucket written last: the rest read 0)
    const b = Math.floor(d.phase / 10), got = whole(r.means), want = whole(d.means);
    assert.ok(Math.abs(got[b] - want[b]) < 0.5, `n=${n} the bucket filled`);
    got[b] = want[b];
    near(got, want, 1e-9, `n=${n} means`);
    near(r.sum, d.sum, 1e-9, `n=${n} the bucket filled's sum`);
    // and it goes on as the stream that kept 100 points all along
    for (let t = n; t < n + 30; t++) {
      restored.observe(T0 + t * FIVE_MIN, [x(t)]);
      direct.observe(T0 + t * FIVE_MIN, [x(t)]);
    }
    const [rAfter, dAfter] = [whole(profileOf(restored).means), whole(profileOf(direct).means)];
    near(rAfter, dAfter, 1e-9, `n=${n} means after`);
    assert.equal(restored.readings, direct.readings);
  }
});

Deno.test("buckets that do not align are re-bucketed by the readings they share", () => {
  // 143 buckets of 7 readings become 100 of 10: a new bucket's mean weighs each old one by its share
  const x = (t: number) => 20 + Math.sin(t / 40);
  const n = 1000 + 1 + 333;
  const restored = restoredAs(100, fed(150, n, x)), direct = fed(100, n, x);
  const [r, d] = [profileOf(restored), profileOf(direct)];
  assert.deepEqual([r.points, r.width, r.phase, r.complete], [100, 10, d.phase, d.complete]);
  // within a bucket the series moves at most 7/40 ≈ 0.18: the weighted means are much nearer
  near(whole(r.means), whole(d.means), 0.05, "means");
  near(r.sum, d.sum, 0.2, "sum");
  assert.notDeepEqual(r.means, d.means, "an estimate, not a copy");
});

Deno.test("a checkpoint whose season does not fit the preset's at all is refused, as any resized state", () => {
  const before = new StreamModel({ id: "s", preset: small(LONG), columns: ["v"] });
  for (let t = 0; t < 100; t++) before.observe(T0 + t * FIVE_MIN, [Math.sin(t / 30)]);
  // means of 1,366 values (not a layout of the 4,100-reading season) are refused by name
  const { scalars, arrays } = readState(before.toBytes());
  arrays.seasonMeans = new Float64Array(1366);
  const now = new StreamModel({ id: "s", preset: small(LONG), columns: ["v"] });
  assert.throws(
    () => now.restore(encodeState(scalars, arrays)),
    /array "seasonMeans" must hold 1367 Float64Array values for this configuration: it holds 1366/,
  );
  // the same as a preset change that resizes another part (the stream then starts fresh)
  const lags = small().linear.lags + 2;
  const wider = new StreamModel({
    id: "s",
    preset: small({ ...LONG, linear: { ...small().linear, lags } }),
    columns: ["v"],
  });
  assert.throws(
    () => wider.restore(before.toBytes()),
    /Cannot restore stream state: array "hist" must hold 6 Float64Array values/,
  );
});

Deno.test("a checkpoint of a season held raw that the preset now buckets restores as bucket means", () => {
  // as a pi-small stream at one reading a minute (1,440 raw rows) before it kept 288 points
  const raw = small({ ...LONG, seasonSeconds: 1000 * 300 });
  const bucketed = small({ ...LONG, seasonSeconds: 1000 * 300, seasonPoints: 100 });
  const x = (t: number) => 20 + Math.sin(t / 50) + ((t * 7919) % 101) / 100;
  const before = new StreamModel({ id: "s", preset: raw, columns: ["v"] });
  const live = new StreamModel({ id: "s", preset: bucketed, columns: ["v"] });
  const N = 2 * 1000 + 1;
  for (let t = 0; t < N; t++) {
    before.observe(T0 + t * FIVE_MIN, [x(t)]);
    live.observe(T0 + t * FIVE_MIN, [x(t)]);
  }
  assert.equal(before.history.capacity, 1000, "raw rows");
  const restored = new StreamModel({ id: "s", preset: bucketed, columns: ["v"] });
  restored.restore(before.toBytes());
  assert.equal(restored.history.capacity, bucketed.linear.lags);
  assert.equal(profileOf(restored).points, 100);
  assert.deepEqual(profileOf(restored).means, profileOf(live).means, "the last season's means");
  // (the forecasts held from before the restore were the raw rows'): the next ones are the same
  for (let t = N; t < N + 5; t++) {
    live.observe(T0 + t * FIVE_MIN, [x(t)]);
    restored.observe(T0 + t * FIVE_MIN, [x(t)]);
  }
  assert.deepEqual(restored.expertForecast("seasonal"), live.expertForecast("seasonal"));
});
