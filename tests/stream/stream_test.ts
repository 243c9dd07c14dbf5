import assert from "node:assert/strict";
import { SeasonalExpert } from "../../src/stream/seasonal_expert.ts";
import { ReadingError, StreamModel } from "../../src/stream/stream.ts";
import { Engine } from "../../src/stream/engine.ts";
import { feed, FIVE_MIN, linear, room, small, T0 } from "./_series.ts";

Deno.test("forecasts are leak-free: values after the origin never change a forecast made at it", () => {
  const x = room(700, 2);
  const y = Float64Array.from(x);
  for (let t = 500; t < y.length; t++) y[t] += 5 * Math.sin(t); // a different future
  const a = new StreamModel({ id: "a", preset: small(), columns: ["v"] });
  const b = new StreamModel({ id: "b", preset: small(), columns: ["v"] });
  for (let t = 0; t < 500; t++) {
    a.observe(T0 + t * FIVE_MIN, [x[t]]);
    b.observe(T0 + t * FIVE_MIN, [y[t]]);
    assert.deepEqual(a.forecast(), b.forecast(), `origin ${t}`);
  }
  b.observe(T0 + 500 * FIVE_MIN, [y[500]]);
  a.observe(T0 + 500 * FIVE_MIN, [x[500]]);
  assert.notDeepEqual(a.forecast(), b.forecast(), "the test must be able to fail");
});

Deno.test("intervals reach their 90% coverage at every horizon on a stream with known noise", () => {
  const s = new StreamModel({ id: "n", preset: small(), columns: ["v"] });
  feed(s, room(6000, 3, 0.3));
  for (const h of s.stats()) {
    assert.ok(h.coverage > 0.87 && h.coverage < 0.93, `h=${h.horizon} coverage ${h.coverage}`);
  }
});

Deno.test("the blend is never much worse than persistence from a cold start, and beats it once warm", () => {
  const x = room(3000, 4);
  const s = new StreamModel({ id: "c", preset: small(), columns: ["v"] });
  feed(s, x, 0, 300);
  const early = s.stats()[0];
  assert.ok(early.mse.blend <= 1.1 * early.mse.persistence, JSON.stringify(early.mse));
  s.sqErr.fill(0);
  s.scoredCount.fill(0);
  feed(s, x, 300);
  for (const h of s.stats()) {
    assert.ok(h.skill.blend > 0.1, `h=${h.horizon} skill ${h.skill.blend}`);
  }
});

Deno.test("duplicate and out-of-order timestamps are rejected, counted and not learned", () => {
  const engine = new Engine();
  const s = engine.create("d", { preset: small(), columns: ["v"] });
  engine.observe("d", T0, [1]);
  engine.observe("d", T0 + FIVE_MIN, [2]);
  const before = s.toBytes();
  assert.throws(
    () => engine.observe("d", T0 + FIVE_MIN, [3]),
    (e) => e instanceof ReadingError && e.reason === "duplicate",
  );
  assert.throws(
    () => engine.observe("d", T0, [3]),
    (e) =>
      e instanceof ReadingError && e.reason === "out_of_order" &&
      /must be after the last one/.test(e.message),
  );
  assert.throws(
    () => engine.observe("d", T0 + 2 * FIVE_MIN, [NaN]),
    (e) =>
      e instanceof ReadingError && e.reason === "not_finite" &&
      /'v' must be a finite number: current value is NaN/.test(e.message),
  );
  assert.deepEqual(s.toBytes(), before, "a rejected reading changes nothing");
  assert.deepEqual(engine.counters.rejects, { duplicate: 1, out_of_order: 1, not_finite: 1 });
  assert.equal(engine.counters.readings, 2);
});

Deno.test("issue item 2: huge finite values are refused as out_of_range and change nothing", () => {
  const engine = new Engine();
  const s = engine.create("big", { preset: small(), columns: ["v"] });
  const x = room(200, 3);
  let t = 0;
  for (; t < 40; t++) engine.observe("big", T0 + t * FIVE_MIN, [x[t]]);
  const before = s.toBytes();
  for (const v of [-1e308, 1e308, 1.7976931348623157e308, 1e200, 2e15]) {
    assert.throws(
      () => engine.observe("big", T0 + t * FIVE_MIN, [v]),
      (e) =>
        e instanceof ReadingError && e.reason === "out_of_range" &&
        /'v' must be from -1000000000000000 to 1000000000000000 \(maxAbsValue\)/.test(e.message),
      String(v),
    );
  }
  // within the absolute bound, but a million times its range away from what the stream has taken
  assert.throws(
    () => engine.observe("big", T0 + t * FIVE_MIN, [1e9]),
    (e) =>
      e instanceof ReadingError && e.reason === "out_of_range" && /maxValueSpreads/.test(e.message),
  );
  assert.deepEqual(s.toBytes(), before, "a refused reading changes nothing");
  assert.deepEqual(engine.counters.rejects, { out_of_range: 6 });
  for (; t < 200; t++) engine.observe("big", T0 + t * FIVE_MIN, [x[t]]);
  const f = s.forecast()!;
  for (const v of [...f.targets.v.point, ...f.targets.v.lower, ...f.targets.v.upper]) {
    assert.ok(Number.isFinite(v) && Math.abs(v!) < 100, `forecast ${JSON.stringify(f.targets)}`);
  }
});

Deno.test("a stream's bounds are its options: maxAbs and maxSpreads", () => {
  const s = new StreamModel({
    id: "b",
    preset: small(),
    columns: ["v"],
    bounds: { maxAbs: 100, maxSpreads: 2 },
  });
  s.observe(T0, [10]);
  s.observe(T0 + FIVE_MIN, [11]);
  assert.equal(s.observe(T0 + 2 * FIVE_MIN, [13]).ts, T0 + 2 * FIVE_MIN, "11 + 2 widths of 1");
  assert.throws(() => s.observe(T0 + 3 * FIVE_MIN, [101]), /from -100 to 100 \(maxAbsValue\)/);
  assert.throws(() => s.observe(T0 + 3 * FIVE_MIN, [20]), /must be from 4 to 19 \(2 times/);
});

Deno.test("a gap longer than maxPeriods resets the windows and keeps the weights", () => {
  const x = room(400, 5);
  const s = new StreamModel({ id: "g", preset: small(), columns: ["v"] });
  feed(s, x, 0, 300);
  const params = Float32Array.from(s.net!.params);
  const scored = s.scoredCount[0];
  // 11 periods later: longer than maxPeriods = 10
  const obs = s.observe(T0 + 310 * FIVE_MIN, [x[300]]);
  assert.equal(obs.gap, true);
  assert.equal(s.gaps, 1);
  assert.equal(s.scoredCount[0], scored, "forecasts made before the gap are not scored");
  assert.equal(s.trainer!.length, 0, "the TBPTT window restarted");
  assert.deepEqual(s.net!.params, params, "weights kept (nothing learned across the gap)");
  // a gap of exactly 10 periods is not a gap
  const o2 = s.observe(T0 + 320 * FIVE_MIN, [x[301]]);
  assert.equal(o2.gap, false);
});

Deno.test("rewind() keeps everything learned, resets the windows as a gap does, and takes earlier timestamps again", () => {
  const x = room(400, 5);
  const engine = new Engine();
  const s = engine.create("rw", { preset: small(), columns: ["v"] });
  for (let t = 0; t < 300; t++) engine.observe("rw", T0 + t * FIVE_MIN, [x[t]]);
  assert.ok(s.trainer!.updates > 0 && s.trainer!.length > 0 && s.history.length > 0);
  const learned = {
    params: Float32Array.from(s.net!.params),
    adamM: Float32Array.from(s.trainer!.adam.m),
    adamV: Float32Array.from(s.trainer!.adam.v),
    adamT: s.trainer!.adam.t,
    rlsW: Float64Array.from(linear(s).rls[0].W),
    blendCov: Float64Array.from(s.blend.cov),
    q: Float64Array.from(s.intervals.q),
    levelMean: Float64Array.from(s.level.mean),
    bins: Float64Array.from(s.scorer.bins),
  };
  const counted = { readings: s.readings, learned: s.learnedReadings, scored: s.scorer.count };
  const before = { ...engine.counters };

  engine.rewind("rw");
  assert.deepEqual(s.net!.params, learned.params, "the LSTM's weights");
  assert.deepEqual(s.trainer!.adam.m, learned.adamM, "Adam's first moments");
  assert.deepEqual(s.trainer!.adam.v, learned.adamV, "Adam's second moments");
  assert.equal(s.trainer!.adam.t, learned.adamT);
  assert.deepEqual(linear(s).rls[0].W, learned.rlsW, "the linear expert");
  assert.deepEqual(s.blend.cov, learned.blendCov, "the blend");
  assert.deepEqual(s.intervals.q, learned.q, "the interval calibration");
  assert.deepEqual(s.level.mean, learned.levelMean, "the normaliser");
  assert.deepEqual(s.scorer.bins, learned.bins, "the surprise distribution");
  assert.equal(s.trainer!.length, 0, "the TBPTT window restarted");
  assert.ok(s.net!.h.every((v) => v === 0), "the LSTM's live state restarted");
  assert.equal(s.history.length, 0, "the history restarted");
  assert.ok(s.origins.step.every(Number.isNaN), "no pending forecast");
  assert.equal(s.gaps, 0, "a rewind is not a gap");
  assert.equal(s.periodMs, FIVE_MIN, "the period is kept");
  assert.deepEqual(
    { readings: s.readings, learned: s.learnedReadings, scored: s.scorer.count },
    counted,
    "the counters are kept",
  );
  assert.deepEqual(engine.counters, before);

  // the first timestamp again: accepted, not a gap, nothing scored against the old forecasts
  const scored = s.scoredCount[0];
  const o = engine.observe("rw", T0, [x[0]]);
  assert.equal(o.gap, false);
  assert.equal(s.scoredCount[0], scored);
  assert.equal(s.readings, counted.readings + 1, "readings count on");
  assert.throws(
    () => engine.observe("rw", T0, [x[0]]),
    (e) => e instanceof ReadingError && e.reason === "duplicate",
    "the time line runs on from the new first reading",
  );
  for (let t = 1; t < 300; t++) engine.observe("rw", T0 + t * FIVE_MIN, [x[t]]);
  assert.notDeepEqual(s.net!.params, learned.params, "the second pass learned");
  assert.ok(s.trainer!.adam.t > learned.adamT);
  assert.throws(
    () => engine.rewind("nope"),
    /Cannot rewind stream: stream must exist: "nope" is unknown/,
  );
});

Deno.test("a checkpoint taken after rewind() restores the rewound stream, which continues exactly", () => {
  const x = room(600, 8);
  const preset = small();
  const a = new StreamModel({ id: "r", preset, columns: ["v"] });
  feed(a, x, 0, 400);
  a.rewind();
  const b = new StreamModel({ id: "r", preset, columns: ["v"] });
  b.restore(a.toBytes());
  assert.ok(Number.isNaN(b.lastTs) && b.history.length === 0 && b.trainer!.length === 0);
  for (let t = 0; t < 200; t++) {
    const oa = a.observe(T0 + t * FIVE_MIN, [x[t]]);
    const ob = b.observe(T0 + t * FIVE_MIN, [x[t]]);
    assert.deepEqual(ob, oa, `t=${t}`);
  }
  assert.deepEqual(b.forecast(), a.forecast());
  assert.deepEqual(b.toBytes(), a.toBytes());
});

Deno.test("the sampling period is the interval between the first two readings unless configured", () => {
  const s = new StreamModel({ id: "p", preset: small(), columns: ["v"] });
  s.observe(T0, [1]);
  s.observe(T0 + 60_000, [1.1]);
  assert.equal(s.periodMs, 60_000);
  assert.deepEqual(s.forecast(2)!.timestamps, [T0 + 120_000, T0 + 180_000]);
  const c = new StreamModel({ id: "q", preset: small(), columns: ["v"], periodMs: 30_000 });
  c.observe(T0, [1]);
  assert.deepEqual(c.forecast(1)!.timestamps, [T0 + 30_000]);
});

Deno.test("issue item 7: two readings 28 ms apart, then one a second: the period is 1000 ms, no gaps", () => {
  const s = new StreamModel({ id: "p7", preset: small(), columns: ["v"] });
  const x = room(300, 4);
  s.observe(T0, [x[0]]);
  s.observe(T0 + 28, [x[1]]);
  assert.equal(s.periodMs, 28, "one interval: the only evidence");
  let gaps = 0;
  for (let k = 1; k < 299; k++) {
    const o = s.observe(T0 + 28 + k * 1000, [x[k + 1]]);
    if (o.gap) gaps++;
    assert.equal(o.periodWarning, null);
  }
  assert.equal(s.periodMs, 1000);
  assert.equal(gaps, 0, "1000 ms after 28 ms is no gap: the median of the two is 514 ms");
  assert.equal(s.gaps, 0);
  assert.equal(s.period.observedMs, 1000);
  assert.deepEqual(s.forecast(2)!.timestamps, [s.lastTs + 1000, s.lastTs + 2000]);
  assert.ok(s.stats()[0].scored > 250, "scored all along: the windows were never reset");
});

Deno.test("a stream whose sampling changes takes the new period after a window, with its season", () => {
  const s = new StreamModel({ id: "p", preset: small(), columns: ["v"] });
  const x = room(800, 5);
  let t = T0;
  for (let k = 0; k < 400; k++) s.observe(t += 60_000, [x[k]]);
  assert.equal(s.periodMs, 60_000);
  assert.equal(s.season, 1440);
  for (let k = 400; k < 800; k++) s.observe(t += 10_000, [x[k]]);
  assert.equal(s.periodMs, 10_000);
  assert.equal(s.season, 8640);
  // a season over 2,048 readings is kept as bucket means of 5 readings, not raw in the ring
  assert.equal(s.history.capacity, s.preset.linear.lags);
  const seasonal = s.experts.find((e) => e instanceof SeasonalExpert)!;
  assert.deepEqual([seasonal.profile.season, seasonal.profile.points], [8640, 1728]);
  assert.equal(s.gaps, 0);
});

Deno.test("frequent gaps under a configured period: one warning naming both periods", () => {
  const s = new StreamModel({ id: "w", preset: small(), columns: ["v"], periodMs: 28 });
  const warnings = [];
  for (let k = 0; k < 300; k++) {
    const o = s.observe(T0 + k * 1000, [20 + Math.sin(k / 10)]);
    if (o.periodWarning) warnings.push({ k, ...o.periodWarning });
  }
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  const w = warnings[0];
  assert.deepEqual({ ...w, k: undefined, gapShare: undefined }, {
    k: undefined,
    periodMs: 28,
    source: "configured",
    observedMs: 1000,
    gapShare: undefined,
  });
  assert.ok(w.k > 5 && w.k < 20 && w.gapShare > 0.1, JSON.stringify(w));
  assert.equal(s.periodMs, 28, "a configured period is kept");
  assert.equal(s.gaps, 299);
});

Deno.test("an anomaly is not learned, and a change that persists is accepted as the new normal", () => {
  const p = small();
  const preset = { ...p, anomaly: { ...p.anomaly, newNormalAfter: 50 } };
  const engine = new Engine();
  const events: string[] = [];
  engine.onAlert((e) => events.push(e.type));
  const s = engine.create("a", { preset, columns: ["v"] });
  const x = room(1700, 6, 0.05);
  for (let t = 1500; t < x.length; t++) x[t] += 8; // a lasting level shift
  let learnedInside = 0, insideAlert = 0, first: ReturnType<typeof s.observe> | undefined;
  for (let t = 0; t < x.length; t++) {
    const wasOpen = s.alerts.state === "anomaly";
    const o = engine.observe("a", T0 + t * FIVE_MIN, [x[t]]);
    if (wasOpen) {
      insideAlert++;
      if (o.learned) learnedInside++;
    }
    if (o.event?.type === "opened") first = o;
  }
  assert.deepEqual(events.slice(-2), ["opened", "new_normal"]);
  assert.ok(insideAlert >= 49, `readings inside the open alert: ${insideAlert}`);
  assert.equal(learnedInside, 0, "no reading inside the open anomaly was learned");
  assert.equal(first!.learned, false, "nor the reading that opened it");
  const ev = first!.event!;
  assert.equal(ev.stream, "a");
  assert.ok(ev.targets.v.value > ev.targets.v.upper, JSON.stringify(ev.targets));
  assert.equal(ev.learning, false);
  assert.ok(ev.percentile > 0.99, `percentile ${ev.percentile}`);
  assert.match(ev.message, /outside the expected .* learning paused/);
  assert.equal(s.state, "learning");
  assert.equal(events.filter((e) => e === "opened").length, 1, JSON.stringify(events));
});

Deno.test("a noise-free repeating pattern does not raise an alert at every repeat", () => {
  // a square wave, 20 for half a day and 80 for the other: once the interval
  // has shrunk to nothing, every step would be a new record surprise
  const s = new StreamModel({ id: "sq", preset: small(), columns: ["v"] });
  const opened: number[] = [];
  for (let t = 0; t < 288 * 14; t++) {
    const o = s.observe(T0 + t * FIVE_MIN, [Math.floor(t / 144) % 2 ? 80 : 20]);
    if (o.event?.type === "opened") opened.push(t);
  }
  assert.ok(opened.length <= 2, `alerts at ${JSON.stringify(opened)}`);
});

Deno.test("a spike opens one alert; an equal spike within the refractory period gives no onset, a stronger one does", () => {
  const s = new StreamModel({ id: "o", preset: small(), columns: ["v"] });
  const x = room(2000, 11, 0.1);
  x[1500] += 6;
  x[1700] += 6; // the same spike 200 readings later (refractory: 500)
  x[1900] += 60; // a far stronger one
  const onsets: number[] = [], opened: number[] = [];
  for (let t = 0; t < x.length; t++) {
    const o = s.observe(T0 + t * FIVE_MIN, [x[t]]);
    if (t > 1000 && o.onset! >= s.preset.anomaly.threshold) onsets.push(t);
    if (o.event?.type === "opened") opened.push(t);
  }
  // the reading after a spike is surprising too (the forecast followed the
  // spike): together they may be stronger evidence than the spike alone
  assert.deepEqual(onsets.filter((t) => t < 1600), onsets.includes(1501) ? [1500, 1501] : [1500]);
  assert.ok(!onsets.some((t) => t >= 1600 && t < 1900), JSON.stringify(onsets));
  assert.ok(onsets.includes(1900) || onsets.includes(1901), JSON.stringify(onsets));
  const late = opened.filter((t) => t > 1000);
  assert.equal(late.length, 2, JSON.stringify(opened));
  assert.ok(late[0] === 1500 && late[1] >= 1900 && late[1] <= 1901, JSON.stringify(opened));
});

Deno.test("the NAB column is sparse: a level shift gives at most three high onsets within the density window, not a run", () => {
  const s = new StreamModel({ id: "n", preset: small(), columns: ["v"] });
  const x = room(2200, 12, 0.1);
  for (let t = 1500; t < x.length; t++) x[t] -= 10;
  const before: number[] = [], high: number[] = [];
  let maxLikelihood = 0, elevated = 0;
  for (let t = 0; t < x.length; t++) {
    const o = s.observe(T0 + t * FIVE_MIN, [x[t]]);
    if (t >= 1000 && o.onset! >= 0.999) (t < 1500 ? before : high).push(t);
    if (t >= 1500) maxLikelihood = Math.max(maxLikelihood, o.likelihood!);
    if (t >= 1500 && o.likelihood! >= 0.999) elevated++;
  }
  // 0.999 is one in a thousand: the 500 clean readings before the shift may hold one such onset
  assert.ok(before.length <= 1, `onsets before the shift: ${JSON.stringify(before)}`);
  // the shift, its escalation as the next reading confirms it, and the
  // density test's once its window fills with unusual readings
  const density = small().anomaly.density;
  assert.ok(
    high.length >= 1 && high.length <= 3 && high[0] === 1500 && high.at(-1)! < 1500 + density,
    JSON.stringify(high),
  );
  assert.ok(elevated > high.length, `likelihood elevated for ${elevated} readings`);
  assert.ok(maxLikelihood > 0.99999, `likelihood ${maxLikelihood}`);
});

Deno.test("a value below every past value is a record: its evidence includes ln(readings)", () => {
  const s = new StreamModel({ id: "rec", preset: small(), columns: ["v"] });
  const x = room(800, 13, 0.1);
  feed(s, x);
  const lo = s.range.lo[0];
  // a twin whose range already reaches below the value: the same reading, no record
  const twin = new StreamModel({ id: "rec", preset: small(), columns: ["v"] });
  twin.restore(s.toBytes());
  twin.range.lo[0] = lo - 4;
  s.observe(T0 + 800 * FIVE_MIN, [lo - 3]);
  twin.observe(T0 + 800 * FIVE_MIN, [lo - 3]);
  assert.equal(s.range.lo[0], lo - 3);
  const extra = s.scorer.evidence - twin.scorer.evidence;
  assert.ok(Math.abs(extra - Math.log(800)) < 1e-9, `record evidence ${extra}`);
});

Deno.test("no alert opens while the model warms up", () => {
  const preset = small({ anomaly: { ...small().anomaly, warmup: 400 } });
  const s = new StreamModel({ id: "w", preset, columns: ["v"] });
  const x = room(400, 7);
  x[150] += 20;
  x[300] -= 20;
  const events = [];
  for (let t = 0; t < x.length; t++) {
    const o = s.observe(T0 + t * FIVE_MIN, [x[t]]);
    if (o.event) events.push(o.event);
    assert.equal(s.state, t < 399 ? "warming_up" : "learning", `t=${t}`);
  }
  assert.deepEqual(events, []);
});

Deno.test("multivariate streams forecast only their targets, with calendar inputs", () => {
  const x = room(500, 10);
  const s = new StreamModel({
    id: "m",
    preset: small(),
    columns: ["temp", "hum"],
    targets: ["hum"],
  });
  for (let t = 0; t < x.length; t++) s.observe(T0 + t * FIVE_MIN, [x[t], 50 - x[t]]);
  const f = s.forecast(3)!;
  assert.deepEqual(Object.keys(f.targets), ["hum"]);
  assert.equal(f.targets.hum.point.length, 3);
  assert.ok(f.targets.hum.lower.every((v, i) => v! < f.targets.hum.point[i]));
  assert.throws(
    () => new StreamModel({ id: "m", preset: small(), columns: ["a"], targets: ["b"] }),
    /every target must be one of the columns \["a"\]: current value is "b"/,
  );
});

Deno.test("an empty forecast slot is never scored: the second reading is scored at horizon 1 only", () => {
  const s = new StreamModel({ id: "e", preset: small(), columns: ["v"] });
  s.observe(T0, [21]);
  s.observe(T0 + FIVE_MIN, [21.1]);
  assert.deepEqual(s.stats().map((h) => h.scored), [1, 0, 0, 0, 0, 0]);
});

Deno.test("an incident whose evidence rises past the threshold opens its alert though the rise is no new onset", () => {
  // escalation so large that no reading after an incident's first is an onset:
  // the alert must still open when the incident crosses the threshold
  const base = small();
  const s = new StreamModel({
    id: "rise",
    preset: { ...base, anomaly: { ...base.anomaly, escalation: 1000 } },
    columns: ["v"],
  });
  const x = room(1600, 13, 0.1);
  x[1500] += 0.8; // unusual, below the threshold
  x[1501] += 40; // far beyond anything seen
  const seen: { t: number; likelihood: number; onset: number; event?: string }[] = [];
  for (let t = 0; t < x.length; t++) {
    const o = s.observe(T0 + t * FIVE_MIN, [x[t]]);
    if (t >= 1500 && t <= 1501) {
      seen.push({ t, likelihood: o.likelihood!, onset: o.onset!, event: o.event?.type });
    }
  }
  const [first, second] = seen;
  assert.ok(first.onset > 0 && first.likelihood < s.preset.anomaly.threshold, JSON.stringify(seen));
  assert.ok(
    second.onset === 0 && second.likelihood >= s.preset.anomaly.threshold,
    JSON.stringify(seen),
  );
  assert.equal(second.event, "opened", JSON.stringify(seen));
});

Deno.test("a stream keeps its fixed-size arrays in two buffers, its linear models in one more", () => {
  const s = new StreamModel({ id: "b", preset: small(), columns: ["a", "b"], targets: ["b"] });
  const parts = [
    s.targetIndex,
    s.period.recent,
    s.bounds.lo,
    s.bounds.hi,
    s.level.mean,
    s.level.m2,
    s.change.mean,
    s.change.m2,
    s.limits.ms,
  ];
  assert.equal(new Set(parts.map((a) => a.buffer)).size, 1, "the stream's own block");
  // and those whose size depends on the experts
  const after = [
    s.origins.step,
    s.origins.active,
    s.blend.cov,
    s.intervals.q,
    s.sqErr,
    s.scoredCount,
    // the anomaly detectors' arrays of a size known at the start
    s.scorer.bins,
    s.scorer.recent,
    s.scorer.unusual,
    s.range.lo,
    s.range.hi,
    s.budget.bins,
    s.shape.ring,
    s.shape.rough,
    s.shape.pending,
    s.shape.bins,
  ];
  assert.equal(new Set(after.map((a) => a.buffer)).size, 1, "the experts' shared parts");
  assert.ok([...s.origins.step].every(Number.isNaN), "no origin yet");
  assert.ok(s.shape.pending.length > 0 && s.shape.pending.every(Number.isNaN), "no distance yet");
  assert.deepEqual([...s.range.lo, ...s.range.hi], [Infinity, -Infinity], "no range yet");
  assert.ok(s.shape.ring.every((z) => z === 0) && s.scorer.bins.every((b) => b === 0));
  // the density test's tail depends on the options alone: one array for every stream
  const other = new StreamModel({ id: "c", preset: small(), columns: ["a", "b"], targets: ["b"] });
  assert.ok(other.scorer.densityTail === s.scorer.densityTail, "one density tail");
  // and so do the blend's and the intervals' rates
  assert.ok(other.blend.decay === s.blend.decay, "one blend decay");
  assert.ok(other.intervals.mRate === s.intervals.mRate, "one interval rate");
  assert.ok(s.blend.decay.every((d) => d > 0.99), "the blend's memory");
  assert.ok(s.intervals.mRate.every((r) => r > 0 && r < 0.02), "the intervals' memory");
  assert.deepEqual([...s.targetIndex], [1]);
  assert.deepEqual([...s.bounds.lo], [Infinity, Infinity]);
  const models = Object.values(linear(s).arrays());
  assert.equal(models.length, 3 * s.Hm);
  assert.equal(new Set(models.map((a) => a.buffer)).size, 1, "the linear expert's block");
});
